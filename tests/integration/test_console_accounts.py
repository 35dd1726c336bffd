"""Accounts in the console (the province office adds, disables, enables and resets chapter staff;
a temporary password must be replaced first), bulk actions on members, and searching series."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import MemberRow, NoticeRow, StaffRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices.planner import Planner
from tests.integration.test_public_sessions import local_in
from tests.support.api import create_series
from tests.support.console import csrf_of, signed_in, try_sign_in


def sign_in(client: TestClient, username: str, password: str) -> tuple[TestClient, int, str]:
    """A new browser trying to sign in: (browser, status, where it was sent)."""
    browser, answer = try_sign_in(client, username, password)
    return browser, answer.status_code, answer.headers.get("location", "")


def post(browser: TestClient, path: str, form_page: str, **data: str | list[str]) -> Any:
    return browser.post(
        path, data={"csrf": csrf_of(browser.get(form_page).text), **data}, follow_redirects=False
    )


def temporary_of(html: str) -> str:
    found = re.search(r'<code id="temporary-password">([a-z0-9-]+)</code>', html)
    assert found, html
    return found.group(1)


def test_the_province_office_opens_an_account_whose_temporary_password_must_be_replaced(
    client: TestClient, db: Database
) -> None:
    office = signed_in(client, db, "office")
    added = office.post(
        "/console/accounts",
        data={
            "csrf": csrf_of(office.get("/console/accounts").text),
            "display_name": "王芳",
            "username": "Ningbo.Wang",
            "role": "chapter",
            "chapter": "ningbo",
        },
    )
    assert added.status_code == 200 and "王芳（登录名 ningbo.wang）的临时密码" in added.text
    temporary = temporary_of(added.text)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", temporary)
    assert temporary not in office.get("/console/accounts").text  # shown once
    with db.session() as session:
        row = session.scalar(select(StaffRow).where(StaffRow.username == "ningbo.wang"))
        assert row is not None and (row.role, row.chapter, row.must_change_password) == (
            "chapter",
            "ningbo",
            True,
        )

    wang, status, where = sign_in(client, "ningbo.wang", temporary)
    assert (status, where) == (303, "/console/home")
    for path in ("/console/home", "/console/series", "/console/members"):  # nothing before a new password
        sent = wang.get(path, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/console/password", path
    form = wang.get("/console/password").text
    assert "临时密码" in form
    mismatch = wang.post(
        "/console/password",
        data={
            "csrf": csrf_of(form),
            "current": temporary,
            "new": "绸缎与棉麻的面料对接会",
            "again": "绸缎与棉麻",
        },
    )
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    wrong = wang.post(
        "/console/password",
        data={
            "csrf": csrf_of(form),
            "current": "not-it-at-all",
            "new": "绸缎与棉麻的面料对接会",
            "again": "绸缎与棉麻的面料对接会",
        },
    )
    assert wrong.status_code == 422 and "当前密码不对" in wrong.text
    short = wang.post(
        "/console/password", data={"csrf": csrf_of(form), "current": temporary, "new": "短", "again": "短"}
    )
    assert short.status_code == 422 and "至少需要 10 个字符" in short.text
    done = wang.post(
        "/console/password",
        data={
            "csrf": csrf_of(form),
            "current": temporary,
            "new": "绸缎与棉麻的面料对接会",
            "again": "绸缎与棉麻的面料对接会",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/home?done=password.changed"
    home = wang.get("/console/home")  # the same browser stays signed in with the new session
    assert home.status_code == 200 and "新密码已保存" in wang.get("/console/home?done=password.changed").text
    assert sign_in(client, "ningbo.wang", temporary)[1] == 401
    assert sign_in(client, "ningbo.wang", "绸缎与棉麻的面料对接会")[2] == "/console/home"
    assert wang.get("/console/accounts").status_code == 403  # chapter staff: not theirs to manage


def test_disabling_ends_the_session_and_a_reset_replaces_the_password(
    client: TestClient, db: Database
) -> None:
    office = signed_in(client, db, "office")
    li = signed_in(client, db, "shaoxing.li", role="chapter", chapter="shaoxing")
    assert li.get("/console/series").status_code == 200
    with db.session() as session:
        li_id = session.scalar(select(StaffRow.id).where(StaffRow.username == "shaoxing.li"))
        office_id = session.scalar(select(StaffRow.id).where(StaffRow.username == "office"))

    disabled = post(office, f"/console/accounts/{li_id}/disable", "/console/accounts")
    assert disabled.status_code == 303
    assert li.get("/console/series", follow_redirects=False).status_code == 303  # signed out at once
    assert 'data-state="disabled"' in office.get("/console/accounts").text
    assert sign_in(client, "shaoxing.li", "correct horse battery")[1] == 401

    assert post(office, f"/console/accounts/{li_id}/enable", "/console/accounts").status_code == 303
    reset = post(office, f"/console/accounts/{li_id}/reset", "/console/accounts")
    temporary = temporary_of(reset.text)
    browser, status, _ = sign_in(client, "shaoxing.li", temporary)
    assert (
        status == 303
        and browser.get("/console/home", follow_redirects=False).headers["location"] == "/console/password"
    )

    for action in ("disable", "reset"):  # not one's own account: that is the password page's
        refused = post(office, f"/console/accounts/{office_id}/{action}", "/console/accounts")
        assert refused.status_code == 409 and "不能停用或重置自己的账号" in refused.text


def test_an_account_form_says_what_is_wrong_next_to_the_field(client: TestClient, db: Database) -> None:
    office = signed_in(client, db, "office")
    page = office.get("/console/accounts").text
    cases = [
        (
            {"username": "王芳", "display_name": "王芳", "role": "chapter", "chapter": "ningbo"},
            "err-username",
            "登录名只能用",
        ),
        (
            {"username": "office", "display_name": "另一人", "role": "admin", "chapter": ""},
            "err-username",
            "已有同名账号",
        ),
        (
            {"username": "jx.zhao", "display_name": "赵", "role": "chapter", "chapter": ""},
            "err-chapter",
            "须选择所属分会",
        ),
        (
            {"username": "jx.zhao", "display_name": "", "role": "chapter", "chapter": "jiaxing"},
            "err-display_name",
            "此项必填",
        ),
        (
            {"username": "jx.zhao", "display_name": "赵" * 201, "role": "chapter", "chapter": "jiaxing"},
            "err-display_name",
            "最多 200 个字符",
        ),
    ]
    for data, field, words in cases:
        answer = office.post("/console/accounts", data={"csrf": csrf_of(page), **data})
        assert answer.status_code == 422 and f'id="{field}"' in answer.text and words in answer.text, data
    with db.session() as session:
        assert session.scalar(select(StaffRow).where(StaffRow.username == "jx.zhao")) is None


def members_of(db: Database, chapter: str, names: list[str]) -> list[str]:
    with db.session() as session:
        made = [
            MemberRow(
                name=n,
                email=f"{n}.{chapter}@firm.example",
                company="锦程服饰",
                chapter=chapter,
                feed_token=f"t{chapter}{i:030d}",
            )
            for i, n in enumerate(names)
        ]
        session.add_all(made)
        session.flush()
        return [str(m.id) for m in made]


def test_ticked_members_are_subscribed_unsubscribed_and_moved_at_once(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    series = create_series(client, admin, title="宁波 · 面料对接会", dtstart=local_in(10), rrule=None)
    ids = members_of(db, "ningbo", ["zhang", "li", "zhao"])
    other = members_of(db, "shaoxing", ["sun"])
    staff = signed_in(client, db, "nb", role="chapter", chapter="ningbo")

    subscribed = post(
        staff,
        "/console/members/bulk",
        "/console/members",
        action="subscribe",
        target=f"series:{series['id']}",
        member=ids[:2],
    )
    assert (
        subscribed.status_code == 200
        and "已为 2 位成员订阅系列：宁波 · 面料对接会；0 位原本已订阅" in subscribed.text
    )
    again = post(
        staff,
        "/console/members/bulk",
        "/console/members",
        action="subscribe",
        target=f"series:{series['id']}",
        member=ids,
    )
    assert "已为 1 位成员订阅系列：宁波 · 面料对接会；2 位原本已订阅" in again.text
    with db.session() as session:
        follows = set(
            session.scalars(select(SubscriptionRow.member_id).where(SubscriptionRow.target == series["id"]))
        )
        assert {str(i) for i in follows} == set(ids)
        asked = {str(m.id) for m in session.scalars(select(MemberRow)) if m.plan_requested_at is not None}
        assert asked >= set(ids)  # the planner looks at them at once, as for one member
    Planner(db, ChineseStatutoryCalendar()).plan_requested()
    with db.session() as session:
        invited = set(session.scalars(select(NoticeRow.member_id).where(NoticeRow.kind == "invitation")))
        assert {str(i) for i in invited} == set(ids)

    gone = post(
        staff,
        "/console/members/bulk",
        "/console/members",
        action="unsubscribe",
        target=f"series:{series['id']}",
        member=[ids[0]],
    )
    assert "已为 1 位成员取消订阅" in gone.text

    # Another chapter's member among the ticked: refused whole, nothing changes.
    mixed = post(
        staff,
        "/console/members/bulk",
        "/console/members",
        action="subscribe",
        target="kind:tech-exchange",
        member=[ids[1], other[0]],
    )
    assert mixed.status_code == 403
    moved = post(
        staff, "/console/members/bulk", "/console/members", action="move", chapter="shaoxing", member=[ids[1]]
    )
    assert moved.status_code == 403 and "只有省协会" in moved.text
    nothing = post(
        staff, "/console/members/bulk", "/console/members", action="subscribe", target="kind:tech-exchange"
    )
    assert nothing.status_code == 422 and "请先在列表中勾选成员" in nothing.text
    with db.session() as session:
        assert (
            session.scalar(select(SubscriptionRow).where(SubscriptionRow.target == "tech-exchange")) is None
        )

    office = signed_in(client, db, "office")
    moved = post(
        office,
        "/console/members/bulk",
        "/console/members",
        action="move",
        chapter="shaoxing",
        member=[ids[1], other[0]],
    )
    assert "已把 1 位成员转到绍兴分会；1 位原本就在那里" in moved.text
    with db.session() as session:
        moved_row = session.get(MemberRow, uuid.UUID(ids[1]))
        assert moved_row is not None and moved_row.chapter == "shaoxing"


def test_series_are_found_by_title_or_venue(client: TestClient, db: Database, admin: dict[str, str]) -> None:
    create_series(client, admin, title="宁波 · 面料对接会", venue="南苑饭店")
    create_series(client, admin, title="宁波 · 数字化技术交流会", venue="会展中心")
    staff = signed_in(client, db, "office")
    by_title = staff.get("/console/series?q=面料").text
    assert "宁波 · 面料对接会" in by_title and "宁波 · 数字化技术交流会" not in by_title
    by_venue = staff.get("/console/series?q=会展").text
    assert "宁波 · 数字化技术交流会" in by_venue and "宁波 · 面料对接会" not in by_venue


def test_members_are_found_by_name_company_or_email(client: TestClient, db: Database) -> None:
    with db.session() as session:
        session.add_all(
            [
                MemberRow(
                    name="王晓明",
                    email="wang@jincheng.example",
                    company="锦程服饰",
                    chapter="ningbo",
                    feed_token="q" * 32,
                ),
                MemberRow(
                    name="李娜",
                    email="li@senma.example",
                    company="森马服饰",
                    chapter="ningbo",
                    feed_token="r" * 32,
                ),
            ]
        )
    staff = signed_in(client, db, "office")
    for q, found, hidden in (
        ("晓明", "王晓明", "李娜"),
        ("森马", "李娜", "王晓明"),
        ("JINCHENG", "王晓明", "李娜"),
    ):
        page = staff.get("/console/members", params={"q": q}).text
        listed = page.split('id="members"', 1)[1]
        assert found in listed and hidden not in listed, q


def test_the_digest_address_is_given_with_a_new_account_and_changed_by_its_owner(
    client: TestClient, db: Database
) -> None:
    office = signed_in(client, db, "office")
    fields = {"display_name": "李娜", "username": "li.wz", "role": "chapter", "chapter": "wenzhou"}
    refused = post(office, "/console/accounts", "/console/accounts", **fields, email="li at wz")
    assert refused.status_code == 422 and 'id="err-email"' in refused.text
    assert 'value="li.wz"' in refused.text  # what was typed stays
    added = post(office, "/console/accounts", "/console/accounts", **fields, email=" Li.Na@WZ.example ")
    assert added.status_code == 200 and "li.na@wz.example" in added.text  # in the list of accounts
    with db.session() as session:
        assert (
            session.scalar(select(StaffRow.email).where(StaffRow.username == "li.wz")) == "li.na@wz.example"
        )

    mine = "/console/password"
    assert 'name="email" value=""' in office.get(mine).text
    bad = post(office, "/console/account/email", mine, email="office@")
    assert bad.status_code == 422 and 'id="err-email"' in bad.text and 'value="office@"' in bad.text
    saved = post(office, "/console/account/email", mine, email="office@assoc.example")
    assert saved.status_code == 303 and "done=account.email_saved" in saved.headers["location"]
    assert 'value="office@assoc.example"' in office.get(mine).text
    cleared = post(office, "/console/account/email", mine, email="")
    assert "done=account.email_cleared" in cleared.headers["location"]
    with db.session() as session:
        assert session.scalar(select(StaffRow.email).where(StaffRow.username == "office")) is None
