"""The dispatcher: due notices onto the bus, marked ``published`` only once the broker confirmed.

One batch is one transaction: claim due ``pending`` rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of dispatchers share the work without publishing a row twice),
apply the lateness policy, publish what is left with confirms, then keep the confirmed rows
``published`` with a lease and give the others a later ``due_at``. A dispatcher that dies
mid-batch rolls back: its rows are ``pending`` again and are published again by the next one,
with the same ``message_id``, which workers deduplicate. A ``published`` row whose lease runs
out without a worker's answer goes back to ``pending`` (:meth:`Dispatcher.reap_leases`). The
status changes themselves are the notice store's (:mod:`scheduler.notices.store`).

A backlog is drained by :meth:`Dispatcher.drain` with ``parallel`` batches in flight on
PostgreSQL (each its own transaction; SKIP LOCKED keeps them apart): while one batch waits for
the broker's confirms — most of a batch's time, the broker writing to disk — the next is
claimed and published.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Row

from scheduler.bus.base import Bus, OutboundMessage
from scheduler.db.session import Database
from scheduler.notices import store
from scheduler.notices.policy import FOLLOWUP_GRACE, lateness
from scheduler.ops.clock import Clock, utcnow
from scheduler.ops.logs import PER_NOTICE_LINES
from scheduler.ops.metrics import DISPATCH_LATENESS, PUBLISH_CONFIRM, PUBLISHED
from schemas.bus import ENVELOPE_VERSION, SCHEMA_HEADER, TRACE_HEADER, envelope_json, routing_key
from schemas.names import NoticeKind
from schemas.reasons import Reason, ReasonCode, reason

log = structlog.get_logger(__name__)


@dataclass
class DispatchReport:
    claimed: int = 0
    published: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, other: DispatchReport) -> None:
        self.claimed += other.claimed
        self.published += other.published
        self.skipped += other.skipped
        self.failed += other.failed


class Dispatcher:
    """Claims, publishes and marks due notices; see the module docstring for the guarantees."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        batch_size: int = 500,
        lease: timedelta = timedelta(minutes=10),
        publish_timeout: float = 30.0,
        followup_grace: timedelta = FOLLOWUP_GRACE,
        send_lease: timedelta = timedelta(seconds=30),
        parallel: int = 2,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.bus = bus
        self.batch_size = batch_size
        #: batches in flight at once while draining a backlog (PostgreSQL)
        self.parallel = parallel
        self.lease = lease
        self.send_lease = send_lease
        self.publish_timeout = publish_timeout
        self.followup_grace = followup_grace
        self.clock = clock
        self.monotonic = monotonic
        #: each notice being sent: its lease as last seen, and since when (monotonic) it is so
        self._seen: dict[uuid.UUID, tuple[datetime | None, float]] = {}

    def drain(self) -> DispatchReport:
        """Dispatch batches until one comes back short (nothing more is due now); on PostgreSQL
        with :attr:`parallel` batches at a time."""
        total = DispatchReport()
        lock = threading.Lock()

        def run() -> None:
            while True:
                report = self.dispatch_once()
                with lock:
                    total.add(report)
                if report.claimed < self.batch_size:
                    return

        lanes = self.parallel if self.db.dialect == "postgresql" else 1
        if lanes == 1:
            run()
            return total
        with ThreadPoolExecutor(lanes, thread_name_prefix="exsched-dispatch") as pool:
            for done in [pool.submit(run) for _ in range(lanes)]:
                done.result()
        return total

    def dispatch_once(self) -> DispatchReport:
        """One batch of due notices; ``claimed < batch_size`` means nothing more is due now."""
        now = self.clock()
        report = DispatchReport()
        with self.db.session() as session:
            rows = store.publish_due(session, now, limit=self.batch_size, lease=self.lease)
            report.claimed = len(rows)
            if not rows:
                return report
            late = [(row, why) for row in rows if (why := self.too_late(row, now)) is not None]
            store.skip_late(session, [(row.id, why) for row, why in late], now)
            for row, why in late:
                log.info("notice_skipped", notice_id=str(row.id), kind=row.kind, **store.log_fields(why))
            skipped = {row.id for row, _ in late}
            due = [row for row in rows if row.id not in skipped]
            report.skipped = len(late)
            if not due:
                return report

            began = time.perf_counter()
            messages = [self._message(row) for row in due]
            outcome = self.bus.publish(messages, timeout=self.publish_timeout)
            PUBLISH_CONFIRM.observe(time.perf_counter() - began)
            confirmed: list[Row[Any]] = []
            failed: list[tuple[Row[Any], Reason]] = []
            for row, message in zip(due, messages, strict=True):
                if message.message_id in outcome.confirmed:
                    confirmed.append(row)
                else:
                    detail = outcome.failed.get(message.message_id, "not confirmed")
                    failed.append((row, reason(ReasonCode.NOT_CONFIRMED, detail=detail)))
            store.unconfirmed(session, failed, now)
            report.published, report.failed = len(confirmed), len(failed)
        self._published(confirmed, now)
        for row, why in failed:
            log.warning("notice_publish_failed", notice_id=str(row.id), **store.log_fields(why))
        return report

    @staticmethod
    def _published(confirmed: list[Row[Any]], now: datetime) -> None:
        """Metrics and log lines of a published batch: a line per notice at INFO for a batch of
        up to :data:`~scheduler.ops.logs.PER_NOTICE_LINES`, else one line for the batch (each
        notice at DEBUG)."""
        each = log.info if len(confirmed) <= PER_NOTICE_LINES else log.debug
        lines = len(confirmed) <= PER_NOTICE_LINES or log.is_enabled_for(logging.DEBUG)
        kinds: dict[str, int] = {}
        for row in confirmed:
            late = (now - row.due_at).total_seconds()
            DISPATCH_LATENESS.observe(max(0.0, late))
            kinds[row.kind] = kinds.get(row.kind, 0) + 1
            if lines:
                each(
                    "notice_published",
                    notice_id=str(row.id),
                    message_id=str(row.id),
                    kind=row.kind,
                    occurrence_uid=row.occurrence_uid,
                    lateness_s=round(late, 3),
                )
        for kind, count in kinds.items():
            PUBLISHED.labels(kind).inc(count)
        if len(confirmed) > PER_NOTICE_LINES:
            log.info("notices_published", count=len(confirmed), kinds=kinds, each_notice="at DEBUG")

    def too_late(self, row: Row[Any], now: datetime) -> Reason | None:
        """Why a due notice no longer makes sense (system down, late change), or None."""
        return lateness(
            NoticeKind(row.kind),
            starts_at=row.starts_at,
            due_at=row.due_at,
            now=now,
            followup_grace=self.followup_grace,
        )

    def _message(self, row: Row[Any]) -> OutboundMessage:
        attempt = row.attempts
        trace_id = f"{row.id.hex[:16]}-{attempt}"
        body = envelope_json(
            notice_id=row.id,
            kind=row.kind,
            channel=row.channel,
            series_id=row.series_id,
            member_id=row.member_id,
            webhook_id=row.webhook_id,
            staff_id=row.staff_id,
            occurrence_uid=row.occurrence_uid,
            recurrence_id=row.recurrence_id,
            sequence=row.sequence,
            slot=row.slot,
            due_at=row.due_at,
            attempt=attempt,
            trace_id=trace_id,
        )
        return OutboundMessage(
            message_id=str(row.id),
            routing_key=_ROUTING[row.kind],
            body=body,
            headers={SCHEMA_HEADER: ENVELOPE_VERSION, TRACE_HEADER: trace_id},
        )

    def next_due(self) -> datetime | None:
        """When the earliest pending notice is due (None if there is none)."""
        with self.db.session() as session:
            return store.next_due(session)

    def reap_leases(self) -> int:
        """Put back to ``pending`` the notices no worker took before their lease ran out, and those
        whose holder fell silent.

        A holder's silence is judged without the wall clock: a notice being sent is reaped when
        its lease has stayed the same value for a whole ``send_lease`` of this process's
        monotonic time (a live holder renews it every third of that). A clock that jumps forward
        therefore reaps nothing that is still being sent, and one that jumps back delays nothing."""
        now, tick = self.clock(), self.monotonic()
        with self.db.session() as session:
            expired = store.reap_expired_leases(session, now)
            current = store.sending_leases(session)
            seen: dict[uuid.UUID, tuple[datetime | None, float]] = {}
            for notice_id, lease in current.items():
                before = self._seen.get(notice_id)
                seen[notice_id] = before if before is not None and before[0] == lease else (lease, tick)
            self._seen = seen
            silent = [
                (notice_id, lease)
                for notice_id, (lease, since) in self._seen.items()
                if tick - since >= self.send_lease.total_seconds()
            ]
            expired += store.reap_silent(session, silent, now)
        for notice in expired:
            log.warning("notice_lease_expired", notice_id=str(notice))
        return len(expired)


_ROUTING = {kind.value: routing_key(kind) for kind in NoticeKind}
