"""Fixtures for tests that run exsched as processes on PostgreSQL and RabbitMQ."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.migrate import upgrade
from scheduler.db.session import Database
from tests.conftest import _empty, purge_all


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database, migrated and emptied."""
    db = Database(postgres_url)
    upgrade(db)
    _empty(db)
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
        EXSCHED_LOG_FORMAT="json",
        EXSCHED_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    return values
