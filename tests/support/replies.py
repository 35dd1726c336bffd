"""Calendar replies (iMIP REPLY) as the common clients send them, written from RFC 5546 §3.2.3,
RFC 6047 and the clients' documented habits — not copied from real mail:

* ``outlook``: multipart/alternative of text/plain and ``text/calendar; method=REPLY``
  (base64), no ORGANIZER, PRODID ``Microsoft Exchange Server``; ``display_name_only`` makes the
  ATTENDEE a bare name, as Outlook does when it has no address for the attendee;
* ``apple``: multipart/mixed, a text part and a quoted-printable ``text/calendar`` part,
  ``MAILTO:`` in capitals, PRODID ``-//Apple Inc.//macOS 15.1//EN``;
* ``gmail``: multipart/mixed of an alternative (text, html, text/calendar method=REPLY) and the
  same calendar as ``invite.ics`` (application/ics), PRODID ``-//Google Inc//Google Calendar 70.9054//EN``;
* ``thunderbird``: multipart/mixed, text/plain, ``text/calendar; method=REPLY`` and an
  ``invite.ics`` attachment, PRODID ``-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

PRODIDS = {
    "outlook": "Microsoft Exchange Server 2010",
    "apple": "-//Apple Inc.//macOS 15.1//EN",
    "gmail": "-//Google Inc//Google Calendar 70.9054//EN",
    "thunderbird": "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
}
PARTSTATS = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE"}


def calendar(
    client: str,
    uid: str,
    attendee: str,
    response: str,
    *,
    sequence: int = 0,
    stamp: datetime | None = None,
    method: str = "REPLY",
    organizer: str | None = "ningbo@assoc.example",
    display_name_only: bool = False,
) -> bytes:
    stamp = stamp or datetime.now(UTC)
    mailto = "MAILTO:" if client == "apple" else "mailto:"
    who = "陈静" if display_name_only else f"{mailto}{attendee}"
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODIDS[client]}",
        "VERSION:2.0",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "DTSTART:20261210T060000Z",
        "DTEND:20261210T080000Z",
        "SUMMARY:宁波 · 数字化制衣技术交流会",
        f"ATTENDEE;PARTSTAT={PARTSTATS.get(response, response)};CN=陈静:{who}",
    ]
    if organizer and client != "outlook":
        lines.append(f"ORGANIZER;CN=宁波秘书处:{mailto}{organizer}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def reply_mail(
    client: str, uid: str, attendee: str, response: str, *, sender: str | None = None, **kw: object
) -> bytes:
    """The whole email ``client`` sends when ``attendee`` answers ``response``."""
    ics = calendar(client, uid, attendee, response, **kw)  # type: ignore[arg-type]
    mail = EmailMessage()
    mail["From"] = f"陈静 <{sender or attendee}>"
    mail["To"] = "宁波秘书处 <sessions+reply@assoc.example>"
    mail["Subject"] = f"{'Accepted' if response == 'accepted' else 'Declined'}: 宁波 · 数字化制衣技术交流会"
    mail["Date"] = format_datetime(datetime.now(UTC))
    words = f"陈静 has {response} this invitation."
    method = kw.get("method", "REPLY")
    if client == "outlook":
        mail.set_content(words)
        mail.add_alternative(
            ics, maintype="text", subtype="calendar", cte="base64", params={"method": method}
        )
    elif client == "apple":
        mail.set_content(words)
        mail.make_mixed()
        mail.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            cte="quoted-printable",
            params={"method": method},
            disposition="inline",
        )
    elif client == "gmail":
        mail.set_content(words)
        mail.add_alternative(f"<p>{words}</p>", subtype="html")
        mail.add_alternative(
            ics,
            maintype="text",
            subtype="calendar",
            cte="7bit" if ics.isascii() else "base64",
            params={"method": method},
        )
        mail.make_mixed()
        mail.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics", cte="base64")
    else:  # thunderbird
        mail.set_content(words)
        mail.make_mixed()
        mail.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": method},
            disposition="inline",
        )
        mail.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics", cte="base64")
    return mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))  # as it travels: CRLF
