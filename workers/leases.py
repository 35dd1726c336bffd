"""The heartbeat of a worker process: the leases of the notices it is sending, kept short and
renewed while the sends run.

A worker claims a notice (``sending``) for ``EXSCHED_SEND_LEASE_SECONDS`` (30 s) under a holder
name of its own (host, pid, a random part). While the send runs — however long a slow SMTP relay
takes — this thread renews the lease every third of it. A process that dies stops renewing: its
notices' leases run out within one lease, the scheduler's reaper (every few seconds) makes them
``pending`` and the dispatcher publishes them again. A live holder keeps its lease, so no other
worker takes a notice that is still being sent. The argument, and the test that measures it, are
in docs/reliability.md.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from scheduler.db.session import Database
from scheduler.notices import store
from scheduler.ops.clock import Clock, utcnow

log = structlog.get_logger(__name__)


def holder_name() -> str:
    """This process, as the notices it holds name it (fits the column's 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """The notices this process holds, with a thread renewing their leases."""

    def __init__(self, db: Database, lease: timedelta, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock
        self.holder = holder_name()
        self.every = max(lease.total_seconds() / 3, 0.2)
        self._held: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, notice_id: uuid.UUID) -> None:
        with self._lock:
            self._add(notice_id)

    def hold_again(self, notice_id: uuid.UUID) -> bool:
        """Hold a notice this process claimed earlier and let go of (its handling was cut short by
        a database outage); False if one of this process's threads is sending it right now."""
        with self._lock:
            if notice_id in self._held:
                return False
            self._add(notice_id)
            return True

    def _add(self, notice_id: uuid.UUID) -> None:
        self._held.add(notice_id)
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="exsched-leases", daemon=True)
            self._thread.start()

    def release(self, notice_id: uuid.UUID) -> None:
        with self._lock:
            self._held.discard(notice_id)

    def held(self) -> set[uuid.UUID]:
        with self._lock:
            return set(self._held)

    def renew(self) -> int:
        """Extend the leases of every notice still held; how many rows were renewed."""
        held = self.held()
        if not held:
            return 0
        with self.db.session() as session:
            return store.renew(session, held, self.holder, self.clock(), self.lease)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.renew()
            except SQLAlchemyError as exc:  # the database is away: the next beat tries again
                log.warning(
                    "lease_renewal_failed",
                    error=str(exc.orig) if hasattr(exc, "orig") else str(exc),
                    held=len(self.held()),
                    next=f"again in {self.every:.0f} s; a lease that runs out meanwhile is sent again",
                )

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
