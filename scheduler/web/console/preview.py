"""The next sessions a timing gives, with what the holiday calendar does to each of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import SPARSE_SPAN, Timing, expand, local_to_utc, to_local
from schemas.names import SkipHolidays

#: How far past the last raw start we look, so a session shifted over a long break is seen.
_SHIFT_ROOM = timedelta(days=40)


@dataclass(frozen=True)
class PreviewRow:
    """One session as staff should see it before saving.

    ``note``: None, ``shifted`` (moved to the next working day), ``dropped`` (not held),
    ``on_holiday`` (held although the day is a statutory holiday), ``makeup`` (held on a
    调休 working weekend), or ``provisional`` (that year's holidays are not published yet).
    """

    start: datetime  # local wall time, aware
    note: str | None = None
    holiday: str | None = None


def preview_sessions(
    timing: Timing, holidays: HolidayCalendar, now: datetime, count: int = 10
) -> list[PreviewRow]:
    """The rule's next ``count`` dates from ``now``, each as it will be held: as planned, moved
    to the next working day, or (listed, marked ``dropped``) not held at all."""
    zone = timing.zone
    raw = []
    after = to_local(now, zone).replace(tzinfo=None)
    for local in timing.rule_starts(after=after, before=after + 2 * SPARSE_SPAN):
        raw.append(local)
        if len(raw) >= count:
            break
    if not raw:
        return []
    window = (now, local_to_utc(raw[-1], zone) + _SHIFT_ROOM)
    held = {
        o.recurrence_id: o for o in expand(timing, series_uid="preview", holidays=holidays, window=window)
    }
    rows: list[PreviewRow] = []
    for local in raw:
        rid = local_to_utc(local, zone)
        day = holidays.day(local.date())
        occ = held.get(rid)
        if occ is None:
            if timing.skip_holidays == SkipHolidays.CN_STATUTORY and day.statutory_off:
                rows.append(PreviewRow(local.replace(tzinfo=zone), "dropped", day.holiday))
            continue
        start = occ.start.astimezone(zone)
        if occ.holiday is not None:
            rows.append(PreviewRow(start, "shifted", occ.holiday))
        elif day.statutory_off:
            rows.append(PreviewRow(start, "on_holiday", day.holiday))
        elif occ.provisional:
            rows.append(PreviewRow(start, "provisional"))
        elif day.workday and local.weekday() >= 5:
            rows.append(PreviewRow(start, "makeup", day.holiday))
        else:
            rows.append(PreviewRow(start))
    return rows
