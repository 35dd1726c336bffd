"""Association staff at work in a real browser: sign in, define a monthly series, see its
preview, cancel one session and find the cancellation in the ledger; chapter staff kept to
their chapter; bad input refused next to the field, in Chinese."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from scheduler.db.models import SeriesRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series, occurrences
from scheduler.i18n import translator
from scheduler.notices.answers import answer
from scheduler.web.console.rule_form import WEEKDAY_CODES, rule_words
from schemas.api import SeriesCreate
from schemas.names import Role
from tests.support.api import series_body
from tests.support.browser import PASSWORD, Console, link, mail_to
from tests.support.robot import Robot
from tests.support.seeds import fail_one, seed_session

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def sign_in(page: Page, console: Console, username: str) -> None:
    page.goto(f"{console.base}/console")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/home$"))


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def eventually(page: Page, url: str, found: Callable[[], bool], timeout: float = 90) -> None:
    """Reload ``url`` until ``found()``; the scheduler and workers run on their own clock."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if found():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not show what was expected within {timeout} s")
        time.sleep(0.5)


def calendar_methods(outbox: Path) -> list[str]:
    """The iTIP METHOD of each calendar attached to an email in the outbox."""
    methods = []
    for path in sorted(outbox.rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                methods.append(str(Calendar.from_ical(part.get_content())["METHOD"]))
    return methods


def outbox_letters(outbox: Path) -> list[tuple[str, str]]:
    """(subject, plain text) of each email in the outbox, oldest first."""
    letters = []
    for path in sorted(outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        letters.append((str(message["Subject"]), body.get_content() if body is not None else ""))
    return letters


def nth_weekday_of(day: datetime) -> tuple[str, str]:
    """(``nth``, ``weekday``) for the monthly rule whose session falls on ``day``."""
    nth = (day.day - 1) // 7 + 1
    return ("-1" if nth == 5 else str(nth)), WEEKDAY_CODES[day.weekday()]


def test_staff_define_a_monthly_series_and_cancel_one_session(
    tab: Page, console: Console, artifacts: Path
) -> None:
    page = tab
    sign_in(page, console, "admin")
    page.get_by_role("link", name="活动系列").click()
    shot(page, artifacts, "01-series-list-empty")

    # A member of the Ningbo chapter, who will be invited.
    page.get_by_role("link", name="成员与订阅").click()
    form = page.locator("#add-member")
    form.locator("input[name=name]").fill("陈晓燕")
    form.locator("input[name=email]").fill("chen.xiaoyan@example.com")
    form.locator("input[name=company]").fill("宁波锦程服饰有限公司")
    form.locator("select[name=chapter]").select_option("ningbo")
    form.get_by_role("button", name="添加成员").click()
    expect(page.locator(".done")).to_contain_text("成员已添加")
    page.locator("#subscribe select[name=target]").select_option("chapter:ningbo")
    page.locator("#subscribe").get_by_role("button", name="添加订阅").click()
    expect(page.locator("ul.subs")).to_contain_text("分会：宁波")
    shot(page, artifacts, "02-member")

    # A monthly series whose first session is three days away (so the invitation goes now).
    first = (datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=3)).replace(tzinfo=None)
    nth, weekday = nth_weekday_of(first)
    page.get_by_role("link", name="活动系列").click()
    page.get_by_role("link", name="新建活动系列").click()
    series = page.locator("#series-form")
    series.locator("input[name=title]").fill("宁波 · 月度项目对接会")
    series.locator("select[name=chapter]").select_option("ningbo")
    expect(series.locator("input[name=organizer_name]")).to_have_value("宁波分会 秘书处")
    series.locator("input[name=venue]").fill("宁波国际会展中心 2号厅")
    series.locator("input[name=organizer_email]").fill("ningbo@zj-garment.example")
    series.locator("input[name=date]").fill(first.date().isoformat())
    series.locator("input[name=time]").fill("14:00")
    series.locator("select[name=repeat]").select_option("monthly_nth")
    series.locator("select[name=nth]").select_option(nth)
    series.locator("select[name=weekday]").select_option(weekday)
    series.locator("select[name=skip_holidays]").select_option("none")
    rule = f"FREQ=MONTHLY;BYDAY={nth}{weekday}"
    expect(page.locator("#rrule-text")).to_have_text(rule)  # the live preview (technical detail)
    words = rule_words(translator("zh-CN"), rule, SHANGHAI)  # 每月第一个周六
    expect(page.locator("#rule-words")).to_have_text(words)
    expect(page.locator("#preview ol.dates li")).to_have_count(10)
    first_shown = f"{first.year}年{first.month}月{first.day}日"
    expect(page.locator("#preview ol.dates li").first).to_contain_text(first_shown)
    shot(page, artifacts, "03-new-series-preview")
    series.get_by_role("button", name="保存").click()
    expect(page.locator(".done")).to_contain_text("活动系列已创建")
    expect(page.locator("dl.facts")).to_contain_text(f"{words} 14:00–16:00（北京时间）")
    expect(page.locator("dl.facts")).not_to_contain_text("FREQ=")
    shot(page, artifacts, "04-series-detail")
    series_url = page.url.split("?")[0]

    # The invitation reaches the member before anything changes.
    sent = page.locator("tr[data-kind=invitation][data-status=sent]")
    eventually(page, f"{console.base}/console/ledger?kind=invitation", lambda: sent.count() == 1)

    # Cancel the first session: the page says who will be told, then says it is cancelled.
    page.goto(series_url)
    page.locator("#sessions a", has_text="打开").first.click()
    expect(page.locator(".recipients")).to_contain_text("已收到邀请的 1 位")
    expect(page.locator(".recipients")).to_contain_text("陈晓燕")
    shot(page, artifacts, "05-occurrence")
    occurrence_url = page.url.split("?")[0]

    # A new hall for this session: the member's update says what changed, old and new.
    page.locator("#details-form input[name=venue]").fill("宁波国际会展中心 5号厅")
    page.locator("#details-form").get_by_role("button", name="保存").click()
    expect(page.locator(".done")).to_contain_text("议程与地点已保存")
    updated = page.locator("tr[data-kind=update][data-status=sent]")
    eventually(page, f"{console.base}/console/ledger?kind=update", lambda: updated.count() == 1)
    [(_, text)] = [m for m in outbox_letters(console.outbox) if m[0].startswith("【变更】")]
    assert "地点：宁波国际会展中心 2号厅 → 宁波国际会展中心 5号厅" in text, text

    # Cancel it with a reason members will read.
    page.goto(occurrence_url)
    page.get_by_label("取消原因（选填）").fill("场地临时检修")
    page.get_by_role("button", name="取消这一场").click()
    expect(page.locator(".done")).to_contain_text("已取消")
    expect(page.locator("#occ-status")).to_have_text("已取消")
    expect(page.locator("#cancel-reason")).to_have_text("取消原因：场地临时检修")

    # The cancellation notice is in the ledger, and is sent.
    cancelled = page.locator("tr[data-kind=cancellation][data-status=sent]")
    eventually(page, f"{console.base}/console/ledger", lambda: cancelled.count() == 1)
    expect(cancelled).to_contain_text("陈晓燕")
    expect(cancelled).to_contain_text("取消通知")
    shot(page, artifacts, "06-ledger")
    assert "CANCEL" in calendar_methods(console.outbox)
    [(_, text)] = [m for m in outbox_letters(console.outbox) if m[0].startswith("【取消】")]
    assert "取消原因：场地临时检修" in text, text

    # Restored: the member reads that it is on again, not one more change.
    page.goto(occurrence_url)
    page.get_by_role("button", name="恢复这一场").click()
    expect(page.locator(".done")).to_contain_text("已恢复")
    resumed = page.locator("tr[data-kind=update][data-status=sent]")
    eventually(page, f"{console.base}/console/ledger?kind=update", lambda: resumed.count() == 2)
    [(_, text)] = [m for m in outbox_letters(console.outbox) if m[0].startswith("【恢复举行】")]
    assert "恢复举行" in text and "取消原因" not in text, text

    page.get_by_role("link", name="日历订阅链接").click()
    expect(page.locator("#feed-ningbo input")).to_have_count(2)  # webcal, and https beside it
    webcal, https = page.locator("#feed-ningbo input").all()
    expect(webcal).to_have_value(re.compile(r"^webcal://127\.0\.0\.1:\d+/calendars/chapters/ningbo\.ics$"))
    expect(https).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendars/chapters/ningbo\.ics$"))
    shot(page, artifacts, "07-feeds")


def test_series_form_refuses_bad_input_next_to_the_field_in_chinese(
    tab: Page, console: Console, artifacts: Path
) -> None:
    page = tab
    sign_in(page, console, "ningbo")
    page.goto(f"{console.base}/console/series/new")
    series = page.locator("#series-form")
    series.locator("input[name=title]").fill("")
    series.locator("input[name=organizer_email]").fill("not-an-email")
    series.locator("input[name=reminder_hours]").fill("两小时")
    series.locator("select[name=repeat]").select_option("weekly")
    series.locator("input[name=interval]").fill("0")
    series.locator("select[name=ends]").select_option("count")
    series.locator("input[name=count]").fill("两千")
    series.get_by_role("button", name="保存").click()
    expect(page.locator("#err-title")).to_have_text("此项必填。")
    expect(page.locator("#err-organizer_email")).to_have_text("邮箱地址无效。")
    expect(page.locator("#err-reminder_hours")).to_contain_text("请填写最多 5 个用逗号分隔的提前量")
    expect(page.locator("#err-interval")).to_have_text("请填写 1 到 99 之间的整数。")
    expect(page.locator("#err-count")).to_have_text("请填写 1 到 1000 之间的整数。")
    expect(page.locator("input[name=count]")).to_have_value("两千")  # kept
    expect(page.locator("input[name=title]")).to_have_attribute("aria-invalid", "true")
    shot(page, artifacts, "08-form-errors")


def test_chapter_staff_cannot_open_another_chapters_series(
    tab: Page, console: Console, artifacts: Path
) -> None:
    db = Database(console.database_url)
    with db.session() as session:
        body = SeriesCreate.model_validate(series_body(title="宁波 · 内部技术交流会"))
        series_id = create_series(session, body, Principal(role=Role.ADMIN), console.base).id
    db.dispose()
    page = tab
    sign_in(page, console, "ningbo")
    page.get_by_role("link", name="活动系列").click()
    expect(page.locator("#chapter-ningbo")).to_contain_text("宁波 · 内部技术交流会")
    page.get_by_role("button", name="退出").click()

    sign_in(page, console, "wenzhou")
    page.get_by_role("link", name="活动系列").click()
    expect(page.locator("main")).not_to_contain_text("宁波 · 内部技术交流会")
    response = page.goto(f"{console.base}/console/series/{series_id}")
    assert response is not None and response.status == 403
    expect(page.locator(".error-box")).to_contain_text("此内容属于宁波分会")
    shot(page, artifacts, "09-other-chapter-refused")

    # English on request.
    page.get_by_role("link", name="English").click()
    expect(page.locator(".error-box")).to_contain_text("belongs to the Ningbo chapter")


def test_chapter_staff_add_test_and_remove_their_groups_robot(
    tab: Page, console: Console, artifacts: Path, robot: Robot
) -> None:
    page = tab
    sign_in(page, console, "ningbo")
    page.get_by_role("link", name="群机器人").click()
    expect(page.locator("#robots")).to_contain_text("本分会还没有群机器人。")
    form = page.locator("#add-robot")
    form.locator("select[name=format]").select_option("wecom")
    form.locator("input[name=url]").fill("qyapi.weixin.qq.com")
    form.get_by_role("button", name="添加群机器人").click()
    expect(page.locator("#err-url")).to_have_text("请填写以 https:// 开头的完整地址。")
    page.locator("#add-robot input[name=url]").fill(robot.url)
    page.locator("#add-robot").get_by_role("button", name="添加群机器人").click()
    expect(page.locator(".done")).to_contain_text("群机器人已添加")
    row = page.locator("#robots tbody tr").first
    expect(row).to_contain_text("企业微信")
    expect(row).to_contain_text("127.0.0.1")

    row.get_by_role("button", name="发送测试消息").click()
    expect(page.locator(".done")).to_contain_text("测试消息已送达群里。")
    # adding the robot re-planned the chapter, so it may also hear of Ningbo's sessions meanwhile
    [post] = robot.said("【测试】")
    assert post["markdown"]["content"].startswith("**【测试】宁波分会群机器人**")

    robot.refusals.append(("【测试】", 200, '{"errcode":93000,"errmsg":"invalid webhook url"}'))
    page.locator("#robots tbody tr").first.get_by_role("button", name="发送测试消息").click()
    expect(page.locator("#robots .error-box")).to_contain_text(
        "测试消息未送达：群机器人（企业微信）返回错误 93000"
    )
    shot(page, artifacts, "10-robots")

    page.locator("#robots tbody tr").first.get_by_role("button", name="删除").click()  # confirmed
    expect(page.locator(".done")).to_contain_text("群机器人已删除。")
    expect(page.locator("#robots")).to_contain_text("本分会还没有群机器人。")


def test_chapter_staff_make_newcomers_wait_and_approve_one_who_joined_from_a_phone(
    tab: Page, browser: Browser, console: Console, artifacts: Path
) -> None:
    page = tab
    sign_in(page, console, "ningbo")
    page.get_by_role("link", name="入会申请").click()
    expect(page.locator("#join-requests")).to_contain_text("没有待审核的申请。")
    rule = page.locator("#join-rules tr", has_text="宁波")
    rule.get_by_label("新会员需要工作人员审核").check()
    rule.get_by_role("button", name="保存").click()
    expect(page.locator(".done")).to_contain_text("审核规则已保存。")

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    newcomer = phone.new_page()
    newcomer.goto(f"{console.base}/join/ningbo")
    newcomer.get_by_label("姓名").fill("周敏")
    newcomer.get_by_label("公司").fill("甬城制衣")
    newcomer.get_by_label("邮箱地址").fill("zhou.min@yongcheng.example")
    newcomer.get_by_role("button", name="提交申请").click()
    mail = mail_to(console.outbox, "zhou.min@yongcheng.example", lambda m: "确认加入" in str(m["Subject"]))
    newcomer.goto(link(mail, "/join/confirm/"))
    newcomer.get_by_role("button", name="确认加入").click()
    expect(newcomer.get_by_text("等待宁波分会工作人员审核")).to_be_visible()
    phone.close()

    page.reload()
    row = page.locator("#join-requests tbody tr", has_text="周敏")
    expect(row).to_contain_text("甬城制衣")
    expect(row).to_contain_text("zhou.min@yongcheng.example")
    shot(page, artifacts, "11-join-requests")
    row.get_by_role("button", name="批准").click()
    expect(page.locator(".done")).to_contain_text("已批准，欢迎邮件已发出。")
    expect(page.locator("#join-requests")).to_contain_text("没有待审核的申请。")
    welcome = mail_to(
        console.outbox, "zhou.min@yongcheng.example", lambda m: m["Subject"] == "欢迎加入宁波分会"
    )
    assert "/me/link/" in link(welcome, "/me/link/")
    page.get_by_role("link", name="成员与订阅").click()
    expect(page.locator("body")).to_contain_text("周敏")


def test_the_office_sees_calendar_replies_that_were_not_applied(
    tab: Page, console: Console, artifacts: Path
) -> None:
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from scheduler.inbound.intake import take_in
    from tests.support.replies import reply_mail

    db = Database(console.database_url)
    now = datetime.now(UTC)
    holidays = ChineseStatutoryCalendar()
    take_in(
        db, reply_mail("gmail", "no-such-session@elsewhere", "chen@lihua.example", "accepted"), now, holidays
    )
    take_in(
        db,
        reply_mail("outlook", "no-such-session@elsewhere", "li@oujia.example", "accepted", method="COUNTER"),
        now,
        holidays,
    )
    db.dispose()
    page = tab
    sign_in(page, console, "admin")
    page.get_by_role("link", name="日历回执").click()
    table = page.locator("#replies")
    expect(table).to_contain_text("找不到对应的活动")
    expect(table).to_contain_text("对方提议了新时间（不作为回复）")
    expect(table).to_contain_text("chen@lihua.example")
    shot(page, artifacts, "12-replies")


def test_staff_see_the_seats_and_the_waiting_list_and_move_someone_to_the_front(
    tab: Page, console: Console, artifacts: Path
) -> None:
    people = [
        ("陈晓燕", "宁波锦程服饰", "accepted"),
        ("王磊", "欧佳制衣", "accepted"),
        ("李娜", "森马服饰", "accepted"),
        ("赵强", "雅戈尔集团", "accepted"),
    ]
    seeded = seed_session(console, "宁波面料对接会（限额）", "ningbo", days=5, people=people, capacity=2)
    series_id, stamp = seeded.series_id, seeded.stamp
    page = tab
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/console/series/{series_id}/occurrences/{stamp}")
    expect(page.locator("#seat-count")).to_contain_text("已占 2 / 共 2 席")
    expect(page.locator("#holding")).to_contain_text("陈晓燕")
    waiting = page.locator("#waiting li")
    expect(waiting).to_have_count(2)
    expect(waiting.nth(0)).to_contain_text("李娜")
    waiting.nth(1).get_by_role("button", name="移到第一位").click()
    expect(page.locator(".done")).to_contain_text("已移到候补名单第一位")
    expect(page.locator("#waiting li").nth(0)).to_contain_text("赵强")
    # one more seat at this session: it is held for the first waiting
    form = page.locator("#capacity-form")
    form.locator("input[name=capacity]").fill("三")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#err-capacity")).to_contain_text("1")
    form.locator("input[name=capacity]").fill("3")
    form.get_by_role("button", name="保存").click()
    expect(page.locator(".done")).to_contain_text("本场名额已保存")
    expect(page.locator("#seat-count")).to_contain_text("已占 3 / 共 3 席（其中 1 席为候补保留中）")
    expect(page.locator("#waiting li").nth(0)).to_contain_text("席位保留至")
    shot(page, artifacts, "13-seats")


def test_staff_see_who_is_coming_remind_who_has_not_answered_and_message_the_rest(
    tab: Page, console: Console, artifacts: Path
) -> None:
    people = [("孙丽", "湖州针织", "accepted"), ("周杰", "湖州针织", "declined"), ("吴芳", "湖州针织", None)]
    # a chapter no other test of this module uses, so nobody else is invited
    seeded = seed_session(
        console,
        "湖州 · 针织工艺交流会",
        "huzhou",
        days=6,
        people=people,
        follow="series",
        venue="湖州丝绸小镇 会议中心",
    )
    series_id, stamp = seeded.series_id, seeded.stamp
    page = tab
    sign_in(page, console, "admin")
    url = f"{console.base}/console/series/{series_id}/occurrences/{stamp}"
    # the invitations go out first: only members told of the session are in the list (a chapter
    # no other test of this module uses, so nobody else is invited)
    eventually(page, url, lambda: page.locator("#answers-needs-action li").count() == 1)
    expect(page.locator("#answers-accepted")).to_contain_text("孙丽")
    expect(page.locator("#answers-accepted")).to_contain_text("工作人员代填")
    expect(page.locator("#answers-declined summary")).to_have_text("不参加（1）")
    expect(page.locator("#answers-needs-action")).to_contain_text("吴芳")

    page.get_by_role("button", name="提醒未回复的 1 位成员").click()
    expect(page.locator(".done")).to_contain_text("已提醒未回复的成员")
    form = page.locator("#message-form")
    form.get_by_role("button", name="发送消息").click()
    expect(page.locator("#err-body")).to_contain_text("必填")
    form.get_by_label("消息内容").fill("会场改到 3 楼 301 室，请从东门进入。")
    expect(form.get_by_label("所有受邀成员（不含已回复不参加的）（2 位）")).to_be_checked()
    form.get_by_role("button", name="发送消息").click()
    expect(page.locator(".done")).to_contain_text("消息已安排发送")
    expect(page.locator("#sent-messages li")).to_have_count(2)
    expect(page.locator("#sent-messages")).to_contain_text("会场改到 3 楼 301 室")
    shot(page, artifacts, "18-who-is-coming")

    sent = page.locator("tr[data-kind=message][data-status=sent]")
    eventually(page, f"{console.base}/console/ledger?kind=message", lambda: sent.count() == 2)
    letters = outbox_letters(console.outbox)
    assert [s for s, _ in letters if s.startswith("【请回复】")] != []
    [nudge_to] = [t for s, t in letters if s.startswith("【请回复】")]
    assert "吴芳" in nudge_to
    told = [t for s, t in letters if s.startswith("【通知】")]
    assert len(told) == 2 and all("会场改到 3 楼 301 室" in t for t in told)
    assert not any("周杰" in t for t in told)


def test_staff_import_a_file_in_chinese_see_what_it_will_do_then_import_it(
    tab: Page, console: Console, artifacts: Path, tmp_path: Path
) -> None:
    page = tab
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/console/members")
    expect(page.locator("#import-members")).to_contain_text("姓名、邮箱、公司")
    sheet = tmp_path / "taizhou-members.csv"  # (the integration test uploads a Chinese file name)
    sheet.write_bytes(
        (
            "\ufeff姓名,邮箱,公司,分会,语言,时区,订阅\n"
            "郑敏,zheng.min@taizhou.example,台州缝制设备,台州分会,中文,北京时间,分会：台州\n"
            "Marco Bianchi,marco@taizhou.example,Tessuti Srl,台州,英文,意大利时间,分会：台州\n"
            "冯伟,feng@taizhou,台州鞋服,台州,粤语,北京时间,分会：台州\n"
        ).encode()
    )
    page.locator("#import-members input[type=file]").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("#import-summary")).to_contain_text("新增 2 位成员")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("粤语")
    expect(errors.nth(0)).to_contain_text("不是通知语言")
    expect(errors.nth(1)).to_contain_text("邮箱")
    expect(errors.nth(1)).to_contain_text("feng@taizhou")
    expect(page.locator("#import-invitations")).to_contain_text("导入不会立即发出邀请")
    shot(page, artifacts, "19-import-preview")
    page.get_by_role("button", name="只导入没有错误的 2 行").click()
    expect(page.locator("#import-done")).to_have_text("已导入：新增 2 位成员，更新 0 位。")
    page.goto(f"{console.base}/console/members")
    page.get_by_role("link", name="Marco Bianchi").click()
    expect(page.locator("select[name=timezone] option:checked")).to_contain_text("意大利")


def test_a_failed_robot_post_says_what_to_do_and_the_retry_says_nothing_changed(
    tab: Page, console: Console, artifacts: Path
) -> None:
    from scheduler.db.models import ChapterWebhookRow

    db = Database(console.database_url)
    with db.session() as session:
        session.add(ChapterWebhookRow(chapter="jiaxing", format="wecom", url="https://qyapi.weixin.qq.com/x"))
    db.dispose()
    seeded = seed_session(console, "嘉兴 · 毛衫工艺交流会", "jiaxing", days=4, plan=True)
    fail_one(console, seeded.series_id, "webhook-http", {"format": "wecom", "status": 400}, robot=True)
    page = tab
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/console/ledger?status=failed&chapter=jiaxing")
    row = page.locator("tr[data-status=failed]")
    expect(row).to_have_count(1)
    expect(row.locator(".what")).to_have_text("群机器人拒收了这条消息")
    expect(row.locator(".todo")).to_contain_text("重新粘贴平台给出的地址并发送测试消息")
    expect(row.locator("details.detail")).not_to_have_attribute("open", "")
    expect(row.locator(".what")).not_to_contain_text("400")
    row.locator("details.detail summary").click()
    expect(row.locator("details.detail")).to_contain_text("HTTP 400")
    shot(page, artifacts, "20-ledger-failure")
    row.get_by_role("button", name="重新发送").click()
    expect(page.locator(".done")).to_contain_text("自失败以来收件人资料没有任何修改")


def test_staff_land_on_today_and_this_week_with_what_needs_them(
    tab: Page, console: Console, artifacts: Path
) -> None:
    people = [("钱芳", "绍兴印染", "accepted"), ("陆明", "绍兴印染", "accepted")]
    seeded = seed_session(
        console,
        "绍兴 · 印染新技术交流会",
        "shaoxing",
        days=2,
        people=people,
        follow="series",
        capacity=1,
        plan=True,
    )
    db = Database(console.database_url)
    with db.session() as session:  # the first gives their seat up: the session was full
        row = session.get(SeriesRow, seeded.series_id)
        assert row is not None
        [occ] = occurrences(row, ChineseStatutoryCalendar())
        answer(session, row, occ, seeded.members[0], "declined", datetime.now(UTC), source="link")
    db.dispose()
    fail_one(console, seeded.series_id, "smtp-connection", {"error": "refused"})
    page = tab
    sign_in(page, console, "admin")  # lands on the home page
    expect(page.locator("h1")).to_contain_text("今天与本周")
    card = page.locator("#coming li.card", has_text="绍兴 · 印染新技术交流会")
    expect(card).to_contain_text("已占 1 / 共 1 席")
    expect(card).to_contain_text("满员")
    expect(card).to_contain_text("不参加 1")
    expect(page.locator("#attention")).to_contain_text("条通知发送失败")
    expect(page.locator("#alerts")).to_contain_text("钱芳（绍兴印染）不参加已满员的绍兴 · 印染新技术交流会")
    shot(page, artifacts, "21-home")
    page.locator("#alerts a", has_text="钱芳").click()
    expect(page.locator("#seat-count")).to_contain_text("已占 1 / 共 1 席")


def test_staff_see_the_addresses_that_bounce_and_resume_one(
    tab: Page, console: Console, artifacts: Path
) -> None:
    from scheduler.db.models import MemberRow
    from scheduler.domain.deliverability import mark_bounced

    db = Database(console.database_url)
    now = datetime.now(UTC)
    with db.session() as session:
        gone = MemberRow(
            name="周敏",
            email="zhoumin@hongda.example",
            company="宏达制衣",
            chapter="ningbo",
            feed_token="b" * 32,
        )
        full = MemberRow(
            name="吴刚",
            email="wugang@jinyu.example",
            company="金羽服饰",
            chapter="wenzhou",
            feed_token="c" * 32,
        )
        session.add_all([gone, full])
        mark_bounced(
            gone,
            hard=True,
            detail="5.1.1 smtp; 550 5.1.1 <zhoumin@hongda.example>: Recipient address rejected: User unknown",
            now=now,
        )
        mark_bounced(full, hard=False, detail="4.2.2 smtp; 452 4.2.2 Mailbox full", now=now)
    db.dispose()
    page = tab
    sign_in(page, console, "admin")
    page.get_by_role("link", name="退信").click()
    ningbo = page.locator("#bounces-ningbo")
    expect(ningbo).to_contain_text("周敏")
    expect(ningbo).to_contain_text("起停止发送")
    expect(page.locator("#bounces-wenzhou")).to_contain_text("临时退信 1 次")
    shot(page, artifacts, "14-bounces")
    ningbo.get_by_role("button", name="恢复发送").click()
    expect(page.locator(".done")).to_contain_text("已恢复向该地址发送邮件")
    expect(page.locator("#bounces-ningbo")).to_have_count(0)
