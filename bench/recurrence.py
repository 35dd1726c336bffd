"""How much the recurrence engine costs over bare dateutil, measured in the same run.

    .venv/bin/python -m bench.recurrence

For each case it times ``scheduler.domain.recurrence.expand`` (wall-time expansion, UTC fixing, UIDs,
holiday look-ups, overrides) and, as the baseline, dateutil alone iterating the same rule with
a zone-aware DTSTART and converting each start to UTC. It prints both and their ratio; the
machines are noisy, so read the ratio, not the absolute times.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.recurrence import Override, expand, make_timing

CASES = [
    ("daily x999, no holidays", "FREQ=DAILY;COUNT=999", "none", 0),
    ("daily x999, cn-statutory-shift", "FREQ=DAILY;COUNT=999", "cn-statutory-shift", 0),
    ("weekly until 2036, 50 overrides", "FREQ=WEEKLY;INTERVAL=1;UNTIL=20361231T000000Z", "none", 50),
]
START = datetime(2026, 1, 5, 14)
ZONE = "Asia/Shanghai"


def best_of(fn: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _dateutil_utc_starts(rule: str, dtstart: datetime) -> list[datetime]:
    return [s.astimezone(UTC) for s in rrulestr(rule, dtstart=dtstart)]  # type: ignore[union-attr]


def main() -> None:
    holidays = ChineseStatutoryCalendar()
    zone = ZoneInfo(ZONE)
    print(f"{'case':36} {'engine ms':>10} {'dateutil ms':>12} {'ratio':>7} {'sessions':>9}")
    for name, rule, skip, n_overrides in CASES:
        timing = make_timing(
            dtstart=START, timezone=ZONE, duration=timedelta(hours=2), rrule=rule, skip_holidays=skip
        )
        starts = list(rrulestr(rule, dtstart=START.replace(tzinfo=zone)))  # type: ignore[arg-type]
        overrides = [
            Override(s.astimezone(UTC), start=s.astimezone(UTC) + timedelta(hours=1), sequence=1)
            for s in starts[1 : 1 + n_overrides]
        ]

        engine = partial(expand, timing, series_uid="bench@exsched", overrides=overrides, holidays=holidays)
        baseline = partial(_dateutil_utc_starts, rule, START.replace(tzinfo=zone))

        count = len(engine())
        engine_s, baseline_s = best_of(engine), best_of(baseline)
        ratio = engine_s / baseline_s
        print(f"{name:36} {engine_s * 1e3:10.2f} {baseline_s * 1e3:12.2f} {ratio:7.2f} {count:9}")


if __name__ == "__main__":
    main()
