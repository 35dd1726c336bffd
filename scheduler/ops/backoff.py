"""The one backoff policy: exponential with jitter, so peers that failed together do not retry
together. Reconnects (broker, database listener) and notice retries (an unconfirmed publish, a
deferred send) all draw their delays from :func:`compute_backoff`."""

from __future__ import annotations

import random


def compute_backoff(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``attempt`` failed tries in a row (0 for the first retry): ``base``
    doubling per try up to ``cap``, drawn from the upper half of that delay."""
    delay = min(cap, base * 2 ** min(max(attempt, 0), 32))
    return random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not security)


class Backoff:
    """Successive delays for one thing that keeps failing (a connection): 0.5 s doubling to ``cap``."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self) -> float:
        delay = compute_backoff(self.attempt, base=self.base, cap=self.cap)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
