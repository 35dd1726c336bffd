"""Scheduler and worker as separate processes on PostgreSQL, RabbitMQ and a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.ledger import reason_text
from tests.support.processes import (
    message_ids,
    start_scheduler,
    start_worker,
    statuses,
    stop_process,
    wait_until,
)
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres, pytest.mark.rabbitmq]


def unsent(db: Database) -> list[tuple[str, str | None, int]]:
    with db.session() as session:
        return [
            (r.status, r.reason_code, r.attempts)
            for r in session.execute(
                select(NoticeRow.status, NoticeRow.reason_code, NoticeRow.attempts).where(
                    NoticeRow.kind == "invitation", NoticeRow.status != "sent"
                )
            )
        ]


def test_worker_killed_mid_batch_sends_each_notice_once_but_for_its_open_send(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    members = 200
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    smtp_sink.delay = 0.02  # a relay that takes its time, so the kill lands mid-send
    env = env | {
        "EXSCHED_SMTP_URL": smtp_sink.url,
        "EXSCHED_LEASE_SECONDS": "4",
        "EXSCHED_WORKER_CONCURRENCY": "1",
    }
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    first = start_worker(env, tmp_path / "worker-1.log")
    try:
        wait_until(lambda: len(smtp_sink.received()) >= 40, 60, "40 emails were not accepted")
        first.send_signal(signal.SIGKILL)
        first.wait()
        sent_before = len(smtp_sink.received())
        assert sent_before < members, "the kill should land mid-batch"
        second = start_worker(env, tmp_path / "worker-2.log")
        try:
            wait_until(
                lambda: statuses(pg).get("sent") == members,
                120,
                lambda: f"not every invitation was sent ({unsent(pg)})",
            )
        finally:
            stop_process(second)
    finally:
        stop_process(scheduler)
    ids = message_ids(smtp_sink)
    with pg.session() as session:
        owed = {str(i) for i in session.scalars(select(NoticeRow.id).where(NoticeRow.kind == "invitation"))}
    assert set(ids) == owed, "every invitation owed reached the SMTP server"
    duplicates = sum(count - 1 for count in Counter(ids).values())
    print(f"killed after {sent_before} of {members} sends; {duplicates} duplicate(s)")
    assert duplicates <= 1, "at most the one send that was between SMTP accept and recording `sent`"


def test_smtp_outage_is_ridden_out_and_everything_is_delivered_once(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    members = 30
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    smtp_sink.fail_next(451, count=10)
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: statuses(pg).get("sent") == members, 120, "the invitations were not all delivered")
    finally:
        stop_process(worker)
        stop_process(scheduler)
    ids = message_ids(smtp_sink)
    assert len(ids) == members == len(set(ids))
    with pg.session() as session:
        retried = session.scalar(
            select(func.count())
            .select_from(NoticeRow)
            .where(NoticeRow.kind == "invitation", NoticeRow.attempts > 1)
        )
    assert retried == 10


def test_emails_through_rabbitmq_carry_valid_calendars_for_their_member(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    import recurring_ical_events
    from icalendar import Calendar

    members = 20
    add_subscribers(pg, members)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    create_series_in_db(pg, start)
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: statuses(pg).get("sent") == members, 60, "the invitations were not all delivered")
    finally:
        stop_process(worker)
        stop_process(scheduler)
    with pg.session() as session:
        [uid] = set(session.scalars(select(NoticeRow.occurrence_uid).where(NoticeRow.kind == "invitation")))
    for raw in smtp_sink.received():
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        assert calendar["METHOD"] == "REQUEST" and not calendar.get_missing_tzids()
        [event] = recurring_ical_events.of(calendar).between(
            start - timedelta(hours=1), start + timedelta(hours=1)
        )
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == start
        assert str(event["ATTENDEE"]) == f"mailto:{mail['To'].addresses[0].addr_spec}"


def test_a_poison_message_on_rabbitmq_ends_dead_lettered_with_its_notice_failed(
    env: dict[str, str], pg: Database, amqp_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from scheduler.bus.base import OutboundMessage
    from scheduler.bus.rabbitmq import RabbitBus
    from schemas.bus import routing_key

    add_subscribers(pg, 1)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from scheduler.notices.planner import Planner

    Planner(pg, ChineseStatutoryCalendar()).plan_requested()
    with pg.session() as session:
        [target] = session.scalars(select(NoticeRow.id).where(NoticeRow.kind == "invitation"))
    bus = RabbitBus(amqp_url, name="exsched-test-poison")
    report = bus.publish(
        [
            OutboundMessage(
                message_id=str(target), routing_key=routing_key("invitation"), body=b"\xff not json"
            )
        ]
    )
    bus.close()
    assert report.confirmed == {str(target)}
    worker = start_worker(env | {"EXSCHED_SMTP_URL": smtp_sink.url}, tmp_path / "worker.log")

    def failed() -> bool:
        with pg.session() as session:
            return session.get(NoticeRow, target).status == "failed"

    try:
        wait_until(failed, 60, "the poisoned notice was not marked failed")
    finally:
        stop_process(worker)
    with pg.session() as session:
        poisoned = session.get(NoticeRow, target)
        assert poisoned.reason_code == "poison"
        assert "poison message: message body is not JSON" in reason_text(poisoned)
    log = (tmp_path / "worker.log").read_text()
    assert '"poison_message"' in log and '"notice_dead_lettered"' in log
    assert smtp_sink.received() == []


def test_one_notice_can_be_followed_through_the_json_logs_and_the_metrics_move(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    import json

    import httpx2 as httpx

    from tests.support.processes import free_port, serving

    members = 3
    add_subscribers(pg, members)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    scheduler_port, worker_port = free_port(), free_port()
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    api_port = free_port()
    scheduler = start_scheduler(env, tmp_path / "scheduler.log", EXSCHED_METRICS_PORT=str(scheduler_port))
    worker = start_worker(env, tmp_path / "worker.log", EXSCHED_METRICS_PORT=str(worker_port))
    try:
        with serving(["serve", "api", "--port", str(api_port)], env, tmp_path, api_port):
            wait_until(
                lambda: statuses(pg).get("sent") == members, 60, "the invitations were not all delivered"
            )
            api_metrics = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=5).text
            api_ready = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=5)
        worker_metrics = httpx.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=5).text
        scheduler_metrics = httpx.get(f"http://127.0.0.1:{scheduler_port}/metrics", timeout=5).text
        health = [
            httpx.get(f"http://127.0.0.1:{p}/{path}", timeout=5)
            for p in (scheduler_port, worker_port)
            for path in ("healthz", "readyz")
        ]
    finally:
        stop_process(worker)
        stop_process(scheduler)
    assert (
        'exsched_notices{kind="invitation",status="sent"} 3.0' in api_metrics and api_ready.status_code == 200
    )
    assert 'exsched_notices_sent_total{channel="email",kind="invitation"} 3.0' in worker_metrics
    assert 'exsched_notices{kind="invitation",status="sent"} 3.0' in worker_metrics
    assert 'exsched_queue_depth{queue="exsched.invitations"} 0.0' in scheduler_metrics
    assert "exsched_dispatch_lateness_seconds_bucket" in scheduler_metrics
    assert [r.status_code for r in health] == [200, 200, 200, 200]

    def events(log: Path) -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    scheduler_events, worker_events = events(tmp_path / "scheduler.log"), events(tmp_path / "worker.log")
    sent = next(e for e in worker_events if e["event"] == "notice_sent")
    notice_id = sent["notice_id"]
    trail = [e["event"] for e in scheduler_events + worker_events if e.get("notice_id") == notice_id]
    assert trail == ["notice_planned", "notice_published", "notice_sent"]
    assert sent["message_id"] == notice_id and sent["trace_id"].startswith(notice_id.replace("-", "")[:16])
    assert (
        sent["occurrence_uid"]
        == next(e for e in scheduler_events if e.get("notice_id") == notice_id)["occurrence_uid"]
    )


def test_a_worker_started_before_any_scheduler_on_an_empty_broker_declares_the_queues_and_works(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """A fresh deployment, or a broker that lost its queues: the worker's consumers found no
    queue, died with a 404, and the process went on consuming nothing."""
    import pika

    from schemas.bus import DEAD_QUEUE, ROLES, queue_name

    connection = pika.BlockingConnection(pika.URLParameters(env["EXSCHED_AMQP_URL"]))
    channel = connection.channel()
    for queue in [DEAD_QUEUE, *(queue_name(role) for role in ROLES)]:
        channel.queue_delete(queue)
    connection.close()
    add_subscribers(pg, 5)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        time.sleep(3)  # the worker alone on a broker without exsched's queues
        scheduler = start_scheduler(env, tmp_path / "scheduler.log")
        try:
            wait_until(lambda: statuses(pg).get("sent") == 5, 60, lambda: f"delivered: {statuses(pg)}")
        finally:
            stop_process(scheduler)
    finally:
        stop_process(worker)
    assert "Traceback" not in (tmp_path / "worker.log").read_text()
