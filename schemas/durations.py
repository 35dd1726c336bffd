"""ISO 8601 durations (``P14D``, ``PT2H``, ``PT30S``) as ``timedelta``.

Only exact units are accepted (weeks, days, hours, minutes, seconds): a month or a year has no
fixed length, so ``P1M`` would mean different things in different months and is refused with a
message that says so instead of being guessed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of exact units; raise ``ValueError`` saying what is wrong."""
    raw = text.strip().upper()
    match = _DURATION.match(raw)
    if not match or raw in ("P", "PT") or raw.endswith("T"):
        if re.match(r"^P(\d+Y|\d+M)", raw):
            raise ValueError(
                f"duration {text!r} uses years or months, which have no fixed length; "
                "use weeks, days, hours, minutes or seconds (e.g. P30D)"
            )
        raise ValueError(f"invalid ISO 8601 duration {text!r}; expected e.g. P14D, PT2H, PT1H30M or PT30S")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    try:
        return timedelta(**parts)
    except OverflowError as exc:
        raise ValueError(f"duration {text!r} is too long") from exc


def format_duration(value: timedelta) -> str:
    """Format a non-negative ``timedelta`` as the shortest ISO 8601 duration (``P1DT2H``)."""
    total = int(value.total_seconds())
    if total < 0:
        raise ValueError("negative durations cannot be written in ISO 8601 form here")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{seconds}S" if seconds else ""
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("give durations as ISO 8601 text such as 'PT2H', not a number")
    return value


IsoDuration = Annotated[
    timedelta,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "duration", "examples": ["P14D", "PT2H"]}),
]
