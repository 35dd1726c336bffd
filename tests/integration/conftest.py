"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from scheduler.db.session import Database
from scheduler.ops.config import Settings
from tests.support.smtp import SmtpSink
from tests.support.world import World


@pytest.fixture
def world(
    settings: Settings, db: Database, client: TestClient, admin: dict, smtp_sink: SmtpSink
) -> Iterator[World]:
    made = World(settings, db, client, admin, smtp_sink)
    yield made
    made.close()
