"""One contract, two adapters: the in-process bus must behave like RabbitMQ does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from scheduler.bus.base import Bus, Delivery, OutboundMessage, Outcome
from schemas.bus import DEAD_QUEUE, DELIVERY_LIMIT, queue_name, routing_key

INVITATIONS = queue_name("invitations")
REMINDERS = queue_name("reminders")


def message(n: int, kind: str = "invitation", **headers: object) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"m-{n}",
        routing_key=routing_key(kind),
        body=f'{{"n": {n}}}'.encode(),
        headers=dict(headers),
    )


def consume_until(
    bus: Bus,
    queues: list[str],
    done: Callable[[list[Delivery]], bool],
    outcome: Callable[[Delivery], Outcome] = lambda _d: Outcome.ACK,
    timeout: float = 30.0,
    concurrency: int = 1,
    prefetch: int = 100,
) -> list[Delivery]:
    seen: list[Delivery] = []
    lock = threading.Lock()
    stop = threading.Event()

    def handler(delivery: Delivery) -> Outcome:
        with lock:
            seen.append(delivery)
            if done(seen):
                stop.set()
        return outcome(delivery)

    thread = threading.Thread(
        target=bus.consume,
        args=(queues, handler),
        kwargs={"stop": stop, "concurrency": concurrency, "prefetch": prefetch},
    )
    thread.start()
    stop.wait(timeout)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return seen


def wait_depth(bus: Bus, queue: str, expected: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    depth = bus.queue_depth(queue)
    while depth != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        depth = bus.queue_depth(queue)
    return depth


def test_confirmed_messages_are_routed_by_kind(bus: Bus) -> None:
    report = bus.publish([message(1), message(2, "update"), message(3, "reminder")])
    assert report.confirmed == {"m-1", "m-2", "m-3"} and report.failed == {}
    assert wait_depth(bus, INVITATIONS, 2) == 2
    assert wait_depth(bus, REMINDERS, 1) == 1
    got = consume_until(bus, [INVITATIONS], lambda s: len(s) == 2)
    assert sorted(d.message_id for d in got) == ["m-1", "m-2"]
    assert {d.routing_key for d in got} == {"notice.invitation", "notice.update"}
    assert all(not d.redelivered and d.delivery_count == 0 for d in got)


def test_body_and_headers_arrive_intact(bus: Bus) -> None:
    bus.publish([message(7, **{"x-exsched-schema": 1, "x-exsched-trace-id": "t-7"})])
    [got] = consume_until(bus, [INVITATIONS], lambda s: len(s) == 1)
    assert got.body == b'{"n": 7}'
    assert got.headers["x-exsched-schema"] == 1 and got.headers["x-exsched-trace-id"] == "t-7"


def test_unroutable_messages_fail_instead_of_vanishing(bus: Bus) -> None:
    stray = OutboundMessage(message_id="stray", routing_key="notice.nothing", body=b"{}")
    report = bus.publish([stray, message(1)])
    assert report.confirmed == {"m-1"}
    assert "unroutable" in report.failed["stray"]


def test_thousands_of_messages_are_confirmed_and_each_delivered(bus: Bus) -> None:
    batch = [message(n, "reminder") for n in range(3000)]
    report = bus.publish(batch, timeout=60)
    assert len(report.confirmed) == 3000 and not report.failed
    got = consume_until(bus, [REMINDERS], lambda s: len(s) >= 3000, timeout=60, concurrency=4)
    assert sorted(d.message_id for d in got) == sorted(m.message_id for m in batch)


def test_requeued_message_is_redelivered_then_dead_lettered_at_the_limit(bus: Bus) -> None:
    bus.publish([message(1)])
    got = consume_until(
        bus, [INVITATIONS], lambda s: len(s) == DELIVERY_LIMIT + 1, outcome=lambda _d: Outcome.REQUEUE
    )
    assert [d.message_id for d in got] == ["m-1"] * (DELIVERY_LIMIT + 1)
    assert [d.delivery_count for d in got] == list(range(DELIVERY_LIMIT + 1))
    assert not got[0].redelivered and all(d.redelivered for d in got[1:])
    assert wait_depth(bus, INVITATIONS, 0) == 0
    [dead] = consume_until(bus, [DEAD_QUEUE], lambda s: len(s) == 1)
    assert dead.message_id == "m-1"
    assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert dead.headers["x-first-death-queue"] == INVITATIONS


def test_rejected_message_goes_to_the_dead_letter_queue(bus: Bus) -> None:
    bus.publish([message(1, **{"x-exsched-trace-id": "t-1"}), message(2)])
    consume_until(
        bus,
        [INVITATIONS],
        lambda s: len(s) == 2,
        outcome=lambda d: Outcome.REJECT if d.message_id == "m-1" else Outcome.ACK,
    )
    [dead] = consume_until(bus, [DEAD_QUEUE], lambda s: len(s) == 1)
    assert (dead.message_id, dead.body) == ("m-1", b'{"n": 1}')
    assert dead.headers["x-first-death-reason"] == "rejected"
    assert dead.headers["x-exsched-trace-id"] == "t-1"
    assert wait_depth(bus, DEAD_QUEUE, 0) == 0


def test_a_handler_that_raises_gets_the_message_again(bus: Bus) -> None:
    bus.publish([message(1)])
    calls: list[int] = []

    def flaky(delivery: Delivery) -> Outcome:
        calls.append(delivery.delivery_count)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return Outcome.ACK

    got = consume_until(bus, [INVITATIONS], lambda s: len(s) == 2, outcome=flaky)
    assert [d.message_id for d in got] == ["m-1", "m-1"] and got[1].redelivered
    assert wait_depth(bus, INVITATIONS, 0) == 0


def test_messages_not_taken_before_stop_wait_for_the_next_consumer(bus: Bus) -> None:
    bus.publish([message(n) for n in range(5)])
    first = consume_until(bus, [INVITATIONS], lambda s: len(s) == 1, prefetch=1)
    assert len(first) == 1
    rest = consume_until(bus, [INVITATIONS], lambda s: len(s) == 4)
    assert sorted(d.message_id for d in first + rest) == [f"m-{n}" for n in range(5)]


@pytest.mark.rabbitmq
def test_queues_are_quorum_queues_with_a_delivery_limit_and_dead_lettering(amqp_url: str) -> None:
    import pika

    from scheduler.bus.rabbitmq import RabbitBus

    RabbitBus(amqp_url).declare()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="inequivalent arg"):
            channel.queue_declare(INVITATIONS, durable=True, arguments={"x-queue-type": "classic"})
    finally:
        if connection.is_open:
            connection.close()
