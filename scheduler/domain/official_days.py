"""A year's official holidays entered by staff, when the installed holiday data lags the State
Council's notice (it comes each November or December; the ``chinesecalendar`` package follows
weeks later).

The province office types what the notice says: for each statutory break its first and last day
off, and the weekend days worked instead (调休). :func:`read_entry` checks it; :func:`enter_year`
stores it, makes every calendar of this process stand on it, and finds the sessions it moves:
a session that now falls on a day off is dropped (its series skips holidays) or moved to the next
working day (its series shifts them). A moved session's SEQUENCE is raised — a session-only
override that changes nothing else — so the members who were told the provisional date get an
update; a dropped one is cancelled by the planner. The caller asks for the re-plan.

Other processes load the entered years with :func:`refresh` (the planner before each pass, the
API every few seconds, a worker before it writes a letter).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import HolidayDayRow, HolidayYearRow, OccurrenceOverrideRow, SeriesRow
from scheduler.domain.errors import InvalidInput
from scheduler.domain.holidays import ChineseStatutoryCalendar, EnteredYear, HolidayCalendar
from scheduler.domain.series import occurrences
from schemas.names import SeriesStatus, SkipHolidays

#: The statutory breaks, in the order of the notice, by the names the holiday data uses.
BREAKS = (
    "New Year's Day",
    "Spring Festival",
    "Tomb-sweeping Day",
    "Labour Day",
    "Dragon Boat Festival",
    "Mid-autumn Festival",
    "National Day",
)
#: A break the notice may give together with another (中秋节 with 国庆节, as in 2023 and 2025).
MAY_JOIN = {"Mid-autumn Festival": "National Day"}
LONGEST_BREAK = 10  # days; the longest so far is 9 (Spring Festival 2025, National Day 2023: 8)
WORKDAYS_AT_MOST = 12
#: What :func:`read_entry` may refuse (``InvalidInput.code``; the console words each one).
CODES = (
    "break-missing",
    "break-order",
    "break-long",
    "break-year",
    "break-overlap",
    "date",
    "workday-year",
    "workday-weekday",
    "workday-off",
    "workday-many",
)


@dataclass(frozen=True)
class Entry:
    """A year as the notice gives it: each break's days off, and the weekend days worked."""

    year: int
    breaks: dict[str, tuple[date, date]]
    workdays: list[date]

    def days(self) -> dict[date, tuple[bool, str]]:
        """Every day of the year that is not an ordinary one: (a day off?, the break's name)."""
        found: dict[date, tuple[bool, str]] = {}
        for name, (first, last) in self.breaks.items():
            day = first
            while day <= last:
                if day.year == self.year:
                    found[day] = (True, name)
                day += timedelta(days=1)
        for day in self.workdays:
            found[day] = (False, self._nearest_break(day))
        return found

    def _nearest_break(self, day: date) -> str:
        """The break a worked weekend day makes up for: the nearest one."""

        def distance(item: tuple[str, tuple[date, date]]) -> int:
            first, last = item[1]
            return min(abs((day - first).days), abs((day - last).days))

        return min(self.breaks.items(), key=distance)[0]


def read_entry(year: int, breaks: Mapping[str, tuple[str, str]], workdays: Iterable[str]) -> Entry:
    """The form's text as an :class:`Entry`, or :class:`InvalidInput` naming the field and why
    (``code``: what the console says in the staff's words)."""
    found: dict[str, tuple[date, date]] = {}
    for name in BREAKS:
        first_text, last_text = (v.strip() for v in breaks.get(name, ("", "")))
        if not first_text and not last_text and name in MAY_JOIN:
            continue
        if not first_text or not last_text:
            raise InvalidInput(f"{name}: give its first and last day off", field=name, code="break-missing")
        first, last = _date(first_text, name), _date(last_text, name)
        if last < first:
            raise InvalidInput(f"{name}: the last day is before the first", field=name, code="break-order")
        if (last - first).days + 1 > LONGEST_BREAK:
            raise InvalidInput(f"{name}: more than {LONGEST_BREAK} days", field=name, code="break-long")
        earliest = date(year, 1, 1) - timedelta(days=3) if name == BREAKS[0] else date(year, 1, 1)
        if first < earliest or last > date(year, 12, 31):
            raise InvalidInput(f"{name}: not in {year}", field=name, code="break-year")
        for other, (o_first, o_last) in found.items():
            if first <= o_last and o_first <= last:
                raise InvalidInput(f"{name} overlaps {other}", field=name, code="break-overlap")
        found[name] = (first, last)
    days: list[date] = []
    for text in workdays:
        if not text.strip():
            continue
        day = _date(text.strip(), "workdays")
        if day.year != year:
            raise InvalidInput(f"{day}: not in {year}", field="workdays", code="workday-year")
        if day.weekday() < 5:
            raise InvalidInput(f"{day} is a weekday already", field="workdays", code="workday-weekday")
        if any(first <= day <= last for first, last in found.values()):
            raise InvalidInput(f"{day} is a day off", field="workdays", code="workday-off")
        if day not in days:
            days.append(day)
    if len(days) > WORKDAYS_AT_MOST:
        raise InvalidInput("too many worked weekend days", field="workdays", code="workday-many")
    return Entry(year, found, sorted(days))


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {text!r} is not a date", field=name, code="date") from exc


@dataclass
class Moves:
    """What entering a year did to the sessions: per series, the sessions moved and dropped."""

    series_ids: list[Any] = field(default_factory=list)
    moved: int = 0
    dropped: int = 0


def enter_year(
    session: Session, calendar: ChineseStatutoryCalendar, entry: Entry, *, by: str, now: datetime
) -> Moves:
    """Store ``entry`` (replacing an earlier entry of the year), stand ``calendar`` on it, and
    raise the SEQUENCE of every session it moves; the caller commits and asks for the re-plan of
    ``series_ids``."""
    refresh(calendar, session)  # the years entered elsewhere, before comparing
    series = session.scalars(
        select(SeriesRow)
        .where(
            SeriesRow.status == SeriesStatus.ACTIVE.value, SeriesRow.skip_holidays != SkipHolidays.NONE.value
        )
        .options(selectinload(SeriesRow.overrides))
    ).all()
    # the sessions of the year as they stood, and as they stand on the entered days
    window = (
        datetime(entry.year, 1, 1, tzinfo=UTC) - timedelta(days=2),
        datetime(entry.year + 1, 1, 1, tzinfo=UTC) + timedelta(days=LONGEST_BREAK + 2),
    )
    before = {row.id: _starts(row, calendar, window) for row in series}
    session.execute(delete(HolidayDayRow).where(HolidayDayRow.year == entry.year))
    year = session.get(HolidayYearRow, entry.year)
    if year is None:
        session.add(HolidayYearRow(year=entry.year, entered_by=by, entered_at=now))
    else:
        year.entered_by, year.entered_at = by, now
    session.flush()
    session.add_all(
        HolidayDayRow(day=day, year=entry.year, off=off, holiday=name)
        for day, (off, name) in entry.days().items()
    )
    session.flush()
    refresh(calendar, session, force=True)
    moves = Moves()
    for row in series:
        after = _starts(row, calendar, window)
        changed = False
        for rid, start in before[row.id].items():
            if rid not in after:
                moves.dropped += 1  # the planner cancels it, telling those who were told
                changed = True
            elif after[rid] != start:
                _raise_sequence(row, rid)
                moves.moved += 1
                changed = True
        for rid in after.keys() - before[row.id].keys():
            # held again (an earlier entry had dropped it): above the SEQUENCE of the cancellation
            # those told were sent, which was one above what they had been told before
            _raise_sequence(row, rid, by=2)
            moves.moved += 1
            changed = True
        if changed:
            row.updated_at = now  # what calendars hold of the series changed: feeds render again
            moves.series_ids.append(row.id)
    session.flush()
    return moves


def _starts(
    row: SeriesRow, calendar: HolidayCalendar, window: tuple[datetime, datetime]
) -> dict[Any, datetime]:
    return {occ.recurrence_id: occ.start for occ in occurrences(row, calendar, *window)}


def _raise_sequence(row: SeriesRow, rid: datetime, *, by: int = 1) -> None:
    override = next((o for o in row.overrides if o.recurrence_id == rid), None)
    if override is None:
        override = OccurrenceOverrideRow(recurrence_id=rid, cancelled=False, sequence=0)
        row.overrides.append(override)
    override.sequence += by


def refresh(
    calendar: HolidayCalendar, session: Session, *, max_age: float = 0.0, force: bool = False
) -> bool:
    """Stand ``calendar`` on the years entered in the database if they changed since it last
    looked (at most once per ``max_age`` seconds unless ``force``). True if it changed."""
    if not isinstance(calendar, ChineseStatutoryCalendar):
        return False
    now = time.monotonic()
    if not force and now - calendar.checked_at < max_age:
        return False
    version = tuple(session.execute(select(func.count(), func.max(HolidayYearRow.entered_at))).one())
    calendar.checked_at = now
    if version == calendar.entered_version and not force:
        return False
    changed = version != calendar.entered_version
    calendar.use_entered(entered(session), version)
    return changed


def entered(session: Session) -> dict[int, EnteredYear]:
    """The entered years as stored (what :func:`refresh` stands a calendar on)."""
    years: dict[int, dict[date, tuple[bool, str]]] = {}
    for day, year, off, name in session.execute(
        select(HolidayDayRow.day, HolidayDayRow.year, HolidayDayRow.off, HolidayDayRow.holiday)
    ):
        years.setdefault(year, {})[day] = (off, name)
    return dict(years)
