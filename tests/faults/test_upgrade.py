"""A rolling upgrade from the previous release while notices flow, with every notice delivered once.

The previous release's code (the commit :data:`PREVIOUS_RELEASE`, taken out of this repository's
history with ``git archive``) migrates a new database and runs two schedulers and two workers on
it. While invitations are being sent, this release's ``exsched db upgrade`` migrates the live
database; then the processes are replaced one at a time — the workers first, then the
schedulers (docs/operations.md, "Upgrading": a new worker understands every message an old
scheduler publishes, not the other way round) — with a new session's invitations planned at
each stage. Every invitation must reach the SMTP server exactly once, and old and new processes
must each have sent some after the migration.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest

from scheduler.db.migrate import current_revision, head_revision
from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import check_ledger, run, statuses, stop_process, wait_until
from tests.support.services import IN_CI, scratch_database
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq]

#: The release before this one: the last commit that landed before this migration was written.
PREVIOUS_RELEASE = "4873148773406be3389cc314baf9980663b4e069"
ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 200


@pytest.fixture
def previous_release(tmp_path: Path) -> Path:
    """The previous release's code, with its catalogs compiled, in a folder of its own."""
    folder = tmp_path / "previous"
    folder.mkdir()
    archived = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "schemas", "scheduler", "workers"],
        capture_output=True,
        timeout=120,
    )
    if archived.returncode != 0:
        message = f"the previous release {PREVIOUS_RELEASE[:7]} is not in this clone's history"
        if IN_CI:
            pytest.fail(message + "; CI=true requires it (clone without --depth)")
        pytest.skip(message)
    with tarfile.open(fileobj=BytesIO(archived.stdout)) as archive:
        archive.extractall(folder, filter="data")
    compiled = subprocess.run(
        [sys.executable, "-m", "scheduler.i18n.compile"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    return folder


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """An empty database, for the previous release to migrate."""
    with scratch_database(postgres_url, "upgrade") as url:
        yield url


def start(code: Path, part: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``exsched serve <part>`` from the code in ``code`` (its folder first on the path)."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", part],
        cwd=code,
        env=env | {"PYTHONPATH": str(code)},
        stdout=handle,
        stderr=handle,
    )


def sent_after(log: Path, moment: float) -> int:
    """How many notices the process whose log this is sent after ``moment`` (a Unix time)."""
    count = 0
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") == "notice_sent":
                at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
                count += at > moment
    return count


def test_a_rolling_upgrade_from_the_previous_release_delivers_every_notice_once(
    env: dict[str, str], database: str, previous_release: Path, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = env | {
        "EXSCHED_DATABASE_URL": database,
        "EXSCHED_SMTP_URL": smtp_sink.url,
        "EXSCHED_WORKER_CONCURRENCY": "2",
        "EXSCHED_LOG_FORMAT": "json",
    }
    old_upgrade = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "db", "upgrade"],
        cwd=previous_release,
        env=env | {"PYTHONPATH": str(previous_release)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert old_upgrade.returncode == 0, old_upgrade.stderr
    db = Database(database)
    before = current_revision(db)
    assert before != head_revision(db), "the previous release has this release's schema: nothing to upgrade"
    smtp_sink.delay = 0.1  # 4 sends at a time: about 40 a second, a wave in 5 s
    add_subscribers(db, MEMBERS)
    waves = 1
    create_series_in_db(db, datetime.now(UTC) + timedelta(hours=3))

    logs = tmp_path / "logs"
    logs.mkdir()
    running = {
        name: start(previous_release, name.split("-")[0], env, logs / f"old-{name}.log")
        for name in ("scheduler-1", "scheduler-2", "worker-1", "worker-2")
    }
    try:
        wait_until(lambda: statuses(db).get("sent", 0) >= 40, 90, "the previous release sending")
        migrated = run(["db", "upgrade"], env, tmp_path)  # this release, on the live database
        assert migrated.returncode == 0, migrated.stderr
        migrated_at = time.time()
        assert current_revision(db) == head_revision(db)
        create_series_in_db(db, datetime.now(UTC) + timedelta(hours=4))  # planned by the old schedulers
        waves += 1
        for name in ("worker-1", "worker-2", "scheduler-1", "scheduler-2"):
            target = min(statuses(db).get("sent", 0) + 10, MEMBERS * waves)
            wait_until(  # notices keep flowing at each step (or all owed so far went)
                lambda target=target: statuses(db).get("sent", 0) >= target,
                90,
                f"flowing before {name}",
            )
            stop_process(running[name])  # SIGTERM: it finishes what it holds
            running[name] = start(ROOT, name.split("-")[0], env, logs / f"new-{name}.log")
            if name == "worker-2":  # all workers new, schedulers still old
                create_series_in_db(db, datetime.now(UTC) + timedelta(hours=5))
                waves += 1
        create_series_in_db(db, datetime.now(UTC) + timedelta(hours=6))  # all new
        waves += 1
        wait_until(
            lambda: statuses(db).get("sent", 0) == MEMBERS * waves,
            180,
            lambda: f"after the roll: {statuses(db)}",
        )
    finally:
        for proc in running.values():
            stop_process(proc)
    duplicates = check_ledger(db, smtp_sink, allowed_duplicates=0)
    old_after = sum(sent_after(logs / f"old-worker-{n}.log", migrated_at) for n in (1, 2))
    new_sent = sum(sent_after(logs / f"new-worker-{n}.log", migrated_at) for n in (1, 2))
    assert old_after > 0, "the previous release's workers sent nothing on the migrated schema"
    assert new_sent > 0, "this release's workers sent nothing"
    for name in ("scheduler-1", "scheduler-2", "worker-1", "worker-2"):
        said = (logs / f"new-{name}.log").read_text()
        assert "Traceback" not in said, f"new {name}:\n{said[-2000:]}"
    print(
        f"\nrolling upgrade {before} → {head_revision(db)}: {MEMBERS * waves} invitations in {waves} waves, "
        f"each once ({duplicates} duplicates); after the migration the old workers sent {old_after}, "
        f"the new ones {new_sent}"
    )
    db.dispose()
