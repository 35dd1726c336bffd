"""dateutil's rule iteration with a bound on how much of the calendar it may walk.

dateutil checks a rule's UNTIL only against days that match the rule, so a rule whose days stop
coming (``BYMONTH=2;BYMONTHDAY=30``, or Feb 29 on a Monday, 28 years apart) is walked period
by period to the year 9999: seconds of CPU for one answer, and no option to stop it
(dateutil/dateutil#1393, #1441, #1094). Its iteration builds the candidate days of each period
(a year, month, week or day, by FREQ) with one call on its ``_iterinfo``; :func:`bounded`
counts those calls for the iteration it drives and ends it after the number of periods the
caller asked for. Other iterations, in this thread or any other, are not affected.

This leans on a private part of dateutil (the four ``*dayset`` methods); the constraints file pins
the version, and ``tests/unit/test_recurrence.py`` fails if the count stops being taken.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, _iterinfo, rrule

_PERIOD_SETS = ("ydayset", "mdayset", "wdayset", "ddayset")


class _Left(threading.local):
    periods: int | None = None


_left = _Left()


class _OutOfPeriods(Exception):
    pass


def _counted(build: Callable[..., Any]) -> Callable[..., Any]:
    def build_counted(self: Any, *args: Any) -> Any:
        left = _left.periods
        if left is not None:
            if left <= 0:
                raise _OutOfPeriods
            _left.periods = left - 1
        return build(self, *args)

    return build_counted


for _name in _PERIOD_SETS:
    setattr(_iterinfo, _name, _counted(getattr(_iterinfo, _name)))


def bounded(rule: rrule, periods: int) -> Iterator[datetime]:
    """``rule``'s starts, walking no more than ``periods`` of its periods. The count is kept per
    iteration, so iterations may interleave (one suspended while another runs)."""
    iterator = iter(rule)
    left = periods
    while True:
        outer = _left.periods
        _left.periods = left
        try:
            value = next(iterator)
        except (StopIteration, _OutOfPeriods):
            return
        finally:
            left = _left.periods or 0
            _left.periods = outer
        yield value


def periods_between(freq: int, interval: int, first: datetime, last: datetime) -> int:
    """How many periods a rule starting at ``first`` walks to reach ``last`` (and one spare)."""
    if freq == YEARLY:
        units = last.year - first.year
    elif freq == MONTHLY:
        units = (last.year - first.year) * 12 + last.month - first.month
    elif freq == WEEKLY:
        units = (last.date() - first.date()).days // 7 + 1
    else:
        assert freq == DAILY
        units = (last.date() - first.date()).days
    return max(units, 0) // interval + 2
