"""The worker service: consumer threads for the chosen roles plus the dead-letter consumer.

Each consumer thread owns its bus connection (pika is not thread-safe); handlers run on that
consumer's pool, so a slow SMTP relay never stalls heartbeats.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

import structlog

from scheduler.bus.base import Bus
from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.ops.clock import Clock, utcnow
from scheduler.ops.config import Settings
from schemas.bus import DEAD_QUEUE, ROLES, queue_name, role_of
from schemas.names import NoticeKind
from workers.channels import Channel, MailChannel, make_channels
from workers.leases import Leases
from workers.runtime import DeadLetterHandler, NoticeHandler

log = structlog.get_logger(__name__)


def roles_for(kinds: Sequence[str] | None) -> list[str]:
    """The worker roles (queues) that carry these notice kinds; all roles when none are given."""
    if not kinds:
        return list(ROLES)
    return sorted({role_of(NoticeKind(kind)) for kind in kinds})


class WorkerService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        bus: Bus,
        holidays: HolidayCalendar,
        *,
        roles: Sequence[str] | None = None,
        mail: MailChannel | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.bus = bus
        self.roles = list(roles or ROLES)
        self.concurrency = settings.worker_concurrency
        self.channels: list[Channel] = []
        self.handlers = []
        self.leases = Leases(db, timedelta(seconds=settings.send_lease_seconds), clock=clock)
        for _ in self.roles:  # each role its own channels (and SMTP connections)
            made = make_channels(settings, mail=mail)
            self.channels.extend(made.values())
            self.handlers.append(
                NoticeHandler(
                    settings,
                    db,
                    made,
                    holidays,
                    max_attempts=settings.max_attempts,
                    leases=self.leases,
                    clock=clock,
                )
            )
        self.dead_letters = DeadLetterHandler(db)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for role, handler in zip(self.roles, self.handlers, strict=True):
            self._spawn(f"exsched-worker-{role}", [queue_name(role)], handler, self.concurrency)
        self._spawn("exsched-dead-letters", [DEAD_QUEUE], self.dead_letters, 1)
        log.info("workers_started", roles=self.roles, concurrency=self.concurrency)

    def _spawn(self, name: str, queues: list[str], handler: object, concurrency: int) -> None:
        thread = threading.Thread(
            target=self.bus.consume,
            args=(queues, handler),
            kwargs={"stop": self.stop_event, "prefetch": max(2, 2 * concurrency), "concurrency": concurrency},
            name=name,
            daemon=True,
        )
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        """Stop taking messages, finish those in hand (sent and recorded, or left to retry)."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)
        for channel in self.channels:
            channel.close()
        self.leases.stop()
        log.info("workers_stopped")
