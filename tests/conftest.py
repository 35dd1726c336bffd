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
from scheduler.db.session import Database, normalize_url
from scheduler.ops.config import Settings
from scheduler.web.app import create_app
from tests.support.robot import Robot
from tests.support.services import (
    AMQP_URL,
    PG_URL,
    PUBLIC_URL,
    empty_database,
    make_key,
    purge_all,
    service_missing,
)
from tests.support.smtp import SmtpSink
from workers.channels.chat import ChatGroupChannel
from workers.channels.outbox import FileOutbox


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin_url = normalize_url(PG_URL)
    name = f"exsched_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
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
    empty_database(database)
    yield database


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        database_url=db.url,
        public_url=PUBLIC_URL,
        outbox_dir=tmp_path / "outbox",
        secret_key="test-secret-key-0123456789abcdef",
        robot_local_targets=True,  # the tests' chat robots answer on loopback ports
    )


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app as ``exsched serve api`` builds it (chat robots tested through the real channel)."""
    app = create_app(
        settings,
        db,
        robot_tester=ChatGroupChannel(local_ok=True).test_robot,
        postman=FileOutbox(settings.outbox_dir, mail_from=settings.mail_from).post,
    )
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def robot() -> Iterator[Robot]:
    """A chat-group robot on a loopback port (answers as WeCom does; script it with ``answers``)."""
    made = Robot()
    yield made
    made.stop()


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    """Headers of an admin key."""
    return make_key(db)


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


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()
