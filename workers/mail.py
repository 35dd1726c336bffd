"""MIME for notices: iMIP (RFC 6047) for calendar messages, plain text + HTML for the rest.

An invitation, update or cancellation is ``multipart/mixed``: a ``multipart/alternative`` of
text/plain, text/html and ``text/calendar; method=…; charset=UTF-8`` (no disposition, as
Outlook and Gmail expect), then the same calendar as an ``invite.ics`` attachment. Calendar
bytes go base64-encoded so their CRLF line ends survive any transport; the whole message is
written with ``email.policy.SMTP`` (CRLF). The Message-ID is derived from the notice id, so a
retried send is recognisably the same message.
"""

from __future__ import annotations

import email.policy
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr


def _one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def message_id(notice_id: uuid.UUID | str, domain: str) -> str:
    return f"<{notice_id}@{domain}>"


def build_email(
    *,
    notice_id: uuid.UUID | str,
    sender: str,
    to_name: str,
    to_email: str,
    reply_to: str | None,
    subject: str,
    text: str,
    html: str,
    sent_at: datetime,
    calendar: bytes | None = None,
    method: str | None = None,
    list_id: tuple[str, str] | None = None,
    unsubscribe: Sequence[str] = (),
    return_path: str = "",
    images: Sequence[tuple[str, bytes]] = (),
    files: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """One email; ``calendar`` + ``method`` make it an iMIP message.

    ``list_id`` (a name, an id) becomes ``List-Id: name <id.lists.domain>`` (RFC 2919), so a
    member can file each series on its own; ``unsubscribe`` (an https URL, then perhaps a mailto)
    becomes ``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (RFC 8058): the mail provider's own unsubscribe button POSTs to the URL. ``return_path`` is
    the envelope sender, carried as ``Return-Path`` to the channel: the SMTP channel takes it out
    and gives it as ``MAIL FROM`` (the receiving server writes the header itself); the file
    outbox keeps it, to show where bounces would go. ``images`` (a Content-ID, PNG bytes) go
    beside the HTML (``multipart/related``), which shows them as ``cid:…``. ``files`` (a file
    name, a MIME type, the bytes) are attached after the bodies.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "exsched.invalid"
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = formataddr((_one_line(to_name), _one_line(to_email)))
    if reply_to:
        message["Reply-To"] = _one_line(reply_to)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id(notice_id, domain)
    message["Auto-Submitted"] = "auto-generated"
    if return_path:
        message["Return-Path"] = f"<{_one_line(return_path)}>"
    if list_id is not None:
        name, ident = list_id
        message["List-Id"] = f"{_one_line(name)} <{ident}.lists.{domain}>"
    if unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{_one_line(url)}>" for url in unsubscribe)
        if unsubscribe[0].startswith("https://") or unsubscribe[0].startswith("http://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, charset="utf-8", cte="base64")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None
        for cid, png in images:
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    if calendar is not None and method is not None:
        message.add_alternative(
            calendar,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": method, "charset": "UTF-8"},
        )
        message.make_mixed()
        message.add_attachment(
            calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
            cte="base64",
        )
    for filename, mime, body in files:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(body, maintype=maintype, subtype=subtype, filename=filename)
    return message
