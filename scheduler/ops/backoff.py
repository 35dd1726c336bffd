"""Reconnect delays: exponential with full jitter, so restarted peers do not retry in step."""

from __future__ import annotations

import random


class Backoff:
    """0.5 s doubling up to ``cap``, each delay drawn from its upper half."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not security)

    def reset(self) -> None:
        self.attempt = 0
