"""A backup taken from a running system in the middle of a burst restores into a working one.

``exsched db backup`` is run while a scheduler and a worker are sending 300 invitations through
an SMTP server that takes 20 ms a message; then the system is lost (both processes killed, its
database no longer used). ``exsched db restore`` loads the copy into a new database and a new
scheduler and worker start on it, against a new SMTP server. The ledger must be consistent: no
notice that was ``sent`` in the copy is sent again, and every notice owed in the copy (pending,
or in flight when it was taken) is sent exactly once — checked by their deterministic ids, which
are the emails' Message-IDs. Messages the lost system left in RabbitMQ are handled as they come.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import (
    message_ids,
    run,
    start_scheduler,
    start_worker,
    statuses,
    stop_process,
    wait_until,
)
from tests.support.services import scratch_database
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq]
MEMBERS = 300


@pytest.fixture
def second_database(postgres_url: str) -> Iterator[str]:
    """An empty database on the same server: where the copy is restored."""
    with scratch_database(postgres_url, "restored") as url:
        yield url


def ledger(db: Database) -> dict[str, str]:
    """Every invitation's status, by notice id."""
    with db.session() as session:
        rows = session.execute(select(NoticeRow.id, NoticeRow.status).where(NoticeRow.kind == "invitation"))
        return {str(notice_id): status for notice_id, status in rows}


def test_a_backup_taken_mid_burst_restores_with_nothing_sent_twice_and_nothing_owed_lost(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, second_database: str, tmp_path: Path
) -> None:
    add_subscribers(pg, MEMBERS)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    smtp_sink.delay = 0.02
    first = env | {"EXSCHED_SMTP_URL": smtp_sink.url, "EXSCHED_WORKER_CONCURRENCY": "2"}
    scheduler = start_scheduler(first, tmp_path / "scheduler-1.log")
    worker = start_worker(first, tmp_path / "worker-1.log")
    try:
        wait_until(lambda: statuses(pg).get("sent", 0) >= MEMBERS // 5, 60, "the burst under way")
        made = run(["db", "backup", "--to", str(tmp_path / "backups")], first, tmp_path)
        assert made.returncode == 0, made.stderr
        at_backup = statuses(pg)
    finally:
        for proc in (worker, scheduler):  # the system is lost with its database
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    [copy] = (tmp_path / "backups").glob("exsched-*.dump")
    assert f"backup: {copy}" in made.stdout and "pg_restore --list" in made.stdout
    sent_by_the_lost_system = set(message_ids(smtp_sink))

    restored = Database(second_database)
    again = run(["db", "restore", str(copy)], first | {"EXSCHED_DATABASE_URL": second_database}, tmp_path)
    assert again.returncode == 0, again.stderr
    in_the_copy = ledger(restored)
    sent_before = {i for i, status in in_the_copy.items() if status == "sent"}
    owed = {i for i, status in in_the_copy.items() if status in ("pending", "published", "sending")}
    assert len(in_the_copy) == MEMBERS and sent_before | owed == set(in_the_copy)
    assert 0 < len(sent_before) < MEMBERS, "the copy was taken mid-burst"
    assert sent_before <= sent_by_the_lost_system  # the copy holds nothing that was not sent
    assert f"{len(sent_before)} sent before the backup" in again.stdout
    assert set(in_the_copy.values()) <= {"sent", "pending"}, "nothing left in flight after a restore"

    sink = SmtpSink()
    second = first | {"EXSCHED_DATABASE_URL": second_database, "EXSCHED_SMTP_URL": sink.url}
    scheduler = start_scheduler(second, tmp_path / "scheduler-2.log")
    worker = start_worker(second, tmp_path / "worker-2.log")
    try:
        wait_until(
            lambda: statuses(restored).get("sent", 0) == MEMBERS,
            120,
            lambda: f"after restore: {statuses(restored)}",
        )
    finally:
        stop_process(worker)
        stop_process(scheduler)
        sink.stop()
    delivered = Counter(message_ids(sink))
    assert set(delivered) == owed, f"owed but not sent: {len(owed - set(delivered))}"
    assert max(delivered.values()) == 1, "a notice sent twice by the restored system"
    assert not set(delivered) & sent_before, "a notice sent before the backup was sent again"
    twice = owed & sent_by_the_lost_system  # left the lost system after the copy was taken
    print(
        f"\nbackup mid-burst: {made.stdout.strip()}\n"
        f"  at the backup: {at_backup}; in the copy {len(sent_before)} sent, {len(owed)} owed\n"
        f"  restored system sent {sum(delivered.values())}, each once, none of the {len(sent_before)} sent"
        f" before; {len(twice)} had also left the lost system after the copy was taken"
    )
    restored.dispose()
