"""Email as a channel: one iMIP message per notice (RFC 6047), composed here; how it leaves
(an SMTP relay, or a file in the outbox) is the business of the subclass."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from email.message import Message

from scheduler.calendars.ics import itip_cancel, itip_request
from scheduler.domain.checkin import qr_png
from scheduler.exports.sheets import XLSX
from schemas.mail import PlainMail
from schemas.names import NoticeKind
from workers.digest import Digest, DigestRenderer
from workers.letters import Letter, Renderer
from workers.mail import build_email

#: Notices that carry the session's calendar: iTIP REQUEST, or CANCEL (a cancellation, and a
#: member's place on the waiting list: the session leaves their calendar until they hold a seat).
CALENDAR_KINDS = frozenset(
    {
        NoticeKind.INVITATION,
        NoticeKind.UPDATE,
        NoticeKind.CANCELLATION,
        NoticeKind.OFFER,
        NoticeKind.WAITLISTED,
    }
)
WITHDRAWING = frozenset({NoticeKind.CANCELLATION, NoticeKind.WAITLISTED})
#: The Content-ID of the check-in QR code the HTML shows.
CHECKIN_CID = "checkin-code"


class MailChannel(ABC):
    """Composes a notice as an email; subclasses implement ``send`` and ``close``."""

    name = "email"

    def __init__(self, *, mail_from: str, renderer: Renderer | None = None) -> None:
        self.mail_from = mail_from
        self.renderer = renderer or Renderer()
        self.digests = DigestRenderer()

    def compose(self, letter: Letter | Digest) -> Message:
        if isinstance(letter, Digest):
            return self._digest(letter)
        to = letter.recipient
        if to.email is None:
            raise ValueError(f"recipient {to.id} has no email address")
        text, html = self.renderer.bodies(letter)
        calendar = method = None
        if letter.notice_kind in CALENDAR_KINDS and letter.calendar_part:
            organizer = letter.calendar_organizer or None
            if letter.notice_kind in WITHDRAWING:
                calendar = itip_cancel(letter.event, to.name, to.email, letter.sent_at, organizer)
                method = "CANCEL"
            else:
                calendar = itip_request(letter.event, to.name, to.email, letter.sent_at, organizer)
                method = "REQUEST"
        return build_email(
            notice_id=letter.notice_id,
            sender=self.mail_from,
            to_name=to.name,
            to_email=to.email,
            reply_to=letter.event.organizer_email,
            subject=self.renderer.subject(letter),
            text=text,
            html=html,
            sent_at=letter.sent_at,
            calendar=calendar,
            method=method,
            list_id=(letter.title, str(letter.series_id)),
            unsubscribe=[u for u in (letter.unsubscribe_url, letter.unsubscribe_mailto) if u],
            return_path=letter.return_path,
            images=[(CHECKIN_CID, qr_png(letter.checkin_url))] if letter.checkin_url else [],
        )

    def _digest(self, digest: Digest) -> Message:
        """The monthly digest to a staff member, with the month's report attached (.xlsx)."""
        to = digest.recipient
        if to.email is None:
            raise ValueError(f"recipient {to.id} has no email address")
        text, html = self.digests.bodies(digest)
        return build_email(
            notice_id=digest.notice_id,
            sender=self.mail_from,
            to_name=to.name,
            to_email=to.email,
            reply_to=None,
            subject=self.digests.subject(digest),
            text=text,
            html=html,
            sent_at=digest.sent_at,
            return_path=digest.return_path,
            files=[(digest.attachment_name(), XLSX, digest.workbook())],
        )

    def post(self, mail: PlainMail) -> str:
        """Send a plain email that is not a notice (a sign-in link, a confirmation) at once."""
        return self.send(
            build_email(
                notice_id=uuid.uuid5(uuid.NAMESPACE_URL, f"exsched-mail:{mail.key}"),
                sender=self.mail_from,
                to_name=mail.to_name,
                to_email=mail.to_email,
                reply_to=None,
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                sent_at=datetime.now(UTC),
            )
        )

    @abstractmethod
    def send(self, outgoing: Message) -> str:
        """Hand the message over: to an SMTP relay, or into the outbox."""

    def close(self) -> None:
        return None
