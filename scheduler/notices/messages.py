"""Staff's messages about one session: their own words to the members invited ("the room is
now 3F") and reminders to answer for those who have not.

Each press of the console's button is one :class:`~scheduler.db.models.SessionMessageRow`,
keyed by a token the form carries, so pressing twice (or the browser sending the form again)
sends nothing twice; each member's copy is an email notice due now, with the row's id as its
slot — planned, sent, retried and shown in the ledger like every other notice. Who gets it is
decided now; whether it still goes is decided again when it is sent (a member who declined or
answered since, a session cancelled since: :func:`scheduler.notices.policy.reason_not_to_send`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow, SessionMessageRow
from scheduler.domain import seats
from scheduler.domain.recurrence import Occurrence
from scheduler.notices import store
from scheduler.notices.planner import request_plan
from schemas.ids import notice_id
from schemas.names import Channel, NoticeKind

log = structlog.get_logger(__name__)

Audience = Literal["invited", "accepted", "unanswered"]
#: Whom staff may write to: everyone invited who has not declined, or those holding a seat.
MESSAGE_AUDIENCES: tuple[Audience, ...] = ("invited", "accepted")
#: The longest message (an email's worth, not a newsletter).
MAX_BODY = 2000


@dataclass(frozen=True)
class Sent:
    """A message and whether this call made it (False: its key was sent already)."""

    message: SessionMessageRow
    fresh: bool


def recipients(session: Session, occ: Occurrence, audience: Audience, now: datetime) -> list[uuid.UUID]:
    """The members a message to ``audience`` goes to: of those told of the session (an
    invitation or update went or is going) who take email, ``invited``: all but who declined;
    ``accepted``: who hold a seat (accepted, or a seat held for them); ``unanswered``: who have
    not answered at all."""
    return _by_audience(session, occ, now)[audience]


def reach(session: Session, occ: Occurrence, now: datetime) -> dict[Audience, int]:
    """How many members each audience is now (one read, for the buttons that say it)."""
    return {audience: len(members) for audience, members in _by_audience(session, occ, now).items()}


def _by_audience(session: Session, occ: Occurrence, now: datetime) -> dict[Audience, list[uuid.UUID]]:
    found: dict[Audience, list[uuid.UUID]] = {"invited": [], "accepted": [], "unanswered": []}
    told = store.members_told(session, [occ.uid])
    if not told:
        return found
    standing = seats.standings(session, occ.uid, now)
    by_name = session.scalars(select(MemberRow).where(MemberRow.id.in_(told)).order_by(MemberRow.name))
    for member in by_name:
        if "email" not in (member.channels or []):
            continue
        mine = standing.get(member.id, seats.Standing("needs-action"))
        if mine.response != "declined":
            found["invited"].append(member.id)
        if mine.holds_seat:
            found["accepted"].append(member.id)
        if mine.response == "needs-action":
            found["unanswered"].append(member.id)
    return found


def send(
    session: Session,
    series: SeriesRow,
    occ: Occurrence,
    *,
    kind: NoticeKind,
    audience: Audience,
    body: str,
    by: str,
    key: uuid.UUID,
    now: datetime,
) -> Sent:
    """Plan one ``message`` or ``nudge`` to the audience's members, due now; the same ``key``
    again returns the message already sent and plans nothing."""
    if kind not in (NoticeKind.MESSAGE, NoticeKind.NUDGE):
        raise ValueError(f"not a staff message: {kind.value}")
    existing = session.get(SessionMessageRow, key)
    if existing is not None:
        return Sent(existing, fresh=False)
    members = recipients(session, occ, audience, now)
    row = SessionMessageRow(
        id=key,
        series_id=series.id,
        occurrence_uid=occ.uid,
        recurrence_id=occ.recurrence_id,
        kind=kind.value,
        audience=audience,
        body=body,
        recipients=len(members),
        sent_by=by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    slot = key.hex
    email = Channel.EMAIL.value
    store.plan(
        session,
        [
            store.NewNotice(
                id=notice_id(occ.uid, member_id, kind.value, email, 0, slot),
                series_id=series.id,
                member_id=member_id,
                webhook_id=None,
                occurrence_uid=occ.uid,
                recurrence_id=occ.recurrence_id,
                kind=kind,
                slot=slot,
                channel=email,
                sequence=occ.sequence,
                due_at=now,
                starts_at=occ.start,
            )
            for member_id in members
        ],
        now,
    )
    if members:  # wakes the scheduler's dispatcher (NOTIFY on PostgreSQL)
        request_plan(session, member_ids=members, now=now)
    log.info(
        "session_message_planned", occurrence_uid=occ.uid, kind=kind.value, recipients=len(members), by=by
    )
    return Sent(row, fresh=True)


def sent_for(session: Session, occurrence_uid: str) -> list[SessionMessageRow]:
    """What staff sent about one session, newest first."""
    return list(
        session.scalars(
            select(SessionMessageRow)
            .where(SessionMessageRow.occurrence_uid == occurrence_uid)
            .order_by(SessionMessageRow.created_at.desc())
        )
    )


def body_of(session: Session, slot: str) -> str:
    """The words of the message a notice's slot names ("" if it is gone)."""
    try:
        key = uuid.UUID(hex=slot)
    except ValueError:
        return ""
    row = session.get(SessionMessageRow, key)
    return row.body if row is not None else ""
