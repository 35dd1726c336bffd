"""An independent expansion of a series, for comparing the engine against.

It takes a different road from :mod:`scheduler.domain.recurrence` on purpose: dateutil's own
``rrulestr`` with a zone-aware DTSTART, its ``rruleset`` for EXDATE/RDATE, and the
``chinese_calendar`` package queried directly for holidays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from dateutil.rrule import rruleset, rrulestr


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def expected_starts(
    *,
    dtstart: datetime,
    timezone: str,
    rrule: str | None,
    exdates: list[datetime] = (),  # type: ignore[assignment]
    rdates: list[datetime] = (),  # type: ignore[assignment]
    skip: str = "none",
    until: datetime | None = None,
) -> list[tuple[datetime, datetime]]:
    """(recurrence_id UTC, actual start UTC) pairs, sorted by actual start."""
    zone = ZoneInfo(timezone)
    first = dtstart.replace(tzinfo=zone)
    rules = rruleset()
    if rrule:
        rules.rrule(rrulestr(rrule, dtstart=first))  # type: ignore[arg-type]
    else:
        rules.rdate(first)
    for extra in rdates:
        rules.rdate(extra.replace(tzinfo=zone))
    for gone in exdates:
        rules.exdate(gone.replace(tzinfo=zone))
    limit = until.replace(tzinfo=zone) if until else None
    pairs = []
    for start in rules:
        if limit is not None and start >= limit:
            break
        start = start.replace(tzinfo=zone)  # dateutil's own zone files stop at 2037
        rid = start.astimezone(UTC)
        day = start.date()
        if skip != "none":
            off, name = chinese_calendar.get_holiday_detail(day)
            if off and name:
                if skip == "cn-statutory":
                    continue
                target = _next_workday(day)
                moved = datetime.combine(target, start.time(), tzinfo=zone)
                pairs.append((rid, moved.astimezone(UTC)))
                continue
        pairs.append((rid, rid))
    return sorted(pairs, key=lambda p: (p[1], p[0]))


def _next_workday(day: date) -> date:
    nxt = day + timedelta(days=1)
    while not chinese_calendar.is_workday(nxt):
        nxt += timedelta(days=1)
    return nxt
