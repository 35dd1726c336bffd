"""Shared fixtures: a migrated database on SQLite and on real PostgreSQL, and an API client.

PostgreSQL tests use a throw-away database created on the server named by
``EXSCHED_TEST_POSTGRES_URL`` (default: the local server, user ``postgres``). When that server
cannot be reached the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler.db.migrate import upgrade
from scheduler.db.models import Base
from scheduler.db.session import Database, normalize_url
from scheduler.domain.auth import create_api_key
from scheduler.ops.config import Settings
from scheduler.web.app import create_app
from schemas.names import Role

PG_URL = os.environ.get("EXSCHED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PUBLIC_URL = "https://exsched.test"


def service_missing(what: str, error: Exception) -> None:
    """Skip locally, fail under CI: a missing service must never pass silently there."""
    message = f"{what} is not reachable ({error.__class__.__name__}: {error})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin_url = normalize_url(PG_URL)
    name = f"exsched_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        service_missing("PostgreSQL", exc)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _backend_params() -> list[object]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def _migrated() -> dict[str, Database]:
    """Databases migrated once per test session, by backend."""
    return {}


@pytest.fixture(params=_backend_params())
def db(
    request: pytest.FixtureRequest, _migrated: dict[str, Database], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL), emptied of data before each test."""
    backend = request.param
    if backend not in _migrated:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        else:
            url = request.getfixturevalue("postgres_url")
        database = Database(url)
        upgrade(database)
        _migrated[backend] = database
    database = _migrated[backend]
    _empty(database)
    yield database


def _empty(database: Database) -> None:
    keep = {"chapters", "alembic_version"}
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        database_url=db.url,
        public_url=PUBLIC_URL,
        outbox_dir=tmp_path / "outbox",
        secret_key="test-secret-key-0123456789abcdef",
    )


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def make_key(db: Database, role: str = "admin", chapter: str | None = None) -> dict[str, str]:
    with db.session() as session:
        _, secret = create_api_key(session, role=Role(role), chapter=chapter)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    """Headers of an admin key."""
    return make_key(db)


AMQP_URL = os.environ.get("EXSCHED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A RabbitMQ vhost of its own for this test session (made with rabbitmqctl when local)."""
    import subprocess
    from urllib.parse import quote, urlsplit, urlunsplit

    import pika

    vhost = f"exsched-test-{uuid.uuid4().hex[:8]}"
    made = False
    parts = urlsplit(AMQP_URL)
    if parts.hostname in ("127.0.0.1", "localhost") and "EXSCHED_TEST_AMQP_URL" not in os.environ:
        user = parts.username or "guest"
        try:
            subprocess.run(
                ["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True, timeout=60
            )
            subprocess.run(
                ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                check=True,
                capture_output=True,
                timeout=60,
            )
            made = True
        except (OSError, subprocess.SubprocessError):
            made = False
    url = urlunsplit(parts._replace(path="/" + quote(vhost, safe=""))) if made else AMQP_URL
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:
        service_missing("RabbitMQ", exc)
    yield url
    if made:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)


def purge_all(url: str) -> None:
    import pika

    from schemas.bus import DEAD_QUEUE, ROLES, queue_name

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for queue in [*(queue_name(r) for r in ROLES), DEAD_QUEUE]:
            channel.queue_purge(queue)
    finally:
        connection.close()


@pytest.fixture(params=["inproc", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def bus(request: pytest.FixtureRequest) -> Iterator[object]:
    """A declared, empty bus: the in-process one and the real RabbitMQ one."""
    from scheduler.bus.memory import InProcessBus
    from scheduler.bus.rabbitmq import RabbitBus

    if request.param == "inproc":
        made: object = InProcessBus()
    else:
        url = request.getfixturevalue("amqp_url")
        made = RabbitBus(url, name="exsched-test")
    made.declare()  # type: ignore[attr-defined]
    if request.param == "rabbitmq":
        purge_all(url)
    yield made
    made.close()  # type: ignore[attr-defined]


class SmtpSink:
    """An aiosmtpd server on a free loopback port that keeps what it accepts.

    ``fail_next(code, count)`` answers the next ``count`` DATA commands with ``code`` (e.g. 451
    for a relay that is busy, 550 for a mailbox that does not exist); ``reject`` answers every
    RCPT for those addresses with 550; ``delay`` sleeps before accepting each message.
    """

    def __init__(self) -> None:
        import threading

        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.reject: set[str] = set()
        self.delay = 0.0
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def fail_next(self, code: int, count: int = 1) -> None:
        with self.lock:
            self.failures.extend([f"{code} {'Try again later' if code < 500 else 'No such mailbox'}"] * count)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def received(self) -> list[bytes]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()
