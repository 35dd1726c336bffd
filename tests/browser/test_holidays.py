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
from tests.browser.test_console import shot, sign_in
from tests.support.browser import Console
from tests.support.factories import weekend_before
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser

NEXT = datetime.now(UTC).year + 1
NOTICE = {
    "元旦": (f"{NEXT}-01-01", f"{NEXT}-01-03"),
    "春节": (f"{NEXT}-02-10", f"{NEXT}-02-16"),
    "清明": (f"{NEXT}-04-04", f"{NEXT}-04-06"),
    "劳动节": (f"{NEXT}-05-01", f"{NEXT}-05-05"),
    "端午": (f"{NEXT}-06-09", f"{NEXT}-06-11"),
    "国庆节": (f"{NEXT}-10-01", f"{NEXT}-10-08"),
}


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
    if NEXT in holiday_data._known_years():
        pytest.skip(f"the installed holiday data has {NEXT}: the console does not ask for it")
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
    expect(row).to_contain_text("尚未录入")
    row.get_by_role("link", name="录入").click()
    expect(page.get_by_role("heading", name=f"{NEXT} 年放假安排")).to_be_visible()
    for number, (name, (first, last)) in enumerate(NOTICE.items()):
        named = page.locator(".holiday-name", has_text=re.compile(rf"^\s*{name}"))
        block = page.locator(".holiday-break", has=named)
        block.get_by_label("放假第一天").fill(first)
        block.get_by_label("最后一天").fill(last)
        assert number < 7
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
