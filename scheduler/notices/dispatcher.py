"""The dispatcher: due notices onto the bus, marked ``published`` only once the broker confirmed.

One batch is one transaction: claim due ``pending`` rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of dispatchers share the work without publishing a row twice),
apply the lateness policy, publish what is left with confirms, then mark the confirmed rows
``published`` with a lease and give the others a later ``due_at``. A dispatcher that dies
mid-batch rolls back: its rows are ``pending`` again and are published again by the next one,
with the same ``message_id``, which workers deduplicate. A ``published`` row whose lease runs
out without a worker's answer goes back to ``pending`` (:meth:`Dispatcher.reap_leases`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Row, Table, bindparam, func, select, update

from scheduler.bus.base import Bus, OutboundMessage
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.ops.metrics import DISPATCH_LATENESS, PUBLISH_CONFIRM, PUBLISHED
from schemas.bus import SCHEMA_HEADER, TRACE_HEADER, NoticeEnvelope, routing_key
from schemas.names import NoticeKind, NoticeStatus

log = structlog.get_logger(__name__)
NOTICES: Table = NoticeRow.__table__  # type: ignore[assignment]
BEFORE_START = frozenset(
    {NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.REMINDER, NoticeKind.CANCELLATION}
)


@dataclass
class DispatchReport:
    claimed: int = 0
    published: int = 0
    skipped: int = 0
    failed: int = 0


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
        followup_grace: timedelta = timedelta(days=3),
        retry_base: timedelta = timedelta(seconds=5),
        retry_cap: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.bus = bus
        self.batch_size = batch_size
        self.lease = lease
        self.publish_timeout = publish_timeout
        self.followup_grace = followup_grace
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.clock = clock

    def dispatch_once(self) -> DispatchReport:
        """One batch of due notices; ``claimed < batch_size`` means nothing more is due now."""
        now = self.clock()
        report = DispatchReport()
        with self.db.session() as session:
            # Claim and mark in one statement; the transaction stays open until the broker
            # has answered, so no other session sees "published" before the confirm.
            due_rows = (
                select(NOTICES.c.id)
                .where(NOTICES.c.status == NoticeStatus.PENDING.value, NOTICES.c.due_at <= now)
                .order_by(NOTICES.c.due_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            claimed = session.execute(
                update(NOTICES)
                .where(NOTICES.c.id.in_(due_rows))
                .values(
                    status=NoticeStatus.PUBLISHED.value,
                    lease_until=now + self.lease,
                    published_at=now,
                    attempts=NOTICES.c.attempts + 1,
                    last_error=None,
                    updated_at=now,
                )
                .returning(*_CLAIMED)
            ).all()
            report.claimed = len(claimed)
            if not claimed:
                return report
            rows = sorted(claimed, key=lambda row: row.due_at)
            late = [(row, reason) for row in rows if (reason := self.too_late(row, now)) is not None]
            if late:
                session.execute(
                    _SKIP, [{"_id": row.id, "_reason": reason, "_now": now} for row, reason in late]
                )
                for row, reason in late:
                    log.info("notice_skipped", notice_id=str(row.id), kind=row.kind, reason=reason)
            skipped = {row.id for row, _ in late}
            due = [row for row in rows if row.id not in skipped]
            report.skipped = len(late)
            if not due:
                return report

            began = time.perf_counter()
            outcome = self.bus.publish([self._message(row) for row in due], timeout=self.publish_timeout)
            PUBLISH_CONFIRM.observe(time.perf_counter() - began)
            confirmed = [row for row in due if str(row.id) in outcome.confirmed]
            failed = [row for row in due if str(row.id) not in outcome.confirmed]
            if failed:
                session.execute(
                    _RETRY,
                    [
                        {
                            "_id": row.id,
                            "_reason": outcome.failed.get(str(row.id), "not confirmed"),
                            "_due": now + self.backoff(row.attempts - 1),
                            "_now": now,
                        }
                        for row in failed
                    ],
                )
            report.published, report.failed = len(confirmed), len(failed)
        for row in confirmed:
            DISPATCH_LATENESS.observe(max(0.0, (now - row.due_at).total_seconds()))
            PUBLISHED.labels(row.kind).inc()
            log.info(
                "notice_published",
                notice_id=str(row.id),
                message_id=str(row.id),
                kind=row.kind,
                occurrence_uid=row.occurrence_uid,
                lateness_s=round((now - row.due_at).total_seconds(), 3),
            )
        for row in failed:
            log.warning(
                "notice_publish_failed", notice_id=str(row.id), reason=outcome.failed.get(str(row.id))
            )
        return report

    def too_late(self, row: Row[Any], now: datetime) -> str | None:
        """Why a due notice no longer makes sense (system down, late change), or None."""
        kind = NoticeKind(row.kind)
        if kind in BEFORE_START and row.starts_at is not None and row.starts_at <= now:
            started = f"{row.starts_at:%Y-%m-%d %H:%M}Z"
            return f"the session had already started ({started}) when this {kind.value} came due"
        if kind == NoticeKind.FOLLOWUP and now - row.due_at > self.followup_grace:
            return f"more than {self.followup_grace.days} days late for a follow-up"
        return None

    def backoff(self, attempts: int) -> timedelta:
        """Exponential with jitter: about 5 s, 10 s, 20 s … up to the cap."""
        base = min(self.retry_cap.total_seconds(), self.retry_base.total_seconds() * 2 ** min(attempts, 20))
        return timedelta(seconds=random.uniform(base / 2, base))  # noqa: S311 (jitter)

    def _message(self, row: Row[Any]) -> OutboundMessage:
        attempt = row.attempts
        trace_id = f"{row.id.hex[:16]}-{attempt}"
        envelope = NoticeEnvelope(
            notice_id=row.id,
            kind=row.kind,
            channel=row.channel,
            series_id=row.series_id,
            member_id=row.member_id,
            webhook_id=row.webhook_id,
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
            body=envelope.model_dump_json().encode(),
            headers={SCHEMA_HEADER: envelope.version, TRACE_HEADER: trace_id},
        )

    def next_due(self) -> datetime | None:
        """When the earliest pending notice is due (None if there is none)."""
        with self.db.session() as session:
            value: datetime | None = session.scalar(
                select(func.min(NoticeRow.due_at)).where(NoticeRow.status == NoticeStatus.PENDING.value)
            )
        return value

    def reap_leases(self) -> int:
        """Put notices whose lease ran out without a worker's answer back to ``pending``."""
        now = self.clock()
        with self.db.session() as session:
            expired = session.scalars(
                update(NoticeRow)
                .where(
                    NoticeRow.status.in_([NoticeStatus.PUBLISHED.value, NoticeStatus.SENDING.value]),
                    NoticeRow.lease_until < now,
                )
                .values(
                    status=NoticeStatus.PENDING.value,
                    lease_until=None,
                    last_error="lease expired without a worker's answer; publishing again",
                    updated_at=now,
                )
                .returning(NoticeRow.id)
            ).all()
        for notice in expired:
            log.warning("notice_lease_expired", notice_id=str(notice))
        return len(expired)


_ROUTING = {kind.value: routing_key(kind) for kind in NoticeKind}
#: What a claim reads: enough to judge lateness and build the envelope, nothing more.
_CLAIMED = [
    NOTICES.c[name]
    for name in (
        "id",
        "series_id",
        "member_id",
        "webhook_id",
        "occurrence_uid",
        "recurrence_id",
        "kind",
        "slot",
        "channel",
        "sequence",
        "due_at",
        "starts_at",
        "attempts",
    )
]


#: Claimed rows that are too late: not an attempt after all.
_SKIP = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("_id"))
    .values(
        status=NoticeStatus.SKIPPED.value,
        attempts=NOTICES.c.attempts - 1,
        lease_until=None,
        published_at=None,
        last_error=bindparam("_reason"),
        updated_at=bindparam("_now"),
    )
)
#: Claimed rows the broker did not confirm: pending again, later.
_RETRY = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("_id"))
    .values(
        status=NoticeStatus.PENDING.value,
        lease_until=None,
        published_at=None,
        last_error=bindparam("_reason"),
        due_at=bindparam("_due"),
        updated_at=bindparam("_now"),
    )
)
