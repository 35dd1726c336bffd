"""An independent reading of a VTIMEZONE: the UTC offset its own observances give an instant.

Calendar clients such as libical, vobject, Radicale and Outlook place TZID times by the
VTIMEZONE in the file; this evaluates one the same way (every onset of every observance from its
DTSTART, RRULE and RDATEs, the latest onset before the instant wins), for tests to compare with
what the zone's own data says.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrulestr
from icalendar import Timezone


def onsets(vtimezone: Timezone, until: datetime) -> list[tuple[datetime, timedelta]]:
    """(onset in UTC, offset from then on), sorted, up to ``until``."""
    found: list[tuple[datetime, timedelta]] = []
    limit = until.astimezone(UTC).replace(tzinfo=None) + timedelta(days=2)
    for observance in vtimezone.subcomponents:
        start = observance.decoded("DTSTART")
        before = observance.decoded("TZOFFSETFROM")
        after = observance.decoded("TZOFFSETTO")
        local = [start]
        if "RRULE" in observance:
            rule = rrulestr(observance["RRULE"].to_ical().decode(), dtstart=start)
            local = list(rule.between(start, limit, inc=True))
        rdates = observance.get("RDATE")
        if rdates is not None:
            for rdate in rdates if isinstance(rdates, list) else [rdates]:
                local += [d.dt for d in rdate.dts]
        found += [((when - before).replace(tzinfo=UTC), after) for when in local]
    return sorted(found)


def offset_at(table: list[tuple[datetime, timedelta]], instant: datetime) -> timedelta | None:
    """The offset in force at ``instant`` by the VTIMEZONE, None before its first onset."""
    index = bisect_right([at for at, _ in table], instant.astimezone(UTC))
    return table[index - 1][1] if index else None
