"""VTIMEZONE definitions that hold for every instance a calendar describes.

Clients such as libical (GNOME Evolution), vobject, Radicale and Outlook place a ``TZID`` time by
the VTIMEZONE in the file, not by the zone's name, so the definition must cover every session the
file carries — for an endless series, every session there will ever be. It is built here from
the zone's own data, the TZif file Python's :mod:`zoneinfo` reads:

* the transitions of its table that come before the rule now in force, each as a single
  observance (only those from the first instant the calendar needs);
* the rule in force (the POSIX TZ string at the end of the file, e.g.
  ``CET-1CEST,M3.5.0,M10.5.0/3``) as RRULE-based STANDARD and DAYLIGHT observances, the form
  Outlook reads, each DTSTART in the local time before the change (RFC 5545 §3.6.5: spring
  forward at 02:00 is written ``020000``), or a single STANDARD observance for a zone without
  daylight saving time (Asia/Shanghai);
* a rule that a yearly RRULE cannot say (a change at 24:00 or at -1:00, as Cairo, Nuuk or
  Santiago have it) as RDATE lists up to the calendar's last instant (a century for an endless
  one).
"""

from __future__ import annotations

import calendar
import importlib.resources
import re
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

#: How far ahead an endless calendar's zone is written out when its rule has no RRULE form.
ENDLESS = timedelta(days=100 * 366)
_EPOCH_LOCAL = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Change:
    """One transition: at ``at`` (UTC) the offset goes from ``before`` to ``after``."""

    at: datetime
    before: timedelta
    after: timedelta
    dst: bool
    name: str


@dataclass(frozen=True)
class DayRule:
    """``Mm.w.d/time``: weekday ``weekday`` (0 = Sunday) of week ``week`` (5 = last) of ``month``,
    at ``time`` local time (possibly negative or past 24 h)."""

    month: int
    week: int
    weekday: int
    time: timedelta

    def on(self, year: int) -> datetime:
        """The local wall time of the change in ``year``."""
        first = date(year, self.month, 1)
        offset = (self.weekday - (first.weekday() + 1) % 7) % 7
        day = 1 + offset + 7 * (self.week - 1)
        if day > calendar.monthrange(year, self.month)[1]:
            day -= 7
        return datetime(year, self.month, day) + self.time

    @property
    def rrule(self) -> str | None:
        """The yearly RRULE of this change, when it falls on the rule's own day."""
        if not timedelta(0) <= self.time < timedelta(days=1):
            return None
        nth = -1 if self.week == 5 else self.week
        weekday = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")[self.weekday]
        return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={nth}{weekday}"


@dataclass(frozen=True)
class Rule:
    """The POSIX TZ rule that governs the zone after its table."""

    std_name: str
    std: timedelta
    dst_name: str | None = None
    dst: timedelta | None = None
    start: DayRule | None = None  # daylight saving time begins (local standard time)
    end: DayRule | None = None  # and ends (local daylight time)

    def changes(self, year: int) -> list[Change]:
        """This rule's transitions in ``year``, in order."""
        if self.start is None or self.end is None or self.dst is None:
            return []
        spring = Change(
            _utc(self.start.on(year), self.std), self.std, self.dst, True, self.dst_name or self.std_name
        )
        autumn = Change(_utc(self.end.on(year), self.dst), self.dst, self.std, False, self.std_name)
        return sorted((spring, autumn), key=lambda c: c.at)


def _utc(local: datetime, offset: timedelta) -> datetime:
    return (local - offset).replace(tzinfo=UTC)


# --- reading the zone's data --------------------------------------------------------------------


def _tzif(tzid: str) -> bytes:
    """The TZif file zoneinfo would use for ``tzid`` (the system's, else the tzdata package's)."""
    for base in zoneinfo.TZPATH:
        path = Path(base) / tzid
        if path.is_file():
            return path.read_bytes()
    resource = importlib.resources.files("tzdata").joinpath("zoneinfo", *tzid.split("/"))
    return resource.read_bytes()


@lru_cache(maxsize=256)
def zone_data(tzid: str) -> tuple[tuple[Change, ...], timedelta, Rule | None]:
    """(the table's transitions, the offset before the first, the rule after the last)."""
    data = _tzif(tzid)
    if data[:4] != b"TZif":
        raise ValueError(f"{tzid}: not a TZif file")
    version = data[4:5]
    header = struct.unpack(">6l", data[20:44])
    if version >= b"2":  # skip the 32-bit block; read the 64-bit one that follows
        isut, isstd, leap, count, types, chars = header
        skip = 44 + count * 5 + types * 6 + chars + leap * 8 + isstd + isut
        data = data[skip:]
        isut, isstd, leap, count, types, chars = struct.unpack(">6l", data[20:44])
        size = 8
    else:
        isut, isstd, leap, count, types, chars = header
        size = 4
    at = 44
    times = struct.unpack(f">{count}{'q' if size == 8 else 'l'}", data[at : at + count * size])
    at += count * size
    indexes = data[at : at + count]
    at += count
    infos = [struct.unpack(">lBB", data[at + 6 * i : at + 6 * i + 6]) for i in range(types)]
    at += types * 6
    names = data[at : at + chars]
    at += chars + leap * (size + 4) + isstd + isut
    footer = data[at:].strip(b"\n").decode() if version >= b"2" else ""

    def name_at(index: int) -> str:
        return names[index : names.index(b"\0", index)].decode()

    initial = timedelta(seconds=infos[0][0]) if infos else timedelta(0)
    changes: list[Change] = []
    before = initial
    for when, index in zip(times, indexes, strict=True):
        offset, dst, name = infos[index]
        after = timedelta(seconds=offset)
        if after != before:  # a new name or DST flag at the same offset changes no clock
            changes.append(
                Change(
                    datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=when),
                    before,
                    after,
                    bool(dst),
                    name_at(name),
                )
            )
        before = after
    return tuple(changes), initial, parse_posix(footer) if footer else None


_NAME = r"(<[^>]+>|[A-Za-z]+)"
_OFFSET = r"([+-]?\d{1,3}(?::\d{2}){0,2})"
_POSIX = re.compile(rf"^{_NAME}{_OFFSET}(?:{_NAME}{_OFFSET}?(?:,(.+),(.+))?)?$")


def _hms(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _day_rule(text: str) -> DayRule:
    found = re.fullmatch(r"M(\d{1,2})\.(\d)\.(\d)(?:/(.+))?", text)
    if not found:
        raise ValueError(f"unsupported POSIX date rule {text!r} (only the Mm.w.d form is used by tzdata)")
    time = _hms(found[4]) if found[4] else timedelta(hours=2)
    return DayRule(int(found[1]), int(found[2]), int(found[3]), time)


def parse_posix(text: str) -> Rule:
    """A POSIX TZ string (``EST5EDT,M3.2.0,M11.1.0``); its offsets are west-positive."""
    found = _POSIX.match(text)
    if not found:
        raise ValueError(f"unreadable POSIX TZ rule {text!r}")
    std_name, std, dst_name, dst, start, end = found.groups()
    std_offset = -_hms(std)
    if dst_name is None:
        return Rule(std_name.strip("<>"), std_offset)
    dst_offset = -_hms(dst) if dst else std_offset + timedelta(hours=1)
    if start is None or end is None:
        raise ValueError(f"POSIX TZ rule {text!r} names daylight time but not when it applies")
    return Rule(
        std_name.strip("<>"), std_offset, dst_name.strip("<>"), dst_offset, _day_rule(start), _day_rule(end)
    )


def _rule_since(changes: tuple[Change, ...], rule: Rule | None) -> int:
    """Index of the first transition from which the table says exactly what ``rule`` says: each
    of its changes is one the rule makes, and the rule makes no change the table lacks (a year
    without daylight saving, as Haiti had in 2016, is not the rule's)."""
    if rule is None:
        return len(changes)
    if rule.start is None:  # no daylight time: the table's last change set the rule's offset
        return len(changes) - 1 if changes and changes[-1].after == rule.std else len(changes)
    index = len(changes)
    while index > 0:
        change = changes[index - 1]
        if (change.at, change.after) not in [(c.at, c.after) for c in rule.changes(change.at.year)]:
            break
        years = range(change.at.year, changes[-1].at.year + 1)
        made = [c for y in years for c in rule.changes(y) if change.at <= c.at <= changes[-1].at]
        if len(made) != len(changes) - index + 1:
            break
        index -= 1
    return index


# --- writing the VTIMEZONE --------------------------------------------------------------------------


def _observance(change: Change, start_local: datetime) -> TimezoneStandard | TimezoneDaylight:
    part: TimezoneStandard | TimezoneDaylight = TimezoneDaylight() if change.dst else TimezoneStandard()
    part.add("tzname", change.name)
    part.add("dtstart", start_local)
    part.add("tzoffsetfrom", change.before)
    part.add("tzoffsetto", change.after)
    return part


def _local_before(change: Change) -> datetime:
    """The wall time at which a change happens, read on the clock before it."""
    return (change.at + change.before).replace(tzinfo=None)


@lru_cache(maxsize=1024)
def vtimezone(tzid: str, first: datetime, last: datetime | None) -> Timezone:
    """The VTIMEZONE of ``tzid`` for instants from ``first`` (UTC) on, to ``last`` (None: endless).

    Built once per zone, first month and last month (every invitation of one session shares it).
    """
    changes, initial, rule = zone_data(tzid)
    since = _rule_since(changes, rule)
    component = Timezone()
    component.add("tzid", tzid)

    # The table: the change in force at ``first`` and the later ones before the rule took over.
    in_force = max((i for i, c in enumerate(changes) if c.at <= first), default=None)
    start = in_force if in_force is not None else 0
    if in_force is None and changes:  # before the zone's first change: its first offset, since 1970
        component.add_component(_observance(Change(first, initial, initial, False, "LMT"), _EPOCH_LOCAL))
    for change in changes[start:since]:
        if last is not None and change.at > last:
            break
        component.add_component(_observance(change, _local_before(change)))

    if rule is None:
        return component
    if since < len(changes):  # the rule's first change is in the table
        regime = changes[since].at
    else:  # the rule takes over where the table ends
        regime = changes[-1].at + timedelta(seconds=1) if changes else datetime(1970, 1, 1, tzinfo=UTC)
    rule_from = max(regime, first - timedelta(days=366))
    if rule.start is None or rule.end is None:  # a fixed offset from the rule's start on
        if since < len(changes) and changes[since].at > first:  # the change that set it is ahead
            component.add_component(_observance(changes[since], _local_before(changes[since])))
            return component
        if since >= len(changes) and in_force is not None:  # the table's last change set it
            return component
        fixed = Change(rule_from, rule.std, rule.std, False, rule.std_name)
        local = (rule_from + rule.std).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        component.add_component(_observance(fixed, local))
        return component
    year = rule_from.year
    yearly = [c for y in (year, year + 1) for c in rule.changes(y) if c.at >= rule_from]
    spring, autumn = rule.start.rrule, rule.end.rrule
    if spring is not None and autumn is not None:
        for change in yearly[:2]:
            part = _observance(change, _local_before(change))
            part.add("rrule", vRecur.from_ical(spring if change.dst else autumn))
            component.add_component(part)
        return component
    until = (last or first + ENDLESS) + timedelta(days=1)
    for dst in (True, False):  # a rule RRULE cannot say: every change, listed
        dated = [
            c
            for y in range(year, until.year + 1)
            for c in rule.changes(y)
            if c.dst == dst and rule_from <= c.at <= until
        ]
        if dated:
            part = _observance(dated[0], _local_before(dated[0]))
            if dated[1:]:
                part.add("rdate", [_local_before(c) for c in dated[1:]])
            component.add_component(part)
    return component


def month_of(instant: datetime) -> datetime:
    """The start of the instant's month (UTC): how :func:`vtimezone` calls are grouped."""
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)
