"""Check-in at the door on a phone (390 px, zh-CN), in a real browser: a photo of a member's code
is made small by the page's script and sent (the member is checked in and the page says who, and
that they hold a seat); with no script at all, a name typed finds the person and checks them in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.checkin import code, code_url, qr_png
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series, occurrences
from scheduler.notices.answers import answer
from scheduler.ops.config import DEV_SECRET_KEY
from schemas.api import SeriesCreate
from schemas.ids import recurrence_stamp
from schemas.names import Role
from tests.browser.test_console import SHANGHAI, shot, sign_in
from tests.support.api import series_body
from tests.support.browser import Console

pytestmark = pytest.mark.browser


def phone(browser: Browser, *, script: bool) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=script, is_mobile=True
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def door(browser: Browser) -> Iterator[Page]:
    yield from phone(browser, script=True)


@pytest.fixture
def door_without_script(browser: Browser) -> Iterator[Page]:
    yield from phone(browser, script=False)


def a_session_with_a_waiting_list(console: Console) -> tuple[str, str]:
    """Chen holds the one seat, Li waits; the check-in page's path and Chen's code."""
    db = Database(console.database_url)
    tag = uuid.uuid4().hex[:8]  # the console (and its database) serves the whole module
    first = (datetime.now(UTC).astimezone(SHANGHAI) + timedelta(hours=3)).replace(tzinfo=None, microsecond=0)
    body = series_body(
        title="宁波面料对接会（现场签到）", chapter="ningbo", dtstart=first.isoformat(), rrule=None
    )
    with db.session() as session:
        made = create_series(
            session,
            SeriesCreate.model_validate(body | {"capacity": 1}),
            Principal(role=Role.ADMIN),
            console.base,
        )
        series_id = made.id
    with db.session() as session:
        row = session.scalar(
            select(SeriesRow).where(SeriesRow.id == series_id).options(selectinload(SeriesRow.overrides))
        )
        [occ] = occurrences(row, ChineseStatutoryCalendar())
        ids = []
        for n, (name, company) in enumerate((("陈晓燕", "宁波锦程服饰"), ("李娜", "森马服饰"))):
            member = MemberRow(
                name=name,
                email=f"door{n}.{tag}@checkin.example",
                company=company,
                chapter="ningbo",
                feed_token=uuid.uuid4().hex,
            )
            session.add(member)
            session.flush()
            session.add(SubscriptionRow(member_id=member.id, target_type="chapter", target="ningbo"))
            answer(session, row, occ, member.id, "accepted", datetime.now(UTC), source="staff")
            ids.append(member.id)
        path = f"/console/series/{series_id}/occurrences/{recurrence_stamp(occ.recurrence_id)}/checkin"
        token = code(DEV_SECRET_KEY, ids[0], occ.uid, occ.end)
    db.dispose()
    return path, code_url(console.base, token)


def test_a_photo_of_the_code_checks_the_member_in(
    door: Page, console: Console, artifacts: Path, tmp_path: Path
) -> None:
    path, url = a_session_with_a_waiting_list(console)
    photo = tmp_path / "photo.png"
    photo.write_bytes(qr_png(url, scale=20))  # a big picture, as a phone camera takes
    sign_in(door, console, "ningbo")
    door.goto(console.base + path)
    expect(door.get_by_role("heading", name="现场签到")).to_be_visible()
    expect(door.locator("#scan-form")).to_be_visible()
    expect(door.locator("#no-script")).to_be_hidden()
    shot(door, artifacts, "15-checkin-phone")
    door.locator("input[name=photo]").set_input_files(str(photo))
    result = door.locator("#checkin-result")
    expect(result).to_contain_text("陈晓燕")
    expect(result).to_contain_text("签到成功")
    expect(result).to_contain_text("持有席位")
    expect(door.locator("#checkin-count")).to_contain_text("已签到 1 人")
    shot(door, artifacts, "16-checkin-done")
    width = door.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"


def test_with_no_script_a_typed_name_finds_and_checks_in(
    door_without_script: Page, console: Console, artifacts: Path
) -> None:
    path, _url = a_session_with_a_waiting_list(console)
    page = door_without_script
    sign_in(page, console, "ningbo")
    page.goto(console.base + path)
    expect(page.locator("#scan-form")).to_be_hidden()  # no camera without script: the page says so
    expect(page.get_by_text("此浏览器未启用脚本")).to_be_visible()
    page.get_by_label("姓名或公司").fill("李娜")
    page.get_by_role("button", name="查找").click()
    # (the module's other session made another 李娜 of the chapter: she is invited, not waiting)
    found = page.locator("#found li", has_text="候补第 1 位")
    expect(found).to_have_count(1)
    expect(page.locator("#found li", has_text="未确认参加")).to_have_count(1)
    found.get_by_role("button", name="签到").click()
    result = page.locator("#checkin-result")
    expect(result).to_contain_text("李娜")
    expect(result).to_contain_text("未持有席位：候补第 1 位")
    shot(page, artifacts, "17-checkin-typed")
