"""The bus seam. Both adapters (RabbitMQ, in-process) give the same guarantees:

* ``publish`` returns only when every message is either confirmed by the broker (stored in a
  queue) or known to have failed (nacked, unroutable, connection lost, timed out); a caller
  marks as published only what was confirmed.
* consumers get each message at least once; a handler's :class:`Outcome` acks it, requeues it
  (redelivered later, counted) or rejects it to the dead-letter queue. Past
  :data:`schemas.bus.DELIVERY_LIMIT` deliveries a message is dead-lettered by the bus itself.
* a dead-lettered message keeps its body and headers and gains ``x-first-death-reason``
  (``rejected`` or ``delivery_limit``) and ``x-first-death-queue``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """A message to publish on the notices exchange."""

    message_id: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class PublishReport:
    """What became of each message of one ``publish`` call, by message id."""

    confirmed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # message id → reason


@dataclass(frozen=True)
class Delivery:
    """A message as a consumer receives it."""

    queue: str
    message_id: str | None
    routing_key: str
    body: bytes
    headers: dict[str, Any]
    redelivered: bool
    delivery_count: int  # 0 on first delivery


class Outcome(Enum):
    ACK = "ack"  # done (including: recognised as stale or duplicate and dropped)
    REQUEUE = "requeue"  # not done, try again later (counts towards the delivery limit)
    REJECT = "reject"  # never going to work: to the dead-letter queue


Handler = Callable[[Delivery], Outcome]


class Bus(Protocol):
    """Publish notices, consume them, inspect queues."""

    def declare(self) -> None:
        """Create the exchanges, queues and bindings of :mod:`schemas.bus` (idempotent)."""
        ...

    def publish(self, messages: Sequence[OutboundMessage], *, timeout: float = 30.0) -> PublishReport:
        """Publish persistently with confirms; wait for every outcome (up to ``timeout``)."""
        ...

    def consume(
        self,
        queues: Sequence[str],
        handler: Handler,
        *,
        stop: threading.Event,
        prefetch: int = 100,
        concurrency: int = 1,
    ) -> None:
        """Deliver to ``handler`` until ``stop`` is set; returns after in-flight work settles."""
        ...

    def queue_depth(self, queue: str) -> int:
        """Messages ready in ``queue`` (not counting those delivered and unacked)."""
        ...

    def close(self) -> None: ...
