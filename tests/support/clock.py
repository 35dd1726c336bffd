"""A fake clock for the planner, dispatcher and workers."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """A clock that moves only when told: ``clock()`` is now, ``clock.advance(minutes=5)`` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
