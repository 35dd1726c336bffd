"""Reading a bounce: which notice it is about, whether the failure is for good, and what the
refusing server said — from the mail's bytes alone, never raising (hostile input).

A notice's email leaves with a VERP return path, ``bounce+<notice-id>@…`` (:func:`schemas.mail.verp`),
so a bounce names its notice in the address it is delivered to (the LMTP/SMTP recipient, or the
``Delivered-To``/``X-Original-To``/``To`` headers a mailbox keeps). Whether it is a failure at
all, and a permanent or a temporary one, is decided by ``flufl.bounce`` (RFC 3464 delivery
status notifications, and the plain-text bounces of Postfix, Exim, qmail, Exchange and others);
an auto-reply or a delay warning with no failure in it is not a bounce. The diagnostic is the
DSN's ``Status`` and ``Diagnostic-Code`` when there is one, else the first line of the text that
carries an SMTP reply code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

from flufl.bounce import all_failures

from schemas.mail import notice_of

#: Headers a mailbox keeps that name the address a message was delivered to.
DELIVERED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_REPLY_LINE = re.compile(r"\b([45]\d\d[ -]|[45]\.\d{1,3}\.\d{1,3}\b)")
MAX_DETAIL = 500


@dataclass(frozen=True)
class Bounce:
    notice_id: uuid.UUID
    hard: bool  # a permanent failure (5.x.x), or a temporary one (4.x.x)
    detail: str
    recipients: frozenset[str]  # the failing addresses the bounce names, lower case (may be empty)


@dataclass(frozen=True)
class NotABounce:
    """``no-notice`` (not sent to a bounce address), ``not-a-failure`` (an auto-reply, a delay
    warning), ``unreadable``."""

    reason: str
    detail: str = ""


def addressed_notice(raw: bytes, recipients: Iterable[str]) -> uuid.UUID | None:
    """The notice a mail's delivery address names, if it came to a VERP bounce address."""
    for address in recipients:
        if (found := notice_of(address)) is not None:
            return found
    try:
        headers = message_from_bytes(raw[:65536])
        for name in DELIVERED_TO:
            for value in headers.get_all(name) or []:
                if (found := notice_of(str(value))) is not None:
                    return found
    except Exception:  # headers that cannot be read name nothing
        return None
    return None


def read_bounce(raw: bytes, recipients: Iterable[str] = ()) -> Bounce | NotABounce:
    notice_id = addressed_notice(raw, recipients)
    if notice_id is None:
        return NotABounce("no-notice")
    try:
        message = message_from_bytes(raw)
        temporary, permanent = all_failures(message)
        if not temporary and not permanent:
            return NotABounce("not-a-failure", str(message.get("Subject", ""))[:200])
        failing = {_text(a).lower() for a in (permanent or temporary)}
        return Bounce(notice_id, bool(permanent), _diagnostic(message)[:MAX_DETAIL], frozenset(failing))
    except Exception as exc:  # whatever breaks the detectors makes the mail unreadable
        return NotABounce("unreadable", f"{type(exc).__name__}: {exc}"[:200])


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _diagnostic(message: Message) -> str:
    """What the refusing server said: the DSN's fields, or the first line with a reply code."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            fields = [block for block in part.get_payload() if isinstance(block, Message)]
            for block in fields[1:] or fields:  # the first block is per message, the rest per recipient
                said = " ".join(str(block.get(name, "")).strip() for name in ("Status", "Diagnostic-Code"))
                if said.strip():
                    return " ".join(said.split())
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            for line in payload.decode(part.get_content_charset() or "utf-8", "replace").splitlines():
                if _REPLY_LINE.search(line):
                    return " ".join(line.split())
    return str(message.get("Subject", "")).strip()
