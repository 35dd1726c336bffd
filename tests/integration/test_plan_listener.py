"""A separate scheduler hears a committed re-plan request through PostgreSQL's LISTEN/NOTIFY."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from scheduler.db.listen import Listener
from scheduler.db.migrate import upgrade
from scheduler.db.session import Database
from scheduler.notices.jobs import plan_listener
from scheduler.notices.planner import request_plan

pytestmark = pytest.mark.postgres


def _listening(url: str) -> tuple[Listener, threading.Event]:
    heard = threading.Event()
    listener = plan_listener(url, heard.set)
    listener.start()
    return listener, heard


_LISTENERS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'exsched-plan-listener' AND query LIKE 'LISTEN %'"
)


def _wait_until_listening(db: Database, *, not_pid: int | None = None) -> int:
    """NOTIFY reaches only connections that already LISTEN: wait for the listener's backend (a new
    one, after ``not_pid`` was killed: a terminated backend lingers in pg_stat_activity a moment)."""
    for _ in range(200):
        with db.engine.connect() as conn:
            pids = [pid for pid in conn.scalars(text(_LISTENERS)) if pid != not_pid]
        if pids:
            return pids[0]
        threading.Event().wait(0.05)
    raise AssertionError("the plan listener never started listening")


def test_a_committed_request_wakes_the_listener_and_an_abandoned_one_does_not(postgres_url: str) -> None:
    db = Database(postgres_url)
    upgrade(db)
    listener, heard = _listening(postgres_url)
    try:
        _wait_until_listening(db)
        with db.session() as session:
            request_plan(session, series_ids=[uuid.uuid4()])
            session.rollback()
        assert not heard.wait(1.5), "a rolled-back request must not wake anyone"
        with db.session() as session:
            request_plan(session, series_ids=[uuid.uuid4()])
            session.commit()
        assert heard.wait(10), "a committed request was not heard"
    finally:
        listener.stop()
        db.dispose()


def test_the_listener_comes_back_after_its_connection_is_killed(postgres_url: str) -> None:
    db = Database(postgres_url)
    listener, heard = _listening(postgres_url)
    try:
        first = _wait_until_listening(db)
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        _wait_until_listening(db, not_pid=first)
        with db.session() as session:
            request_plan(session, member_ids=[uuid.uuid4()])
            session.commit()
        assert heard.wait(10), "the listener did not reconnect"
    finally:
        listener.stop()
        db.dispose()
