"""Seats: a session's capacity, who holds a seat, the waiting list and its offers.

A session's capacity is its own (set on the occurrence) or its series'; none means no limit. A
seat is held by an ``accepted`` answer, or by a waitlisted member's **offer** until it runs out.
An accept when every seat is held joins the **waiting list** (``waitlisted``; first come, first
served, and staff may move someone up). A seat that comes free — a decline, a capacity raised,
an offer that ran out — is offered to the first of the list, held for the series' hold time (24
hours unless staff set another) but never later than two hours before the start; a seat freed
later than that goes to whoever accepts first.

Every change goes through this module with the series row locked (``FOR UPDATE`` on
PostgreSQL, the write lock on SQLite), so two answers racing for the last seat give it to one of
them. What members must be told (an offer, a place on the list) comes back as :class:`Tell`;
the notices themselves are the notice layer's (:mod:`scheduler.notices.answers`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.db.models import RsvpRow, SeriesRow
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import capacity_of
from schemas.names import OccurrenceStatus

#: How long a freed seat is held for the first of the waiting list, unless the series says.
OFFER_HOLD = timedelta(hours=24)
#: No offer holds a seat later than this before the start.
LAST_OFFER = timedelta(hours=2)
WAITLISTED = "waitlisted"
ACCEPTED = "accepted"


@dataclass(frozen=True)
class Place:
    """One session as seats see it."""

    series: SeriesRow
    uid: str
    start: datetime
    capacity: int | None  # None: no limit
    cancelled: bool = False  # a cancelled session offers no seats


def place_of(series: SeriesRow, occ: Occurrence) -> Place:
    capacity = capacity_of(series, occ.recurrence_id)
    return Place(series, occ.uid, occ.start, capacity, occ.status == OccurrenceStatus.CANCELLED)


@dataclass(frozen=True)
class Tell:
    """A member to tell: a seat offered to them, or their place on the waiting list."""

    member_id: uuid.UUID
    kind: Literal["offer", "waitlisted"]
    round: int  # the rsvp's ``seat_round``: each telling is a notice of its own


@dataclass(frozen=True)
class Standing:
    """A member's answer as seats see it."""

    response: str  # accepted, declined, tentative, waitlisted, needs-action
    position: int | None = None  # on the waiting list, from 1
    offer_until: datetime | None = None  # a seat held for them until then
    checked_in: bool = False  # came: checked in at the door

    @property
    def holds_seat(self) -> bool:
        return self.response == ACCEPTED or self.offer_until is not None


@dataclass
class Seats:
    """A session's seats at a moment: ``taken`` counts accepted answers and live offers."""

    capacity: int | None
    accepted: int
    offered: int
    waiting: int

    @property
    def taken(self) -> int:
        return self.accepted + self.offered

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.taken >= self.capacity


@dataclass
class Answered:
    standing: Standing
    tell: list[Tell] = field(default_factory=list)
    #: the member gave up a seat at a session whose seats were all taken (staff hear of it)
    gave_up_full: bool = False


def lock(session: Session, series_id: uuid.UUID) -> None:
    """Take the series' lock for a change of seats (held until the transaction ends)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(SeriesRow.id).where(SeriesRow.id == series_id).with_for_update())
    else:  # SQLite locks the whole database for the first write; make that write now (one that
        # changes nothing: ``updated_at`` written back as it was, so its ``onupdate`` stays still)
        session.execute(
            update(SeriesRow)
            .where(SeriesRow.id == series_id)
            .values(capacity=SeriesRow.capacity, updated_at=SeriesRow.updated_at)
        )


def _rows(session: Session, uid: str) -> list[RsvpRow]:
    return list(session.scalars(select(RsvpRow).where(RsvpRow.occurrence_uid == uid)))


def _live_offer(row: RsvpRow, now: datetime) -> bool:
    return row.response == WAITLISTED and row.offer_until is not None and row.offer_until > now


def _holds(row: RsvpRow, now: datetime) -> bool:
    return row.response == ACCEPTED or _live_offer(row, now)


def _queue(rows: list[RsvpRow]) -> list[RsvpRow]:
    """The waiting list in order: who came first (``waitlisted_at``), then by id for a tie."""
    waiting = [r for r in rows if r.response == WAITLISTED]
    return sorted(waiting, key=lambda r: (r.waitlisted_at or r.responded_at, str(r.member_id)))


def seats(session: Session, place: Place, now: datetime) -> Seats:
    return tally(place.capacity, standings(session, place.uid, now).values())


def standings(session: Session, uid: str, now: datetime) -> dict[uuid.UUID, Standing]:
    """Every answer to the session, with waiting-list positions (live offers first: they hold
    a seat and are at the head of the list)."""
    rows = _rows(session, uid)
    found = {
        r.member_id: Standing(r.response, checked_in=r.checked_in_at is not None)
        for r in rows
        if r.response != WAITLISTED
    }
    for position, row in enumerate(_queue(rows), start=1):
        offer = row.offer_until if _live_offer(row, now) else None
        found[row.member_id] = Standing(WAITLISTED, position, offer, row.checked_in_at is not None)
    return found


def tally(capacity: int | None, standings: Iterable[Standing]) -> Seats:
    """A session's seats counted from its :func:`standings` (no second read)."""
    everyone = list(standings)
    return Seats(
        capacity=capacity,
        accepted=sum(s.response == ACCEPTED for s in everyone),
        offered=sum(s.offer_until is not None for s in everyone),
        waiting=sum(s.response == WAITLISTED and s.offer_until is None for s in everyone),
    )


def standing(session: Session, uid: str, member_id: uuid.UUID, now: datetime) -> Standing:
    return standings(session, uid, now).get(member_id, Standing("needs-action"))


def answer(
    session: Session,
    place: Place,
    member_id: uuid.UUID,
    response: str,
    now: datetime,
    *,
    source: str,
    user_agent: str = "",
    answered_at: datetime | None = None,
) -> Answered:
    """Record a member's answer (accepted, declined, tentative) against the session's seats;
    ``answered_at``: when they gave it, if not now (a calendar reply's DTSTAMP).

    An accept takes a free seat, or the one offered to them, or joins the waiting list (a
    member already on it keeps their place). Any other answer gives up their seat or place; a
    seat given up is offered on. Returns where the member stands and whom to tell."""
    lock(session, place.series.id)
    rows = _rows(session, place.uid)
    mine = next((r for r in rows if r.member_id == member_id), None)
    tell: list[Tell] = []
    was_full = place.capacity is not None and sum(_holds(r, now) for r in rows) >= place.capacity
    if response == ACCEPTED and not (mine is not None and _holds(mine, now)):
        taken = sum(_holds(r, now) for r in rows)
        if place.capacity is not None and taken >= place.capacity:
            response = WAITLISTED
    freed = mine is not None and _holds(mine, now) and response != ACCEPTED
    if mine is None:
        mine = RsvpRow(series_id=place.series.id, member_id=member_id, occurrence_uid=place.uid, seat_round=0)
        session.add(mine)
    if response == WAITLISTED:
        if mine.response != WAITLISTED:
            mine.waitlisted_at = now
            mine.seat_round = (mine.seat_round or 0) + 1
            tell.append(Tell(member_id, "waitlisted", mine.seat_round))
        elif mine.offer_until is not None and mine.offer_until <= now:
            mine.offer_until = None  # a late accept after the offer ran out: still waiting, not lapsed
    else:
        mine.waitlisted_at = None
        mine.offer_until = None
    mine.response = response
    mine.responded_at = answered_at or now
    mine.source = source
    mine.user_agent = user_agent[:300]
    session.flush()
    if freed:
        tell += _offer_free_seats(session, place, now)
    return Answered(standing(session, place.uid, member_id, now), tell, gave_up_full=freed and was_full)


def forget(session: Session, place: Place, member_id: uuid.UUID, now: datetime) -> list[Tell]:
    """Clear a member's answer (staff: "not answered"); a seat it held is offered on."""
    lock(session, place.series.id)
    mine = next((r for r in _rows(session, place.uid) if r.member_id == member_id), None)
    if mine is None:
        return []
    freed = _holds(mine, now)
    session.delete(mine)
    session.flush()
    return _offer_free_seats(session, place, now) if freed else []


def move_to(session: Session, place: Place, member_id: uuid.UUID, position: int, now: datetime) -> None:
    """Staff move a waitlisted member to ``position`` (1: first) of the waiting list."""
    lock(session, place.series.id)
    queue = _queue(_rows(session, place.uid))
    mine = next((r for r in queue if r.member_id == member_id), None)
    if mine is None:
        raise ValueError("not on the waiting list")
    queue.remove(mine)
    queue.insert(max(0, min(position - 1, len(queue))), mine)
    # renumber the list's times in its new order, keeping the earliest: one second apart
    first = min(r.waitlisted_at or r.responded_at for r in queue)
    for i, row in enumerate(queue):
        row.waitlisted_at = first + timedelta(seconds=i)
    session.flush()


def settle(session: Session, place: Place, now: datetime) -> list[Tell]:
    """Make the seats right after the capacity changed, or offers ran out: offers that ran out
    end (their member declined by silence), too many seats held give back the latest offers,
    then the latest accepts go to the head of the list; free seats are offered."""
    lock(session, place.series.id)
    tell: list[Tell] = []
    rows = _rows(session, place.uid)
    holding = [r for r in rows if _holds(r, now)]
    excess = 0 if place.capacity is None else len(holding) - place.capacity
    if excess > 0:
        offers = sorted((r for r in holding if _live_offer(r, now)), key=lambda r: r.offer_until or now)
        accepted = sorted((r for r in holding if r.response == ACCEPTED), key=lambda r: r.responded_at)
        head = min((r.waitlisted_at or r.responded_at for r in _queue(rows)), default=now)
        for i, row in enumerate((offers[::-1] + accepted[::-1])[:excess]):
            if row.response == ACCEPTED:
                row.response = WAITLISTED
                # the earlier they had accepted, the nearer the head they are
                row.waitlisted_at = head - timedelta(seconds=i + 1)
            row.offer_until = None
            row.seat_round = (row.seat_round or 0) + 1
            tell.append(Tell(row.member_id, "waitlisted", row.seat_round))
        session.flush()
        return tell
    return _offer_free_seats(session, place, now)


def _offer_free_seats(session: Session, place: Place, now: datetime) -> list[Tell]:
    """Offers that ran out end; each free seat is offered to the next of the waiting list."""
    rows = _rows(session, place.uid)
    _end_lapsed(rows, now)
    hold = timedelta(seconds=place.series.offer_hold_s) if place.series.offer_hold_s else OFFER_HOLD
    until = min(now + hold, place.start - LAST_OFFER)
    if until <= now or place.cancelled:
        session.flush()
        return []
    free = None if place.capacity is None else place.capacity - sum(_holds(r, now) for r in rows)
    waiting = [r for r in _queue(rows) if not _live_offer(r, now)]
    tell = []
    for row in waiting if free is None else waiting[: max(free, 0)]:
        row.offer_until = until
        row.seat_round = (row.seat_round or 0) + 1
        tell.append(Tell(row.member_id, "offer", row.seat_round))
    session.flush()
    return tell


def _end_lapsed(rows: list[RsvpRow], now: datetime) -> None:
    """An offer nobody took up in time ends: its member is taken as having declined (silence)."""
    for row in rows:
        if row.response == WAITLISTED and row.offer_until is not None and row.offer_until <= now:
            row.response, row.source, row.responded_at = "declined", "lapsed", row.offer_until
            row.offer_until = row.waitlisted_at = None


def end_lapsed(session: Session, uid: str, now: datetime) -> None:
    """The offers of a session that is no more (its seats are nobody's business now) end."""
    _end_lapsed(_rows(session, uid), now)
    session.flush()


def lapsed_offers(session: Session, now: datetime) -> list[tuple[uuid.UUID, str]]:
    """(series id, occurrence UID) of the sessions with an offer that has run out."""
    found = session.execute(
        select(RsvpRow.series_id, RsvpRow.occurrence_uid)
        .where(RsvpRow.response == WAITLISTED, RsvpRow.offer_until <= now)
        .distinct()
    )
    return [(series_id, uid) for series_id, uid in found]


def answered_sessions(session: Session, series_id: uuid.UUID) -> list[str]:
    """The UIDs of the series' sessions that have answers (the only ones with seats to settle)."""
    return list(
        session.scalars(select(RsvpRow.occurrence_uid).where(RsvpRow.series_id == series_id).distinct())
    )
