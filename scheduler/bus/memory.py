"""The in-process bus: RabbitMQ's semantics in memory, for the embedded default and tests.

Same routing (topic keys from :mod:`schemas.bus`), same delivery counting and dead-lettering,
same outcomes; only durability is missing (a restart forgets queued messages, which is safe
because the notices table still says what is owed).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from scheduler.bus.base import Delivery, Handler, OutboundMessage, Outcome, PublishReport
from schemas.bus import DEAD_QUEUE, DELIVERY_LIMIT, EXCHANGE, bindings

log = structlog.get_logger(__name__)


@dataclass
class _Stored:
    message: OutboundMessage
    delivery_count: int = 0
    headers: dict[str, Any] = field(default_factory=dict)


class InProcessBus:
    """A :class:`~scheduler.bus.base.Bus` in memory; thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Stored]] = {}
        self._routes: dict[str, list[str]] = {}

    def declare(self) -> None:
        with self._cond:
            for queue, key in bindings():
                self._queues.setdefault(queue, deque())
                self._routes.setdefault(key, [])
                if queue not in self._routes[key]:
                    self._routes[key].append(queue)
            self._queues.setdefault(DEAD_QUEUE, deque())

    def publish(self, messages: Sequence[OutboundMessage], *, timeout: float = 30.0) -> PublishReport:
        report = PublishReport()
        with self._cond:
            for message in messages:
                targets = self._routes.get(message.routing_key, [])
                if not targets:
                    report.failed[message.message_id] = f"unroutable on {EXCHANGE}: {message.routing_key}"
                    continue
                for queue in targets:
                    self._queues[queue].append(_Stored(message, headers=dict(message.headers)))
                report.confirmed.add(message.message_id)
            self._cond.notify_all()
        return report

    def consume(
        self,
        queues: Sequence[str],
        handler: Handler,
        *,
        stop: threading.Event,
        prefetch: int = 100,
        concurrency: int = 1,
    ) -> None:
        missing = [q for q in queues if q not in self._queues]
        if missing:
            raise ValueError(f"queues not declared: {', '.join(missing)}")
        slots = threading.Semaphore(max(1, min(prefetch, concurrency)))
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="exsched-inproc") as pool:
            while not stop.is_set():
                picked = self._take(queues, stop)
                if picked is None:
                    continue
                queue, stored = picked
                slots.acquire()
                pool.submit(self._handle, queue, stored, handler, slots)

    def _take(self, queues: Sequence[str], stop: threading.Event) -> tuple[str, _Stored] | None:
        with self._cond:
            for queue in queues:
                if self._queues[queue]:
                    return queue, self._queues[queue].popleft()
            self._cond.wait(timeout=0.2)
        return None

    def _handle(self, queue: str, stored: _Stored, handler: Handler, slots: threading.Semaphore) -> None:
        try:
            delivery = Delivery(
                queue=queue,
                message_id=stored.message.message_id,
                routing_key=stored.message.routing_key,
                body=stored.message.body,
                headers=dict(stored.headers),
                redelivered=stored.delivery_count > 0,
                delivery_count=stored.delivery_count,
            )
            try:
                outcome = handler(delivery)
            except Exception:
                log.exception("handler_failed", queue=queue, message_id=stored.message.message_id)
                outcome = Outcome.REQUEUE
            self._settle(queue, stored, outcome)
        finally:
            slots.release()

    def _settle(self, queue: str, stored: _Stored, outcome: Outcome) -> None:
        with self._cond:
            if outcome is Outcome.REQUEUE:
                count = stored.delivery_count + 1
                if count > DELIVERY_LIMIT:
                    self._dead_letter(queue, stored, "delivery_limit")
                else:
                    headers = stored.headers | {"x-delivery-count": count}
                    self._queues[queue].append(replace(stored, delivery_count=count, headers=headers))
            elif outcome is Outcome.REJECT:
                self._dead_letter(queue, stored, "rejected")
            self._cond.notify_all()

    def _dead_letter(self, queue: str, stored: _Stored, reason: str) -> None:
        headers = stored.headers | {"x-first-death-reason": reason, "x-first-death-queue": queue}
        self._queues[DEAD_QUEUE].append(_Stored(stored.message, headers=headers))

    def queue_depth(self, queue: str) -> int:
        with self._cond:
            return len(self._queues.get(queue, ()))

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
