"""MIME for notices: iMIP (RFC 6047) for calendar messages, plain text + HTML for the rest.

An invitation, update or cancellation is ``multipart/mixed``: a ``multipart/alternative`` of
text/plain, text/html and ``text/calendar; method=…; charset=UTF-8`` (no disposition, as
Outlook and Gmail expect), then the same calendar as an ``invite.ics`` attachment. Text goes
in canonical form (CRLF line ends), every body base64-encoded so calendar line ends survive
any transport; the message is written with CRLF. The Message-ID is derived from the notice id,
so a retried send is recognisably the same message.

Built with the ``email`` package's ``compat32`` classes, not ``EmailMessage``: the modern
policy parses every header it is given into objects (about 4 ms of a worker's CPU per
invitation, three times all the rest of building it — ``bench/delivery.py --profile``), where
these headers are written here already in their wire form: non-ASCII words as RFC 2047
encoded words folded for their header, parameters as RFC 2231.
"""

from __future__ import annotations

import base64
import email.policy
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr

#: Lines end in CRLF; headers are folded here (``max_line_length`` 0: the generator leaves them).
POLICY = email.policy.compat32.clone(linesep="\r\n", max_line_length=0)
UTF8 = Charset("utf-8")


def _one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _words(value: str, header: str) -> str:
    """``value`` on one line, folded for ``header`` (at its spaces, lines of at most 78), as
    RFC 2047 encoded words if it is not ASCII."""
    value = _one_line(value)
    if value.isascii():
        if len(header) + 2 + len(value) <= 78:
            return value
        return Header(value, header_name=header).encode(linesep="\r\n", maxlinelen=78)
    # lines of at most 76 characters: an encoded word after the fold's space is then at most 75
    return Header(value, UTF8, header_name=header).encode(linesep="\r\n", maxlinelen=76)


def _address(value: str, header: str) -> str:
    """An address with its display name, the name encoded if it is not ASCII."""
    name, address = parseaddr(_one_line(value))
    if not address:
        return _words(value, header)
    return formataddr((name, address), charset=UTF8)


def _part(maintype: str, subtype: str, body: bytes, **params: str) -> Message:
    """A leaf part, its body base64-encoded."""
    part = MIMENonMultipart(maintype, subtype, policy=POLICY, **params)
    part.set_payload(base64.encodebytes(body).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    return part


def _text(subtype: str, text: str) -> Message:
    canonical = b"".join(line + b"\r\n" for line in text.encode("utf-8").splitlines())  # ends with one
    return _part("text", subtype, canonical, charset="utf-8")


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
) -> Message:
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
    bodies = MIMEMultipart("alternative", policy=POLICY)
    bodies.attach(_text("plain", text))
    html_part = _text("html", html)
    if images:
        related = MIMEMultipart("related", policy=POLICY)
        related.attach(html_part)
        for cid, png in images:
            image = _part("image", "png", png)
            image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
            image["Content-ID"] = f"<{cid}>"
            related.attach(image)
        html_part = related
    bodies.attach(html_part)
    attached: list[Message] = []
    if calendar is not None and method is not None:
        bodies.attach(_part("text", "calendar", calendar, method=method, charset="UTF-8"))
        invite = _part("application", "ics", calendar)
        invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
        attached.append(invite)
    for filename, mime, body in files:
        maintype, _, subtype = mime.partition("/")
        part = _part(maintype, subtype, body)
        part.add_header("Content-Disposition", "attachment", filename=filename)
        attached.append(part)
    message = bodies
    if attached:
        message = MIMEMultipart("mixed", policy=POLICY)
        message.attach(bodies)
        for part in attached:
            message.attach(part)
    message["From"] = _address(sender, "From")
    message["To"] = formataddr((_one_line(to_name), _one_line(to_email)), charset=UTF8)
    if reply_to:
        message["Reply-To"] = _address(reply_to, "Reply-To")
    message["Subject"] = _words(subject, "Subject")
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id(notice_id, domain)
    message["Auto-Submitted"] = "auto-generated"
    if return_path:
        message["Return-Path"] = f"<{_one_line(return_path)}>"
    if list_id is not None:
        name, ident = list_id
        phrase, address = _words(name, "List-Id"), f"<{ident}.lists.{domain}>"
        last_line = f"List-Id: {phrase}".rpartition("\n")[2]
        fold = " " if len(last_line) + 1 + len(address) <= 78 else "\r\n "
        message["List-Id"] = f"{phrase}{fold}{address}"
    if unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{_one_line(url)}>" for url in unsubscribe)
        if unsubscribe[0].startswith("https://") or unsubscribe[0].startswith("http://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
