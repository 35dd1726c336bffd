"""What members report after a session: a follow-up (one per member and session; sending it
again replaces it, so a form posted 300 times is one answer, not 300). Whether they come to a
session is an answer against its seats: :mod:`scheduler.domain.seats`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from scheduler.db.models import FollowupResponseRow, SeriesRow
from scheduler.db.upsert import upsert

FOLLOWUPS: Table = FollowupResponseRow.__table__  # type: ignore[assignment]
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
