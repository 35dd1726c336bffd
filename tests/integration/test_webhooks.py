"""Chapter chat-group robots as domain: the API (admin, or the chapter's own staff), the console
page where chapter staff add, test and remove their robot, and what adding one plans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices.planner import Planner
from scheduler.ops.config import Settings
from scheduler.web.app import create_app
from tests.support.api import create_series
from tests.support.clock import Clock
from tests.support.console import csrf_of, signed_in
from tests.support.robot import Robot
from tests.support.services import make_key
from workers.channels.base import PermanentSendError
from workers.channels.chat import ChatGroupChannel
from workers.letters import Robot as RobotTarget

URL = "/api/v1/chapters/ningbo/webhooks"


def test_staff_add_list_and_remove_a_robot_whose_url_is_never_shown_again(
    client: TestClient, admin: dict, db: Database, robot: Robot
) -> None:
    ningbo = make_key(db, "chapter", "ningbo")
    added = client.post(URL, json={"format": "wecom", "url": robot.url, "secret": "s3"}, headers=ningbo)
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["chapter"], body["format"], body["host"], body["signed"], body["reminders"]) == (
        "ningbo",
        "wecom",
        "127.0.0.1",
        True,
        True,
    )
    assert robot.url not in added.text and "s3" not in added.text and "key=k1" not in added.text
    for headers in (admin, ningbo):
        assert [w["id"] for w in client.get(URL, headers=headers).json()] == [body["id"]]
    removed = client.delete(f"{URL}/{body['id']}", headers=ningbo)
    assert removed.status_code == 204 and client.get(URL, headers=admin).json() == []
    assert client.delete(f"{URL}/{body['id']}", headers=ningbo).status_code == 404


def test_another_chapter_and_anonymous_callers_cannot_touch_a_chapters_robots(
    client: TestClient, admin: dict, db: Database, robot: Robot
) -> None:
    made = client.post(URL, json={"format": "dingtalk", "url": robot.url}, headers=admin).json()
    wenzhou = make_key(db, "chapter", "wenzhou")
    for method, path, body in (
        ("get", URL, None),
        ("post", URL, {"format": "wecom", "url": robot.url}),
        ("delete", f"{URL}/{made['id']}", None),
        ("post", f"{URL}/{made['id']}/test", None),
    ):
        assert client.request(method, path, json=body, headers=wenzhou).status_code == 403, path
        assert client.request(method, path, json=body).status_code == 401, path
    assert client.get(URL, headers=admin).json()[0]["id"] == made["id"]


def test_bad_robots_are_refused_naming_the_field(client: TestClient, admin: dict) -> None:
    for body, field in (
        ({"format": "wecom", "url": "ftp://robot.example/x"}, "url"),
        ({"format": "wecom", "url": "https://"}, "url"),
        ({"format": "slack", "url": "https://hooks.example/x"}, "format"),
        ({"format": "wecom", "url": "https://robot.example/x\r\nX-Evil: 1"}, "url"),
    ):
        answer = client.post(URL, json=body, headers=admin)
        assert answer.status_code == 422, body
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.json()
    assert client.post("/api/v1/chapters/beijing/webhooks", json={}, headers=admin).status_code == 422


def test_a_robot_on_this_machine_or_its_local_link_is_refused_unless_allowed(
    settings: Settings, db: Database, admin: dict, robot: Robot
) -> None:
    """A robot URL could make exsched post to itself or to a cloud's metadata service."""
    strict = Settings(**(settings.model_dump() | {"robot_local_targets": False}))
    with TestClient(create_app(strict, db, robot_tester=ChatGroupChannel().test_robot)) as client:
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]/x",
            "http://[fe80::1]/x",
            "http://0.0.0.0/x",
            robot.url,
        ):
            answer = client.post(URL, json={"format": "generic", "url": url}, headers=admin)
            assert answer.status_code == 422, url
            assert answer.json()["errors"][0]["field"] == "url" and "local link" in answer.json()["detail"]
    # and at send time, for a robot added while allowed, or a name that came to point here later
    with pytest.raises(PermanentSendError) as refused:
        ChatGroupChannel().send_test(RobotTarget("wecom", robot.url), chapter="ningbo")
    assert refused.value.reason.code == "webhook-local-target" and robot.hits == 0


def test_a_robot_answering_with_a_redirect_is_not_followed_and_its_body_not_kept(robot: Robot) -> None:
    elsewhere = Robot()
    try:
        robot.redirect_to = elsewhere.url
        with pytest.raises(PermanentSendError) as refused:
            ChatGroupChannel(local_ok=True).send_test(RobotTarget("wecom", robot.url), chapter="ningbo")
    finally:
        elsewhere.stop()
    assert (refused.value.reason.code, refused.value.reason.params) == (
        "webhook-http",
        {"format": "wecom", "status": 302},
    )
    assert robot.hits == 1 and elsewhere.hits == 0


def test_a_test_message_reaches_the_group_or_says_why_not(
    client: TestClient, admin: dict, robot: Robot
) -> None:
    made = client.post(URL, json={"format": "wecom", "url": robot.url}, headers=admin).json()
    sent = client.post(f"{URL}/{made['id']}/test", headers=admin)
    assert sent.status_code == 200 and sent.json()["sent"] is True
    [(_, post)] = robot.posts
    assert post["markdown"]["content"].startswith("**【测试】宁波分会群机器人**")
    robot.answers.append((200, '{"errcode":93000,"errmsg":"invalid webhook url"}'))
    refused = client.post(f"{URL}/{made['id']}/test", headers=admin)
    assert refused.status_code == 502
    assert refused.json()["reason"] == {
        "code": "webhook-error",
        "params": {
            "format": "wecom",
            "code": 93000,
            "body": '{"errcode":93000,"errmsg":"invalid webhook url"}',
        },
    }
    assert refused.json()["detail"].startswith("WeCom webhook answered error 93000")


def test_adding_a_robot_plans_the_chapters_sessions_for_its_group(
    client: TestClient, admin: dict, db: Database, robot: Robot
) -> None:
    create_series(client, admin, dtstart="2026-12-10T14:00:00", rrule=None)
    planner = Planner(db, ChineseStatutoryCalendar(), clock=Clock(datetime(2026, 12, 1, tzinfo=UTC)))
    planner.plan_requested()
    made = client.post(URL, json={"format": "feishu", "url": robot.url}, headers=admin).json()
    planner.plan_requested()
    with db.session() as session:
        owed = {
            (n.kind, n.channel)
            for n in session.scalars(select(NoticeRow).where(NoticeRow.webhook_id.is_not(None)))
        }
    assert owed == {("invitation", "webhook"), ("reminder", "webhook")}
    # the API's ledger lists the group's notices too (it answered 500 on them: no member_id)
    for key in (admin, make_key(db, "chapter", "ningbo")):
        listed = client.get("/api/v1/notices", params={"channel": "webhook"}, headers=key)
        assert listed.status_code == 200
        robots = [n for n in listed.json() if n["webhook_id"] == made["id"]]
        assert {n["kind"] for n in robots} == {"invitation", "reminder"}
        assert all(n["member_id"] is None for n in robots)
    client.delete(f"{URL}/{made['id']}", headers=admin)
    with db.session() as session:
        assert session.scalars(select(NoticeRow).where(NoticeRow.webhook_id.is_not(None))).all() == []


def test_chapter_staff_add_test_and_remove_their_robot_in_the_console(
    client: TestClient, db: Database, robot: Robot
) -> None:
    browser = signed_in(client, db, "chen.nb", "chapter", "ningbo")
    page = browser.get("/console/robots").text
    assert "本分会还没有群机器人。" in page
    refused = browser.post(
        "/console/robots",
        data={"csrf": csrf_of(page), "chapter": "ningbo", "format": "wecom", "url": "qyapi"},
    )
    assert refused.status_code == 422 and "请填写以 https:// 开头的完整地址。" in refused.text
    other = browser.post(
        "/console/robots",
        data={"csrf": csrf_of(page), "chapter": "wenzhou", "format": "wecom", "url": robot.url},
    )
    assert other.status_code == 422 and "请从列表中选择。" in other.text
    added = browser.post(
        "/console/robots",
        data={
            "csrf": csrf_of(page),
            "chapter": "ningbo",
            "format": "wecom",
            "url": robot.url,
            "reminders": "on",
        },
    )
    assert added.status_code == 200 and "群机器人已添加" in added.text and "企业微信" in added.text
    robot_id = added.text.split('id="robot-', 1)[1].split('"', 1)[0]
    tested = browser.post(f"/console/robots/{robot_id}/test", data={"csrf": csrf_of(added.text)})
    assert "测试消息已送达群里。" in tested.text and len(robot.posts) == 1
    robot.answers.append((404, "not found"))
    failed = browser.post(f"/console/robots/{robot_id}/test", data={"csrf": csrf_of(added.text)})
    assert failed.status_code == 502 and "测试消息未送达：群机器人（企业微信）返回 HTTP 404" in failed.text
    wenzhou = signed_in(client, db, "li.wz", "chapter", "wenzhou")
    theirs = wenzhou.get("/console/robots").text
    assert "127.0.0.1" not in theirs
    assert (
        wenzhou.post(f"/console/robots/{robot_id}/delete", data={"csrf": csrf_of(theirs)}).status_code == 403
    )
    removed = browser.post(f"/console/robots/{robot_id}/delete", data={"csrf": csrf_of(added.text)})
    assert "群机器人已删除。" in removed.text and "本分会还没有群机器人。" in removed.text
