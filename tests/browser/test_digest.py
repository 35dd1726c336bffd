"""The monthly digest as staff meet it (Chromium, zh-CN): a chapter's secretary gives the address
on their account page; the running ``exsched serve all`` sends the digest of the month of a
session held there; the email, opened as a mail client shows its HTML (on a laptop and a phone),
reads the month's figures, the series, next month's sessions and the report's link, and its
.xlsx attachment opens with openpyxl."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from scheduler.db.session import Database
from scheduler.domain.reports import OFFICE
from scheduler.notices import digests
from tests.browser.test_console import shot, sign_in, tab  # noqa: F401  (tab: a fixture)
from tests.support.browser import Console, mail_to
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser

ADDRESS = "nb.office@garment-nb.example"


def test_a_secretary_gets_the_monthly_digest_with_the_report_attached(
    tab: Page,  # noqa: F811
    phone: Page,
    console: Console,
    artifacts: Path,
) -> None:
    page = tab
    sign_in(page, console, "ningbo")
    page.get_by_role("link", name="我的账户").click()
    form = page.locator("#email-form")
    form.get_by_label("月报邮箱").fill("not an address")
    form.get_by_role("button", name="保存邮箱").click()
    expect(page.locator("#email-form #err-email")).to_contain_text("邮箱")
    page.locator("#email-form").get_by_label("月报邮箱").fill(ADDRESS)
    page.locator("#email-form").get_by_role("button", name="保存邮箱").click()
    expect(page.get_by_role("status")).to_contain_text("月报会发到这个邮箱")
    expect(page.locator("#email-form").get_by_label("月报邮箱")).to_have_value(ADDRESS)
    shot(page, artifacts, "30-account-digest-email")

    now = datetime.now(UTC)
    held = (now - timedelta(days=3)).astimezone(OFFICE)
    label = held.strftime("%Y-%m")
    ahead = digests.next_month(digests.month_of(label)).replace(day=10, hour=14)
    people = [("陈静", "丽华服饰", "accepted"), ("王磊", "欧佳制衣", "accepted"), ("赵敏", "宁波纺织", None)]
    seed_session(console, "面料采购对接会", "ningbo", days=-3, people=people, kind="project-docking")
    days_ahead = (ahead - now.astimezone(OFFICE)).days + 1
    seed_session(console, "数字化制衣技术交流会", "ningbo", days=days_ahead, kind="tech-exchange")
    db = Database(console.database_url)
    with db.session() as session:
        assert digests.plan_month(session, label, now, now) == 1  # the one address given
    db.dispose()

    start = digests.month_of(label)
    subject = f"宁波分会 {start.year}年{start.month}月月报"
    mail = mail_to(console.outbox, ADDRESS, lambda m: str(m["Subject"]) == subject)
    [sheet] = [p for p in mail.iter_attachments() if str(p.get_filename()).endswith(".xlsx")]
    cells = list(load_workbook(io.BytesIO(sheet.get_content())).active.iter_rows(values_only=True))
    by_label = {row[0]: row for row in cells[1:]}
    assert by_label["宁波 · 面料采购对接会"][1] == 1  # held
    assert by_label["合计"][5] == 2  # accepted
    html = mail.get_body(preferencelist=("html",)).get_content()
    for viewer, name in ((page, "31-digest-email"), (phone, "phone-digest-email")):
        viewer.goto("about:blank")  # a mail client's blank page, not the console's (its CSP)
        viewer.set_content(html)
        expect(viewer.get_by_text("确认参加", exact=True)).to_be_visible()
        expect(viewer.get_by_text("宁波 · 面料采购对接会")).to_be_visible()
        expect(viewer.get_by_text("数字化制衣技术交流会")).to_be_visible()
        link = viewer.get_by_role("link", name="在管理后台查看完整报表")
        report = f"{console.base}/console/reports?from={label}&to={label}&chapter=ningbo"
        expect(link).to_have_attribute("href", report)
        shot(viewer, artifacts, name)
