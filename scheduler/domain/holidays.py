"""Chinese statutory holidays (法定节假日) and adjusted working days (调休).

The official calendar for a year is announced by the State Council each autumn; before that the
year is *unknown*, and :class:`DayInfo` says so instead of guessing (a session in such a year is
flagged ``provisional``). Data comes from the ``chinesecalendar`` package, whose releases follow
the notices; a new release of it is all that adding a year takes.
"""

from __future__ import annotations

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


class ChineseStatutoryCalendar:
    """:class:`HolidayCalendar` over the ``chinesecalendar`` package's official data."""

    def day(self, day: date) -> DayInfo:
        return _lookup(day)

    def known_years(self) -> range:
        """The years for which official data is installed."""
        return _known_years()


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
