"""Faults in the services exsched depends on, with real processes: the ledger must balance after.

The ledger: every invitation the database says is owed reached the SMTP server, each exactly once
but for at most one duplicate per send that was in flight when a worker lost its footing (the
send→record window), and nothing is left ``pending``, ``published`` or ``sending``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.ledger import reason_text
from tests.support.processes import (
    check_ledger,
    start_scheduler,
    start_worker,
    statuses,
    stop_process,
    wait_until,
)
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq]
MEMBERS = 300
CONCURRENCY = 4


def run_with_fault(
    env: dict[str, str], pg: Database, sink: SmtpSink, tmp_path: Path, fault, after: int
) -> int:
    add_subscribers(pg, MEMBERS)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    sink.delay = 0.01
    env = env | {
        "EXSCHED_SMTP_URL": sink.url,
        "EXSCHED_LEASE_SECONDS": "5",
        "EXSCHED_DISPATCH_BATCH": "50",
        "EXSCHED_WORKER_CONCURRENCY": str(CONCURRENCY),
    }
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: len(sink.received()) >= after, 60, f"{after} emails before the fault")
        fault()
        wait_until(lambda: statuses(pg).get("sent") == MEMBERS, 180, lambda: f"recovery: {statuses(pg)}")
    finally:
        stop_process(worker)
        stop_process(scheduler)
    return check_ledger(pg, sink, allowed_duplicates=CONCURRENCY)


def rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_broker_closing_every_connection_mid_flow(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    vhost = env["EXSCHED_AMQP_URL"].rsplit("/", 1)[1]
    duplicates = run_with_fault(
        env,
        pg,
        smtp_sink,
        tmp_path,
        lambda: rabbitmqctl("close_all_connections", "-p", vhost, "fault test"),
        60,
    )
    log = (tmp_path / "worker.log").read_text() + (tmp_path / "scheduler.log").read_text()
    assert "amqp_consumer_reconnect" in log or "amqp_publisher_reconnect" in log
    # deliveries finished on a closed channel: an expected event, one warning line each
    assert "Traceback" not in log and "exception calling callback" not in log
    lost = log.count("amqp_settle_lost")
    print(f"close_all_connections: {duplicates} duplicate(s), {lost} acknowledgement(s) lost with it")


def test_broker_application_stopped_and_started_mid_flow(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    def restart() -> None:
        rabbitmqctl("stop_app")
        time.sleep(3)
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")

    duplicates = run_with_fault(env, pg, smtp_sink, tmp_path, restart, 60)
    print(f"stop_app/start_app: {duplicates} duplicate(s)")


def test_database_connections_terminated_mid_flow(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    database = pg.engine.url.database

    def terminate() -> None:
        admin = Database(pg.url)
        for _ in range(3):  # and again while they reconnect
            with admin.engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
            time.sleep(1)
        admin.dispose()

    duplicates = run_with_fault(env, pg, smtp_sink, tmp_path, terminate, 60)
    print(f"pg_terminate_backend: {duplicates} duplicate(s)")


def restart_postgresql() -> None:
    """Restart the PostgreSQL server itself (every connection dropped, the port closed a while)."""
    versions = sorted(os.listdir("/etc/postgresql"), key=float) if os.path.isdir("/etc/postgresql") else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        pytest.fail("pg_ctlcluster is needed to restart the PostgreSQL server under test")
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart", "-m", "fast"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_postgresql_server_restarted_mid_flow(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    duplicates = run_with_fault(env, pg, smtp_sink, tmp_path, restart_postgresql, 60)
    print(f"PostgreSQL server restarted: {duplicates} duplicate(s)")
    logs = (tmp_path / "worker.log").read_text() + (tmp_path / "scheduler.log").read_text()
    assert "Traceback" not in logs


def test_scheduler_down_across_due_times_applies_the_lateness_policy(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from scheduler.domain.auth import Principal
    from scheduler.domain.series import create_series
    from scheduler.notices.planner import request_plan
    from schemas.api import SeriesCreate
    from schemas.names import Role
    from tests.support.api import series_body
    from tests.support.processes import local

    add_subscribers(pg, 2)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=14)
    body = SeriesCreate.model_validate(
        series_body(
            dtstart=local(start),
            rrule=None,
            duration="PT2S",
            notices={"invite_before": "P1D", "reminders": ["PT8S"], "followup_after": "PT1S"},
        )
    )
    with pg.session() as session:
        row = create_series(session, body, Principal(Role.ADMIN), "https://exsched.test")
        request_plan(session, series_ids=[row.id])
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    scheduler = start_scheduler(env, tmp_path / "scheduler-1.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: statuses(pg).get("sent") == 2, 30, "the invitations")
        scheduler.kill()  # down before the reminders (start - 8 s) and through the session
        scheduler.wait()
        while datetime.now(UTC) < start + timedelta(seconds=5):
            time.sleep(0.2)
        scheduler = start_scheduler(env, tmp_path / "scheduler-2.log")

        def settled() -> bool:
            with pg.session() as session:
                open_ = session.scalars(
                    select(NoticeRow.status).where(NoticeRow.status.in_(["pending", "published", "sending"]))
                )
                return not list(open_)

        wait_until(settled, 60, "every notice settled after the restart")
    finally:
        stop_process(worker)
        stop_process(scheduler)
    with pg.session() as session:
        rows = {(n.kind, n.status, reason_text(n)) for n in session.scalars(select(NoticeRow))}
    kinds = {(kind, status) for kind, status, _ in rows}
    assert kinds == {("invitation", "sent"), ("reminder", "skipped"), ("followup", "sent")}
    assert all("already started" in why for kind, _, why in rows if kind == "reminder")


def test_smtp_server_slow_then_failing_then_back(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    members = 12
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    smtp_sink.delay = 1.5  # seconds per message: slower than any healthy relay
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url, "EXSCHED_WORKER_CONCURRENCY": "4"}
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: len(smtp_sink.received()) >= 3, 60, "the first slow sends")
        smtp_sink.fail_next(451, count=4)  # then it starts deferring
        wait_until(lambda: statuses(pg).get("sent") == members, 120, lambda: f"recovery: {statuses(pg)}")
    finally:
        stop_process(worker)
        stop_process(scheduler)
    check_ledger(pg, smtp_sink, allowed_duplicates=0)
    log = (tmp_path / "worker.log").read_text()
    assert log.count('"notice_send_failed"') == 4 and "451" in log
