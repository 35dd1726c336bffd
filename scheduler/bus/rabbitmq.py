"""RabbitMQ through pika: topology, pipelined publisher confirms, consumers with manual acks.

pika is not thread-safe, so every connection here belongs to one thread:

* the publisher owns a ``SelectConnection`` on its own I/O thread. Callers hand it batches
  through ``add_callback_threadsafe`` (the one cross-thread call pika allows) and wait for the
  outcome; the I/O thread keeps up to ``window`` messages unconfirmed at once and settles them
  as ``Basic.Ack``/``Basic.Nack`` arrive (``multiple=True`` included) — no round trip per
  message. ``mandatory=True`` makes unroutable messages come back as ``Basic.Return``, which
  RabbitMQ sends before the ack of the same message.
* each ``consume`` call opens a ``BlockingConnection`` in the calling thread; handlers run on a
  worker pool so heartbeats keep flowing, and their acks go back to the I/O thread through
  ``add_callback_threadsafe``.

Both reconnect with exponential backoff and jitter. ``EXSCHED_AMQP_URL`` may name several
brokers (the nodes of a cluster, comma-separated): each connection starts from the next one in
turn and passes over a node that does not answer, so losing a node costs one reconnection.
"""

from __future__ import annotations

import itertools
import queue as queue_module
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import takewhile
from typing import Any

import pika
import pika.exceptions
import structlog
from pika.adapters.blocking_connection import BlockingChannel
from pika.channel import Channel
from pika.frame import Method
from pika.spec import Basic, BasicProperties

from scheduler.bus.base import Delivery, Handler, OutboundMessage, Outcome, PublishReport
from scheduler.ops.backoff import Backoff
from scheduler.ops.config import amqp_endpoints
from schemas.bus import DEAD_EXCHANGE, DEAD_QUEUE, DELIVERY_LIMIT, EXCHANGE, ROLES, bindings, queue_name

log = structlog.get_logger(__name__)

WORK_QUEUE_ARGUMENTS: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-delivery-limit": DELIVERY_LIMIT,
    "x-dead-letter-exchange": DEAD_EXCHANGE,
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}
DEAD_QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}


def connection_parameters(url: str, *, name: str, heartbeat: int = 30) -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.client_properties = {"connection_name": name}
    return params


class RabbitBus:
    """:class:`~scheduler.bus.base.Bus` over RabbitMQ."""

    def __init__(self, url: str, *, window: int = 1000, name: str = "exsched") -> None:
        self.url = url
        self.urls = amqp_endpoints(url)
        self.name = name
        self.window = window
        self._publisher: _Publisher | None = None
        self._lock = threading.Lock()
        self._turn = itertools.count(random.randrange(len(self.urls)))  # noqa: S311 (spreading, not secrecy)

    def endpoints_in_turn(self, purpose: str) -> list[pika.URLParameters]:
        """Every broker address, starting from the next one in turn: connections spread over a
        cluster's nodes, and one that is down is passed over for the others."""
        first = next(self._turn) % len(self.urls)
        order = self.urls[first:] + self.urls[:first]
        return [connection_parameters(url, name=f"{self.name}:{purpose}") for url in order]

    def _blocking(self, purpose: str) -> pika.BlockingConnection:
        return pika.BlockingConnection(self.endpoints_in_turn(purpose))

    def declare(self) -> None:
        connection = self._blocking("declare")
        try:
            channel = connection.channel()
            channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
            channel.exchange_declare(DEAD_EXCHANGE, exchange_type="fanout", durable=True)
            channel.queue_declare(DEAD_QUEUE, durable=True, arguments=DEAD_QUEUE_ARGUMENTS)
            channel.queue_bind(DEAD_QUEUE, DEAD_EXCHANGE)
            for role in ROLES:
                channel.queue_declare(queue_name(role), durable=True, arguments=WORK_QUEUE_ARGUMENTS)
            for queue, key in bindings():
                channel.queue_bind(queue, EXCHANGE, routing_key=key)
        finally:
            connection.close()

    def publish(self, messages: Sequence[OutboundMessage], *, timeout: float = 30.0) -> PublishReport:
        with self._lock:
            if self._publisher is None:
                self._publisher = _Publisher(lambda: self.endpoints_in_turn("publisher")[0], self.window)
                self._publisher.start()
            publisher = self._publisher
        return publisher.publish(messages, timeout=timeout)

    def consume(
        self,
        queues: Sequence[str],
        handler: Handler,
        *,
        stop: threading.Event,
        prefetch: int = 100,
        concurrency: int = 1,
    ) -> None:
        backoff = Backoff()
        while not stop.is_set():
            try:
                self.declare()  # a worker may start before any scheduler has declared the queues
                _Consumer(self, queues, handler, prefetch, concurrency).run(stop)
                backoff.reset()
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.StreamLostError, ValueError) as exc:
                # ValueError: pika's "Timeout closed before call" when the connection closes while
                # process_data_events sets its timer — the same lost connection, by another road
                delay = backoff.next()
                log.warning("amqp_consumer_reconnect", error=repr(exc), retry_in=round(delay, 2))
                stop.wait(delay)
            except pika.exceptions.AMQPChannelError as exc:  # e.g. a queue deleted under us
                delay = backoff.next()
                log.warning("amqp_consumer_channel_closed", error=repr(exc), retry_in=round(delay, 2))
                stop.wait(delay)

    def queue_depth(self, queue: str) -> int:
        connection = self._blocking("inspect")
        try:
            frame = connection.channel().queue_declare(queue, passive=True)
            return int(frame.method.message_count)
        finally:
            connection.close()

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.stop()
                self._publisher = None


class _Batch:
    """One ``publish`` call: its messages and their outcomes, shared by two threads."""

    def __init__(self, messages: Sequence[OutboundMessage]) -> None:
        self.messages = list(messages)
        self.report = PublishReport()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._open = len(self.messages)
        self.abandoned = False
        if not self.messages:
            self.done.set()

    def settle(self, outcomes: list[tuple[str, str | None]]) -> None:
        """Record (message id, failure reason or None) pairs; one lock for a whole confirm."""
        with self._lock:
            if self.abandoned:
                return
            for message_id, reason in outcomes:
                if reason is None:
                    self.report.confirmed.add(message_id)
                else:
                    self.report.failed[message_id] = reason
            self._open -= len(outcomes)
            if self._open <= 0:
                self.done.set()

    def abandon(self, reason: str) -> PublishReport:
        """Give up waiting: every message not yet settled counts as failed."""
        with self._lock:
            self.abandoned = True
            settled = self.report.confirmed | set(self.report.failed)
            for message in self.messages:
                if message.message_id not in settled:
                    self.report.failed[message.message_id] = reason
            return self.report


@dataclass
class _PublisherState:
    """Touched only on the publisher's I/O thread."""

    waiting: deque[tuple[_Batch, OutboundMessage]] = field(default_factory=deque)
    outstanding: dict[int, tuple[_Batch, str]] = field(default_factory=dict)  # tag → (batch, id)
    returned: set[str] = field(default_factory=set)
    next_tag: int = 1


class _Publisher:
    def __init__(self, params: Callable[[], pika.URLParameters], window: int) -> None:
        self.params = params  # the next broker address to try, at each (re)connection
        self.window = window
        self.inbox: queue_module.SimpleQueue[_Batch] = queue_module.SimpleQueue()
        self.state = _PublisherState()
        self.connection: pika.SelectConnection | None = None
        self.channel: Channel | None = None
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="exsched-amqp-publisher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def publish(self, messages: Sequence[OutboundMessage], *, timeout: float) -> PublishReport:
        batch = _Batch(messages)
        if not batch.messages:
            return batch.report
        self.inbox.put(batch)
        self._wake()
        if batch.done.wait(timeout):
            return batch.report
        return batch.abandon(f"no confirm within {timeout:g} s")

    def _wake(self) -> None:
        connection = self.connection
        if connection is not None and self.ready.is_set():
            try:
                connection.ioloop.add_callback_threadsafe(self._drain)
            except Exception:
                log.debug("amqp_publisher_wake_failed")

    def stop(self) -> None:
        self.stopping.set()
        connection = self.connection
        if connection is not None:
            try:
                connection.ioloop.add_callback_threadsafe(self._close)
            except Exception:
                log.debug("amqp_publisher_stop_callback_failed")
        self.thread.join(timeout=10)

    # --- I/O thread -------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = Backoff()
        while not self.stopping.is_set():
            self.ready.clear()
            self.connection = pika.SelectConnection(
                self.params(),
                on_open_callback=self._on_connection_open,
                on_open_error_callback=self._on_connection_error,
                on_close_callback=self._on_connection_closed,
            )
            self.connection.ioloop.start()
            self._fail_outstanding("connection to RabbitMQ lost before confirm")
            if self.ready.is_set():
                backoff.reset()
            if not self.stopping.is_set():
                delay = backoff.next()
                log.warning("amqp_publisher_reconnect", retry_in=round(delay, 2))
                self.stopping.wait(delay)
        self._fail_waiting("publisher stopped")

    def _on_connection_open(self, connection: pika.SelectConnection) -> None:
        log.info("amqp_publisher_connected", broker=_where(connection.params))
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_error(self, connection: pika.SelectConnection, error: BaseException) -> None:
        log.warning("amqp_publisher_connect_failed", error=repr(error))
        connection.ioloop.stop()

    def _on_connection_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        if not self.stopping.is_set():
            log.warning("amqp_publisher_connection_closed", reason=repr(reason))
        self.channel = None
        connection.ioloop.stop()

    def _on_channel_open(self, channel: Channel) -> None:
        self.channel = channel
        self.state.next_tag = 1
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: Method) -> None:
        self.ready.set()
        log.info("amqp_publisher_ready", window=self.window)
        self._drain()

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        if not self.stopping.is_set():
            log.error("amqp_publisher_channel_closed", reason=repr(reason))
        self.channel = None
        self._fail_outstanding(f"channel closed: {reason}")
        if self.connection is not None and self.connection.is_open:
            self.connection.close()

    def _close(self) -> None:
        if self.connection is not None and (self.connection.is_open or self.connection.is_opening):
            self.connection.close()
        elif self.connection is not None:
            self.connection.ioloop.stop()

    def _drain(self) -> None:
        while True:
            try:
                batch = self.inbox.get_nowait()
            except queue_module.Empty:
                break
            self.state.waiting.extend((batch, message) for message in batch.messages)
        self._pump()

    def _pump(self) -> None:
        state, channel = self.state, self.channel
        if channel is None or not channel.is_open:
            return
        while state.waiting and len(state.outstanding) < self.window:
            batch, message = state.waiting.popleft()
            if batch.abandoned:
                continue
            properties = BasicProperties(
                content_type=message.content_type,
                delivery_mode=2,
                message_id=message.message_id,
                headers=message.headers,
                timestamp=int(time.time()),
            )
            channel.basic_publish(EXCHANGE, message.routing_key, message.body, properties, mandatory=True)
            state.outstanding[state.next_tag] = (batch, message.message_id)
            state.next_tag += 1

    def _on_return(
        self, _channel: Channel, method: Basic.Return, properties: BasicProperties, _body: bytes
    ) -> None:
        if properties.message_id:
            self.state.returned.add(properties.message_id)
        log.warning("amqp_message_returned", message_id=properties.message_id, reply=method.reply_text)

    def _on_confirm(self, frame: Method) -> None:
        method = frame.method
        acked = isinstance(method, Basic.Ack)
        tag, multiple = method.delivery_tag, method.multiple
        state = self.state
        # Tags are handed out in ascending order and dicts keep insertion order, so the tags a
        # ``multiple`` ack settles are a prefix: stop at the first one above it.
        tags = list(takewhile(lambda t: t <= tag, state.outstanding)) if multiple else [tag]
        by_batch: dict[_Batch, list[tuple[str, str | None]]] = {}
        for settled in tags:
            entry = state.outstanding.pop(settled, None)
            if entry is None:
                continue
            batch, message_id = entry
            reason = None if acked else "nacked by RabbitMQ"
            if state.returned and message_id in state.returned:
                state.returned.discard(message_id)
                reason = f"unroutable on {EXCHANGE}"
            by_batch.setdefault(batch, []).append((message_id, reason))
        for batch, outcomes in by_batch.items():
            batch.settle(outcomes)
        self._pump()

    def _fail_outstanding(self, reason: str) -> None:
        state = self.state
        for batch, message_id in state.outstanding.values():
            batch.settle([(message_id, reason)])
        state.outstanding.clear()
        state.returned.clear()

    def _fail_waiting(self, reason: str) -> None:
        self._drain_inbox_only()
        while self.state.waiting:
            batch, message = self.state.waiting.popleft()
            batch.settle([(message.message_id, reason)])

    def _drain_inbox_only(self) -> None:
        while True:
            try:
                batch = self.inbox.get_nowait()
            except queue_module.Empty:
                return
            self.state.waiting.extend((batch, message) for message in batch.messages)


class _Consumer:
    """One connection's worth of consuming, in the calling thread; handlers on a pool."""

    def __init__(
        self, bus: RabbitBus, queues: Sequence[str], handler: Handler, prefetch: int, concurrency: int
    ) -> None:
        self.bus, self.queues, self.handler = bus, list(queues), handler
        self.prefetch, self.concurrency = prefetch, concurrency
        self.in_flight = 0

    def run(self, stop: threading.Event) -> None:
        connection = self.bus._blocking("consumer")
        try:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=self.prefetch)
            with ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="exsched-consumer"
            ) as pool:
                tags = [
                    channel.basic_consume(queue, partial(self._on_message, connection, pool, queue))
                    for queue in self.queues
                ]
                log.info(
                    "amqp_consuming",
                    queues=self.queues,
                    prefetch=self.prefetch,
                    concurrency=self.concurrency,
                    broker=_where(connection._impl.params),
                )
                while not stop.is_set():
                    connection.process_data_events(time_limit=0.5)
                for tag in tags:
                    channel.basic_cancel(tag)
                while self.in_flight:
                    connection.process_data_events(time_limit=0.1)
        finally:
            if connection.is_open:
                connection.close()

    def _on_message(
        self,
        connection: pika.BlockingConnection,
        pool: ThreadPoolExecutor,
        queue: str,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        headers = dict(properties.headers or {})
        delivery = Delivery(
            queue=queue,
            message_id=properties.message_id,
            routing_key=method.routing_key,
            body=body,
            headers=headers,
            redelivered=bool(method.redelivered),
            delivery_count=int(headers.get("x-delivery-count", 0) or 0),
        )
        self.in_flight += 1
        future = pool.submit(self._call, delivery)
        tag = method.delivery_tag
        future.add_done_callback(partial(self._hand_back, connection, channel, tag, delivery.message_id))

    def _hand_back(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        tag: int,
        message_id: str | None,
        done: Future[Outcome],
    ) -> None:
        """From the handler's thread: have the connection's thread settle the delivery. A connection
        lost meanwhile (a broker restart, ``close_all_connections``) is expected: the broker has
        put the delivery back in its queue, and says so in one line, not a traceback."""
        try:
            connection.add_callback_threadsafe(partial(self._settle, channel, tag, done))
        except (pika.exceptions.AMQPError, RuntimeError):
            log.warning(
                "amqp_settle_lost",
                message_id=message_id,
                outcome=done.result().value,
                next="RabbitMQ delivers it again; a notice already sent or being sent is then dropped",
            )

    def _call(self, delivery: Delivery) -> Outcome:
        try:
            return self.handler(delivery)
        except Exception:
            log.exception("handler_failed", queue=delivery.queue, message_id=delivery.message_id)
            return Outcome.REQUEUE

    def _settle(self, channel: BlockingChannel, tag: int, done: Future[Outcome]) -> None:
        self.in_flight -= 1
        if not channel.is_open:
            return  # the broker requeues unacked deliveries of a closed channel
        outcome = done.result()
        try:
            if outcome is Outcome.ACK:
                channel.basic_ack(tag)
            elif outcome is Outcome.REQUEUE:
                channel.basic_nack(tag, requeue=True)
            else:
                channel.basic_reject(tag, requeue=False)
        except pika.exceptions.AMQPError:  # closed between the check and the call
            log.warning(
                "amqp_settle_lost",
                outcome=outcome.value,
                next="RabbitMQ delivers it again; a notice already sent or being sent is then dropped",
            )


def _where(params: pika.ConnectionParameters) -> str:
    return f"{params.host}:{params.port}"
