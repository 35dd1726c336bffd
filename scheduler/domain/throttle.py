"""Counting attempts per key in a fixed window, atomically, in the database.

A key names who is trying: an account name (whether or not the account exists), a client
address, a browser that signed in before. Taking a slot is one ``INSERT … ON CONFLICT DO UPDATE
… RETURNING``: PostgreSQL locks the row and SQLite the database for it, so each of any number of
parallel requests gets a count of its own, and an attempt is counted *before* the work it
guards (checking a password) is done. A burst of 40 parallel guesses therefore gets exactly
``limit`` checks, however they interleave. The caller commits the slot before doing that work,
so no connection is held meanwhile.

What is stored is a SHA-256 of the key: nothing an attacker types ends up in the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, delete, literal, select, update
from sqlalchemy.orm import Session

from scheduler.db.models import AttemptsRow
from scheduler.db.types import UTCDateTime
from scheduler.db.upsert import upsert

TABLE: Table = AttemptsRow.__table__  # type: ignore[assignment]
#: No window anywhere is longer (tests/unit/test_throttle_windows.py): counts older than this
#: have ended whoever took them, so any caller may forget them.
LONGEST = timedelta(minutes=15)


@dataclass(frozen=True)
class Window:
    """At most ``limit`` attempts per ``length``, counted from the first attempt of a window."""

    limit: int
    length: timedelta


@dataclass(frozen=True)
class Taken:
    """One key's count after an attempt was taken; ``allowed`` unless it went over the limit."""

    count: int
    opens_at: datetime  # when the window ends and the count starts again
    allowed: bool


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def take(session: Session, key: str, window: Window, now: datetime) -> Taken:
    """Count one attempt for ``key``; a window that has ended starts again at one."""
    expired = TABLE.c.window_start <= now - window.length
    statement = (
        upsert(session, TABLE)
        .values(key=digest(key), count=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[TABLE.c.key],
            set_={
                "count": case((expired, 1), else_=TABLE.c.count + 1),
                "window_start": case((expired, literal(now, UTCDateTime)), else_=TABLE.c.window_start),
            },
        )
        .returning(TABLE.c.count, TABLE.c.window_start)
    )
    count, started = session.execute(statement).one()
    return Taken(count=count, opens_at=started + window.length, allowed=count <= window.limit)


def give_back(session: Session, key: str) -> None:
    """Uncount one attempt of ``key`` (it turned out to be a right one)."""
    session.execute(
        update(TABLE).where(TABLE.c.key == digest(key), TABLE.c.count > 0).values(count=TABLE.c.count - 1)
    )


def clear(session: Session, key: str) -> None:
    """Forget ``key``'s attempts: a right password, or staff lifting a lock."""
    session.execute(delete(TABLE).where(TABLE.c.key == digest(key)))


def closed_until(session: Session, key: str, window: Window, now: datetime) -> datetime | None:
    """When ``key`` may try again, if it has used up its window; None if it may now."""
    row = session.execute(
        select(TABLE.c.count, TABLE.c.window_start).where(TABLE.c.key == digest(key))
    ).first()
    if row is None:
        return None
    count, started = row
    if count < window.limit or started + window.length <= now:
        return None
    return started + window.length  # type: ignore[no-any-return]


def forget_ended(session: Session, now: datetime) -> None:
    """Drop counts whose window (at most :data:`LONGEST`) has ended: names tried once and never
    again would otherwise pile up."""
    session.execute(delete(TABLE).where(TABLE.c.window_start <= now - LONGEST))
