"""A feed polled again is answered from memory on PostgreSQL — until anything it is made of is
written, by this process or any other (NOTIFY from migration 0022's triggers). On SQLite every
poll asks the database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from scheduler.db.session import Database
from tests.integration.test_feeds import feed_path, weekly
from tests.support.api import create_member

LISTENING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'exsched-feeds-listener' AND query LIKE 'LISTEN %'"
)


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def eventually(predicate: Callable[[], bool], what: str, timeout: float = 15) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        done.wait(0.05)
    raise AssertionError(what)


def listener_pid(db: Database) -> int:
    with db.engine.connect() as conn:
        pids = list(conn.scalars(text(LISTENING)))
    return pids[0] if pids else 0


def elsewhere(db: Database, sql: str, **params: Any) -> None:
    """A write by another process (its own connection, not this app's engine)."""
    engine = Database(db.url).engine
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def polled(client: TestClient, admin: dict, db: Database) -> tuple[str, dict, dict]:
    """A member following Ningbo and a series there: the member's feed path, the member, the
    series — once the app listens (on PostgreSQL)."""
    member = create_member(client, admin)
    client.post(f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin)
    series = weekly(client, admin, title="纱线对接会")
    if db.dialect == "postgresql":
        eventually(lambda: listener_pid(db) != 0, "the feeds listener never started")
    return feed_path(member), member, series


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_an_unchanged_feed_is_answered_from_memory_until_any_process_writes(
    client: TestClient, admin: dict, db: Database
) -> None:
    path, _, series = polled(client, admin, db)
    first = client.get(path)
    assert first.status_code == 200 and "纱线对接会" in first.text
    with counted(db) as statements:
        again = client.get(path)
        not_modified = client.get(path, headers={"If-None-Match": first.headers["etag"]})
        public = client.get("/calendars/chapters/ningbo.ics")
    assert again.content == first.content and not_modified.status_code == 304
    assert public.status_code == 200
    with counted(db) as after_public:
        assert client.get("/calendars/chapters/ningbo.ics").content == public.content
    assert statements[-1:] and not after_public  # the public feed's first poll read; its second did not
    assert not [s for s in statements if "feed_token" in s], "the member's polls asked the database"

    # another process renames the series: the next polls read it (the NOTIFY arrives at its commit)
    elsewhere(
        db, "UPDATE series SET title = '面料对接会', updated_at = now() WHERE id = :id", id=series["id"]
    )
    eventually(lambda: "面料对接会" in client.get(path).text, "a rename elsewhere never reached the feed")

    # a change through this process is read by the very next poll, without waiting for its NOTIFY
    client.app.state.feeds.changes._listener.on_notify = lambda: None  # type: ignore[attr-defined]
    response = client.patch(f"/api/v1/series/{series['id']}", json={"title": "辅料对接会"}, headers=admin)
    assert response.status_code == 200, response.text
    assert "辅料对接会" in client.get(path).text

    # a key presented is checked on every poll, from memory or not
    assert client.get(path, headers={"Authorization": "Bearer forged"}).status_code == 401


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_change_made_while_the_listener_reconnects_is_not_missed(
    client: TestClient, admin: dict, db: Database
) -> None:
    path, member, _ = polled(client, admin, db)
    assert "纱线对接会" in client.get(path).text
    pid = listener_pid(db)
    with db.engine.connect() as conn:  # the listener's connection dies (a restart, a failover)
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    elsewhere(db, "DELETE FROM subscriptions WHERE member_id = :id", id=member["id"])
    eventually(lambda: listener_pid(db) not in (0, pid), "the listener never came back")
    # (no poll in between: one would have read the change and refreshed what is kept)
    assert "纱线对接会" not in client.get(path).text, "a change made while away was missed"
    with counted(db) as statements:
        client.get(path)
        client.get(path)
    assert len([s for s in statements if "feed_token" in s]) <= 1  # from memory again once back


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_on_sqlite_every_poll_reads_the_database(client: TestClient, admin: dict, db: Database) -> None:
    path, _, _ = polled(client, admin, db)
    assert client.get(path).status_code == 200
    with counted(db) as statements:
        assert client.get(path).status_code == 200
    assert [s for s in statements if "feed_token" in s]
