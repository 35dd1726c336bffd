"""节假日安排 in Chromium (zh-CN): the province office enters next year's holidays from the State
Council's notice, a provisional session on New Year's Day moves to the first working day, and the
page says so; the form on a phone. Screenshots in test-artifacts/console."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete

from scheduler.db.models import HolidayYearRow
from scheduler.db.session import Database
from scheduler.domain import holidays as holiday_data
from scheduler.i18n import translator
from tests.browser.test_console import shot, sign_in
from tests.support.browser import Console
from tests.support.factories import holiday_notice, weekend_before
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser

NEXT = datetime.now(UTC).year + 1
#: the notice by the names the page shows (中秋 left empty: joined with 国庆节)
NOTICE = {translator("zh-CN").holiday(name): days for name, days in holiday_notice(NEXT).items() if days[0]}


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "保存…？" is answered yes
    yield page
    context.close()


@pytest.fixture
def entered_away(console: Console) -> Iterator[None]:
    """The year entered here is taken out again: the other browser tests share this server."""
    yield
    db = Database(console.database_url)
    with db.session() as session:
        session.execute(delete(HolidayYearRow).where(HolidayYearRow.year == NEXT))
    db.dispose()


def test_the_office_enters_next_years_holidays_and_the_session_on_new_years_day_moves(
    desk: Page, phone: Page, console: Console, artifacts: Path, entered_away: None
) -> None:
    days_to = (datetime(NEXT, 1, 1, tzinfo=UTC) - datetime.now(UTC)).days + 1
    seeded = seed_session(
        console,
        "宁波 · 新年第一场项目对接会",
        "ningbo",
        days=days_to,
        people=[("王晓明", "宁波锦程服饰有限公司", "accepted")],
        skip_holidays="cn-statutory-shift",
        plan=True,
    )
    page = desk
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/console/holidays")
    row = page.locator(f"#year-{NEXT}")
    if NEXT in holiday_data._known_years():  # the package caught up: the page shows it, asks nothing
        expect(row).to_contain_text("系统内置")
        row.get_by_role("link", name="查看").click()
        expect(page.locator("#holiday-form input[type=date]").first).to_be_disabled()
        expect(page.get_by_role("button", name="保存并通知会员")).to_have_count(0)
        return
    expect(row).to_contain_text("尚未录入")
    row.get_by_role("link", name="录入").click()
    expect(page.get_by_role("heading", name=f"{NEXT} 年放假安排")).to_be_visible()
    for name, (first, last) in NOTICE.items():
        named = page.locator(".holiday-name", has_text=re.compile(rf"^\s*{name}"))
        block = page.locator(".holiday-break", has=named)
        block.get_by_label("放假第一天").fill(first)
        block.get_by_label("最后一天").fill(last)
    worked = page.get_by_label(re.compile(r"^调休上班日 1$"))
    worked.fill(weekend_before(date(NEXT, 2, 9)).isoformat())
    shot(page, artifacts, "holidays-form")
    page.get_by_role("button", name="保存并通知会员").click()
    expect(page.locator("#holidays-result")).to_contain_text("已保存。1 场活动改期，0 场活动取消")
    expect(page.locator(f"#year-{NEXT}")).to_contain_text("工作人员录入")
    shot(page, artifacts, "holidays-saved")

    page.goto(f"{console.base}/console/series/{seeded.series_id}")
    expect(page.locator("main")).to_contain_text(f"{NEXT}年1月4日")  # the first working day after 1–3 January

    sign_in(phone, console, "admin")
    phone.goto(f"{console.base}/console/holidays?year={NEXT}")
    expect(phone.locator("#holiday-form")).to_be_visible()
    assert int(phone.evaluate("document.documentElement.scrollWidth")) <= 390
    shot(phone, artifacts, "phone-holidays")
