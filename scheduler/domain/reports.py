"""What the sessions achieved, in figures, for a period and a kind, per chapter, series or month.

Sessions are not rows: the series' rules are expanded over the period, which gives each session
its chapter, series, month (its start, office time) and whether it was held, cancelled or moved.
Everything else is counted by the database per session (three grouped statements: notices,
answers, follow-up reports, each limited to the series in question) and added up here into the
chosen groups; a session outside the period counts nowhere.

* invited: members sent an invitation (sent or bounced); bounce rate: bounced / emails sent;
* accepted, waitlisted: the answers as they stand; attended: checked in at the door;
* no-show rate: of those who accepted a held session where the door checked anyone in, the
  share not checked in (sessions without a check-in say nothing about who came);
* follow-up rate: reports / follow-up emails sent; docking: firms talked to, intentions,
  contracts and their value (万元); tech exchange: the mean rating.

A cancelled session counts as cancelled and for nothing else; a session still to come counts
its invitations and answers so far but is not "held".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import FollowupResponseRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.series import occurrences
from schemas.names import OccurrenceStatus

GroupBy = Literal["chapter", "series", "month"]
GROUPS: tuple[GroupBy, ...] = ("chapter", "series", "month")
#: Months are the office's.
OFFICE = ZoneInfo("Asia/Shanghai")
_SENT = ("sent", "bounced")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_start(text: str) -> datetime | None:
    """The first instant of a month written ``2026-11`` (Beijing time); None if it is not one."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        return None
    return datetime(int(found.group(1)), int(found.group(2)), 1, tzinfo=OFFICE)


def next_month(moment: datetime) -> datetime:
    """The first day of the month after ``moment``'s (same time of day)."""
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1, day=1)


@dataclass
class Figures:
    """The counts of one group (or the total); rates are derived."""

    held: int = 0
    cancelled: int = 0
    moved: int = 0
    invited: int = 0
    accepted: int = 0
    waitlisted: int = 0
    attended: int = 0
    accepted_where_checked: int = 0  # accepted at held sessions whose door checked anyone in
    emails: int = 0
    bounced: int = 0
    followups_sent: int = 0
    reports: int = 0
    contacts: int = 0
    intentions: int = 0
    contracts: int = 0
    value_wan: Decimal = field(default_factory=Decimal)
    ratings: int = 0
    rating_sum: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def no_show_rate(self) -> float | None:
        if not self.accepted_where_checked:
            return None
        return max(0, self.accepted_where_checked - self.attended) / self.accepted_where_checked

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.emails if self.emails else None

    @property
    def followup_rate(self) -> float | None:
        return min(1.0, self.reports / self.followups_sent) if self.followups_sent else None

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class Row:
    key: str  # chapter code, series id or YYYY-MM
    label: str  # the series' title; for chapters and months the page words it
    chapter: str  # the chapter it belongs to ("" for a month)
    figures: Figures


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    kind: str | None
    group_by: GroupBy
    rows: list[Row]
    total: Figures
    by_month: list[Row]  # always, for the chart of a period


@dataclass(frozen=True)
class _Session:
    chapter: str
    series_id: uuid.UUID
    title: str
    month: str
    status: OccurrenceStatus
    past: bool


def _sessions(
    session: Session,
    holidays: HolidayCalendar,
    chapters: Sequence[str],
    kind: str | None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, _Session]:
    query = (
        select(SeriesRow).where(SeriesRow.chapter.in_(chapters)).options(selectinload(SeriesRow.overrides))
    )
    if kind:
        query = query.where(SeriesRow.kind == kind)
    found: dict[str, _Session] = {}
    for row in session.scalars(query):
        try:
            expanded = occurrences(row, holidays, start, end)
        except RecurrenceError:
            continue
        for occ in expanded:
            month = occ.start.astimezone(OFFICE).strftime("%Y-%m")
            found[occ.uid] = _Session(row.chapter, row.id, row.title, month, occ.status, occ.start <= now)
    return found


def _per_session(session: Session, series_ids: Iterable[uuid.UUID]) -> dict[str, Figures]:
    """The counted figures of every session of these series (by occurrence UID)."""
    ids = list(series_ids)
    per: dict[str, Figures] = {}

    def of(uid: str) -> Figures:
        return per.setdefault(uid, Figures())

    if not ids:
        return per
    sent = NoticeRow.status.in_(_SENT)
    notices = session.execute(
        select(
            NoticeRow.occurrence_uid,
            func.count(func.distinct(case((sent & (NoticeRow.kind == "invitation"), NoticeRow.member_id)))),
            func.sum(case((sent & (NoticeRow.channel == "email"), 1), else_=0)),
            func.sum(case((NoticeRow.status == "bounced", 1), else_=0)),
            func.sum(case((sent & (NoticeRow.kind == "followup"), 1), else_=0)),
        )
        .where(NoticeRow.series_id.in_(ids), NoticeRow.member_id.is_not(None))
        .group_by(NoticeRow.occurrence_uid)
    )
    for uid, invited, emails, bounced, followups in notices:
        f = of(uid)
        f.invited, f.emails, f.bounced, f.followups_sent = invited, emails or 0, bounced or 0, followups or 0
    answers = session.execute(
        select(
            RsvpRow.occurrence_uid,
            func.sum(case((RsvpRow.response == "accepted", 1), else_=0)),
            func.sum(case((RsvpRow.response == "waitlisted", 1), else_=0)),
            func.sum(case((RsvpRow.checked_in_at.is_not(None), 1), else_=0)),
        )
        .where(RsvpRow.series_id.in_(ids))
        .group_by(RsvpRow.occurrence_uid)
    )
    for uid, accepted, waitlisted, attended in answers:
        f = of(uid)
        f.accepted, f.waitlisted, f.attended = accepted or 0, waitlisted or 0, attended or 0
    reports = session.execute(
        select(
            FollowupResponseRow.occurrence_uid,
            func.count(),
            func.coalesce(func.sum(FollowupResponseRow.contacts), 0),
            func.sum(case((FollowupResponseRow.intention.is_(True), 1), else_=0)),
            func.sum(case((FollowupResponseRow.contract.is_(True), 1), else_=0)),
            func.coalesce(func.sum(FollowupResponseRow.value_wan), 0),
            func.count(FollowupResponseRow.rating),
            func.coalesce(func.sum(FollowupResponseRow.rating), 0),
        )
        .where(FollowupResponseRow.series_id.in_(ids))
        .group_by(FollowupResponseRow.occurrence_uid)
    )
    for uid, count, contacts, intentions, contracts, value, ratings, rating_sum in reports:
        f = of(uid)
        f.reports, f.contacts, f.intentions, f.contracts = count, contacts, intentions or 0, contracts or 0
        f.value_wan, f.ratings, f.rating_sum = Decimal(str(value)), ratings, rating_sum
    return per


def report(
    session: Session,
    holidays: HolidayCalendar,
    *,
    chapters: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    kind: str | None = None,
    group_by: GroupBy = "chapter",
) -> Report:
    """The figures of the sessions starting in ``[start, end)`` of these chapters (and kind)."""
    sessions = _sessions(session, holidays, chapters, kind, start, end, now)
    counted = _per_session(session, {s.series_id for s in sessions.values()})
    groups: dict[str, Row] = {}
    months: dict[str, Row] = {}
    total = Figures()
    for uid, s in sessions.items():
        f = Figures()
        if s.status == OccurrenceStatus.CANCELLED:
            f.cancelled = 1
        else:
            f.held = int(s.past)
            f.moved = int(s.status == OccurrenceStatus.MOVED)
            f.add(counted.get(uid, Figures()))
            if s.past and f.attended:
                f.accepted_where_checked = f.accepted
        key, label, chapter = {
            "chapter": (s.chapter, "", s.chapter),
            "series": (str(s.series_id), s.title, s.chapter),
            "month": (s.month, "", ""),
        }[group_by]
        groups.setdefault(key, Row(key, label, chapter, Figures())).figures.add(f)
        months.setdefault(s.month, Row(s.month, "", "", Figures())).figures.add(f)
        total.add(f)
    order = sorted(groups.values(), key=lambda r: (r.chapter, r.label, r.key))
    if group_by == "chapter":  # every chapter, side by side, those without sessions too
        order = [groups.get(c) or Row(c, "", c, Figures()) for c in chapters]
    every_month = [months.get(m) or Row(m, "", "", Figures()) for m in _months(start, end)]
    return Report(start, end, kind, group_by, order, total, every_month)


def _months(start: datetime, end: datetime) -> list[str]:
    """Every month (office time) the period touches, as YYYY-MM."""
    first, last = start.astimezone(OFFICE), (end - timedelta(seconds=1)).astimezone(OFFICE)
    index, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, stop + 1)]
