"""What members report after a session: a follow-up (one per member and session; sending it
again replaces it, so a form posted 300 times is one answer, not 300). After a project-docking
session: how many firms they talked to and which, whether an intention to cooperate or a
contract came of it and its rough value; after a tech exchange: a 1–5 rating, what was useful
and the topic wanted next. A member may correct their answer until :data:`CORRECTABLE_FOR`
after the session; staff may record one for a member at any time (``source`` staff). Whether
they come to a session is an answer against its seats: :mod:`scheduler.domain.seats`."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from scheduler.db.models import FollowupResponseRow, MemberRow, RsvpRow, SeriesRow
from scheduler.db.upsert import upsert
from schemas.api import DockingOutcomeForm, FeedbackForm, OutcomeOut

FOLLOWUPS: Table = FollowupResponseRow.__table__  # type: ignore[assignment]
MAX_TEXT = 5000
#: How long after its session a member may still correct what they reported.
CORRECTABLE_FOR = timedelta(days=30)
#: Separators between firm names typed in one box (Chinese and Latin commas, 、, ;, new lines).
_FIRM_SEPARATORS = re.compile(r"[,，、;；\n]+")

Answer = DockingOutcomeForm | FeedbackForm


def kind_of(series: SeriesRow) -> str:
    return "docking-outcome" if series.kind == "project-docking" else "feedback"


def form_of(series: SeriesRow) -> type[DockingOutcomeForm] | type[FeedbackForm]:
    """The questions after a session of this series."""
    return DockingOutcomeForm if series.kind == "project-docking" else FeedbackForm


def followup_of(session: Session, member_id: uuid.UUID, occurrence_uid: str) -> FollowupResponseRow | None:
    """The member's answer for that session so far, to edit."""
    return session.scalar(
        select(FollowupResponseRow).where(
            FollowupResponseRow.member_id == member_id, FollowupResponseRow.occurrence_uid == occurrence_uid
        )
    )


def correctable(session_end: datetime, now: datetime) -> bool:
    """Whether a member may still change what they reported about a session that ended then."""
    return now < session_end + CORRECTABLE_FOR


def typed_firms(text: str) -> list[str]:
    """Firm names typed in one box, split at commas, 、 or new lines; blanks dropped."""
    return [name.strip() for name in _FIRM_SEPARATORS.split(text) if name.strip()]


def firms_met(session: Session, occurrence_uid: str, member_id: uuid.UUID) -> list[str]:
    """The companies of the others who came (accepted, or checked in at the door), to pick from."""
    rows = session.scalars(
        select(MemberRow.company)
        .join(RsvpRow, RsvpRow.member_id == MemberRow.id)
        .where(
            RsvpRow.occurrence_uid == occurrence_uid,
            RsvpRow.member_id != member_id,
            or_(RsvpRow.response == "accepted", RsvpRow.checked_in_at.is_not(None)),
            MemberRow.company != "",
        )
        .distinct()
        .order_by(MemberRow.company)
    )
    return list(rows)


def record_followup(
    session: Session,
    series: SeriesRow,
    member_id: uuid.UUID,
    occurrence_uid: str,
    answer: Answer,
    now: datetime,
    *,
    recorded_by: str | None = None,
) -> None:
    """Keep ``answer`` as the member's report for the session, in place of any earlier one (one
    statement, so two posts at once still leave one answer). ``recorded_by``: the staff account
    that entered it for the member (from a phone call), else the member did."""
    if not isinstance(answer, form_of(series)):
        raise ValueError(f"a {series.kind} session is followed up with {form_of(series).__name__}")
    fields: dict[str, object] = {
        "text": answer.note[:MAX_TEXT],
        "source": "staff" if recorded_by else "member",
        "recorded_by": recorded_by,
    }
    if isinstance(answer, DockingOutcomeForm):
        fields |= {
            "contacts": answer.contacts,
            "firms": list(dict.fromkeys(answer.firms)),
            "intention": answer.intention,
            "contract": answer.contract,
            "value_wan": answer.value_wan,
        }
    else:
        fields |= {"rating": answer.rating, "useful": answer.useful, "next_topic": answer.next_topic}
    session.execute(
        upsert(session, FOLLOWUPS)
        .values(
            series_id=series.id,
            member_id=member_id,
            occurrence_uid=occurrence_uid,
            kind=kind_of(series),
            created_at=now,
            **fields,
        )
        .on_conflict_do_update(
            index_elements=[FOLLOWUPS.c.member_id, FOLLOWUPS.c.occurrence_uid],
            set_={**fields, "updated_at": now},
        )
    )


def outcomes(session: Session, occurrence_uid: str) -> list[OutcomeOut]:
    """Everything reported about one session, by member name."""
    rows = session.execute(
        select(FollowupResponseRow, MemberRow)
        .join(MemberRow, MemberRow.id == FollowupResponseRow.member_id)
        .where(FollowupResponseRow.occurrence_uid == occurrence_uid)
        .order_by(MemberRow.name, MemberRow.id)
    )
    return [
        OutcomeOut(
            member_id=member.id,
            name=member.name,
            company=member.company,
            kind=row.kind,  # type: ignore[arg-type]
            contacts=row.contacts,
            firms=list(row.firms or []),
            intention=row.intention,
            contract=row.contract,
            value_wan=row.value_wan,
            rating=row.rating,
            useful=row.useful,
            next_topic=row.next_topic,
            note=row.text,
            source=row.source,  # type: ignore[arg-type]
            recorded_by=row.recorded_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row, member in rows
    ]
