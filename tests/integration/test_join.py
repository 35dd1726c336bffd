"""Joining a chapter: double opt-in by the mail's button, one mail per address however often the
form is posted, no telling who is a member, and staff approval where the chapter wants it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import ChapterRow, JoinRequestRow, MemberRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.ops.config import Settings
from tests.support.console import csrf_of as console_csrf
from tests.support.console import signed_in
from tests.support.members import link_in, mails_to, outbox, press

LI = {
    "name": "李娜",
    "company": "欧嘉服饰",
    "email": "Li.Na@Oujia.example",
    "chapter": "ningbo",
    "locale": "zh-CN",
}


@pytest.fixture
def phone(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url="https://testserver", follow_redirects=False)


def members(db: Database) -> list[tuple[str, str, str]]:
    with db.session() as session:
        return sorted((m.email, m.chapter, m.locale) for m in session.scalars(select(MemberRow)))


def test_joining_takes_the_confirmation_mails_button_and_signs_the_new_member_in(
    phone: TestClient, db: Database, settings: Settings
) -> None:
    assert "/join/ningbo" in phone.get("/").text
    asked = phone.post("/join/ningbo", data=LI)
    assert asked.status_code == 200 and "请查收发到 li.na@oujia.example 的确认邮件" in asked.text
    [mail] = mails_to(settings, "li.na@oujia.example")
    assert mail["Subject"] == "确认加入宁波分会"
    link = link_in(mail, "join/confirm/")
    for method in ("GET", "HEAD", "GET"):  # scanners first: nothing is made, the link stays good
        assert phone.request(method, link).status_code == 200
    assert members(db) == []
    assert "确认加入宁波分会？" in phone.get(link).text
    joined = press(phone, link)
    assert joined.status_code == 303 and joined.headers["location"] == "/me?done=joined"  # type: ignore[attr-defined]
    assert members(db) == [("li.na@oujia.example", "ningbo", "zh-CN")]
    with db.session() as session:
        assert [(s.target_type, s.target) for s in session.scalars(select(SubscriptionRow))] == [
            ("chapter", "ningbo")
        ]
    page = phone.get("/me?done=joined").text
    assert "欢迎加入" in page and "李娜，你好" in page
    assert phone.get(link).status_code == 404  # once


def test_one_mail_per_address_however_often_the_form_is_posted_and_members_are_not_told_apart(
    phone: TestClient, client: TestClient, admin: dict, settings: Settings
) -> None:
    client.post(
        "/api/v1/members",
        json={"name": "陈静", "email": "chen@lihua.example", "chapter": "ningbo"},
        headers=admin,
    )
    answers = [phone.post("/join/ningbo", data=LI) for _ in range(6)]
    assert {a.status_code for a in answers} == {200}
    assert len(mails_to(settings, "li.na@oujia.example")) == 1
    known = phone.post("/join/ningbo", data={**LI, "email": "chen@lihua.example"})
    stranger = phone.post("/join/ningbo", data={**LI, "email": "zhao@x.example"})
    assert known.text.replace("chen@lihua.example", "X") == stranger.text.replace("zhao@x.example", "X")
    [to_member] = mails_to(settings, "chen@lihua.example")
    assert to_member["Subject"] == "你已经是会员" and "/me/link/" in link_in(to_member, "me/link/")


def test_the_join_form_refuses_bad_fields_by_name_and_limits_each_client(
    phone: TestClient, settings: Settings
) -> None:
    bad = phone.post("/join/ningbo", data={**LI, "name": "李\r\n娜", "company": "x" * 201, "email": "li@"})
    assert bad.status_code == 422
    assert "只能填一行" in bad.text and "最多 200 个字符" in bad.text and "这不是有效的邮箱地址" in bad.text
    assert bad.text.count('aria-invalid="true"') == 3
    province = phone.post("/join/ningbo", data={**LI, "chapter": "province"})  # one joins a city chapter
    assert province.status_code == 422 and "这个值无效" in province.text
    english = phone.post("/join/ningbo?lang=en", data={**LI, "name": ""})
    assert english.status_code == 422 and "Please fill this in." in english.text
    codes = [
        phone.post("/join/ningbo", data={**LI, "email": f"p{i}@x.example"}).status_code for i in range(11)
    ]
    assert codes == [200] * 10 + [429]
    assert len(outbox(settings)) == 10


def test_a_chapter_that_approves_newcomers_keeps_them_waiting_for_its_staff(
    phone: TestClient, client: TestClient, db: Database, settings: Settings
) -> None:
    staff = signed_in(client, db, "ningbo-staff", role="chapter", chapter="ningbo")
    page = staff.get("/console/joins")
    assert page.status_code == 200 and "新会员需要工作人员审核" in page.text
    saved = staff.post(
        "/console/joins/rules/ningbo", data={"csrf": console_csrf(page.text), "approval": "on"}
    )
    assert saved.status_code == 200 and "审核规则已保存" in saved.text
    with db.session() as session:
        assert session.get(ChapterRow, "ningbo").join_approval is True  # type: ignore[union-attr]
    for person in (LI, {**LI, "name": "赵六", "email": "zhao@x.example"}):
        phone.post("/join/ningbo", data=person)
        [mail] = mails_to(settings, person["email"])
        assert "工作人员审核" in phone.get(link_in(mail, "join/confirm/")).text
        done = press(phone, link_in(mail, "join/confirm/"))
        assert done.status_code == 200 and "等待宁波分会工作人员审核" in done.text  # type: ignore[attr-defined]
    assert members(db) == []
    listed = staff.get("/console/joins").text
    assert "李娜" in listed and "赵六" in listed
    with db.session() as session:
        ids = {r.email: r.id for r in session.scalars(select(JoinRequestRow))}
    other = signed_in(client, db, "yiwu-staff", role="chapter", chapter="yiwu")
    refused = other.post(
        f"/console/joins/{ids['li.na@oujia.example']}/approve",
        data={"csrf": console_csrf(other.get("/console/joins").text)},
    )
    assert refused.status_code == 403 and "李娜" not in other.get("/console/joins").text
    csrf = console_csrf(listed)
    assert (
        staff.post(f"/console/joins/{ids['li.na@oujia.example']}/approve", data={"csrf": csrf}).status_code
        == 200
    )
    assert (
        staff.post(f"/console/joins/{ids['zhao@x.example']}/reject", data={"csrf": csrf}).status_code == 200
    )
    assert members(db) == [("li.na@oujia.example", "ningbo", "zh-CN")]
    with db.session() as session:
        assert session.scalars(select(JoinRequestRow)).all() == []
    [welcome] = [m for m in mails_to(settings, "li.na@oujia.example") if m["Subject"] == "欢迎加入宁波分会"]
    assert press(phone, link_in(welcome, "me/link/")).status_code == 303
    assert len(mails_to(settings, "zhao@x.example")) == 1  # the confirmation only: no mail on rejection
