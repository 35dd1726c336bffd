"""Every console page and every public page on a 390 px phone (Chromium, zh-CN): nothing makes
the page scroll sideways — wide tables scroll inside their own box or become one card per row,
the navigation wraps, forms take the screen's width."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console import shot, sign_in
from tests.support.browser import PHONE_WIDTH, Console
from tests.support.seeds import fail_one, seed_session

pytestmark = pytest.mark.browser

WIDTH = PHONE_WIDTH


def a_busy_session(console: Console) -> tuple[str, str, str]:
    """A capped series with a long title and venue, two members with long addresses (one
    waiting), planned notices and one failed: every page has something wide to show.
    (series id, stamp, member id)"""
    people = [
        ("王晓明", "宁波锦程服饰有限公司", "accepted"),
        ("李娜", "浙江森马服饰股份有限公司", "accepted"),
    ]
    seeded = seed_session(
        console,
        "宁波 · 智能制造与数字化打样项目对接会（第三期，面向中小服装企业）",
        "ningbo",
        days=3,
        people=people,
        plan=True,
        domain="a-member-firm-with-a-rather-long-domain-name.example",
        venue="宁波国际会展中心 3号馆二楼 301–305 联合会议室（东门进，凭邀请函入场）",
        rrule="FREQ=WEEKLY;COUNT=6",
        capacity=1,
    )
    detail = "5.1.1 <p0@a-member-firm-with-a-rather-long-domain-name.example> mailbox unavailable"
    fail_one(console, seeded.series_id, "smtp-reply", {"code": 550, "text": detail})
    return str(seeded.series_id), seeded.stamp, str(seeded.members[0])


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
        f"/series/{series_id}/occurrences/{stamp}/outcomes",
        "/members",
        f"/members/{member_id}",
        "/ledger",
        f"/ledger?series={series_id}",
        "/joins",
        "/replies",
        "/bounces",
        "/robots",
        "/feeds",
        "/accounts",
        "/password",
        "/reports",
        "/holidays",
        f"/holidays?year={datetime.now(UTC).year + 1}",
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
    series_id, stamp, _ = a_busy_session(console)
    pages = ["/", f"/sessions/{series_id}/{stamp}", "/join", "/join/ningbo", "/me/sign-in"]
    wide = {path: width for path in pages if (width := fits(phone, console.base + path)) > WIDTH}
    assert wide == {}, f"pages wider than a {WIDTH} px phone: {wide}"
    phone.goto(console.base + "/")
    expect(phone.locator("h1")).to_have_text("浙江省服装行业协会 · 近期交流活动")
    venue = phone.get_by_text("宁波国际会展中心 3号馆二楼").first
    box = venue.bounding_box()
    assert box is not None and box["width"] > WIDTH / 2, f"the venue is squeezed to {box} px"
    shot(phone, artifacts, "phone-public-sessions")
