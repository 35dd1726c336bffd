"""What members answer: whether they come to a session (the latest answer stands, with when, how
and from which user agent it came), and a follow-up after it (one per member and session;
sending it again replaces it, so a form posted 300 times is one answer, not 300)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from scheduler.db.models import FollowupResponseRow, RsvpRow, SeriesRow
from scheduler.db.upsert import upsert

FOLLOWUPS: Table = FollowupResponseRow.__table__  # type: ignore[assignment]
RSVPS: Table = RsvpRow.__table__  # type: ignore[assignment]
MAX_TEXT = 5000


def followup_of(session: Session, member_id: uuid.UUID, occurrence_uid: str) -> str:
    """The member's answer for that session so far ("" if none), to edit."""
    text = session.scalar(
        select(FollowupResponseRow.text).where(
            FollowupResponseRow.member_id == member_id, FollowupResponseRow.occurrence_uid == occurrence_uid
        )
    )
    return text or ""


def record_followup(
    session: Session, series: SeriesRow, member_id: uuid.UUID, occurrence_uid: str, text: str, now: datetime
) -> None:
    """Keep ``text`` as the member's answer for the session, in place of any earlier one (one
    statement, so two posts at once still leave one answer)."""
    session.execute(
        upsert(session, FOLLOWUPS)
        .values(
            series_id=series.id,
            member_id=member_id,
            occurrence_uid=occurrence_uid,
            kind="docking-outcome" if series.kind == "project-docking" else "feedback",
            text=text[:MAX_TEXT],
            created_at=now,
        )
        .on_conflict_do_update(
            index_elements=[FOLLOWUPS.c.member_id, FOLLOWUPS.c.occurrence_uid],
            set_={"text": text[:MAX_TEXT], "updated_at": now},
        )
    )


def record_rsvp(
    session: Session,
    series: SeriesRow,
    member_id: uuid.UUID,
    occurrence_uid: str,
    response: str,
    now: datetime,
    *,
    source: str,
    user_agent: str = "",
) -> None:
    """``response`` (accepted, declined, tentative) as the member's answer to the session, in
    place of any earlier one; ``source`` says how it came (link, member-page, staff, calendar)."""
    values = {"response": response, "responded_at": now, "source": source, "user_agent": user_agent[:300]}
    session.execute(
        upsert(session, RSVPS)
        .values(series_id=series.id, member_id=member_id, occurrence_uid=occurrence_uid, **values)
        .on_conflict_do_update(index_elements=[RSVPS.c.occurrence_uid, RSVPS.c.member_id], set_=values)
    )


def clear_rsvp(session: Session, member_id: uuid.UUID, occurrence_uid: str) -> None:
    """Forget the member's answer: they have not answered (``needs-action``)."""
    session.execute(
        delete(RsvpRow).where(RsvpRow.member_id == member_id, RsvpRow.occurrence_uid == occurrence_uid)
    )
