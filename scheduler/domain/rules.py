"""RFC 5545 RRULE text: parse, check and normalize before any expansion.

dateutil's own errors are terse (``unknown parameter name``), so the rule is first read here part
by part and every refusal names the part and the reason. The normalized text has its parts in a
fixed order and UNTIL in UTC (``...Z``), as RFC 5545 requires when DTSTART has a time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduler.domain.errors import RecurrenceError

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SUPPORTED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_COUNT = 999  # Outlook's recurrence templates stop there; longer series need UNTIL
_ORDER = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYSETPOS",
    "WKST",
)
_INT_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYWEEKNO": (1, 53, True),
    "BYYEARDAY": (1, 366, True),
    "BYMONTHDAY": (1, 31, True),
    "BYSETPOS": (1, 366, True),
}
_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


@dataclass(frozen=True)
class ParsedRule:
    """A checked rule: ``text`` is canonical; ``until`` is UTC; dateutil gets ``dateutil_text``."""

    text: str
    freq: str
    count: int | None
    until: datetime | None

    @property
    def bounded(self) -> bool:
        return self.count is not None or self.until is not None

    def dateutil_text(self, zone: ZoneInfo) -> str:
        """The rule with UNTIL as local wall time, for expansion in naive local time."""
        if self.until is None:
            return self.text
        local = self.until.astimezone(zone).replace(tzinfo=None)
        return re.sub(r"UNTIL=[0-9TZ]+", f"UNTIL={local:%Y%m%dT%H%M%S}", self.text)


def parse_rule(text: str, zone: ZoneInfo) -> ParsedRule:
    """Check ``text`` (with or without ``RRULE:``) and return it normalized.

    ``zone`` reads an UNTIL given as a date or a floating local time: a date means the end of
    that day in the series' zone.
    """
    original = text
    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    if not raw:
        raise _bad(original, "the rule is empty")
    if "\n" in raw or "\r" in raw:
        raise _bad(original, "the rule must be a single line")
    parts: dict[str, str] = {}
    for piece in raw.upper().split(";"):
        if not piece:
            continue
        name, eq, value = piece.partition("=")
        if not eq or not value:
            raise _bad(original, f"part {piece!r} is not NAME=VALUE")
        if name in parts:
            raise _bad(original, f"{name} is given twice")
        if name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise _bad(original, f"{name} is not supported: a session's time of day is dtstart's")
        if name not in _ORDER:
            raise _bad(original, f"unknown part {name!r}")
        parts[name] = value

    freq = parts.get("FREQ")
    if freq is None:
        raise _bad(original, "FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq not in SUPPORTED_FREQ:
        if freq in ("SECONDLY", "MINUTELY", "HOURLY"):
            raise _bad(original, f"FREQ={freq} is not supported: sessions recur at most daily")
        raise _bad(original, f"unknown FREQ {freq!r}; use DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad(original, "COUNT and UNTIL must not be used together; keep one")

    count = None
    if "COUNT" in parts:
        count = _int(original, "COUNT", parts["COUNT"], 1, MAX_COUNT, signed=False)
    if "INTERVAL" in parts:
        _int(original, "INTERVAL", parts["INTERVAL"], 1, 1000, signed=False)
    for name, (low, high, signed) in _INT_RANGES.items():
        for item in _list(original, parts, name):
            _int(original, name, item, low, high, signed=signed)
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise _bad(original, "BYWEEKNO is only allowed with FREQ=YEARLY")
    for item in _list(original, parts, "BYDAY"):
        _check_byday(original, item, freq)
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _bad(original, f"unknown weekday {parts['WKST']!r} in WKST")

    until = _until(original, parts["UNTIL"], zone) if "UNTIL" in parts else None
    if until is not None:
        parts["UNTIL"] = f"{until:%Y%m%dT%H%M%SZ}"
    canonical = ";".join(f"{name}={parts[name]}" for name in _ORDER if name in parts)
    return ParsedRule(text=canonical, freq=freq, count=count, until=until)


def _bad(rule: str, reason: str) -> RecurrenceError:
    return RecurrenceError(f"invalid RRULE {rule.strip()!r}: {reason}", field="rrule")


def _list(rule: str, parts: dict[str, str], name: str) -> list[str]:
    if name not in parts:
        return []
    items = parts[name].split(",")
    if any(not item for item in items):
        raise _bad(rule, f"{name} has an empty item")
    return items


def _int(rule: str, name: str, value: str, low: int, high: int, *, signed: bool) -> int:
    if not re.fullmatch(r"[+-]?\d+" if signed else r"\d+", value):
        raise _bad(rule, f"{name} value {value!r} is not a whole number")
    number = int(value)
    if not low <= abs(number) <= high or (not signed and number < 0):
        span = f"±{low}..{high}" if signed else f"{low}..{high}"
        raise _bad(rule, f"{name} value {value!r} is out of range {span}")
    return number


def _check_byday(rule: str, item: str, freq: str) -> None:
    match = _BYDAY.match(item)
    if not match:
        weekday = re.sub(r"^[+-]?\d*", "", item)
        if weekday not in WEEKDAYS:
            raise _bad(rule, f"unknown weekday {weekday or item!r}")
        raise _bad(rule, f"BYDAY item {item!r} is malformed")
    sign, ordinal, _ = match.groups()
    if ordinal is None:
        if sign:
            raise _bad(rule, f"BYDAY item {item!r} has a sign but no number")
        return
    if not 1 <= int(ordinal) <= 53:
        raise _bad(rule, f"BYDAY item {item!r}: the ordinal must be 1..53 or -53..-1")
    if freq not in ("MONTHLY", "YEARLY"):
        raise _bad(rule, f"BYDAY item {item!r}: ordinals need FREQ=MONTHLY or YEARLY")


def _until(rule: str, value: str, zone: ZoneInfo) -> datetime:
    try:
        if re.fullmatch(r"\d{8}", value):
            day = datetime.strptime(value, "%Y%m%d")
            local = day.replace(hour=23, minute=59, second=59)
            return local.replace(tzinfo=zone).astimezone(UTC)
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if re.fullmatch(r"\d{8}T\d{6}", value):
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
            return local.replace(tzinfo=zone).astimezone(UTC)
    except ValueError as exc:
        raise _bad(rule, f"UNTIL {value!r} is not a real date ({exc})") from exc
    raise _bad(rule, f"UNTIL {value!r} must look like 20261231 or 20261231T155959Z")
