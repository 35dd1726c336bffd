"""``LISTEN`` on a PostgreSQL channel from a thread and a connection of its own.

PostgreSQL delivers a ``NOTIFY`` when the transaction that sent it commits (never for one rolled
back), to the connections listening at that moment: one that is reconnecting misses it. So a
listener says when it (re)connects and when it loses its connection, and a user that keeps
anything on the strength of the notifications (a cache) trusts it only while connected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog
from sqlalchemy.engine import make_url

from scheduler.ops.backoff import Backoff

log = structlog.get_logger(__name__)


def _nothing() -> None:
    return None


class Listener:
    """Calls ``on_notify`` for every notification on ``channel``; ``on_connected`` once listening
    (again), ``on_lost`` when the connection is gone (it reconnects with backoff)."""

    def __init__(
        self,
        url: str,
        channel: str,
        on_notify: Callable[[], None],
        *,
        name: str,
        on_connected: Callable[[], None] = _nothing,
        on_lost: Callable[[], None] = _nothing,
    ) -> None:
        parsed = make_url(url)
        self.conninfo = psycopg.conninfo.make_conninfo(
            host=parsed.host or "",
            port=parsed.port or 5432,
            user=parsed.username or "",
            password=parsed.password or "",
            dbname=parsed.database or "",
            application_name=name,  # how it shows in pg_stat_activity
        )
        self.channel = channel
        self.name = name
        self.on_notify, self.on_connected, self.on_lost = on_notify, on_connected, on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    backoff.reset()
                    self.on_connected()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.25, stop_after=1):  # (how soon it stops)
                            self.on_notify()
            except Exception as exc:  # a dead listener thread would leave its user waiting forever
                self.on_lost()
                delay = backoff.next()
                log.warning(
                    "listener_reconnect", listener=self.name, error=repr(exc), retry_in=round(delay, 2)
                )
                self._stop.wait(delay)
        self.on_lost()
