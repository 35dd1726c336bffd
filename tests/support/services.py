"""The real services the tests use (PostgreSQL, RabbitMQ) and the few facts about reaching them.

A test whose service is missing skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from scheduler.db.models import Base
from scheduler.db.session import Database
from scheduler.domain.auth import create_api_key
from schemas.names import Role

PG_URL = os.environ.get("EXSCHED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

PUBLIC_URL = "https://exsched.test"

AMQP_URL = os.environ.get("EXSCHED_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def service_missing(what: str, error: Exception) -> None:
    """Skip locally, fail under CI: a missing service must never pass silently there."""
    message = f"{what} is not reachable ({error.__class__.__name__}: {error})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def empty_database(database: Database) -> None:
    """Delete every row but the seeded chapters, so each test starts from the same database."""
    keep = {"chapters", "alembic_version", "schema_compat"}  # what the migrations put there
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())


@contextmanager
def scratch_database(postgres_url: str, purpose: str) -> Iterator[str]:
    """A new, empty database on the test server, its URL; dropped afterwards (a restore target,
    a database another release migrates, one left empty on purpose)."""
    name = f"exsched_{purpose}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_key(db: Database, role: str = "admin", chapter: str | None = None) -> dict[str, str]:
    with db.session() as session:
        _, secret = create_api_key(session, role=Role(role), chapter=chapter)
    return {"Authorization": f"Bearer {secret}"}


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
