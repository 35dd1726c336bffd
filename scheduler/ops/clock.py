"""The clock seam: whatever needs the time takes a ``Clock`` (tests pass one that moves when told)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, aware, in UTC: the one real clock."""
    return datetime.now(UTC)
