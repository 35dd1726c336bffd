"""Accounts, search and bulk actions in the console (Chromium, zh-CN): the province office opens an
account for a chapter's new secretary, who signs in with the temporary password and must set
their own first; the office disables it and the secretary is signed out. Ticked members are
subscribed to a series and moved to another chapter; series are found by their title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_console import shot, sign_in, tab  # noqa: F401  (tab: a fixture)
from tests.support.browser import Console
from tests.support.seeds import seed_session

pytestmark = pytest.mark.browser

NEW_PASSWORD = "嘉兴秀洲区丝绸面料对接会"


@pytest.fixture
def second(browser: Browser) -> Iterator[Page]:
    """Another person's browser (its own cookies), zh-CN, on a laptop."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_a_new_secretary_gets_an_account_and_sets_their_own_password(
    tab: Page,  # noqa: F811
    second: Page,
    console: Console,
    artifacts: Path,
) -> None:
    office = tab
    sign_in(office, console, "admin")
    office.get_by_role("link", name="账号", exact=True).click()
    expect(office.locator("h1")).to_have_text("工作人员账号")
    form = office.locator("#add-account")
    form.get_by_label("姓名").fill("赵敏")
    form.get_by_label("登录名").fill("jiaxing.zhao")
    form.get_by_label("权限").select_option(label="分会工作人员（只管本分会）")
    form.get_by_label("所属分会").select_option(label="嘉兴")
    form.get_by_role("button", name="开通账号").click()
    expect(office.locator("#handed")).to_contain_text("赵敏（登录名 jiaxing.zhao）的临时密码")
    temporary = office.locator("#temporary-password").inner_text()
    expect(office.locator("#account-jiaxing\\.zhao")).to_contain_text("待改临时密码")
    shot(office, artifacts, "17-accounts")

    zhao = second
    zhao.goto(f"{console.base}/console")
    zhao.get_by_label("用户名").fill("jiaxing.zhao")
    zhao.get_by_label("密码").fill(temporary)
    zhao.get_by_role("button", name="登录").click()
    expect(zhao).to_have_url(re.compile(r"/console/password$"))
    expect(zhao.locator("#must-change")).to_contain_text("临时密码")
    zhao.goto(f"{console.base}/console/series")  # nothing else opens first
    expect(zhao).to_have_url(re.compile(r"/console/password$"))
    zhao.get_by_label("当前密码（临时密码）").fill(temporary)
    zhao.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    zhao.get_by_label("再次输入新密码").fill(NEW_PASSWORD[:-1])
    zhao.get_by_role("button", name="保存新密码").click()
    expect(zhao.locator("#err-again")).to_have_text("两次输入的新密码不一致。")
    shot(zhao, artifacts, "18-password")
    zhao.get_by_label("当前密码（临时密码）").fill(temporary)
    zhao.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    zhao.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    zhao.get_by_role("button", name="保存新密码").click()
    expect(zhao).to_have_url(re.compile(r"/console/home\?done=password\.changed$"))
    expect(zhao.locator(".done")).to_contain_text("新密码已保存")
    expect(zhao.locator(".user")).to_contain_text("嘉兴分会")
    expect(zhao.get_by_role("link", name="账号", exact=True)).to_have_count(0)  # the office's page only

    office.reload()
    expect(office.locator("#temporary-password")).to_have_count(0)  # shown once
    row = office.locator("#account-jiaxing\\.zhao")
    expect(row).to_contain_text("正常")
    row.get_by_role("button", name="停用").click()  # the page asks first; the tab says yes
    expect(office.locator(".done")).to_contain_text("账号已停用")
    expect(row).to_have_attribute("data-state", "disabled")
    zhao.goto(f"{console.base}/console/series")
    expect(zhao).to_have_url(re.compile(r"/console/login\?next="))


def test_ticked_members_are_subscribed_and_moved_and_series_found_by_title(
    tab: Page,  # noqa: F811
    console: Console,
    artifacts: Path,
) -> None:
    title = "义乌 · 小商品服饰配件对接会"
    people = [("周杰", "义乌恒丰服饰", None), ("吴倩", "义乌美佳针织", None), ("郑凯", "义乌博奥袜业", None)]
    seed_session(console, title, "yiwu", days=12, people=people, follow=None)
    page = tab
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/console/members?chapter=yiwu")
    page.get_by_role("checkbox", name="周杰").check()
    page.get_by_role("checkbox", name="吴倩").check()
    bulk = page.locator("#bulk")
    bulk.get_by_label("操作").select_option(label="订阅")
    bulk.get_by_label("订阅内容（订阅、取消订阅时）").select_option(label=f"义乌 · {title}")
    bulk.get_by_role("button", name="执行").click()
    expect(page.locator("#bulk-done")).to_have_text(f"已为 2 位成员订阅系列：{title}；0 位原本已订阅。")
    shot(page, artifacts, "19-members-bulk")

    page.goto(f"{console.base}/console/members?chapter=yiwu")
    page.get_by_role("checkbox", name="全选").check()  # the script's box: every row at once
    bulk.get_by_label("操作").select_option(label="转到另一个分会")
    bulk.get_by_label("转入分会（转分会时）").select_option(label="绍兴分会")
    bulk.get_by_role("button", name="执行").click()
    expect(page.locator("#bulk-done")).to_contain_text("已把 3 位成员转到绍兴分会")
    page.goto(f"{console.base}/console/members?chapter=shaoxing")
    expect(page.locator("#members")).to_contain_text("郑凯")

    page.goto(f"{console.base}/console/series")
    page.get_by_label("名称或地点").fill("小商品")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.series-table")).to_have_count(1)
    expect(page.locator("table.series-table")).to_contain_text(title)
