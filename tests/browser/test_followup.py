"""The questions after a project-docking session, on a member's phone (Chromium, zh-CN, 390 px):
the firms that came are offered to tick, others typed, yes/no and a value; a wrong number is
refused next to its field; the answer is kept and shown again. Staff then read it on the
session's outcomes page, with what they recorded for another member from a phone call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduler.db.models import RsvpRow
from scheduler.db.session import Database
from scheduler.domain.tokens import sign
from scheduler.ops.config import DEV_SECRET_KEY
from tests.browser.test_console import shot, sign_in, tab  # noqa: F401  (tab: a fixture)
from tests.support.browser import PHONE_WIDTH, Console
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser
TITLE = "宁波 · 针织面料项目对接会（第二期）"


def test_a_member_reports_what_came_of_a_docking_session_and_staff_read_it(
    phone: Page,
    tab: Page,  # noqa: F811
    console: Console,
    artifacts: Path,
) -> None:
    people = [
        ("王磊", "锦程服饰", "accepted"),
        ("李娜", "森马面料", "accepted"),
        ("赵敏", "欧嘉针织", "accepted"),
    ]
    seeded = seed_session(console, TITLE, "ningbo", days=-2, people=people, kind="project-docking")
    db = Database(console.database_url)
    with db.session() as session:  # the session's UID, as the follow-up email's link names it
        uid = session.scalar(select(RsvpRow.occurrence_uid).where(RsvpRow.member_id == seeded.members[0]))
    db.dispose()
    claims = {"m": str(seeded.members[0]), "s": str(seeded.series_id), "o": uid}
    token = sign(DEV_SECRET_KEY, "followup", claims, expires=datetime.now(UTC) + timedelta(days=40))

    phone.goto(f"{console.base}/followup/{token}")
    expect(phone.locator("h1")).to_have_text(TITLE)
    phone.get_by_label("本次与多少家企业进行了洽谈？").fill("三家")
    phone.get_by_role("checkbox", name="森马面料").check()
    phone.get_by_label("其他企业（用逗号或顿号分隔，选填）").fill("博奥袜业")
    phone.locator("#field-intention").get_by_label("是").check()
    phone.locator("#field-contract").get_by_label("否").check()
    phone.get_by_label("大约金额（万元，选填）").fill("30")
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#err-contacts")).to_have_text("请填写整数，如 3。")
    expect(phone.get_by_label("其他企业（用逗号或顿号分隔，选填）")).to_have_value("博奥袜业")  # kept
    phone.get_by_label("本次与多少家企业进行了洽谈？").fill("3")
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#recorded")).to_have_text("谢谢！已记录。")
    expect(phone.get_by_role("checkbox", name="森马面料")).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    shot(phone, artifacts, "phone-followup")

    sign_in(tab, console, "ningbo")
    tab.goto(f"{console.base}/console/series/{seeded.series_id}/occurrences/{seeded.stamp}")
    tab.locator("#outcomes-link").click()
    expect(tab.locator("#outcomes")).to_contain_text(
        "洽谈 3 家；对接企业：森马面料、博奥袜业；有合作意向；未签约；约 30 万元"
    )
    record = tab.locator("#record")
    record.get_by_label("会员").select_option(label="李娜（森马面料）")
    record.get_by_label("本次与多少家企业进行了洽谈？").fill("1")
    record.get_by_role("checkbox", name="锦程服饰").check()
    record.locator("#field-intention").get_by_label("否").check()
    record.locator("#field-contract").get_by_label("否").check()
    record.get_by_role("button", name="保存").click()
    expect(tab.locator(".done")).to_have_text("已记录。")
    expect(tab.locator("#outcomes")).to_contain_text("工作人员 ningbo 代填")
    shot(tab, artifacts, "20-outcomes")
