"""The monthly digest: on the first working day of each month (by the statutory calendar: a month
that opens with the National Day break waits for the first day people are back at work), at
09:00 Beijing time, each chapter's staff and chat groups hear last month's figures and this
month's sessions; the province office (and its chat groups) hears the whole association's.

A digest is a notice like any other — planned here, published by the dispatcher, sent by the
workers, in the ledger — one per (recipient, month) with a deterministic id, so planning it again
changes nothing. It belongs to no session: ``series_id`` is NULL, its "occurrence" is the month
it reports (``digest:<scope>:<YYYY-MM>``) and ``chapter`` the chapter it reports (NULL: all).
Staff get it by email (an address on their account), chat groups as a short text with a link.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import ChapterWebhookRow, SeriesRow, StaffRow
from scheduler.domain import reports
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import RecurrenceError
from scheduler.domain.reports import OFFICE, Report, month_start, next_month
from scheduler.domain.series import occurrences
from scheduler.notices import store
from scheduler.notices.policy import DIGEST_GRACE
from schemas.ids import notice_id
from schemas.names import Channel, Chapter, NoticeKind, OccurrenceStatus, Role

log = structlog.get_logger(__name__)

#: When, on the month's first working day, the digest goes (Beijing time).
SENT_AT = time(9, 0)
#: How long before it is due a digest is planned (staff given an address later still get it if
#: they have one by the time the planner looks again; the planner looks every few minutes).
PLAN_AHEAD = timedelta(days=1)
#: The scope of the province office's digest: every chapter.
ALL = "all"


def first_working_day(holidays: HolidayCalendar, year: int, month: int) -> date:
    """The month's first working day (a weekend, a statutory break, and 调休 worked weekends)."""
    day = date(year, month, 1)
    for _ in range(31):
        if holidays.day(day).workday:
            return day
        day += timedelta(days=1)
    return date(year, month, 1)  # no calendar says a month has no working day; keep the first


def due_of(holidays: HolidayCalendar, year: int, month: int) -> datetime:
    """When the digest of the month before (``year``, ``month``) goes."""
    return datetime.combine(first_working_day(holidays, year, month), SENT_AT, tzinfo=OFFICE)


def month_of(label: str) -> datetime:
    """The first instant of the month a digest reports (``2026-11``), Beijing time."""
    start = month_start(label)
    if start is None:
        raise ValueError(f"not a month: {label!r}")
    return start


def previous_label(year: int, month: int) -> str:
    """The month before (``year``, ``month``), as ``2026-11``."""
    back = year * 12 + month - 2
    return f"{back // 12:04d}-{back % 12 + 1:02d}"


def scope_uid(scope: str, label: str) -> str:
    """The digest's "occurrence": what it reports (a chapter, or ``all``) and for which month."""
    return f"digest:{scope}:{label}"


@dataclass(frozen=True)
class _To:
    staff_id: uuid.UUID | None
    webhook_id: uuid.UUID | None
    scope: str  # a chapter code, or ALL


def _recipients(session: Session) -> list[_To]:
    """Staff with an address (the province office: all chapters; chapter staff: theirs), and
    every enabled chat group (the province office's groups hear of all chapters)."""
    found = [
        _To(staff_id, None, ALL if role == Role.ADMIN.value else str(chapter))
        for staff_id, role, chapter in session.execute(
            select(StaffRow.id, StaffRow.role, StaffRow.chapter).where(
                StaffRow.disabled_at.is_(None), StaffRow.email.is_not(None), StaffRow.email != ""
            )
        )
    ]
    found += [
        _To(None, robot_id, ALL if chapter == Chapter.PROVINCE.value else chapter)
        for robot_id, chapter in session.execute(
            select(ChapterWebhookRow.id, ChapterWebhookRow.chapter).where(ChapterWebhookRow.enabled.is_(True))
        )
    ]
    return found


def plan(session: Session, holidays: HolidayCalendar, now: datetime) -> int:
    """Plan this month's digests when their day is near (from a day before they are due until
    :data:`~scheduler.notices.policy.DIGEST_GRACE` after); those planned already stay as they are."""
    local = now.astimezone(OFFICE)
    due = due_of(holidays, local.year, local.month)
    if not due - PLAN_AHEAD <= now <= due + DIGEST_GRACE:
        return 0
    return plan_month(session, previous_label(local.year, local.month), due, now)


def plan_month(session: Session, label: str, due: datetime, now: datetime) -> int:
    """The digest of month ``label`` (``2026-11``) to everyone who gets one, due at ``due``."""
    reported = month_of(label).astimezone(UTC)
    notices = []
    for to in _recipients(session):
        uid = scope_uid(to.scope, label)
        channel = Channel.EMAIL if to.staff_id is not None else Channel.WEBHOOK
        recipient = to.staff_id or to.webhook_id
        assert recipient is not None
        notices.append(
            store.NewNotice(
                id=notice_id(uid, recipient, NoticeKind.DIGEST.value, channel.value, 0, label),
                series_id=None,
                member_id=None,
                webhook_id=to.webhook_id,
                staff_id=to.staff_id,
                chapter=None if to.scope == ALL else to.scope,
                occurrence_uid=uid,
                recurrence_id=reported,
                kind=NoticeKind.DIGEST,
                slot=label,
                channel=channel.value,
                sequence=0,
                due_at=due.astimezone(UTC),
                starts_at=due.astimezone(UTC),
            )
        )
    planned = store.plan(session, notices, now)
    if planned:
        log.debug("digests_planned", month=label, recipients=planned)
    return planned


@dataclass(frozen=True)
class Upcoming:
    """A session of the month the digest looks ahead to."""

    start: datetime
    chapter: str
    title: str
    venue: str
    series_id: uuid.UUID
    recurrence_id: datetime


@dataclass(frozen=True)
class Contents:
    """What a digest says: the month reported, its figures, and the next month's sessions."""

    label: str  # 2026-11
    chapter: str | None  # None: all chapters
    report: Report
    ahead: list[Upcoming]


def contents(
    session: Session, holidays: HolidayCalendar, chapter: str | None, label: str, now: datetime
) -> Contents:
    """The figures of month ``label`` (per series for a chapter, per chapter for all) and the
    sessions of the month after it, read now."""
    chapters = [c.value for c in Chapter] if chapter is None else [chapter]
    start = month_of(label)
    end = next_month(start)
    made = reports.report(
        session,
        holidays,
        chapters=chapters,
        start=start,
        end=end,
        now=now,
        group_by="chapter" if chapter is None else "series",
    )
    return Contents(label, chapter, made, _sessions_in(session, holidays, chapters, end, next_month(end)))


def _sessions_in(
    session: Session, holidays: HolidayCalendar, chapters: list[str], start: datetime, end: datetime
) -> list[Upcoming]:
    ahead: list[Upcoming] = []
    rows = session.scalars(
        select(SeriesRow).where(SeriesRow.chapter.in_(chapters)).options(selectinload(SeriesRow.overrides))
    )
    for row in rows:
        try:
            expanded = occurrences(row, holidays, start, end)
        except RecurrenceError:
            continue
        ahead += [
            Upcoming(occ.start, row.chapter, row.title, occ.venue_or(row.venue), row.id, occ.recurrence_id)
            for occ in expanded
            if occ.status != OccurrenceStatus.CANCELLED
        ]
    return sorted(ahead, key=lambda u: (u.start, u.chapter, u.title))
