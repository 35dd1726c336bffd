"""A three-node RabbitMQ cluster loses the node that leads the work queues in the middle of a
2,000-notice burst: the scheduler and the workers carry on through the other two nodes, and the
ledger balances — every notice delivered once (duplicates counted and bounded), nothing left
``published`` or ``sending``.

Real processes (a scheduler, two workers) on PostgreSQL; the cluster is three nodes of Debian's
``rabbitmq-server`` on loopback ports (:mod:`tests.support.rabbit_cluster`), named to the
processes in one comma-separated ``EXSCHED_AMQP_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from schemas.bus import DEAD_QUEUE, ROLES, queue_name
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import (
    check_ledger,
    start_scheduler,
    start_worker,
    statuses,
    stop_process,
    wait_until,
)
from tests.support.rabbit_cluster import RabbitCluster, installed
from tests.support.services import service_missing
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq]
MEMBERS = 2000
WORKERS = 2
CONCURRENCY = 4


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    if not installed():
        service_missing("rabbitmq-server", FileNotFoundError("deploy/dev-services.sh installs it"))
    made = RabbitCluster(tmp_path_factory.mktemp("rabbit-cluster"))
    try:
        made.start()
        yield made
    finally:
        made.close()


def test_the_topology_is_replicated_on_every_node(cluster: RabbitCluster) -> None:
    RabbitBus(cluster.url).declare()
    everyone = {node.name for node in cluster.nodes}
    for queue in [queue_name(role) for role in ROLES] + [DEAD_QUEUE]:
        assert cluster.members_of(queue) == everyone, queue


def test_losing_the_node_that_leads_the_work_queues_mid_burst_loses_nothing(
    cluster: RabbitCluster, env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    RabbitBus(cluster.url).declare()
    add_subscribers(pg, MEMBERS)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    env = env | {
        "EXSCHED_AMQP_URL": cluster.url,
        "EXSCHED_SMTP_URL": smtp_sink.url,
        "EXSCHED_WORKER_CONCURRENCY": str(CONCURRENCY),
    }
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    workers = [start_worker(env, tmp_path / f"worker-{i}.log") for i in range(WORKERS)]
    try:
        wait_until(lambda: len(smtp_sink.received()) >= 300, 120, "300 emails before the node is lost")
        leader = cluster.leader_of(queue_name("invitations"))
        cluster.stop_node(leader)
        lost = datetime.now(UTC)
        sent_at_loss = len(smtp_sink.received())
        wait_until(
            lambda: statuses(pg).get("sent") == MEMBERS, 300, lambda: f"after the loss: {statuses(pg)}"
        )
        new_leader = cluster.leader_of(queue_name("invitations"))
    finally:
        for worker in workers:
            stop_process(worker)
        stop_process(scheduler)
    with pg.session() as session:
        last = session.scalar(select(func.max(NoticeRow.sent_at)))
    duplicates = check_ledger(pg, smtp_sink, WORKERS * CONCURRENCY)
    assert new_leader.name != leader.name
    logs = "".join(
        (tmp_path / name).read_text() for name in ("scheduler.log", "worker-0.log", "worker-1.log")
    )
    assert "Traceback" not in logs
    print(
        f"\ncluster: {leader.name} (leader of the work queues) stopped after {sent_at_loss} of {MEMBERS} "
        f"emails; {new_leader.name} leads now; the last notice delivered "
        f"{(last - lost).total_seconds():.1f} s after the loss; {duplicates} duplicate(s); "
        f"reconnections: {logs.count('amqp_consumer_reconnect')} consumer, "
        f"{logs.count('amqp_publisher_reconnect')} publisher"
    )
