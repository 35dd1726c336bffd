"""The reports page in Chromium (zh-CN): the province office sees the chapters side by side with
charts, switches the period and the kind, and downloads the Excel file, which openpyxl reads
back; a chapter's staff see their own chapter only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.test_console import shot, sign_in, tab  # noqa: F401  (tab: a fixture)
from tests.support.browser import Console
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser


def month(days_ago: int) -> str:
    return (
        (datetime.now(UTC) - timedelta(days=days_ago)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    )


def test_the_office_compares_chapters_and_downloads_the_report(
    tab: Page,  # noqa: F811
    console: Console,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    taizhou = [("林", "台州锦绣", "accepted")]
    huzhou = [("陈", "湖州童装", "accepted"), ("吴", "湖州织里", "accepted")]
    seed_session(console, "台州 · 面料对接会", "taizhou", days=-3, people=taizhou, kind="project-docking")
    seed_session(console, "湖州 · 童装技术交流会", "huzhou", days=-5, people=huzhou, kind="tech-exchange")
    page = tab
    sign_in(page, console, "admin")
    page.get_by_role("link", name="报表", exact=True).click()
    expect(page.locator("h1")).to_have_text("活动成效报表")
    report = page.locator("#report")
    expect(report.locator('tr[data-key="taizhou"] td[data-col="accepted"]')).to_have_text("1")
    expect(report.locator('tr[data-key="huzhou"] td[data-col="accepted"]')).to_have_text("2")
    expect(page.locator("#chart-chapters")).to_be_visible()
    bars = page.locator('#chart-attendance rect[data-series="确认参加"]:not([data-value="0"])')
    expect(bars.first).to_be_visible()  # 3 accepted, in one month or two
    shot(page, artifacts, "21-reports")

    filters = page.locator("#report-filters")
    filters.get_by_label("类型").select_option(label="技术交流会")
    filters.get_by_role("button", name="查看").click()
    expect(report.locator('tr[data-key="taizhou"] td[data-col="accepted"]')).to_have_text("0")
    expect(report.locator('tr[data-key="huzhou"] td[data-col="accepted"]')).to_have_text("2")
    earlier = month(400)
    filters.get_by_label("从（月）").fill(earlier)
    filters.get_by_label("到（月）").fill(earlier)
    filters.get_by_role("button", name="查看").click()
    expect(report.locator('tr[data-key="huzhou"] td[data-col="held"]')).to_have_text("0")

    page.goto(f"{console.base}/console/reports?group_by=series")
    with page.expect_download() as got:
        page.get_by_role("link", name="下载 Excel").click()
    saved = tmp_path / "report.xlsx"
    got.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    assert head[0] == "系列" and "确认参加" in head
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["湖州 · 湖州 · 童装技术交流会"]["确认参加"] == 2
    assert rows["台州 · 台州 · 面料对接会"]["举办场次"] == 1

    page.get_by_role("button", name="退出").click()
    sign_in(page, console, "ningbo")
    page.goto(f"{console.base}/console/reports?chapter=huzhou&group_by=chapter")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator('tr[data-key="ningbo"]')).to_be_visible()
    expect(page.locator("#chart-chapters")).to_have_count(0)
