"""Whether anything a feed is made of may have changed, without asking the database.

On PostgreSQL every statement that writes series, their exceptions, members or subscriptions
sends ``NOTIFY exsched_feeds`` (migration 0022's triggers: whichever process or tool wrote it),
delivered when its transaction commits. :class:`FeedChanges` listens and counts what it hears.
A feed checked against the database while the count was *n* is still current as long as the
count is still *n* — but only while the listener is connected: a notification sent while it
reconnects is lost, so then nothing is trusted, and reconnecting counts as a change.

A notification arrives a moment after its commit. This process's own writes are counted at
once, at their commit (:meth:`FeedChanges.watch`), so a poll after a change made through this
process always reads it; one made by another process is seen within that moment.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from scheduler.db.listen import Listener

CHANNEL = "exsched_feeds"


class FeedChanges:
    """The changes heard on :data:`CHANNEL` (see :meth:`heard`)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._live = False
        self._listener = Listener(
            url,
            CHANNEL,
            self._changed,
            name="exsched-feeds-listener",
            on_connected=self._connected,
            on_lost=self._lost,
        )

    def start(self) -> None:
        self._listener.start()

    def stop(self) -> None:
        self._listener.stop()

    def watch(self, engine: Engine) -> None:
        """Count each commit of ``engine`` that wrote anything, as it commits."""
        event.listen(engine, "after_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def unwatch(self, engine: Engine) -> None:
        event.remove(engine, "after_cursor_execute", self._statement)
        event.remove(engine, "commit", self._commit)
        event.remove(engine, "rollback", self._rollback)

    def heard(self) -> int | None:
        """How many changes were heard so far; None while not listening (trust nothing kept)."""
        with self._lock:
            return self._count if self._live else None

    def _changed(self) -> None:
        with self._lock:
            self._count += 1

    def _connected(self) -> None:
        with self._lock:
            self._count += 1  # whatever happened while away was not heard
            self._live = True

    def _lost(self) -> None:
        with self._lock:
            self._count += 1
            self._live = False

    @staticmethod
    def _statement(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith("SELECT"):  # (any other may write)
            conn.info[_WROTE] = True

    def _commit(self, conn: Connection) -> None:
        if conn.info.pop(_WROTE, False):
            self._changed()

    @staticmethod
    def _rollback(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)


_WROTE = "exsched_feeds_wrote"
