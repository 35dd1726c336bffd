"""How much of a rule dateutil was made to walk: a measure of an expansion's cost that does not
depend on how fast or busy the machine is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dateutil import rrule

_PERIOD_SETS = ("ydayset", "mdayset", "wdayset", "ddayset")


def count_scanned_periods(run: Callable[[], Any]) -> int:
    """How many of a rule's periods (years, months, weeks or days, by FREQ) dateutil built while
    ``run`` ran: its iteration builds the set of candidate days once per period."""
    scanned = 0
    originals = {name: getattr(rrule._iterinfo, name) for name in _PERIOD_SETS}

    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            nonlocal scanned
            scanned += 1
            return original(*args)

        return wrapper

    for name, original in originals.items():
        setattr(rrule._iterinfo, name, counting(original))
    try:
        run()
    finally:
        for name, original in originals.items():
            setattr(rrule._iterinfo, name, original)
    return scanned
