"""The scheduler as separate processes on real PostgreSQL and RabbitMQ (docs/architecture.md,
principles 3-4).

Each test starts ``exsched serve scheduler`` (and ``serve api`` where the flow starts at the
API), reads what arrives on the real queues, and checks it against the notices table.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from scheduler.bus.base import Delivery, Outcome
from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from schemas.bus import queue_name
from tests.support.api import series_body
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import free_port, local, serving, start_scheduler, stop_process
from tests.support.services import make_key

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres, pytest.mark.rabbitmq]
INVITATIONS = queue_name("invitations")


@dataclass
class Arrival:
    delivery: Delivery
    at: float

    @property
    def envelope(self) -> dict:
        return json.loads(self.delivery.body)


class Collector:
    """Consumes the work queues in a thread and keeps what arrives, with arrival times."""

    def __init__(self, amqp_url: str, queues: list[str]) -> None:
        self.bus = RabbitBus(amqp_url, name="exsched-test-collector")
        self.arrivals: list[Arrival] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(
            target=self.bus.consume, args=(queues, self._take), kwargs={"stop": self.stop, "prefetch": 500}
        )
        self.thread.start()

    def _take(self, delivery: Delivery) -> Outcome:
        with self._lock:
            self.arrivals.append(Arrival(delivery, time.time()))
        return Outcome.ACK

    def wait_for(self, predicate: Callable[[list[Arrival]], bool], timeout: float) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self.arrivals):
                    return list(self.arrivals)
            time.sleep(0.05)
        with self._lock:
            return list(self.arrivals)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.fixture
def collector(amqp_url: str, env: dict[str, str]) -> Iterator[Collector]:
    made = Collector(amqp_url, [queue_name(role) for role in ("invitations", "reminders", "followups")])
    yield made
    made.close()


def subscribe_member(base: str, admin: dict[str, str], name: str, email: str) -> None:
    """A Ningbo member, following the Ningbo chapter, made through the API."""
    member = httpx.post(
        f"{base}/members", json={"name": name, "email": email, "chapter": "ningbo"}, headers=admin
    )
    assert member.status_code == 201, member.text
    followed = httpx.post(
        f"{base}/members/{member.json()['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin
    )
    assert followed.status_code == 201, followed.text


def test_notices_arrive_on_the_queues_at_their_due_times_once_each(
    env: dict[str, str], pg: Database, collector: Collector, tmp_path: Path
) -> None:
    admin = make_key(pg)
    port = free_port()
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        with serving(["serve", "api", "--port", str(port)], env, tmp_path, port):
            base = f"http://127.0.0.1:{port}/api/v1"
            subscribe_member(base, admin, "陈静", "chen@x.example")
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=15)
            created_at = time.time()
            response = httpx.post(
                f"{base}/series",
                json=series_body(
                    dtstart=local(start),
                    rrule=None,
                    duration="PT6S",
                    notices={"invite_before": "P1D", "reminders": ["PT6S"], "followup_after": "PT4S"},
                ),
                headers=admin,
            )
            assert response.status_code == 201, response.text
            got = collector.wait_for(lambda a: len(a) >= 3, timeout=40)
        time.sleep(2)  # anything extra would show up now
    finally:
        stop_process(scheduler)
    got = collector.arrivals
    kinds = [a.envelope["kind"] for a in got]
    assert sorted(kinds) == ["followup", "invitation", "reminder"], kinds
    at = {a.envelope["kind"]: a.at for a in got}
    due = {"reminder": start.timestamp() - 6, "followup": start.timestamp() + 10}
    assert at["invitation"] - created_at < 5
    print("lateness:", {kind: round(at[kind] - when, 3) for kind, when in due.items()})
    for kind, when in due.items():
        assert -0.5 < at[kind] - when < 2.0, f"{kind} arrived {at[kind] - when:+.2f} s from its due time"
    with pg.session() as session:
        statuses = session.scalars(select(NoticeRow.status)).all()
    assert sorted(statuses) == ["published"] * 3
    assert len({a.delivery.message_id for a in got}) == 3


def test_moving_and_cancelling_publish_update_and_cancellation(
    env: dict[str, str], pg: Database, collector: Collector, tmp_path: Path
) -> None:
    admin = make_key(pg)
    port = free_port()
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        with serving(["serve", "api", "--port", str(port)], env, tmp_path, port):
            base = f"http://127.0.0.1:{port}/api/v1"
            subscribe_member(base, admin, "王磊", "wang@x.example")
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
            series = httpx.post(
                f"{base}/series", json=series_body(dtstart=local(start), rrule=None), headers=admin
            ).json()
            collector.wait_for(lambda a: len(a) >= 1, timeout=20)
            rid = start.strftime("%Y%m%dT%H%M%SZ")
            url = f"{base}/series/{series['id']}/occurrences/{rid}"
            moved = httpx.patch(url, json={"start": local(start + timedelta(hours=1))}, headers=admin)
            assert moved.status_code == 200
            collector.wait_for(lambda a: len(a) >= 2, timeout=20)
            cancelled = httpx.patch(url, json={"status": "cancelled"}, headers=admin)
            assert cancelled.status_code == 200
            got = collector.wait_for(lambda a: len(a) >= 3, timeout=20)
    finally:
        stop_process(scheduler)
    envelopes = [a.envelope for a in got if a.delivery.queue == INVITATIONS]
    assert [(e["kind"], e["sequence"]) for e in envelopes] == [
        ("invitation", 0),
        ("update", 1),
        ("cancellation", 2),
    ]
    assert len({e["occurrence_uid"] for e in envelopes}) == 1


def invitation_ids(db: Database) -> set[str]:
    with db.session() as session:
        return {str(i) for i in session.scalars(select(NoticeRow.id).where(NoticeRow.kind == "invitation"))}


def pending_invitations(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(NoticeRow)
                .where(NoticeRow.kind == "invitation", NoticeRow.status == "pending")
            )
            or 0
        )


def wait_all_published(db: Database, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(invitation_ids(db)) == expected and pending_invitations(db) == 0:
            return
        time.sleep(0.2)
    pytest.fail(f"not all {expected} invitations were published within {timeout} s")


def test_scheduler_killed_mid_dispatch_loses_nothing_and_duplicates_only_its_open_batch(
    env: dict[str, str], pg: Database, amqp_url: str, tmp_path: Path
) -> None:
    # a backlog drains with `parallel` batches in flight (each its own transaction): a kill can
    # find each of them published and not yet marked, and those are published again
    members, batch, parallel = 4000, 50, 2
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=2))
    bus = RabbitBus(amqp_url, name="exsched-test-inspect")
    env = env | {"EXSCHED_DISPATCH_PARALLEL": str(parallel)}
    first = start_scheduler(env, tmp_path / "first.log", EXSCHED_DISPATCH_BATCH=str(batch))
    deadline = time.monotonic() + 60
    while bus.queue_depth(INVITATIONS) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    left = pending_invitations(pg)
    assert 0 < left < members, "the kill should land mid-dispatch"

    second = start_scheduler(env, tmp_path / "second.log", EXSCHED_DISPATCH_BATCH=str(batch))
    try:
        wait_all_published(pg, members, timeout=120)
    finally:
        stop_process(second)
    owed = invitation_ids(pg)
    collector = Collector(amqp_url, [INVITATIONS])
    # Wait for every distinct invitation, not for a count: the killed batches' duplicates make the
    # count early, and a queue with no ready message may still have up to a prefetch (500) of
    # them delivered to the collector and not yet handed to it.
    got = collector.wait_for(
        lambda a: {x.delivery.message_id for x in a} >= owed and bus.queue_depth(INVITATIONS) == 0, timeout=60
    )
    collector.close()
    ids = [a.delivery.message_id for a in got]
    assert set(ids) == owed, "every invitation owed is on the queue"
    duplicates = len(ids) - len(set(ids))
    print(f"killed with {left} of {members} pending; {duplicates} duplicate messages")
    assert duplicates <= batch * parallel, f"{duplicates} duplicates: more than the batches in flight"


def test_two_schedulers_on_one_database_publish_every_notice_exactly_once(
    env: dict[str, str], pg: Database, amqp_url: str, tmp_path: Path
) -> None:
    members = 3000
    add_subscribers(pg, members)
    procs = [
        start_scheduler(env, tmp_path / f"scheduler-{n}.log", EXSCHED_DISPATCH_BATCH="50") for n in range(2)
    ]
    time.sleep(1.5)  # both are up and racing for the same rows
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=2))
    try:
        wait_all_published(pg, members, timeout=120)
    finally:
        for proc in procs:
            stop_process(proc)
    collector = Collector(amqp_url, [INVITATIONS])
    bus = RabbitBus(amqp_url, name="exsched-test-inspect")
    got = collector.wait_for(lambda a: len(a) >= members and bus.queue_depth(INVITATIONS) == 0, timeout=60)
    collector.close()
    ids = [a.delivery.message_id for a in got]
    assert len(ids) == members and set(ids) == invitation_ids(pg)
    published_by = [
        sum(
            '"notice_published"' in line
            for line in (tmp_path / f"scheduler-{n}.log").read_text().splitlines()
        )
        for n in range(2)
    ]
    print("published by each scheduler:", published_by)
    assert sum(published_by) == members


def test_sigterm_mid_dispatch_leaves_nothing_published_without_a_message(
    env: dict[str, str], pg: Database, amqp_url: str, tmp_path: Path
) -> None:
    members = 4000
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=2))
    bus = RabbitBus(amqp_url, name="exsched-test-inspect")
    proc = start_scheduler(env, tmp_path / "scheduler.log", EXSCHED_DISPATCH_BATCH="50")
    deadline = time.monotonic() + 60
    while bus.queue_depth(INVITATIONS) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, "a clean exit on SIGTERM"
    with pg.session() as session:
        states = dict(
            session.execute(
                select(NoticeRow.status, func.count())
                .where(NoticeRow.kind == "invitation")
                .group_by(NoticeRow.status)
            ).all()
        )
        published = {
            str(i) for i in session.scalars(select(NoticeRow.id).where(NoticeRow.status == "published"))
        }
    assert set(states) <= {"pending", "published"} and sum(states.values()) == members
    collector = Collector(amqp_url, [INVITATIONS])
    got = collector.wait_for(
        lambda a: bus.queue_depth(INVITATIONS) == 0 and len(a) >= len(published), timeout=60
    )
    collector.close()
    assert published <= {a.delivery.message_id for a in got}, "every row marked published has its message"
    assert "scheduler_stopped" in (tmp_path / "scheduler.log").read_text()
