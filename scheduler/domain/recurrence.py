"""The recurrence engine: from a series' timing to its occurrences. Pure: no I/O, no clock.

Rules are expanded in the series' local wall time (RFC 5545 semantics: "every Thursday at
14:00" stays 14:00 across a DST change) and every instant is then fixed in UTC. Each
occurrence keeps, for life, its ``recurrence_id`` (original start, UTC) and a UID derived from
the series UID and that id, whatever moves, holiday shifts or edits happen to it later.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr, weekday

from scheduler.domain.errors import RecurrenceError
from scheduler.domain.holidays import HolidayCalendar, next_workday
from scheduler.domain.periods import bounded, periods_between
from scheduler.domain.rules import ParsedRule, parse_rule
from schemas.ids import occurrence_uid
from schemas.names import OccurrenceStatus, SkipHolidays

#: Most occurrences one expansion may produce; a larger answer needs a narrower window.
MAX_OCCURRENCES = 5000
#: How far ahead the DST-gap check looks for an unbounded rule (ten years; a dtstart on
#: 29 February has no "same day ten years on").
GAP_CHECK = timedelta(days=3653)
MAX_DURATION = timedelta(days=14)
#: Wall times outside these years are refused; instants outside them are never expanded.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
MIN_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(3500, 1, 1, tzinfo=UTC)
#: A holiday shift moves a session by at most this much (the longest break plus a weekend).
_SHIFT_MARGIN = timedelta(days=16)
#: A rule whose second session is further from its first than this is refused: every answer
#: about it would scan that many years of empty periods (Feb 29 on a Monday: 28 years).
SPARSE_SPAN = timedelta(days=3653)
#: The last wall time any rule is expanded to.
_LAST_LOCAL = datetime(LATEST_YEAR, 1, 1) - timedelta(seconds=1)


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a :class:`RecurrenceError` naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise RecurrenceError(
            f"unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'",
            field="timezone",
        ) from exc


def to_local(value: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in ``zone`` (naive); an aware value is converted, a naive one kept."""
    if value.tzinfo is None:
        return value.replace(microsecond=0)
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Fix a wall time in UTC; an ambiguous time (DST fold) takes its first instance."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def exists_locally(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall time skipped by a DST change (e.g. 02:30 on a spring-forward night)."""
    back = local_to_utc(local, zone).astimezone(zone).replace(tzinfo=None)
    return back == local


@dataclass(frozen=True)
class Timing:
    """A series' checked timing. Build it with :func:`make_timing`, never directly."""

    dtstart: datetime  # naive wall time in ``timezone``
    timezone: str
    duration: timedelta
    rule: ParsedRule | None
    exdates: tuple[datetime, ...] = ()
    rdates: tuple[datetime, ...] = ()
    skip_holidays: SkipHolidays = SkipHolidays.NONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bounded(self) -> bool:
        return self.rule is None or self.rule.bounded

    @cached_property
    def _rrule(self) -> rrule | None:
        if self.rule is None:
            return None
        return rrulestr(self.rule.dateutil_text(self.zone), dtstart=self.dtstart)  # type: ignore[return-value]

    @cached_property
    def _grid(self) -> dict[str, Any]:
        """The rule's parameters with every default dateutil derives from DTSTART written out
        (the day of the month, the weekday, the time of day), so that the rule can be restarted
        at the start of any of its periods and still yield exactly the same sessions."""
        r: Any = self._rrule
        days = [weekday(d) for d in r._byweekday or ()] + [weekday(d, n) for d, n in r._bynweekday or ()]
        return {
            "freq": r._freq,
            "interval": r._interval,
            "wkst": r._wkst,
            "bymonth": r._bymonth,
            "byweekno": r._byweekno,
            "byyearday": r._byyearday,
            "bysetpos": r._bysetpos,
            "bymonthday": (*(r._bymonthday or ()), *(r._bynmonthday or ())) or None,
            "byweekday": days or None,
            "byhour": r._byhour,
            "byminute": r._byminute,
            "bysecond": r._bysecond,
        }

    def _period_start(self, local: datetime) -> datetime:
        """The start of the rule's period that holds ``local`` (periods counted from dtstart in
        steps of INTERVAL), or dtstart itself when that is later."""
        grid, first = self._grid, self.dtstart
        step = grid["interval"]
        if grid["freq"] == YEARLY:
            year = first.year + (local.year - first.year) // step * step
            begin = datetime(year, 1, 1)
        elif grid["freq"] == MONTHLY:
            months = (local.year - first.year) * 12 + local.month - first.month
            month = first.month - 1 + months // step * step
            begin = datetime(first.year + month // 12, month % 12 + 1, 1)
        elif grid["freq"] == WEEKLY:
            week = first.date() - timedelta(days=(first.weekday() - grid["wkst"]) % 7)
            weeks = (local.date() - week).days // 7 // step * step
            begin = datetime.combine(week + timedelta(weeks=weeks), time())
        else:
            assert grid["freq"] == DAILY
            days = (local.date() - first.date()).days // step * step
            begin = datetime.combine(first.date() + timedelta(days=days), time())
        return max(begin, first)

    def _scan(self, low: datetime, high: datetime) -> Iterator[datetime]:
        """The rule's starts from ``low`` to ``high`` (both included), COUNT left aside, walking
        only the rule's periods between the two: the cost is what is asked, never the distance
        from dtstart (dateutil alone always starts from there), nor the distance to a next
        session beyond ``high``."""
        low = max(low, self.dtstart)
        own_until = self._rrule._until if self._rrule is not None else None
        high = min(high, _LAST_LOCAL, own_until or _LAST_LOCAL)
        if high < low:
            return
        first = self._period_start(low)
        grid = self._grid
        rule = rrule(dtstart=first, until=high, **grid)
        for start in bounded(rule, periods_between(grid["freq"], grid["interval"], first, high)):
            if start >= low:
                yield start

    def _ruled(self, after: datetime | None, before: datetime | None) -> Iterator[datetime]:
        """The rule's starts in [after, before), in order."""
        assert self.rule is not None
        low = self.dtstart if after is None else after
        if self.rule.count is None:
            high = _LAST_LOCAL if before is None else before - timedelta(microseconds=1)
            yield from self._scan(low, high)
            return
        starts = _counted(self.rule.dateutil_text(self.zone), self.dtstart, self.rule.count)
        for start in starts[bisect_left(starts, low) :]:
            if before is not None and start >= before:
                return
            yield start

    def rule_starts(
        self, after: datetime | None = None, before: datetime | None = None
    ) -> Iterator[datetime]:
        """Wall-time starts from the rule and RDATEs, minus EXDATEs, in order, within bounds."""
        excluded = set(self.exdates)
        ruled: Iterable[datetime] = [self.dtstart] if self.rule is None else self._ruled(after, before)
        extra = sorted({*self.rdates} - {self.dtstart})
        seen: set[datetime] = set()
        for start in _merge(ruled, extra):
            if before is not None and start >= before:
                return
            if after is not None and start < after:
                continue
            if start in excluded or start in seen:
                continue
            seen.add(start)
            yield start

    def is_rule_instance(self, local: datetime) -> bool:
        """Whether ``local`` is a start of the rule or an RDATE (EXDATEs not removed)."""
        if local in self.rdates or local == self.dtstart:
            return True
        if self.rule is None:
            return False
        return next(self._ruled(local, local + timedelta(seconds=1)), None) == local


@lru_cache(maxsize=256)
def _counted(text: str, dtstart: datetime, count: int) -> tuple[datetime, ...]:
    """The starts of a COUNT rule (up to 2199), found once per rule and kept: where a later
    session is depends on how many came before it."""
    rule: Any = rrulestr(text, dtstart=dtstart).replace(count=None, until=_LAST_LOCAL)  # type: ignore[union-attr]
    periods = periods_between(rule._freq, rule._interval, dtstart, _LAST_LOCAL)
    return tuple(islice(bounded(rule, periods), count))


def _merge(first: Iterable[datetime], second: Sequence[datetime]) -> Iterator[datetime]:
    """Merge two ascending streams; the first may be infinite."""
    pending = list(second)
    for value in first:
        while pending and pending[0] < value:
            yield pending.pop(0)
        yield value
    yield from pending


def make_timing(
    *,
    dtstart: datetime,
    timezone: str,
    duration: timedelta,
    rrule: str | None = None,
    exdates: Iterable[datetime] = (),
    rdates: Iterable[datetime] = (),
    skip_holidays: SkipHolidays | str = SkipHolidays.NONE,
) -> Timing:
    """Check a series' timing and return it normalized, or raise :class:`RecurrenceError`.

    Refused: an unknown zone, a non-positive or over-long duration, an unparseable RRULE, COUNT
    with UNTIL, a dtstart that is not itself an instance of the rule, an EXDATE that removes
    nothing, a session at a wall time that does not exist in the zone (DST gap), and a bounded
    rule with more than :data:`MAX_OCCURRENCES` sessions.
    """
    zone = zone_of(timezone)
    start = to_local(require_in_range(dtstart, "dtstart"), zone)
    if duration <= timedelta(0):
        raise RecurrenceError("duration must be positive, e.g. PT2H", field="duration")
    if duration > MAX_DURATION:
        raise RecurrenceError("a session may last at most 14 days (P14D)", field="duration")
    _require_exists(start, zone, "dtstart")
    parsed = parse_rule(rrule, zone) if rrule and rrule.strip() else None
    ex = tuple(sorted({to_local(require_in_range(d, "exdates"), zone) for d in exdates}))
    rd = tuple(sorted({to_local(require_in_range(d, "rdates"), zone) for d in rdates}))
    for index, extra in enumerate(rd):
        _require_exists(extra, zone, f"rdates[{index}]")
        if extra < start:
            raise RecurrenceError(
                f"rdate {extra:%Y-%m-%dT%H:%M} is before dtstart {start:%Y-%m-%dT%H:%M}",
                field=f"rdates[{index}]",
            )
    timing = Timing(start, timezone, duration, parsed, ex, rd, SkipHolidays(skip_holidays))

    if parsed is not None:
        _check_rule(timing, parsed, start)
    for index, gone in enumerate(ex):
        if not timing.is_rule_instance(gone):
            raise RecurrenceError(
                f"exdate {gone:%Y-%m-%dT%H:%M} is not a session of this series, so it "
                "removes nothing; give the exact start of the session to drop",
                field=f"exdates[{index}]",
            )
    _check_extent(timing, zone)
    return timing


def _check_rule(timing: Timing, parsed: ParsedRule, start: datetime) -> None:
    """dtstart is the rule's first session, the second comes within :data:`SPARSE_SPAN`, and a
    COUNT rule ends before 2200. Each check looks at no more than ten years of the rule, or at
    its own sessions up to 2200 (once per rule)."""
    first = next(timing._scan(start, start + SPARSE_SPAN), None)
    if first != start:
        detail = (
            f"its first session would be {first:%Y-%m-%dT%H:%M}"
            if first
            else "it has no session in the ten years from there"
        )
        raise RecurrenceError(
            f"dtstart {start:%Y-%m-%dT%H:%M} ({start:%A}) is not a session of the rule "
            f"{parsed.text}: {detail}; set dtstart to the first session",
            field="dtstart",
            code="not-first" if first else "no-sessions",
        )
    horizon = start + SPARSE_SPAN
    own_until = timing._rrule._until if timing._rrule is not None else None
    goes_on = parsed.count != 1 and (own_until is None or own_until >= horizon)
    if goes_on and next(timing._scan(start + timedelta(seconds=1), horizon), None) is None:
        raise RecurrenceError(
            f"the rule {parsed.text} has no second session within ten years of the first: "
            "sessions that sparse cannot be planned or shown cheaply; list the dates as rdates",
            field="rrule",
            code="too-sparse",
        )
    if parsed.count is not None:
        made = _counted(parsed.dateutil_text(timing.zone), start, parsed.count)
        if len(made) < parsed.count:
            raise RecurrenceError(
                f"the rule's session number {len(made) + 1} would fall after {LATEST_YEAR - 1}; "
                f"use a COUNT of at most {len(made)}",
                field="rrule",
                code="too-late",
            )


def first_start(rule_text: str, start: datetime) -> datetime | None:
    """The first start of an RRULE on or after the wall time ``start``, if one comes within
    :data:`SPARSE_SPAN` (for forms where staff give a "from" date, not a session)."""
    rule: Any = rrulestr(rule_text, dtstart=start)
    limit = start + SPARSE_SPAN if rule._until is None else min(start + SPARSE_SPAN, rule._until)
    periods = periods_between(rule._freq, rule._interval, start, limit)
    return next(bounded(rule.replace(count=None, until=limit), periods), None)


def require_in_range(value: datetime, field_name: str) -> datetime:
    """Refuse dates no session series can mean (and that would overflow zone arithmetic)."""
    if not EARLIEST_YEAR <= value.year < LATEST_YEAR:
        raise RecurrenceError(
            f"{value:%Y-%m-%d} is outside the supported years {EARLIEST_YEAR}–{LATEST_YEAR - 1}",
            field=field_name,
        )
    return value


def _require_exists(local: datetime, zone: ZoneInfo, field_name: str) -> None:
    if not exists_locally(local, zone):
        raise RecurrenceError(
            f"{local:%Y-%m-%dT%H:%M} does not exist in {zone.key} (the clocks skip it for "
            "daylight saving time); choose another time",
            field=field_name,
            code="dst-gap",
        )


def _check_extent(timing: Timing, zone: ZoneInfo) -> None:
    """Refuse oversized bounded rules and sessions that fall into a DST gap."""
    horizon = None if timing.bounded else timing.dtstart + GAP_CHECK
    starts = timing.rule_starts(before=horizon)
    for count, local in enumerate(starts, start=1):
        if timing.bounded and count > MAX_OCCURRENCES:
            raise RecurrenceError(
                f"the rule yields more than {MAX_OCCURRENCES} sessions; set an earlier UNTIL",
                field="rrule",
            )
        if not exists_locally(local, zone):
            raise RecurrenceError(
                f"the session on {local:%Y-%m-%d} at {local:%H:%M} does not exist in {zone.key} "
                "(daylight saving time skips it); add it to exdates or choose another time",
                field="rrule",
                code="dst-gap",
            )


@dataclass(frozen=True)
class Override:
    """What staff changed on one occurrence (``start``/``end`` aware; None = unchanged)."""

    recurrence_id: datetime
    start: datetime | None = None
    end: datetime | None = None
    cancelled: bool = False
    venue: str | None = None
    agenda: str | None = None
    sequence: int = 0


@dataclass(frozen=True)
class Occurrence:
    """One session as calendars and notices see it."""

    recurrence_id: datetime  # original start, UTC
    uid: str
    start: datetime  # aware, in the series' zone
    end: datetime
    status: OccurrenceStatus
    sequence: int
    provisional: bool = False
    holiday: str | None = None  # the statutory break that moved this session, if any
    venue: str | None = None  # None: the series' venue; "" this session has none (yet)
    agenda: str | None = None
    notes: tuple[str, ...] = field(default=())

    def venue_or(self, series_venue: str) -> str:
        """Where this session is held: its own venue ("" when cleared), else the series'."""
        return series_venue if self.venue is None else self.venue


def expand(
    timing: Timing,
    *,
    series_uid: str,
    sequence: int = 0,
    overrides: Iterable[Override] = (),
    holidays: HolidayCalendar | None = None,
    window: tuple[datetime, datetime] | None = None,
    cancelled_from: datetime | None = None,
    limit: int = MAX_OCCURRENCES,
) -> list[Occurrence]:
    """All occurrences whose (actual) start lies in ``window`` = [start, end), UTC-aware.

    ``sequence`` is the series' own SEQUENCE; an occurrence's is that plus its override's.
    ``cancelled_from``: the series was cancelled then; sessions from that instant on are
    cancelled. An unbounded rule needs a window; more than ``limit`` results is an error.
    """
    if window is None and not timing.bounded:
        raise RecurrenceError(
            f"the rule {timing.rule.text if timing.rule else ''} has no end (no COUNT or "
            "UNTIL): give a window (start and end)",
            field="window",
        )
    if window is not None:
        if not window[0] < window[1]:
            raise RecurrenceError("the window's start must be before its end", field="window")
        window = (max(window[0], MIN_INSTANT), min(window[1], MAX_INSTANT))
    if timing.skip_holidays != SkipHolidays.NONE and holidays is None:
        raise ValueError("a holiday calendar is needed for skip_holidays=" + timing.skip_holidays)
    zone = timing.zone
    by_id = {o.recurrence_id: o for o in overrides}

    after = before = None
    if window is not None:
        after = to_local(window[0] - _SHIFT_MARGIN, zone)
        before = to_local(window[1] + timedelta(days=1), zone)
    results: list[Occurrence] = []
    seen: set[datetime] = set()
    starts = timing.rule_starts(after=after, before=before)
    for local in starts:
        rid = local_to_utc(local, zone)
        seen.add(rid)
        occ = _build(timing, local, rid, series_uid, sequence, by_id.get(rid), holidays, cancelled_from)
        if occ is not None and _inside(occ.start, window):
            results.append(occ)
            if len(results) > limit:
                raise _too_many(limit)

    if window is not None:  # sessions moved into the window from outside it
        for rid, override in by_id.items():
            if rid in seen or override.start is None or not _inside(override.start, window):
                continue
            local = to_local(rid, zone)
            if not timing.is_rule_instance(local) or local in timing.exdates:
                continue
            occ = _build(timing, local, rid, series_uid, sequence, override, holidays, cancelled_from)
            if occ is not None:
                results.append(occ)
    if len(results) > limit:
        raise _too_many(limit)
    results.sort(key=lambda o: (o.start, o.recurrence_id))
    return results


def _too_many(limit: int) -> RecurrenceError:
    return RecurrenceError(f"more than {limit} sessions in the window; narrow it", field="window")


def _inside(instant: datetime, window: tuple[datetime, datetime] | None) -> bool:
    return window is None or window[0] <= instant < window[1]


def _only_sequence(override: Override) -> bool:
    """An override that changes nothing but the SEQUENCE (a session moved by holidays)."""
    return (
        override.sequence > 0
        and override.start is None
        and override.end is None
        and not override.cancelled
        and override.venue is None
        and override.agenda is None
    )


def _build(
    timing: Timing,
    local: datetime,
    rid: datetime,
    series_uid: str,
    sequence: int,
    override: Override | None,
    holidays: HolidayCalendar | None,
    cancelled_from: datetime | None,
) -> Occurrence | None:
    zone = timing.zone
    start_local, holiday, provisional = local, None, False
    # a session staff changed stays as they left it; one whose only change is a raised SEQUENCE
    # (its date moved with holidays entered later: members were told) follows the rules
    decided = override is not None and not _only_sequence(override)
    if timing.skip_holidays != SkipHolidays.NONE and holidays is not None:
        info = holidays.day(local.date())
        if not info.known:
            provisional = True
        elif info.statutory_off:
            holiday = info.holiday
            if timing.skip_holidays == SkipHolidays.CN_STATUTORY and not decided:
                return None
            if timing.skip_holidays == SkipHolidays.CN_STATUTORY_SHIFT:
                target = next_workday(holidays, local.date())
                shifted = _on_day(local, target.day)
                if not decided and timing.is_rule_instance(shifted) and shifted not in timing.exdates:
                    return None  # the series already meets on that day: no second session
                provisional = not target.known
                start_local = shifted
    start = start_local.replace(tzinfo=zone, fold=0).astimezone(zone)
    end = start + timing.duration
    status = OccurrenceStatus.SCHEDULED
    venue = agenda = None
    extra_sequence = 0
    if override is not None:
        if override.start is not None:
            start = override.start.astimezone(zone)
            end = (override.end or override.start + timing.duration).astimezone(zone)
            status = OccurrenceStatus.MOVED
        elif override.end is not None:
            end = override.end.astimezone(zone)
        if override.cancelled:
            status = OccurrenceStatus.CANCELLED
        venue, agenda, extra_sequence = override.venue, override.agenda, override.sequence
    if cancelled_from is not None and start >= cancelled_from:
        status = OccurrenceStatus.CANCELLED
    return Occurrence(
        recurrence_id=rid,
        uid=occurrence_uid(series_uid, rid),
        start=start,
        end=end,
        status=status,
        sequence=sequence + extra_sequence,
        provisional=provisional,
        holiday=holiday,
        venue=venue,
        agenda=agenda,
    )


def _on_day(local: datetime, day: date) -> datetime:
    return datetime.combine(day, local.time())
