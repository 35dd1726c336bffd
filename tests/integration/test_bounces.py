"""Bounces, end to end: an invitation leaves with its VERP return path, the member's server sends
a bounce back to it, and ``serve inbound``'s intake marks the notice ``bounced``; a hard bounce
makes the address undeliverable (the next email notices are skipped with the reason, the
chapter's chat group hears of it once), soft bounces count and turn hard at the third; a new
address (staff, or the member) sends again. On SQLite and PostgreSQL; and through the real
``serve inbound`` LMTP listener, by the envelope recipient alone."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import InboundMailRow, MemberRow
from scheduler.db.session import Database
from scheduler.inbound.intake import take_in
from scheduler.ops.config import Settings
from tests.integration.test_calendar_replies import listening, serve_inbound
from tests.support.bounces import dsn, exim, out_of_office
from tests.support.console import csrf_of, signed_in
from tests.support.processes import free_port, wait_until
from tests.support.robot import Robot
from tests.support.smtp import SmtpSink
from tests.support.world import START, World, a_session, subscribed

CHEN = "chen.jing@lihua.example"


@pytest.fixture
def bouncing(
    settings: Settings, db: Database, client: TestClient, admin: dict, smtp_sink: SmtpSink
) -> Iterator[World]:
    """A world whose emails leave with ``bounce+<notice-id>@assoc.example`` as envelope sender."""
    made = World(
        settings.model_copy(update={"bounce_address": "bounce@assoc.example"}), db, client, admin, smtp_sink
    )
    try:
        yield made
    finally:
        made.close()


def invited(world: World, robot: Robot | None = None) -> uuid.UUID:
    """Chen Jing subscribed to Ningbo (whose chat group has a robot), a session with a reminder,
    the invitation sent; its notice id."""
    subscribed(world)
    if robot is not None:
        added = world.client.post(
            "/api/v1/chapters/ningbo/webhooks",
            json={"format": "wecom", "url": robot.url},
            headers=world.admin,
        )
        assert added.status_code == 201, added.text
    a_session(world, notices={"reminders": ["P1D"]})
    world.run()
    [notice] = world.notices(kind="invitation", member_id=member_id(world))
    assert world.sink.senders[-1] == f"bounce+{notice.id}@assoc.example"
    return notice.id


def member(world: World) -> MemberRow:
    """Chen Jing as stored (by id: staff may change her address)."""
    with world.db.session() as session:
        return session.scalars(select(MemberRow).order_by(MemberRow.created_at)).first()  # type: ignore[return-value]


def member_id(world: World) -> uuid.UUID:
    return member(world).id


def inbound_mail_counted(outcome: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("exsched_inbound_mail_total", {"outcome": outcome}) or 0.0


def take(world: World, raw: bytes) -> str:
    return take_in(world.db, raw, datetime.now(UTC), world.holidays).outcome


def test_a_hard_bounce_stops_email_to_the_address_and_tells_the_chapter_once(
    bouncing: World, robot: Robot
) -> None:
    world = bouncing
    notice = invited(world, robot)
    a_session(world, title="宁波 · 面料对接会")
    world.run()
    [second] = [n.id for n in world.notices(kind="invitation", member_id=member_id(world)) if n.id != notice]
    robot.posts.clear()
    counted = {o: inbound_mail_counted(o) for o in ("bounced", "duplicate")}
    assert take(world, dsn(notice, CHEN)) == "bounced"
    assert take(world, dsn(notice, CHEN)) == "duplicate"  # the same mail delivered twice
    # what the IT team's dashboard and bounce-rate alert count
    assert {o: inbound_mail_counted(o) - n for o, n in counted.items()} == {"bounced": 1, "duplicate": 1}
    [row] = world.notices(id=notice)
    assert (row.status, row.reason_code, row.reason_params["hard"]) == ("bounced", "bounced", True)
    assert "User unknown" in row.reason_params["detail"]
    found = member(world)
    assert found.undeliverable_at is not None and "5.1.1" in (found.bounce_detail or "")
    world.run(datetime.now(UTC))
    [alert] = robot.said("无法投递")
    assert CHEN in str(alert) and "User unknown" in str(alert)
    # the reminder a day before is skipped, with the reason, and no email leaves
    sent = len(world.mails())
    world.run(START - timedelta(days=1))
    assert len(world.mails()) == sent
    reminders = [
        n for n in world.notices(kind="reminder", member_id=member_id(world)) if n.due_at <= world.clock.now
    ]
    assert reminders and {(r.status, r.reason_code) for r in reminders} == {("skipped", "undeliverable")}
    # the other invitation bounces too: counted, and the group is not told again
    assert take(world, exim(second, CHEN)) == "bounced"
    world.run(datetime.now(UTC))
    assert len(robot.said("无法投递")) == 1


def test_soft_bounces_count_and_turn_hard_at_the_third(bouncing: World, robot: Robot) -> None:
    world = bouncing
    first = invited(world, robot)
    for title in ("宁波 · 面料对接会", "宁波 · 智能制造交流会"):
        a_session(world, title=title)
    world.run()
    notices = [first] + [
        n.id for n in world.notices(kind="invitation", member_id=member_id(world)) if n.id != first
    ]
    assert len(notices) == 3
    robot.posts.clear()

    def full(n: int) -> bytes:
        return dsn(
            notices[n], CHEN, action="delayed", status="4.2.2", diagnostic=f"452 4.2.2 Mailbox full ({n})"
        )

    assert take(world, full(0)) == "bounced"
    assert take(world, full(0).replace(b"(0)", b"(again)")) == "unchanged"  # that notice bounced already
    assert take(world, full(1)) == "bounced"
    found = member(world)
    assert (found.soft_bounces, found.undeliverable_at) == (2, None)
    assert take(world, full(2)) == "bounced"
    found = member(world)
    assert found.soft_bounces == 3 and found.undeliverable_at is not None
    assert found.bounce_detail == "4.2.2 smtp; 452 4.2.2 Mailbox full (2)"
    world.run(datetime.now(UTC))
    assert len(robot.said("无法投递")) == 1


def test_a_new_address_from_staff_sends_again(bouncing: World) -> None:
    world = bouncing
    notice = invited(world)
    assert take(world, exim(notice, CHEN)) == "bounced"
    assert member(world).undeliverable_at is not None
    changed = world.client.patch(
        f"/api/v1/members/{member_id(world)}", json={"email": "chen@lihua-group.example"}, headers=world.admin
    )
    assert changed.status_code == 200, changed.text
    fixed = member(world)
    assert (fixed.undeliverable_at, fixed.bounce_detail, fixed.soft_bounces) == (None, None, 0)
    world.run(START - timedelta(days=1))
    assert any("chen@lihua-group.example" in str(m["To"]) for m in world.mails())


def test_what_is_not_a_bounce_of_ours_is_kept_and_changes_nothing(bouncing: World) -> None:
    world = bouncing
    notice = invited(world)
    assert take(world, out_of_office(notice, CHEN)) == "not-a-reply"
    assert take(world, dsn(uuid.uuid4(), CHEN)) == "unmatched"  # no such notice
    assert take(world, dsn(notice, "someone.else@lihua.example")) == "unmatched"  # forwarded on
    [row] = world.notices(id=notice)
    assert row.status == "sent" and member(world).undeliverable_at is None
    with world.db.session() as session:
        kept = {(r.outcome, r.reason) for r in session.scalars(select(InboundMailRow))}
    assert kept == {
        ("not-a-reply", "not-a-failure"),
        ("unmatched", "unknown-notice"),
        ("unmatched", "other-address"),
    }


@pytest.mark.parametrize("db", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_serve_inbound_takes_a_bounce_by_its_envelope_recipient(bouncing: World, tmp_path: Path) -> None:
    """``exsched serve inbound`` as a process, by LMTP: the bounce's headers name no notice (the
    MTA delivered it to a plain alias); the envelope recipient does."""
    world = bouncing
    notice = invited(world)
    port = free_port()
    proc = serve_inbound(world, tmp_path, EXSCHED_INBOUND_LISTEN=f"127.0.0.1:{port}")
    try:
        wait_until(lambda: listening(port), 60, "serve inbound listening")
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            raw = dsn(notice, CHEN, to="postmaster-bounces@assoc.example")
            assert lmtp.sendmail("", [f"bounce+{notice}@assoc.example"], raw) == {}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    [row] = world.notices(id=notice)
    assert row.status == "bounced" and member(world).undeliverable_at is not None


def test_staff_see_bouncing_members_of_their_chapter_and_resume_sending(bouncing: World) -> None:
    world = bouncing
    notice = invited(world)
    assert take(world, dsn(notice, CHEN)) == "bounced"
    office = signed_in(world.client, world.db, "office")
    page = office.get("/console/bounces").text
    assert "陈静" in page and CHEN in page and "起停止发送" in page and "User unknown" in page
    assert "已记录退信" in office.get("/console/replies?show=all").text
    wenzhou = signed_in(world.client, world.db, "wz", "chapter", "wenzhou")
    assert CHEN not in wenzhou.get("/console/bounces").text
    refused = wenzhou.post(
        f"/console/bounces/{member_id(world)}/clear",
        data={"csrf": csrf_of(wenzhou.get("/console/bounces").text)},
    )
    assert refused.status_code == 403 and member(world).undeliverable_at is not None
    resumed = office.post(
        f"/console/bounces/{member_id(world)}/clear", data={"csrf": csrf_of(page)}, follow_redirects=True
    )
    assert resumed.status_code == 200 and "已恢复向该地址发送邮件" in resumed.text
    assert member(world).undeliverable_at is None and "暂无退信" in resumed.text
