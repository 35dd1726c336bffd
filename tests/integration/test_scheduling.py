"""Planner and dispatcher against a real database (SQLite and PostgreSQL), in-process bus."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from scheduler.bus.memory import InProcessBus
from scheduler.db.models import NoticeRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices import store
from scheduler.notices.dispatcher import Dispatcher
from scheduler.notices.planner import Planner
from schemas.bus import DEAD_QUEUE, ROLES, queue_name
from tests.support.api import create_member, create_series
from tests.support.clock import Clock
from tests.support.factories import insert_due_notices
from tests.support.inproc import drain
from tests.support.ledger import reason_text

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def planner(db: Database, clock: Clock) -> Planner:
    return Planner(db, ChineseStatutoryCalendar(), clock=clock)


@pytest.fixture
def inproc() -> InProcessBus:
    bus = InProcessBus()
    bus.declare()
    return bus


@pytest.fixture
def dispatcher(db: Database, inproc: InProcessBus, clock: Clock) -> Dispatcher:
    return Dispatcher(db, inproc, clock=clock, batch_size=50)


def notices(db: Database, **filters: Any) -> list[NoticeRow]:
    with db.session() as session:
        query = select(NoticeRow).order_by(NoticeRow.due_at, NoticeRow.kind, NoticeRow.slot)
        for name, value in filters.items():
            query = query.where(getattr(NoticeRow, name) == value)
        return list(session.scalars(query))


def setup_series(client: TestClient, admin: dict, **overrides: Any) -> tuple[dict, dict]:
    body = {"dtstart": "2026-12-20T14:00:00", "rrule": None} | overrides
    series = create_series(client, admin, **body)
    member = create_member(client, admin)
    response = client.post(
        f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin
    )
    assert response.status_code == 201
    return series, member


def test_api_changes_request_a_plan_that_the_planner_then_clears(
    client: TestClient, admin: dict, db: Database, planner: Planner
) -> None:
    series, member = setup_series(client, admin)
    with db.session() as session:
        assert session.get(SeriesRow, uuid.UUID(series["id"])).plan_requested_at is not None
    report = planner.plan_requested()
    assert report.created == 4
    with db.session() as session:
        assert session.get(SeriesRow, uuid.UUID(series["id"])).plan_requested_at is None
    assert planner.plan_requested().changed == 0
    # asking for and doing a plan is not a change of the series or the member
    assert client.get(f"/api/v1/series/{series['id']}").json()["updated_at"] == series["updated_at"]
    fetched = client.get(f"/api/v1/members/{member['id']}", headers=admin).json()
    assert fetched["updated_at"] == member["updated_at"]


def test_planner_materializes_each_notice_once(
    client: TestClient, admin: dict, db: Database, planner: Planner
) -> None:
    _series, member = setup_series(client, admin)
    planner.plan_all()
    rows = notices(db)
    start = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
    assert [(n.kind, n.slot, n.due_at) for n in rows] == [
        ("invitation", "", start - timedelta(days=14)),
        ("reminder", "P1D", start - timedelta(days=1)),
        ("reminder", "PT2H", start - timedelta(hours=2)),
        ("followup", "", start + timedelta(hours=2, days=1)),
    ]
    assert {n.member_id for n in rows} == {uuid.UUID(member["id"])}
    assert {n.status for n in rows} == {"pending"} and {n.starts_at for n in rows} == {start}
    assert planner.plan_all().changed == 0
    assert len(notices(db)) == 4


def test_rolling_horizon_brings_later_sessions_into_view(
    client: TestClient, admin: dict, db: Database, planner: Planner, clock: Clock
) -> None:
    setup_series(client, admin, rrule="FREQ=MONTHLY;BYDAY=3TH", dtstart="2026-12-17T14:00:00")
    planner.plan_all()
    first = {n.occurrence_uid for n in notices(db)}
    clock.advance(days=40)
    planner.plan_all()
    later = {n.occurrence_uid for n in notices(db)}
    assert len(first) < len(later)


def test_dispatch_publishes_due_notices_once_with_the_envelope(
    client: TestClient,
    admin: dict,
    db: Database,
    planner: Planner,
    dispatcher: Dispatcher,
    inproc: InProcessBus,
    clock: Clock,
) -> None:
    setup_series(client, admin)
    planner.plan_all()
    assert dispatcher.dispatch_once().claimed == 0  # the invitation is due on 6 December
    clock.now = datetime(2026, 12, 6, 6, 0, 1, tzinfo=UTC)
    report = dispatcher.dispatch_once()
    assert (report.claimed, report.published) == (1, 1)
    assert dispatcher.dispatch_once().claimed == 0
    [invitation] = notices(db, kind="invitation")
    assert invitation.status == "published" and invitation.attempts == 1
    assert invitation.lease_until == clock.now + timedelta(minutes=10)
    got = drain(inproc, queue_name("invitations"))
    assert [d.message_id for d in got] == [str(invitation.id)]
    envelope = json.loads(got[0].body)
    assert envelope["notice_id"] == str(invitation.id) and envelope["kind"] == "invitation"
    assert envelope["version"] == 1 and got[0].headers["x-exsched-schema"] == 1
    assert dispatcher.next_due() == datetime(2026, 12, 19, 6, 0, tzinfo=UTC)


def test_lateness_policy_after_downtime(
    client: TestClient, admin: dict, db: Database, planner: Planner, dispatcher: Dispatcher, clock: Clock
) -> None:
    setup_series(client, admin)
    planner.plan_all()
    clock.now = datetime(2026, 12, 20, 5, 30, tzinfo=UTC)  # down since before the invitation; 30 min to go
    while dispatcher.dispatch_once().claimed:
        pass
    by_kind = {(n.kind, n.slot): n for n in notices(db)}
    assert by_kind[("invitation", "")].status == "published"  # late, but before the start: still useful
    assert by_kind[("reminder", "P1D")].status == "published"
    assert by_kind[("reminder", "PT2H")].status == "published"
    assert by_kind[("followup", "")].status == "pending"
    clock.now = datetime(2026, 12, 26, 0, 0, tzinfo=UTC)  # follow-up now more than 3 days late
    dispatcher.dispatch_once()
    [followup] = notices(db, kind="followup")
    assert followup.status == "skipped" and followup.reason_code == "followup-too-late"
    assert "more than 3 days late" in reason_text(followup)


def test_reminder_after_the_start_is_skipped_with_the_reason(
    client: TestClient, admin: dict, db: Database, planner: Planner, dispatcher: Dispatcher, clock: Clock
) -> None:
    setup_series(client, admin)
    planner.plan_all()
    clock.now = datetime(2026, 12, 20, 6, 30, tzinfo=UTC)
    while dispatcher.dispatch_once().claimed:
        pass
    reminders = notices(db, kind="reminder")
    assert {n.status for n in reminders} == {"skipped"}
    assert all(n.reason_code == "started" and "already started" in reason_text(n) for n in reminders)


def test_unconfirmed_publishes_stay_pending_and_retry_later(
    client: TestClient, admin: dict, db: Database, planner: Planner, clock: Clock
) -> None:
    setup_series(client, admin)
    planner.plan_all()
    clock.now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    undeclared = InProcessBus()  # nothing bound: every message is unroutable
    report = Dispatcher(db, undeclared, clock=clock).dispatch_once()
    assert (report.published, report.failed) == (0, 1)
    [invitation] = notices(db, kind="invitation")
    assert invitation.status == "pending" and invitation.attempts == 1
    assert invitation.reason_code == "not-confirmed" and "unroutable" in reason_text(invitation)
    assert clock.now < invitation.due_at <= clock.now + store.RETRY_BASE  # the first step of the backoff


def test_a_silent_holder_is_found_by_the_monotonic_clock_whatever_the_wall_clock_does(
    db: Database, inproc: InProcessBus, clock: Clock
) -> None:
    """A notice being sent is reaped when its lease has not changed for a whole send lease of
    the reaper's monotonic time: a wall clock jumping forward reaps nothing a live holder still
    renews, one jumping back delays nothing."""
    tick = [0.0]
    dispatcher = Dispatcher(
        db, inproc, clock=clock, send_lease=timedelta(seconds=30), monotonic=lambda: tick[0]
    )
    insert_due_notices(db, 2, clock.now)
    dispatcher.dispatch_once()
    with db.session() as session:
        alive, dead = sorted(session.scalars(select(NoticeRow.id)).all())
        assert store.take(session, alive, clock.now, timedelta(seconds=30), holder="live")
        assert store.take(session, dead, clock.now, timedelta(seconds=30), holder="gone")
    for step in range(1, 9):  # 5 s a step; the live holder renews every 10 s, the dead never
        tick[0] += 5
        clock.advance(hours=1 if step == 2 else -2 if step == 5 else 0, seconds=5)  # jumps, both ways
        if step % 2 == 0:
            with db.session() as session:
                store.renew(session, [alive], "live", clock.now, timedelta(seconds=30))
        reaped = dispatcher.reap_leases()
        assert reaped == (1 if step == 7 else 0), step  # 30 monotonic s after it was first seen unchanged
    with db.session() as session:
        assert session.get(NoticeRow, alive).status == "sending"  # type: ignore[union-attr]
        assert session.get(NoticeRow, dead).status == "pending"  # type: ignore[union-attr]


def test_expired_leases_are_published_again_with_the_same_message_id(
    client: TestClient,
    admin: dict,
    db: Database,
    planner: Planner,
    dispatcher: Dispatcher,
    inproc: InProcessBus,
    clock: Clock,
) -> None:
    setup_series(client, admin)
    planner.plan_all()
    clock.now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    dispatcher.dispatch_once()
    assert dispatcher.reap_leases() == 0
    clock.advance(minutes=11)
    assert dispatcher.reap_leases() == 1
    dispatcher.dispatch_once()
    [invitation] = notices(db, kind="invitation")
    assert invitation.status == "published" and invitation.attempts == 2
    got = drain(inproc, queue_name("invitations"))
    assert [d.message_id for d in got] == [str(invitation.id)] * 2
    assert [json.loads(d.body)["attempt"] for d in got] == [1, 2]


def test_moving_an_invited_session_sends_an_update_with_a_higher_sequence(
    client: TestClient, admin: dict, db: Database, planner: Planner, dispatcher: Dispatcher, clock: Clock
) -> None:
    series, _ = setup_series(client, admin)
    planner.plan_requested()
    clock.now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    dispatcher.dispatch_once()
    with db.session() as session:  # the worker's part, until workers exist
        session.execute(update(NoticeRow).where(NoticeRow.kind == "invitation").values(status="sent"))
    moved = client.patch(
        f"/api/v1/series/{series['id']}/occurrences/20261220T060000Z",
        json={"start": "2026-12-21T15:00:00"},
        headers=admin,
    )
    assert moved.status_code == 200
    planner.plan_requested()
    [update_notice] = notices(db, kind="update")
    assert update_notice.sequence == moved.json()["sequence"] == 1
    assert update_notice.due_at == clock.now and update_notice.status == "pending"
    reminders = notices(db, kind="reminder")
    assert [n.due_at for n in reminders] == [
        datetime(2026, 12, 20, 7, 0, tzinfo=UTC),
        datetime(2026, 12, 21, 5, 0, tzinfo=UTC),
    ]


def test_cancelling_an_invited_session_sends_a_cancellation(
    client: TestClient,
    admin: dict,
    db: Database,
    planner: Planner,
    dispatcher: Dispatcher,
    clock: Clock,
    inproc: InProcessBus,
) -> None:
    series, _ = setup_series(client, admin)
    planner.plan_requested()
    clock.now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    dispatcher.dispatch_once()
    client.patch(
        f"/api/v1/series/{series['id']}/occurrences/20261220T060000Z",
        json={"status": "cancelled"},
        headers=admin,
    )
    planner.plan_requested()
    [cancellation] = notices(db, kind="cancellation")
    assert cancellation.sequence == 1 and cancellation.status == "pending"
    assert {n.status for n in notices(db, kind="reminder")} == {"cancelled"}
    dispatcher.dispatch_once()
    got = drain(inproc, queue_name("invitations"))
    assert [json.loads(d.body)["kind"] for d in got] == ["invitation", "cancellation"]


def test_unsubscribing_cancels_the_members_pending_notices(
    client: TestClient, admin: dict, db: Database, planner: Planner
) -> None:
    _, member = setup_series(client, admin)
    planner.plan_requested()
    url = f"/api/v1/members/{member['id']}/subscriptions"
    [subscription] = client.get(url, headers=admin).json()
    assert client.delete(f"{url}/{subscription['id']}", headers=admin).status_code == 204
    planner.plan_requested()
    rows = notices(db)
    assert {n.status for n in rows} == {"cancelled"}
    assert {n.reason_code for n in rows} == {"unsubscribed"}
    assert {reason_text(n) for n in rows} == {"the member is no longer subscribed"}


def test_changing_the_rule_cancels_sessions_that_no_longer_exist(
    client: TestClient, admin: dict, db: Database, planner: Planner, dispatcher: Dispatcher, clock: Clock
) -> None:
    series, _ = setup_series(client, admin, rrule="FREQ=WEEKLY;COUNT=2", dtstart="2026-12-10T14:00:00")
    planner.plan_requested()
    clock.now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    dispatcher.dispatch_once()  # both invitations go out
    client.patch(f"/api/v1/series/{series['id']}", json={"rrule": "FREQ=WEEKLY;COUNT=1"}, headers=admin)
    planner.plan_requested()
    [cancellation] = notices(db, kind="cancellation")
    assert cancellation.occurrence_uid.endswith("-20261217T060000Z@exsched.test")
    assert cancellation.sequence == 1


def test_cancelled_series_cancels_pending_and_tells_the_invited(
    client: TestClient, admin: dict, db: Database, planner: Planner, dispatcher: Dispatcher, clock: Clock
) -> None:
    series, _ = setup_series(client, admin)
    planner.plan_requested()
    clock.now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    dispatcher.dispatch_once()
    client.delete(f"/api/v1/series/{series['id']}", headers=admin)
    planner.plan_requested()
    assert len(notices(db, kind="cancellation")) == 1
    assert {n.status for n in notices(db, kind="reminder")} == {"cancelled"}


def test_notices_api_lists_with_filters_and_chapter_scope(
    client: TestClient, admin: dict, db: Database, planner: Planner
) -> None:
    from tests.support.services import make_key

    series, member = setup_series(client, admin)
    planner.plan_requested()
    listed = client.get(
        "/api/v1/notices", params={"series_id": series["id"], "kind": "reminder"}, headers=admin
    )
    assert listed.status_code == 200
    assert [(n["kind"], n["slot"], n["status"]) for n in listed.json()] == [
        ("reminder", "P1D", "pending"),
        ("reminder", "PT2H", "pending"),
    ]
    assert len(client.get("/api/v1/notices", params={"member_id": member["id"]}, headers=admin).json()) == 4
    assert client.get("/api/v1/notices", params={"status": "sent"}, headers=admin).json() == []
    assert client.get("/api/v1/notices", params={"status": "bogus"}, headers=admin).status_code == 422
    assert client.get("/api/v1/notices").status_code == 401
    assert client.get("/api/v1/notices", headers=make_key(db, "chapter", "yiwu")).json() == []
    assert len(client.get("/api/v1/notices", headers=make_key(db, "chapter", "ningbo")).json()) == 4


def test_dead_letter_queue_is_declared(inproc: InProcessBus) -> None:
    assert inproc.queue_depth(DEAD_QUEUE) == 0
    assert all(inproc.queue_depth(queue_name(role)) == 0 for role in ROLES)


@pytest.mark.postgres
def test_two_dispatchers_on_postgresql_publish_each_notice_once(postgres_url: str, clock: Clock) -> None:
    from scheduler.db.migrate import upgrade
    from tests.support.services import empty_database

    db = Database(postgres_url)
    upgrade(db)
    empty_database(db)
    insert_due_notices(db, 2000, clock.now)
    bus = InProcessBus()
    bus.declare()
    reports = []

    def run() -> None:
        dispatcher = Dispatcher(db, bus, clock=clock, batch_size=100)
        total = 0
        while (report := dispatcher.dispatch_once()).claimed:
            total += report.published
        reports.append(total)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = drain(bus, queue_name("reminders"))
    assert len(got) == 2000 and len({d.message_id for d in got}) == 2000
    assert sum(reports) == 2000 and min(reports) > 0  # both did part of the work
    db.dispose()
