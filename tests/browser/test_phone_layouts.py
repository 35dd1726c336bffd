"""Every console page and every public page on a 390 px phone (Chromium, zh-CN): nothing makes
the page scroll sideways — wide tables scroll inside their own box or become one card per row,
the navigation wraps, forms take the screen's width."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import MemberRow, NoticeRow, SeriesRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series, occurrences
from scheduler.notices.answers import answer
from scheduler.notices.planner import Planner
from schemas.api import SeriesCreate
from schemas.ids import recurrence_stamp
from schemas.names import Role
from tests.browser.test_console import SHANGHAI, shot, sign_in
from tests.support.api import series_body
from tests.support.browser import Console

pytestmark = pytest.mark.browser

WIDTH = 390


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": WIDTH, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    yield context.new_page()
    context.close()


def a_busy_session(console: Console) -> tuple[str, str, str]:
    """A capped series with a long title, venue and agenda, two members (one waiting), planned
    notices and one failed: every page has something wide to show. (series id, stamp, member id)"""
    db = Database(console.database_url)
    tag = uuid.uuid4().hex[:8]  # the module's tests share one database
    first = (datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    body = series_body(
        title="宁波 · 智能制造与数字化打样项目对接会（第三期，面向中小服装企业）",
        chapter="ningbo",
        venue="宁波国际会展中心 3号馆二楼 301–305 联合会议室（东门进，凭邀请函入场）",
        dtstart=first.isoformat(),
        rrule="FREQ=WEEKLY;COUNT=6",
    )
    with db.session() as session:
        made = SeriesCreate.model_validate(body | {"capacity": 1})
        series_id = create_series(session, made, Principal(role=Role.ADMIN), console.base).id
    with db.session() as session:
        row = session.scalar(
            select(SeriesRow).where(SeriesRow.id == series_id).options(selectinload(SeriesRow.overrides))
        )
        assert row is not None
        occ = occurrences(row, ChineseStatutoryCalendar())[0]
        ids = []
        for n, (name, company) in enumerate(
            (("王晓明", "宁波锦程服饰有限公司"), ("李娜", "浙江森马服饰股份有限公司"))
        ):
            member = MemberRow(
                name=name,
                email=f"a.rather.long.address.{n}.{tag}@a-member-firm-with-a-long-domain.example",
                company=company,
                chapter="ningbo",
                feed_token=f"phone{tag}{n:019d}",
            )
            session.add(member)
            session.flush()
            session.add(SubscriptionRow(member_id=member.id, target_type="chapter", target="ningbo"))
            answer(session, row, occ, member.id, "accepted", datetime.now(UTC), source="staff")
            ids.append(member.id)
        stamp = recurrence_stamp(occ.recurrence_id)
    Planner(db, ChineseStatutoryCalendar()).plan_series(series_id)
    with db.session() as session:
        failed = session.scalars(select(NoticeRow).where(NoticeRow.kind == "reminder")).first()
        assert failed is not None
        failed.status, failed.reason_code = "failed", "smtp-reply"
        failed.reason_params = {
            "code": 550,
            "text": "5.1.1 <a.rather.long.address.0@example> mailbox unavailable",
        }
    db.dispose()
    return str(series_id), stamp, str(ids[0])


def fits(page: Page, url: str) -> int:
    page.goto(url)
    expect(page.locator("body")).to_be_visible()
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    if width > WIDTH:  # name the culprits in the failure
        print(url, page.evaluate(WIDEST))
    return width


#: The elements reaching past the screen's right edge (the first few, innermost last).
WIDEST = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(-6)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
"""


def test_every_console_page_fits_a_phone(phone: Page, console: Console, artifacts: Path) -> None:
    series_id, stamp, member_id = a_busy_session(console)
    base = f"{console.base}/console"
    page = phone
    signed_out = fits(page, f"{base}/login")
    sign_in(page, console, "admin")
    pages = [
        "/home",
        "/series",
        "/series/new",
        f"/series/{series_id}",
        f"/series/{series_id}/edit",
        f"/series/{series_id}/occurrences/{stamp}",
        f"/series/{series_id}/occurrences/{stamp}/checkin",
        "/members",
        f"/members/{member_id}",
        "/ledger",
        f"/ledger?series={series_id}",
        "/joins",
        "/replies",
        "/bounces",
        "/robots",
        "/feeds",
    ]
    wide = {path: width for path in pages if (width := fits(page, base + path)) > WIDTH}
    if signed_out > WIDTH:
        wide["/login"] = signed_out
    assert wide == {}, f"pages wider than a {WIDTH} px phone: {wide}"
    for path, name in (
        ("/home", "phone-home"),
        (f"/series/{series_id}/occurrences/{stamp}", "phone-session"),
        ("/ledger", "phone-ledger"),
        ("/series", "phone-series"),
    ):
        page.goto(base + path)
        shot(page, artifacts, name)


def test_every_public_page_fits_a_phone(phone: Page, console: Console, artifacts: Path) -> None:
    a_busy_session(console)
    pages = ["/", "/join", "/join/ningbo", "/me/sign-in"]
    wide = {path: width for path in pages if (width := fits(phone, console.base + path)) > WIDTH}
    assert wide == {}, f"pages wider than a {WIDTH} px phone: {wide}"
    phone.goto(console.base + "/")
    expect(phone.locator("h1")).to_have_text("浙江省服装行业协会 · 近期交流活动")
    venue = phone.get_by_text("宁波国际会展中心 3号馆二楼").first
    box = venue.bounding_box()
    assert box is not None and box["width"] > WIDTH / 2, f"the venue is squeezed to {box} px"
    shot(phone, artifacts, "phone-public-sessions")
