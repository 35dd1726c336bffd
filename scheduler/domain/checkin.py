"""Check-in at the door: each member holding a seat has a personal code (a signed token naming
the member and the session, nothing personal in it), shown as a QR code in their emails and on
their member page; staff read it with a phone, or find the person by name or company, and the
member is checked in once (a second scan says when the first was). Someone who comes without a
seat, or walks in unannounced, is checked in too: they came, and the record says so (``door``).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, RsvpRow
from scheduler.domain import seats
from scheduler.domain.seats import Place, Standing
from scheduler.domain.tokens import InvalidToken, sign, verify

PURPOSE = "checkin"
#: A code works until a day after the session (a late door list is still checked in).
VALID_AFTER = timedelta(days=1)


def code(secret: str, member_id: uuid.UUID, occurrence_uid: str, end: datetime) -> str:
    return sign(secret, PURPOSE, {"m": str(member_id), "o": occurrence_uid}, expires=end + VALID_AFTER)


def read_code(secret: str, token: str) -> tuple[uuid.UUID, str] | None:
    """(member id, occurrence UID) of a genuine, unexpired code; None for anything else."""
    try:
        claims = verify(secret, PURPOSE, token.strip())
        return uuid.UUID(claims["m"]), str(claims["o"])
    except (InvalidToken, KeyError, ValueError):
        return None


def code_url(public_url: str, token: str) -> str:
    """What the QR code holds: a link that shows the code again (a phone camera that is not the
    door's opens a page, which changes nothing)."""
    return f"{public_url}/c/{token}"


def token_of(text: str) -> str:
    """The token in what a QR code held (the link, or the bare token)."""
    return text.strip().rsplit("/c/", 1)[-1]


def qr_png(text: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@lru_cache(maxsize=256)
def qr_svg(text: str, scale: int = 5) -> str:
    """A QR code as inline SVG; kept per text, since the sessions page and the feeds page draw
    the same dozen feed addresses on every request."""
    return str(segno.make(text, error="m").svg_inline(scale=scale, border=4, title="QR"))


@dataclass(frozen=True)
class CheckedIn:
    member: MemberRow
    before: Standing  # where they stood for the seats when they came
    at: datetime  # when they were checked in (the first time)
    again: bool  # they had been checked in already


def check_in(session: Session, place: Place, member: MemberRow, now: datetime, by: str) -> CheckedIn:
    """Record that ``member`` came (once). Someone without a seat who comes takes one at the
    door: their answer becomes ``accepted`` (source ``door``)."""
    seats.lock(session, place.series.id)
    before = seats.standing(session, place.uid, member.id, now)
    row = session.scalar(
        select(RsvpRow).where(RsvpRow.occurrence_uid == place.uid, RsvpRow.member_id == member.id)
    )
    if row is not None and row.checked_in_at is not None:
        return CheckedIn(member, before, row.checked_in_at, again=True)
    if row is None:
        row = RsvpRow(series_id=place.series.id, member_id=member.id, occurrence_uid=place.uid, seat_round=0)
        session.add(row)
    if row.response != seats.ACCEPTED:
        row.response, row.source, row.responded_at, row.user_agent = seats.ACCEPTED, "door", now, ""
        row.waitlisted_at = row.offer_until = None
    row.checked_in_at, row.checked_in_by = now, by[:64]
    session.flush()
    return CheckedIn(member, before, now, again=False)


def checked_in_count(session: Session, uid: str) -> int:
    return len(
        session.scalars(
            select(RsvpRow.id).where(RsvpRow.occurrence_uid == uid, RsvpRow.checked_in_at.is_not(None))
        ).all()
    )
