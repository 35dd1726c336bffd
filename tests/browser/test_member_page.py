"""A member on a phone (Chromium, zh-CN, 390 px): signs in by the emailed link, answers a session,
switches the page to English, unsubscribes from a series' emails; and a newcomer joins a chapter
and confirms by the mail's button. Against ``exsched serve all``, mail read from its outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduler.db.models import MemberRow, RsvpRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.members import create_member, subscribe
from scheduler.domain.series import create_series
from scheduler.notices.planner import request_plan
from schemas.api import MemberCreate, SeriesCreate, SubscriptionCreate
from schemas.names import Role
from tests.support.api import series_body
from tests.support.browser import PHONE_WIDTH, Console, link, mail_to, plain
from tests.support.processes import local

pytestmark = pytest.mark.browser
ADMIN = Principal(Role.ADMIN)
WIDTH = PHONE_WIDTH


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide on a {WIDTH} px phone"


def test_a_member_signs_in_answers_switches_to_english_and_unsubscribes_on_a_phone(
    phone: Page, console: Console, artifacts: Path
) -> None:
    db = Database(console.database_url)
    address = "chen.me@lihua.example"
    with db.session() as session:
        member = create_member(
            session, MemberCreate(name="陈静", email=address, company="丽华服饰", chapter="ningbo"), ADMIN
        )
        subscribe(session, member, SubscriptionCreate(chapter="ningbo"), ADMIN)
        body = series_body(
            title="宁波 · 面料供应对接会", dtstart=local(datetime.now(UTC) + timedelta(days=3)), rrule=None
        )
        series = create_series(session, SeriesCreate.model_validate(body), ADMIN, console.base)
        request_plan(session, series_ids=[series.id])
        member_id = member.id
    invitation = mail_to(console.outbox, address, lambda m: "/rsvp/" in plain(m))

    phone.goto(f"{console.base}/me")
    expect(phone.get_by_role("heading", name="登录我的活动页")).to_be_visible()
    phone.get_by_label("邮箱地址").fill(address)
    phone.get_by_role("button", name="发送登录链接").click()
    expect(phone.get_by_text("登录链接已经发出")).to_be_visible()
    signin = mail_to(console.outbox, address, lambda m: m["Subject"] == "登录我的活动页")
    phone.goto(link(signin, "/me/link/"))
    expect(phone.get_by_role("heading", name="以 陈静 的身份登录？")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-signin-confirm.png"), full_page=True)
    phone.get_by_role("button", name="登录").click()
    expect(phone.get_by_role("heading", name="陈静，你好")).to_be_visible()
    expect(phone.get_by_text("宁波 · 面料供应对接会", exact=True)).to_be_visible()
    fits(phone)

    phone.get_by_role("button", name="参加", exact=True).click()
    expect(phone.get_by_text("你已回复：参加")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-page.png"), full_page=True)
    with db.session() as session:
        [answer] = session.scalars(select(RsvpRow).where(RsvpRow.member_id == member_id))
        assert (answer.response, answer.source) == ("accepted", "member-page")

    phone.get_by_label("语言").select_option("en")
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_role("heading", name="Hello, 陈静")).to_be_visible()
    expect(phone.get_by_text("Saved.")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-page-en.png"), full_page=True)
    fits(phone)

    phone.goto(link(invitation, "/unsubscribe/"))
    expect(phone.get_by_text("Stop emails about “宁波 · 面料供应对接会”?")).to_be_visible()
    expect(phone.get_by_text("following all sessions of the Ningbo chapter")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-unsubscribe.png"), full_page=True)
    with db.session() as session:  # opening it ended nothing
        assert session.scalars(select(SubscriptionRow).where(SubscriptionRow.member_id == member_id)).all()
    phone.get_by_role("button", name="Unsubscribe").click()
    expect(phone.get_by_text("Done: you will get no more emails")).to_be_visible()
    fits(phone)
    with db.session() as session:
        assert (
            session.scalars(select(SubscriptionRow).where(SubscriptionRow.member_id == member_id)).all() == []
        )
    db.dispose()


def test_a_newcomer_joins_a_chapter_on_a_phone_and_confirms_by_the_mails_button(
    phone: Page, console: Console, artifacts: Path
) -> None:
    phone.goto(console.base)
    phone.locator('a[href="/join/ningbo"]').click()
    expect(phone.get_by_role("heading", name="申请加入分会")).to_be_visible()
    phone.get_by_label("姓名").fill("李娜")
    phone.get_by_label("公司").fill("欧嘉服饰")
    phone.get_by_label("邮箱地址").fill("li.na@oujia.example")
    phone.screenshot(path=str(artifacts / "member-join.png"), full_page=True)
    fits(phone)
    phone.get_by_role("button", name="提交申请").click()
    expect(phone.get_by_text("请查收发到 li.na@oujia.example 的确认邮件")).to_be_visible()
    mail = mail_to(console.outbox, "li.na@oujia.example", lambda m: "确认加入" in str(m["Subject"]))
    phone.goto(link(mail, "/join/confirm/"))
    expect(phone.get_by_role("heading", name="确认加入宁波分会？")).to_be_visible()
    db = Database(console.database_url)
    with db.session() as session:
        assert session.scalar(select(MemberRow).where(MemberRow.email == "li.na@oujia.example")) is None
    phone.get_by_role("button", name="确认加入").click()
    expect(phone.get_by_text("欢迎加入！")).to_be_visible()
    expect(phone.get_by_role("heading", name="李娜，你好")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-joined.png"), full_page=True)
    fits(phone)
    with db.session() as session:
        joined = session.scalar(select(MemberRow).where(MemberRow.email == "li.na@oujia.example"))
        assert joined is not None and joined.chapter == "ningbo"
    db.dispose()
