"""Reading a calendar app's reply (iMIP, RFC 6047; iTIP REPLY, RFC 5546 §3.2.3) out of one email.

Pure: bytes in, a :class:`Reply` or the reason it is not one (:class:`NotAReply`) out. What the
clients send differs, and each shape is tolerated:

* Outlook: ``text/calendar; method=REPLY`` inside ``multipart/alternative``; may leave ORGANIZER
  out; its ATTENDEE may carry only a display name (``CN=…`` with an address that is not a
  ``mailto:``), and then the From address stands for the attendee;
* Apple Calendar: ``multipart/mixed`` with the calendar as a part of its own, ``MAILTO:`` in
  capitals;
* Gmail: the calendar twice, ``text/calendar; method=REPLY`` in the alternative and an
  ``application/ics`` attachment;
* Thunderbird: ``text/calendar`` with ``method=REPLY`` and ``invite.ics`` as an attachment.

A COUNTER (a proposed new time) is not an answer; nor is a calendar without METHOD:REPLY, a
reply without an ATTENDEE whose PARTSTAT says accepted, declined or tentative, or anything that
does not parse. Mail larger than :data:`MAX_BYTES` is not read at all.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import parseaddr

from icalendar import Calendar

#: No calendar reply comes near this (they are a few kilobytes); larger mail is not parsed.
MAX_BYTES = 2 * 1024 * 1024
ANSWERS = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}
CALENDAR_TYPES = ("text/calendar", "application/ics")


@dataclass(frozen=True)
class Reply:
    """What one reply says: who (``attendee``, lower case) answers which session (``uid`` at
    ``sequence``) how (``response``), and when they answered (``stamp``, the reply's DTSTAMP)."""

    uid: str
    sequence: int
    attendee: str
    response: str
    stamp: datetime | None
    sender: str
    client: str  # the calendar's PRODID: which app answered


@dataclass(frozen=True)
class NotAReply:
    """Why a mail is not an answer (a code, and a detail for staff)."""

    reason: str
    detail: str = ""


def read_reply(raw: bytes) -> Reply | NotAReply:
    if len(raw) > MAX_BYTES:
        return NotAReply("too-large", f"{len(raw)} bytes")
    try:
        return _read(raw)
    except Exception as exc:  # hostile input: whatever breaks a parser makes it "unreadable"
        return NotAReply("unreadable-calendar", repr(exc)[:200])


def _read(raw: bytes) -> Reply | NotAReply:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    part = _calendar_part(message)
    if part is None:
        return NotAReply("no-calendar")
    try:
        payload = part.get_payload(decode=True)
        calendar = Calendar.from_ical(payload if isinstance(payload, bytes) else b"")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return NotAReply("unreadable-calendar", repr(exc)[:200])
    method = str(calendar.get("METHOD", "")).upper()
    if method == "COUNTER":
        return NotAReply("counter")
    if method != "REPLY":
        return NotAReply("not-a-reply", method or "no METHOD")
    events = calendar.walk("VEVENT")
    if not events or not events[0].get("UID"):
        return NotAReply("no-event")
    event = events[0]
    found = _answer(event, sender)
    if isinstance(found, NotAReply):
        return found
    attendee, response = found
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return NotAReply("unreadable-calendar", "SEQUENCE")
    stamp = event.decoded("DTSTAMP") if event.get("DTSTAMP") else None
    return Reply(
        uid=str(event["UID"]).strip(),
        sequence=sequence,
        attendee=attendee,
        response=response,
        stamp=stamp if isinstance(stamp, datetime) and stamp.tzinfo else None,
        sender=sender,
        client=str(calendar.get("PRODID", ""))[:200],
    )


def _calendar_part(message: EmailMessage) -> Message | None:
    """The calendar a reply carries: a ``text/calendar`` part with ``method=REPLY`` or
    ``COUNTER`` first, then any calendar part (some clients leave the parameter out)."""
    parts = [p for p in message.walk() if p.get_content_type() in CALENDAR_TYPES]
    for part in parts:
        if str(part.get_param("method", "") or "").upper() in ("REPLY", "COUNTER"):
            return part
    return parts[0] if parts else None


def _answer(event: object, sender: str) -> tuple[str, str] | NotAReply:
    """(attendee address, response) of the one attendee who answers: the one whose address is
    the sender's, else the only one; a display-name-only attendee is the sender."""
    found = event.get("ATTENDEE")  # type: ignore[attr-defined]
    attendees = found if isinstance(found, list) else [found] if found is not None else []
    if not attendees:
        return NotAReply("no-attendee")
    answers = []
    for attendee in attendees:
        value = str(attendee).strip()
        address = value[7:].strip().lower() if value.lower().startswith("mailto:") else ""
        if "@" not in address:
            address = sender  # Outlook: a display name, no address
        partstat = str(attendee.params.get("PARTSTAT", "")).upper()
        answers.append((address, partstat))
    mine = [a for a in answers if a[0] == sender] or (answers if len(answers) == 1 else [])
    if not mine:
        return NotAReply("attendee-not-sender", ", ".join(a for a, _ in answers))
    address, partstat = mine[0]
    if partstat not in ANSWERS:
        return NotAReply("no-answer", partstat or "no PARTSTAT")
    return address, ANSWERS[partstat]
