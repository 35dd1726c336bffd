"""Members' answers with their consequences: the seat taken or the waiting list joined
(:mod:`scheduler.domain.seats`), and the notices that tell members of it — an ``offer`` of a
freed seat (with the calendar), a ``waitlisted`` note (a place on the list, no calendar).

Every way an answer comes (an email's button, the member page, staff, a calendar app's reply)
goes through :func:`answer`, in the caller's transaction, so the seat and its notices are
committed together or not at all. The scheduler's ``offers`` job (:func:`pass_on_lapsed_offers`)
passes on the offers nobody took up in time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import SeriesRow
from scheduler.domain import seats
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.seats import Answered, Place, Tell, place_of
from scheduler.domain.series import occurrence_at
from scheduler.notices import alerts, store
from scheduler.notices.planner import request_plan
from schemas.ids import notice_id, recurrence_of_uid
from schemas.names import Channel, NoticeKind

log = structlog.get_logger(__name__)


def answer(
    session: Session,
    series: SeriesRow,
    occ: Occurrence,
    member_id: uuid.UUID,
    response: str,
    now: datetime,
    *,
    source: str,
    user_agent: str = "",
    answered_at: datetime | None = None,
) -> Answered:
    """Record the member's answer to the session (accepted, declined, tentative) and plan what
    it makes owed; see :func:`scheduler.domain.seats.answer`."""
    place = place_of(series, occ)
    done = seats.answer(
        session,
        place,
        member_id,
        response,
        now,
        source=source,
        user_agent=user_agent,
        answered_at=answered_at,
    )
    tell(session, place, occ, done.tell, now)
    if done.gave_up_full:
        alerts.seat_given_up(session, series, occ, member_id, now)
    return done


def forget(session: Session, series: SeriesRow, occ: Occurrence, member_id: uuid.UUID, now: datetime) -> None:
    place = place_of(series, occ)
    tell(session, place, occ, seats.forget(session, place, member_id, now), now)


def settle(session: Session, series: SeriesRow, occ: Occurrence, now: datetime) -> list[Tell]:
    """After the session's capacity changed: seats given back or offered, and those told."""
    place = place_of(series, occ)
    told = seats.settle(session, place, now)
    tell(session, place, occ, told, now)
    return told


def settle_series(session: Session, series: SeriesRow, holidays: HolidayCalendar, now: datetime) -> int:
    """After the series changed (its capacity, its hold time): the seats of every session ahead
    that has answers made right. Returns how many members are told."""
    told = 0
    for uid in seats.answered_sessions(session, series.id):
        occ = occurrence_at(series, recurrence_of_uid(uid), holidays)
        if occ is not None and occ.start > now:
            told += len(settle(session, series, occ, now))
    return told


def tell(session: Session, place: Place, occ: Occurrence, tells: list[Tell], now: datetime) -> int:
    """The notices for ``tells``, due now (one per telling: its ``round`` is the slot)."""
    if not tells:
        return 0
    created = store.plan(
        session,
        [
            store.NewNotice(
                id=notice_id(place.uid, t.member_id, t.kind, Channel.EMAIL.value, 0, str(t.round)),
                series_id=place.series.id,
                member_id=t.member_id,
                webhook_id=None,
                occurrence_uid=place.uid,
                recurrence_id=occ.recurrence_id,
                kind=NoticeKind(t.kind),
                slot=str(t.round),
                channel=Channel.EMAIL.value,
                sequence=occ.sequence,
                due_at=now,
                starts_at=occ.start,
            )
            for t in tells
        ],
        now,
    )
    # the scheduler's planner wakes the dispatcher for them (NOTIFY on PostgreSQL)
    request_plan(session, member_ids=[t.member_id for t in tells], now=now)
    for t in tells:
        log.info("seat_notice_planned", occurrence_uid=place.uid, member_id=str(t.member_id), kind=t.kind)
    return created


def pass_on_lapsed_offers(session: Session, holidays: HolidayCalendar, now: datetime) -> int:
    """Every session with an offer that ran out: the offer ends, the seat goes to the next."""
    told = 0
    for series_id, uid in seats.lapsed_offers(session, now):
        series = session.scalar(
            select(SeriesRow).where(SeriesRow.id == series_id).options(selectinload(SeriesRow.overrides))
        )
        occ = occurrence_at(series, recurrence_of_uid(uid), holidays) if series is not None else None
        if series is None or occ is None:
            seats.end_lapsed(session, uid, now)
            continue
        told += len(settle(session, series, occ, now))
    return told
