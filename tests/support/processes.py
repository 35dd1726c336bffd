"""Running exsched as users do: the command in a subprocess, a server waited for until it
answers, the services started in the background, and the fixtures that give them a database and
a RabbitMQ vhost of their own."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.migrate import upgrade
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from tests.support.services import empty_database, purge_all
from tests.support.smtp import SmtpSink

EXSCHED = [sys.executable, "-m", "scheduler.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    args: list[str], env: dict[str, str], cwd: Path, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXSCHED, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, input=input
    )


def listening(port: int) -> bool:
    """Something accepts connections on this loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def output_of(proc: subprocess.Popen[str]) -> str:
    """All a :func:`serving` process printed, once it has ended."""
    proc.wait(timeout=15)
    proc.reader.join(timeout=5)  # type: ignore[attr-defined]
    return "".join(proc.lines)  # type: ignore[attr-defined]


@contextmanager
def serving(args: list[str], env: dict[str, str], cwd: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """``exsched <args>`` answering on ``port``; its output is read as it comes (a pipe nobody
    reads fills up and stops the server mid-log) and kept on the process as ``lines``."""
    proc = subprocess.Popen(
        [*EXSCHED, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    proc.lines, proc.reader = lines, reader  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                reader.join(timeout=5)
                pytest.fail(f"exsched {' '.join(args)} exited early:\n{''.join(lines)}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"exsched {' '.join(args)} did not answer on port {port} within 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(timeout=5)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def start_exsched(part: str, env: dict[str, str], log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """``exsched serve <part>`` in the background, its output appended to ``log``."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", part], env=env | extra, stdout=handle, stderr=handle
    )


start_scheduler = partial(start_exsched, "scheduler")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def local(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")


start_worker = partial(start_exsched, "worker")


def statuses(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(
            session.execute(
                select(NoticeRow.status, func.count())
                .where(NoticeRow.kind == "invitation")
                .group_by(NoticeRow.status)
            ).all()
        )


def wait_until(predicate: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what() if callable(what) else what} within {timeout} s")


def message_ids(sink: SmtpSink) -> list[str]:
    return [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        .strip("<>")
        .split("@")[0]
        for raw in sink.received()
    ]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database, migrated and emptied."""
    db = Database(postgres_url)
    upgrade(db)
    empty_database(db)
    yield db
    db.dispose()


@pytest.fixture
def env(pg: Database, amqp_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for exsched processes on that database and a purged RabbitMQ vhost."""
    RabbitBus(amqp_url).declare()
    purge_all(amqp_url)
    values = dict(os.environ)
    values.update(
        EXSCHED_DATABASE_URL=pg.url,
        EXSCHED_AMQP_URL=amqp_url,
        EXSCHED_PUBLIC_URL="https://exsched.test",
        EXSCHED_ROBOT_LOCAL_TARGETS="true",  # the tests' chat robots answer on loopback ports
        EXSCHED_LOG_FORMAT="json",
        EXSCHED_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    return values


def check_ledger(db: Database, sink: SmtpSink, allowed_duplicates: int) -> int:
    """Every invitation the database says is owed reached the SMTP server, at most
    ``allowed_duplicates`` of them twice, and nothing is left unfinished; the duplicates counted."""
    with db.session() as session:
        owed = {str(i) for i in session.scalars(select(NoticeRow.id).where(NoticeRow.kind == "invitation"))}
    ids = message_ids(sink)
    assert set(ids) == owed, f"missing at the SMTP server: {len(owed - set(ids))}"
    duplicates = sum(count - 1 for count in Counter(ids).values())
    assert duplicates <= allowed_duplicates, f"{duplicates} duplicates for {allowed_duplicates} allowed"
    left = {k: v for k, v in statuses(db).items() if k in ("pending", "published", "sending")}
    assert not left, f"left unfinished: {left}"
    return duplicates
