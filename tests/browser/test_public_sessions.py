"""The public sessions page on a phone (Chromium, zh-CN, 390 px): a session five months off is
listed and opens its own page (when, where with a map link, add to calendar, join); a feed's QR
code, photographed, is the https address of a feed a calendar app can read."""

from __future__ import annotations

import io
from pathlib import Path

import icalendar
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.test_console import shot
from tests.support.browser import PHONE_WIDTH, Console
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser

TITLE = "绍兴 · 年度面辅料对接大会"
VENUE = "绍兴国际会展中心 A馆"


def test_a_far_session_opens_its_own_page_with_a_calendar_file(
    phone: Page, console: Console, artifacts: Path, tmp_path: Path
) -> None:
    seed_session(console, TITLE, "shaoxing", days=150, venue=VENUE, kind="project-docking")
    phone.goto(console.base + "/")
    phone.get_by_role("link", name=TITLE).click()
    expect(phone.locator("h1")).to_have_text(TITLE)
    expect(phone.locator("#when")).to_contain_text("北京时间")
    expect(phone.locator("#where")).to_contain_text(VENUE)
    expect(phone.get_by_role("link", name="在地图上查看")).to_have_attribute(
        "href",
        "https://uri.amap.com/search?keyword=%E7%BB%8D%E5%85%B4%E5%9B%BD%E9%99%85%E4%BC%9A%E5%B1%95%E4%B8%AD%E5%BF%83%20A%E9%A6%86",
    )
    expect(phone.get_by_role("link", name="申请加入绍兴分会")).to_have_attribute("href", "/join/shaoxing")
    expect(phone.get_by_role("link", name="会员登录并回复")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    shot(phone, artifacts, "phone-public-session")

    with phone.expect_download() as got:
        phone.get_by_role("link", name="加入日历").click()
    saved = tmp_path / "session.ics"
    got.value.save_as(saved)
    [event] = icalendar.Calendar.from_ical(saved.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == TITLE and str(event["LOCATION"]) == VENUE


def test_a_photo_of_a_feeds_qr_code_is_a_feed_a_calendar_reads(
    phone: Page, console: Console, artifacts: Path
) -> None:
    seed_session(console, "湖州 · 童装技术交流会", "huzhou", days=20)
    phone.goto(console.base + "/")
    feeds = phone.locator("#huzhou + div.feeds")
    expect(feeds.locator("a.webcal")).to_have_text("订阅湖州日历")
    feeds.get_by_text("扫码订阅").click()
    code = feeds.locator("details.feed svg")
    expect(code).to_be_visible()
    shot(phone, artifacts, "phone-public-feed-qr")
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())).convert("L"))
    assert read.text == f"{console.base}/calendars/chapters/huzhou.ics"
    expect(feeds.locator("a.https-link")).to_have_attribute("href", read.text)
    feed = phone.request.get(read.text)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    assert "湖州 · 童装技术交流会" in feed.text()
