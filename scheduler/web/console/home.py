"""The page staff land on: today and this week's sessions with their answers and seats, what
needs someone (failed notices, addresses that bounce, people waiting for approval), and what
happened that staff should know (a seat given up at a full session, notices that failed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from scheduler.db.models import MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.domain import joining, seats
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.series import capacity_of, occurrences
from scheduler.notices.audience import member_names
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import OFFICE, Page, PageDep
from scheduler.web.console.sessions import holidays_of
from schemas.ids import recurrence_of_uid, recurrence_stamp
from schemas.names import NoticeStatus, SeriesStatus

router = APIRouter(prefix="/console", include_in_schema=False)

#: How far ahead the page lists sessions, and how far back it looks for what happened.
AHEAD = timedelta(days=7)
BACK = timedelta(days=7)


@dataclass(frozen=True)
class Coming:
    start: datetime
    end: datetime
    title: str
    chapter: str
    link: str
    answers: Counter[str]
    seats: seats.Seats
    today: bool


@dataclass(frozen=True)
class Alert:
    kind: str  # seat-given-up | failed
    when: datetime
    words: dict[str, Any]
    link: str


@router.get("/home", response_class=HTMLResponse)
def home(page: PageDep) -> Response:
    now = utcnow()
    chapters = page.chapters
    series = page.session.scalars(
        select(SeriesRow)
        .where(SeriesRow.chapter.in_(chapters), SeriesRow.status == SeriesStatus.ACTIVE.value)
        .options(selectinload(SeriesRow.overrides))
    ).all()
    coming = _coming(page, series, now)
    return page.render(
        "home.html.j2",
        coming=coming,
        attention=_attention(page, chapters, now),
        alerts=_alerts(page, chapters, now),
        now=now.astimezone(OFFICE),
    )


def _coming(page: Page, series: Any, now: datetime) -> list[Coming]:
    today = now.astimezone(OFFICE).date()
    found = []
    for row in series:
        try:
            ahead = occurrences(row, holidays_of(page), now, now + AHEAD)
        except RecurrenceError:
            continue
        found += [(row, occ) for occ in ahead if occ.status.value != "cancelled"]
    listed = []
    for row, occ in sorted(found, key=lambda pair: pair[1].start):
        standing = seats.standings(page.session, occ.uid, now)
        listed.append(
            Coming(
                start=occ.start.astimezone(OFFICE),
                end=occ.end.astimezone(OFFICE),
                title=row.title,
                chapter=row.chapter,
                link=f"/console/series/{row.id}/occurrences/{recurrence_stamp(occ.recurrence_id)}",
                answers=Counter(s.response for s in standing.values()),  # from the one read
                seats=seats.tally(capacity_of(row, occ.recurrence_id), standing.values()),
                today=occ.start.astimezone(OFFICE).date() == today,
            )
        )
    return listed


def _attention(page: Page, chapters: list[str], now: datetime) -> dict[str, int]:
    failed = page.session.scalar(
        select(func.count())
        .select_from(NoticeRow)
        .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
        .where(SeriesRow.chapter.in_(chapters), NoticeRow.status == NoticeStatus.FAILED.value)
    )
    stopped = page.session.scalar(
        select(func.count())
        .select_from(MemberRow)
        .where(MemberRow.chapter.in_(chapters), MemberRow.undeliverable_at.is_not(None))
    )
    return {
        "failed": int(failed or 0),
        "bounced": int(stopped or 0),
        "joins": len(joining.waiting(page.session, page.principal)),
    }


def _alerts(page: Page, chapters: list[str], now: datetime) -> list[Alert]:
    """The last week's: seats given up at sessions that are full or have people waiting (staff
    may want to fill them), and days on which notices failed."""
    alerts: list[Alert] = []
    declined = page.session.execute(
        select(RsvpRow, SeriesRow)
        .join(SeriesRow, SeriesRow.id == RsvpRow.series_id)
        .where(
            SeriesRow.chapter.in_(chapters),
            RsvpRow.response == "declined",
            RsvpRow.responded_at >= now - BACK,
        )
        .order_by(RsvpRow.responded_at.desc())
        .limit(50)
    ).all()
    people = member_names(page.session, (rsvp.member_id for rsvp, _ in declined))
    tallies: dict[str, seats.Seats] = {}
    for rsvp, row in declined:
        rid = recurrence_of_uid(rsvp.occurrence_uid)
        capacity = capacity_of(row, rid)
        if capacity is None or rsvp.member_id not in people:
            continue
        if rsvp.occurrence_uid not in tallies:
            standing = seats.standings(page.session, rsvp.occurrence_uid, now)
            tallies[rsvp.occurrence_uid] = seats.tally(capacity, standing.values())
        count = tallies[rsvp.occurrence_uid]
        if not (count.full or count.waiting or count.offered):
            continue
        member = people[rsvp.member_id]
        alerts.append(
            Alert(
                "seat-given-up",
                rsvp.responded_at,
                {
                    "name": member.name,
                    "company": member.company,
                    "title": row.title,
                    "session": page.t.when(rid.astimezone(ZoneInfo(row.timezone))),
                    "waiting": count.waiting + count.offered,
                },
                f"/console/series/{row.id}/occurrences/{recurrence_stamp(rid)}#seats",
            )
        )
    by_day: Counter[Any] = Counter()
    for (changed,) in page.session.execute(
        select(NoticeRow.updated_at)
        .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
        .where(
            SeriesRow.chapter.in_(chapters),
            NoticeRow.status == NoticeStatus.FAILED.value,
            NoticeRow.updated_at >= now - BACK,
        )
    ):
        by_day[changed.astimezone(OFFICE).date()] += 1
    for day, n in by_day.items():
        alerts.append(
            Alert(
                "failed",
                datetime.combine(day, datetime.max.time(), OFFICE),
                {"n": n, "day": page.t.date(datetime.combine(day, datetime.min.time(), OFFICE))},
                "/console/ledger?status=failed",
            )
        )
    return sorted(alerts, key=lambda a: a.when, reverse=True)
