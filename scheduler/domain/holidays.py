"""Chinese statutory holidays (法定节假日) and adjusted working days (调休).

The official calendar for a year is announced by the State Council each autumn; before that the
year is *unknown*, and :class:`DayInfo` says so instead of guessing (a session in such a year is
flagged ``provisional``). Data comes from the ``chinesecalendar`` package, whose releases follow
the notices; and, for a year the package lags on, from what the province office entered in the
console (:mod:`scheduler.domain.official_days`), which then stands for that year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

import chinese_calendar


@dataclass(frozen=True)
class DayInfo:
    """What the official calendar says of one day.

    ``known`` is False for a year without official data; the other fields are then only the
    plain weekday/weekend view and must not be relied on.
    """

    day: date
    known: bool
    workday: bool
    holiday: str | None  # the break this day belongs to ("National Day"), also on 调休 days

    @property
    def statutory_off(self) -> bool:
        """A day off because of a named statutory break (not an ordinary weekend)."""
        return self.known and not self.workday and self.holiday is not None


class HolidayCalendar(Protocol):
    """The one question the recurrence engine asks about holidays."""

    def day(self, day: date) -> DayInfo:
        """The official status of ``day``; never raises for a year without data."""
        ...


#: An entered year: its days that are not ordinary ones, day → (a day off?, the break's name).
EnteredYear = Mapping[date, tuple[bool, str]]


class ChineseStatutoryCalendar:
    """:class:`HolidayCalendar` over the ``chinesecalendar`` package's official data, and the years
    staff entered (those stand for their year, installed data or not).

    The entered years are swapped in whole (:meth:`use_entered`), so a lookup sees one version or
    the next, never half of one; ``entered_version`` says which (feeds and planners compare it)."""

    def __init__(self) -> None:
        self._entered: dict[int, EnteredYear] = {}
        self.entered_version: object = None
        #: when the entered years were last compared with the database (monotonic seconds)
        self.checked_at = float("-inf")

    def day(self, day: date) -> DayInfo:
        entered = self._entered.get(day.year)
        if entered is None:
            return _lookup(day)
        off, name = entered.get(day, (day.weekday() >= 5, ""))
        return DayInfo(day=day, known=True, workday=not off, holiday=name or None)

    def known_years(self) -> range:
        """The years for which official data is known, installed or entered, from the first
        installed one to the last before a year that is not (an entered year after such a gap is
        in :meth:`entered_years` only)."""
        installed = _known_years()
        last = installed[-1]
        while last + 1 in self._entered:
            last += 1
        return range(installed[0], last + 1)

    def installed_years(self) -> range:
        """The years the ``chinesecalendar`` package has."""
        return _known_years()

    def entered_years(self) -> list[int]:
        return sorted(self._entered)

    def use_entered(self, years: Mapping[int, EnteredYear], version: object) -> None:
        """Stand on these entered years from now on (all of them: a year left out is dropped)."""
        self._entered = {year: dict(days) for year, days in years.items()}
        self.entered_version = version


@lru_cache(maxsize=1)
def _known_years() -> range:
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return range(years[0], years[-1] + 1)


@lru_cache(maxsize=4096)
def _lookup(day: date) -> DayInfo:
    if day.year not in _known_years():
        return DayInfo(day=day, known=False, workday=day.weekday() < 5, holiday=None)
    is_off, name = chinese_calendar.get_holiday_detail(day)
    return DayInfo(day=day, known=True, workday=not is_off, holiday=name)


def next_workday(calendar: HolidayCalendar, day: date, *, limit: int = 31) -> DayInfo:
    """The first working day after ``day`` (调休 weekends count); stops at an unknown day."""
    for step in range(1, limit + 1):
        info = calendar.day(day + timedelta(days=step))
        if info.workday or not info.known:
            return info
    raise ValueError(f"no working day within {limit} days after {day.isoformat()}")
