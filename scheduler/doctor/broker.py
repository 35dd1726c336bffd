"""RabbitMQ: every node answers, exsched's exchanges and queues are there with the arguments the
code declares, and the user may do what the processes do (configure, write and read names under
``exsched.``). Nothing is left behind: the permission round trip uses an exclusive queue of its
own, bound with a routing key no notice uses, that goes away with the connection."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from scheduler.bus.rabbitmq import DEAD_QUEUE_ARGUMENTS, WORK_QUEUE_ARGUMENTS, connection_parameters
from scheduler.doctor.findings import Finding, fail, first_line, ok, warn, without_password
from scheduler.ops.config import amqp_endpoints
from schemas.bus import DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE, ROLES, queue_name

PERMISSIONS_FIX = (
    "give the user configure, write and read on ^exsched\\. in its vhost "
    "(deploy/rabbitmq/definitions.json; rabbitmqctl set_permissions -p <vhost> <user> "
    "'^exsched\\.' '^exsched\\.' '^exsched\\.')"
)


def broker(amqp_url: str | None) -> list[Finding]:
    if not amqp_url:
        return [
            warn(
                "broker",
                "EXSCHED_AMQP_URL is not set: only `exsched serve all` can run (one process, in-process bus)",
                "for separate schedulers and workers set EXSCHED_AMQP_URL=amqp://exsched:…@host:5672/exsched",
            )
        ]
    found: list[Finding] = []
    usable: str | None = None
    for url in amqp_endpoints(amqp_url):
        reached = _connect(url)
        if isinstance(reached, Finding):
            found.append(reached)
            continue
        reached.close()
        found.append(ok("broker", f"{without_password(url)} accepts the user"))
        usable = usable or url
    if usable is None:
        return found
    if len(found) > 1 and any(f.status == "fail" for f in found):  # a cluster with a node away
        found = [Finding(f.check, "warn", f.said, f.fix) if f.status == "fail" else f for f in found]
    topology = _topology(usable)
    found.append(topology)
    if EXCHANGE in topology.said and topology.status == "warn":
        found.append(
            warn(
                "broker",
                f"permissions not checked: {EXCHANGE} does not exist yet",
                "run `exsched doctor` again once the topology is in place",
            )
        )
    else:
        found.append(_permissions(usable))
    return found


def _connect(url: str) -> pika.BlockingConnection | Finding:
    shown = without_password(url)
    params = connection_parameters(url, name="exsched:doctor")
    params.socket_timeout = 5
    params.connection_attempts = 1
    try:
        return pika.BlockingConnection(params)
    except pika.exceptions.ProbableAccessDeniedError:
        return fail(
            "broker",
            f"{shown}: the user may not use vhost {params.virtual_host!r} (or it does not exist)",
            f"rabbitmqctl add_vhost {params.virtual_host}, then {PERMISSIONS_FIX}",
        )
    except (pika.exceptions.ProbableAuthenticationError, pika.exceptions.AuthenticationError):
        return fail(
            "broker",
            f"{shown}: RabbitMQ refused the user name or password",
            "check the user and password in EXSCHED_AMQP_URL "
            "(rabbitmqctl authenticate_user <user> <password>)",
        )
    except pika.exceptions.AMQPError as exc:
        return fail(
            "broker",
            f"{shown}: no RabbitMQ answers ({exc.__class__.__name__})",
            "check the host and port in EXSCHED_AMQP_URL and that RabbitMQ runs",
        )


def _on_channel(url: str, work: Callable[[BlockingChannel], Any]) -> Any:
    """``work`` on a fresh connection's channel (a refused operation closes the channel)."""
    connection = pika.BlockingConnection(connection_parameters(url, name="exsched:doctor"))
    try:
        return work(connection.channel())
    finally:
        if connection.is_open:
            connection.close()


def _topology(url: str) -> Finding:
    """The exchanges and queues exist; the queues that exist have the code's arguments."""
    missing: list[str] = []

    def exists(declare: Callable[[BlockingChannel], Any], name: str) -> bool:
        try:
            _on_channel(url, declare)
            return True
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != 404:
                raise
            missing.append(name)
            return False

    queues = {DEAD_QUEUE: DEAD_QUEUE_ARGUMENTS, **{queue_name(r): WORK_QUEUE_ARGUMENTS for r in ROLES}}
    for exchange in (EXCHANGE, DEAD_EXCHANGE):
        exists(_declaring(exchange, exchange=True), exchange)
    present = [q for q in queues if exists(_declaring(q), q)]
    if missing:
        return warn(
            "broker",
            f"missing on the broker: {', '.join(missing)}",
            "they are declared when a scheduler or worker starts (its user needs configure on "
            "^exsched\\.); or load deploy/rabbitmq/definitions.json",
        )
    for queue in present:
        try:
            _on_channel(url, _declaring(queue, arguments=queues[queue]))
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 406:
                return fail(
                    "broker",
                    f"queue {queue} exists with other settings than exsched declares: {exc.reply_text}",
                    f"stop exsched, let {queue} drain, delete it (rabbitmqctl delete_queue {queue}); "
                    "the next scheduler or worker declares it again",
                )
            if exc.reply_code == 403:
                break  # declaring needs configure: the permission check below says so
            raise
    return ok("broker", f"exchanges and queues in place ({', '.join(queues)}), as the code declares them")


def _declaring(
    name: str, *, exchange: bool = False, arguments: dict[str, Any] | None = None
) -> Callable[[BlockingChannel], Any]:
    """A declaration to make on a channel: passive (does it exist?) unless ``arguments`` are given
    (then as the code declares it: the broker refuses one that differs)."""

    def declare(channel: BlockingChannel) -> Any:
        if exchange:
            return channel.exchange_declare(name, passive=True)
        if arguments is None:
            return channel.queue_declare(name, passive=True)
        return channel.queue_declare(name, durable=True, arguments=arguments)

    return declare


def _permissions(url: str) -> Finding:
    """What a scheduler and a worker do, on a queue of the check's own: declare (configure), bind
    and publish (write), consume (read); the message must come back."""
    tag = secrets.token_hex(4)
    queue, key = f"exsched.doctor-{tag}", f"doctor.{tag}"
    steps = {"configure": "declare a queue", "write": "bind it and publish", "read": "read from it"}
    step = "configure"

    def round_trip(channel: BlockingChannel) -> bool:
        nonlocal step
        channel.confirm_delivery()
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
        step = "write"
        channel.queue_bind(queue, EXCHANGE, routing_key=key)
        channel.basic_publish(EXCHANGE, key, b"exsched doctor", mandatory=True)
        step = "read"
        method, _, body = channel.basic_get(queue, auto_ack=True)
        return method is not None and body == b"exsched doctor"

    try:
        back = _on_channel(url, round_trip)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 403:
            return fail(
                "broker",
                f"the user may not {steps[step]} under exsched. names ({step} permission): {exc.reply_text}",
                PERMISSIONS_FIX,
            )
        if exc.reply_code == 404:
            return fail("broker", f"cannot publish: {exc.reply_text}", "see the line on missing exchanges")
        return fail("broker", f"{step}: {exc.reply_text}", PERMISSIONS_FIX)
    except pika.exceptions.UnroutableError:
        return fail("broker", "a message published to exsched.notices was not routed", PERMISSIONS_FIX)
    except pika.exceptions.AMQPError as exc:
        return fail("broker", f"{step}: {first_line(exc)}", PERMISSIONS_FIX)
    if not back:
        return fail("broker", "a message published to exsched.notices did not arrive", PERMISSIONS_FIX)
    return ok("broker", "the user may configure, publish and consume exsched's names (a message went round)")
