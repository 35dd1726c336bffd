"""The staff console over HTTP (SQLite and PostgreSQL): sign-in, CSRF, chapter boundaries,
forms, occurrence changes, the ledger, CSV import and export."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from scheduler.db.models import FollowupResponseRow, MemberRow, NoticeRow, RsvpRow, SeriesRow, StaffRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.members import create_member, subscribe
from scheduler.domain.series import create_series, occurrences
from scheduler.domain.staff import LOCK_AFTER, create_staff, set_password
from scheduler.notices.planner import Planner
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import OFFICE
from schemas.api import MemberCreate, SeriesCreate, SubscriptionCreate
from schemas.ids import recurrence_stamp
from schemas.names import Role
from tests.support.api import series_body
from tests.support.console import PASSWORD, add_staff, as_data, csrf_of, form_fields, new_browser, signed_in
from tests.support.ledger import reason_text
from tests.support.periods import count_scanned_periods
from tests.support.services import PUBLIC_URL

ADMIN = Principal(role=Role.ADMIN)


@pytest.fixture
def web(client: TestClient) -> TestClient:
    return new_browser(client)


def make_series(db: Database, **overrides: Any) -> uuid.UUID:
    start = (datetime.now(UTC) + timedelta(days=5)).astimezone().replace(tzinfo=None, microsecond=0)
    body = series_body(
        **{
            "dtstart": start.replace(hour=14, minute=0, second=0).isoformat(),
            "rrule": "FREQ=WEEKLY;COUNT=8",
            **overrides,
        }
    )
    with db.session() as session:
        return create_series(session, SeriesCreate.model_validate(body), ADMIN, PUBLIC_URL).id


def make_member(db: Database, email: str, chapter: str = "ningbo", **subscription: Any) -> uuid.UUID:
    with db.session() as session:
        member = create_member(
            session, MemberCreate(name="陈晓燕", email=email, company="锦程服饰", chapter=chapter), ADMIN
        )
        subscribe(session, member, SubscriptionCreate(**(subscription or {"chapter": chapter})), ADMIN)
        return member.id


def first_stamp(db: Database, series_id: uuid.UUID) -> str:
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        now = datetime.now(UTC)
        return recurrence_stamp(
            occurrences(row, ChineseStatutoryCalendar(), now, now + timedelta(days=400))[0].recurrence_id
        )


# --- signing in ------------------------------------------------------------------------------


def test_pages_need_sign_in_and_return_to_the_page_after_it(web: TestClient, db: Database) -> None:
    add_staff(db, "admin")
    response = web.get("/console/ledger?kind=invitation", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/ledger%3Fkind%3Dinvitation"
    page = web.get(response.headers["location"])
    assert '<html lang="zh-CN">' in page.text and "工作人员登录" in page.text
    signed = web.post(
        "/console/login",
        data={
            "csrf": csrf_of(page.text),
            "username": "ADMIN",
            "password": PASSWORD,
            "next": "/console/ledger?kind=invitation",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/console/ledger?kind=invitation"
    cookie = signed.headers["set-cookie"]
    assert (
        "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie and "Secure" in cookie
    )
    assert web.get("/console/ledger").status_code == 200


def test_a_sign_in_never_redirects_off_the_console(client: TestClient, db: Database) -> None:
    add_staff(db, "admin")
    for target in ("https://evil.example/", "//evil.example/console", "/\\evil.example", "/api/v1/series"):
        browser = new_browser(client)
        page = browser.get("/console/login")
        response = browser.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": "admin", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/console/home", target


def test_wrong_passwords_are_refused_in_chinese_and_then_lock_the_account(
    web: TestClient, db: Database
) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    csrf = csrf_of(web.get("/console/login").text)
    for _ in range(LOCK_AFTER):
        response = web.post(
            "/console/login", data={"csrf": csrf, "username": "ningbo", "password": "guess-guess"}
        )
        assert response.status_code == 401
        assert "用户名或密码不正确。" in response.text
    unknown = web.post("/console/login", data={"csrf": csrf, "username": "nobody", "password": "guess-guess"})
    assert unknown.status_code == 401 and "用户名或密码不正确。" in unknown.text  # same answer: no user list
    locked = web.post("/console/login", data={"csrf": csrf, "username": "ningbo", "password": PASSWORD})
    assert locked.status_code == 429
    assert "账户已暂时锁定" in locked.text
    assert "exsched_console" not in locked.headers.get("set-cookie", "")


def test_a_new_password_ends_every_open_session(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    assert browser.get("/console/series", follow_redirects=False).status_code == 200
    with db.session() as session:
        row = session.scalar(select(StaffRow).where(StaffRow.username == "admin"))
        assert row is not None
        set_password(session, row, "another long password")
    assert browser.get("/console/series", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    copied = new_browser(client)
    cookie = browser.cookies.get("exsched_console", path="/console")
    copied.cookies.set("exsched_console", cookie, path="/console")
    assert copied.get("/console/series", follow_redirects=False).status_code == 200
    csrf = csrf_of(browser.get("/console/series").text)
    assert browser.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert browser.get("/console/series", follow_redirects=False).status_code == 303
    assert copied.get("/console/series", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_not_a_session(web: TestClient, db: Database) -> None:
    add_staff(db, "admin")
    web.cookies.set("exsched_console", "eyJzaWQiOiJ4In0.AAAA", path="/console")
    assert web.get("/console/series", follow_redirects=False).status_code == 303


def test_a_post_without_the_form_token_or_from_another_site_changes_nothing(
    client: TestClient, db: Database
) -> None:
    browser = signed_in(client, db, "admin")
    member = {
        "name": "王五",
        "email": "wang@example.com",
        "chapter": "ningbo",
        "locale": "zh-CN",
        "timezone": "Asia/Shanghai",
    }
    assert browser.post("/console/members", data=member).status_code == 403
    assert browser.post("/console/members", data={**member, "csrf": "0" * 64}).status_code == 403
    csrf = csrf_of(browser.get("/console/members").text)
    other_site = browser.post(
        "/console/members", data={**member, "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    assert "表单已过期或来源不明" in other_site.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 0
    ok = browser.post(
        "/console/members", data={**member, "csrf": csrf, "channels": "on"}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_a_form_token_is_bound_to_the_session_not_to_a_cookie_someone_could_plant(
    client: TestClient, db: Database
) -> None:
    """An attacker with a nonce and its token from the sign-in page, who plants that nonce as the
    victim's CSRF cookie (a sibling subdomain can set cookies), still cannot post as the victim;
    nor does a page of an earlier session of the same browser work after signing in again."""
    member = {"name": "王五", "email": "wang@example.com", "chapter": "ningbo", "locale": "zh-CN"}
    attacker = new_browser(client)
    token = csrf_of(attacker.get("/console/login").text)
    nonce = attacker.cookies.get("exsched_csrf", path="/console")
    victim = signed_in(client, db, "admin")
    for cookie in [c for c in victim.cookies.jar if c.name == "exsched_csrf"]:
        victim.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    victim.cookies.set("exsched_csrf", nonce, path="/console")
    planted = victim.post("/console/members", data={**member, "csrf": token})
    assert planted.status_code == 403 and "表单已过期或来源不明" in planted.text
    old_page = csrf_of(victim.get("/console/members").text)
    victim.post("/console/logout", data={"csrf": old_page})
    relogin = victim.post(
        "/console/login",
        data={"csrf": csrf_of(victim.get("/console/login").text), "username": "admin", "password": PASSWORD},
        follow_redirects=False,
    )
    assert relogin.status_code == 303
    assert victim.post("/console/members", data={**member, "csrf": old_page}).status_code == 403
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 0
    fresh = csrf_of(victim.get("/console/members").text)
    assert (
        victim.post("/console/members", data={**member, "csrf": fresh}, follow_redirects=False).status_code
        == 303
    )


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    response = browser.get("/console/series")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_the_language_switch_gives_english_pages(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    switched = browser.get("/console/lang/en?next=/console/members", follow_redirects=False)
    assert switched.headers["location"] == "/console/members"
    page = browser.get("/console/members")
    assert '<html lang="en">' in page.text and "Members and subscriptions" in page.text
    assert browser.get("/console/lang/xx?next=/console/members").status_code == 200  # unknown: ignored


# --- chapters ----------------------------------------------------------------------------------


def test_chapter_staff_see_and_change_only_their_chapter(client: TestClient, db: Database) -> None:
    ningbo = make_series(db, title="宁波 · 技术交流会")
    wenzhou = make_series(db, title="温州 · 项目对接会", chapter="wenzhou")
    private = make_series(db, title="温州 · 内部会议", chapter="wenzhou", private=True)
    their_member = make_member(db, "wz@example.com", chapter="wenzhou")
    browser = signed_in(client, db, "nb", "chapter", "ningbo")

    listing = browser.get("/console/series").text
    assert "宁波 · 技术交流会" in listing and "温州 · 项目对接会" not in listing
    assert browser.get(f"/console/series/{ningbo}").status_code == 200
    stamp = first_stamp(db, wenzhou)
    csrf = csrf_of(listing)
    for response in (
        browser.get(f"/console/series/{wenzhou}"),
        browser.get(f"/console/series/{wenzhou}/edit"),
        browser.get(f"/console/series/{wenzhou}/occurrences/{stamp}"),
        browser.post(
            f"/console/series/{wenzhou}/occurrences/{stamp}", data={"csrf": csrf, "action": "cancel"}
        ),
        browser.post(f"/console/series/{wenzhou}/cancel", data={"csrf": csrf}),
        browser.get(f"/console/members/{their_member}"),
        browser.get("/console/series?chapter=wenzhou"),
    ):
        assert response.status_code == 403, response.request.url
        assert "此内容属于温州分会" in response.text
    assert "wz@example.com" not in browser.get("/console/members").text
    own_member = make_member(db, "nb@example.com")
    offered = browser.get(f"/console/members/{own_member}").text
    assert "温州 · 项目对接会" in offered and "温州 · 内部会议" not in offered  # public yes, private no
    sneaked = browser.post(
        f"/console/members/{own_member}/subscriptions", data={"csrf": csrf, "target": f"series:{private}"}
    )
    assert sneaked.status_code == 422
    imported = _upload(browser, f"name,email,subscribe\n王五,w5@example.com,series:{private}\n".encode())
    assert imported.status_code == 422 and import_errors(imported.text) == [
        (
            "2",
            "订阅",
            f"series:{private}",
            "无法识别的订阅：可写 分会：宁波、类型：技术交流会、系列：活动名称（或系列编号）",
        )
    ]
    assert "wz@example.com" not in browser.get("/console/members/export.csv").text
    with db.session() as session:
        row = session.get(SeriesRow, wenzhou)
        assert row is not None and row.status == "active" and not row.overrides

    form = dict(form_fields(browser.get("/console/series/new").text, "series-form"))
    refused = browser.post(
        "/console/series/new", data={**form, "title": "越权", "chapter": "wenzhou", "action": "save"}
    )
    assert refused.status_code == 422
    assert "您只能为本分会（宁波）操作。" in refused.text


# --- series and occurrences --------------------------------------------------------------------


def test_a_series_made_in_the_form_is_stored_with_its_rule_and_first_session(
    client: TestClient, db: Database
) -> None:
    browser = signed_in(client, db, "admin")
    form = dict(form_fields(browser.get("/console/series/new").text, "series-form"))
    form.update(
        title="宁波 · 月度项目对接会", chapter="ningbo", organizer_email="nb@example.com", date="2030-01-01",
        repeat="monthly_nth", nth="-1", weekday="FR", ends="count", count="6", action="save",
    )  # fmt: skip
    response = browser.post("/console/series/new", data=form, follow_redirects=False)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)', response.text)
    series_id = uuid.UUID(response.headers["location"].split("/")[3].split("?")[0])
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        assert (row.rrule, row.dtstart, row.chapter) == (
            "FREQ=MONTHLY;COUNT=6;BYDAY=-1FR",
            datetime(2030, 1, 25, 14, 0),
            "ningbo",
        )
        assert row.plan_requested_at is not None  # the planner looks at it at once
    detail = browser.get(response.headers["location"])
    assert "活动系列已创建。" in detail.text and detail.text.count("/occurrences/") == 6


def test_opening_and_saving_a_series_unchanged_sends_nobody_an_update(
    client: TestClient, db: Database
) -> None:
    last_thursday = "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1;COUNT=4"
    odd_plan = {"invite_before": "P1DT12H", "reminders": ["PT90M", "PT15S"], "followup_after": "PT45M"}
    series_id = make_series(
        db, rrule=last_thursday, dtstart="2030-01-31T14:00:00", duration="PT1H30M", notices=odd_plan
    )
    browser = signed_in(client, db, "admin")
    page = browser.get(f"/console/series/{series_id}/edit").text
    assert 'value="custom" selected' in page  # shown as the rule it is
    saved = browser.post(
        f"/console/series/{series_id}/edit",
        data=as_data([*form_fields(page, "series-form"), ("action", "save")]),
        follow_redirects=False,
    )
    assert saved.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)', saved.text)
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert (
            row is not None and row.sequence == 0 and row.rrule == "FREQ=MONTHLY;COUNT=4;BYDAY=TH;BYSETPOS=-1"
        )
        plan = (row.duration_s, row.invite_before_s, row.reminders_s, row.followup_after_s)
        assert plan == (5400, 129600, [5400, 15], 2700)


def test_a_save_over_someone_elses_change_is_stopped_once(client: TestClient, db: Database) -> None:
    series_id = make_series(db)
    mine, theirs = signed_in(client, db, "admin"), signed_in(client, db, "nb", "chapter", "ningbo")
    my_form = as_data(form_fields(mine.get(f"/console/series/{series_id}/edit").text, "series-form"))
    their_form = as_data(form_fields(theirs.get(f"/console/series/{series_id}/edit").text, "series-form"))
    their_form.update(venue=["宁波国际会展中心 5号厅"], action=["save"])
    saved = theirs.post(f"/console/series/{series_id}/edit", data=their_form, follow_redirects=False)
    assert saved.status_code == 303

    my_form.update(title=["宁波 · 改名的交流会"], action=["save"])
    stopped = mine.post(f"/console/series/{series_id}/edit", data=my_form)
    assert stopped.status_code == 409 and "您编辑期间，有人保存了这个系列" in stopped.text
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        assert row.title == "宁波 · 数字化制衣技术交流会"  # mine did not land
        assert row.venue == "宁波国际会展中心 5号厅"  # theirs stands
    again = as_data([*form_fields(stopped.text, "series-form"), ("action", "save")])
    overwritten = mine.post(f"/console/series/{series_id}/edit", data=again, follow_redirects=False)
    assert overwritten.status_code == 303
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None and row.title == "宁波 · 改名的交流会"


def test_the_preview_shows_the_rule_and_the_next_ten_sessions(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    form = dict(form_fields(browser.get("/console/series/new").text, "series-form"))
    form.update(date="2026-09-01", repeat="monthly_day", monthday="1", skip_holidays="cn-statutory-shift")
    fragment = browser.post("/console/series/preview", data=form).text
    assert '<code id="rrule-text">FREQ=MONTHLY;BYMONTHDAY=1</code>' in fragment
    assert "<strong>每月 1 日</strong>" in fragment  # the rule in words first
    assert fragment.count("<li") == 10 and fragment.count("14:00–16:00") == 10  # each with its end
    before_national_day = datetime.now(UTC) < datetime(2026, 10, 1, tzinfo=UTC)
    assert fragment.count("因国庆节顺延") == (1 if before_national_day else 0)
    broken = browser.post("/console/series/preview", data={**form, "time": "25:61"}).text
    assert "请按 时:分 填写时间" in broken and "<li" in broken and 'id="rrule-text"' not in broken


def test_the_preview_of_a_rule_too_sparse_to_expand_says_so_without_walking_centuries(
    client: TestClient, db: Database
) -> None:
    """A custom rule whose sessions are decades apart cost 4.7 s per preview, fired as staff
    type (dateutil walked day by day to year 9999). Now the form looks ten years ahead at most."""
    browser = signed_in(client, db, "admin")
    form = dict(form_fields(browser.get("/console/series/new").text, "series-form"))
    for rule in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"):
        form.update(date="2026-12-10", repeat="custom", custom=rule)
        answers: list[str] = []
        scanned = count_scanned_periods(
            lambda: answers.append(browser.post("/console/series/preview", data=form).text)  # noqa: B023
        )
        assert scanned <= 2 * 3653 + 10, rule  # at most two ten-year looks, never to year 9999
        assert 'id="rrule-text"' not in answers[0]
        assert "十年" in answers[0], answers[0]


def test_moving_a_session_says_who_is_told_and_plans_their_update(client: TestClient, db: Database) -> None:
    series_id = make_series(db)
    make_member(db, "chen@example.com")
    planner = Planner(db, ChineseStatutoryCalendar())
    planner.plan_all()
    with db.session() as session:  # the invitation of the first session went out
        session.execute(update(NoticeRow).where(NoticeRow.kind == "invitation").values(status="sent"))
    stamp = first_stamp(db, series_id)
    browser = signed_in(client, db, "admin")
    page = browser.get(f"/console/series/{series_id}/occurrences/{stamp}").text
    assert "已收到邀请的 1 位" in page and "chen@example.com" in page

    csrf = csrf_of(page)
    bad = browser.post(
        f"/console/series/{series_id}/occurrences/{stamp}",
        data={"csrf": csrf, "action": "move", "date": "明天", "time": "14:00"},
    )
    assert bad.status_code == 422 and "请按 年-月-日 填写日期" in bad.text
    day = (datetime.now(UTC) + timedelta(days=6)).date().isoformat()
    moved = browser.post(
        f"/console/series/{series_id}/occurrences/{stamp}",
        data={"csrf": csrf, "action": "move", "date": day, "time": "09:30"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    planner.plan_requested()
    with db.session() as session:
        updates = session.scalars(select(NoticeRow).where(NoticeRow.kind == "update")).all()
        assert [(u.status, u.sequence) for u in updates] == [("pending", 1)]
    assert "已改期" in browser.get(moved.headers["location"]).text
    edit = browser.get(f"/console/series/{series_id}/edit").text
    assert "已收到邀请的 1 位成员：若修改名称、时间、地点等日历内容" in edit


def test_the_preview_button_works_without_script_and_stores_nothing(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    form = dict(form_fields(browser.get("/console/series/new").text, "series-form"))
    form.update(title="预览", repeat="weekly", interval="2", weekdays="TU", date="2030-01-01")
    form["action"] = "preview"  # organizer_email is still empty: not pointed out in a preview
    page = browser.post("/console/series/new", data=form)
    assert page.status_code == 200
    assert '<code id="rrule-text">FREQ=WEEKLY;INTERVAL=2;BYDAY=TU</code>' in page.text
    assert "2030年1月1日 周二" in page.text and "2030年1月15日 周二" in page.text
    assert 'value="预览"' in page.text  # what was typed is kept
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SeriesRow)) == 0


def test_occurrence_page_counts_replies_and_lists_follow_up_outcomes(
    client: TestClient, db: Database
) -> None:
    series_id = make_series(db)
    members = [make_member(db, f"m{i}@example.com") for i in range(3)]
    stamp = first_stamp(db, series_id)
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        uid = occurrences(
            row, ChineseStatutoryCalendar(), datetime.now(UTC), datetime.now(UTC) + timedelta(days=30)
        )[0].uid
        for member_id, answer in zip(members, ("accepted", "accepted", "declined"), strict=True):
            session.add(
                RsvpRow(series_id=series_id, member_id=member_id, occurrence_uid=uid, response=answer)
            )
        session.add(FollowupResponseRow(series_id=series_id, member_id=members[0], occurrence_uid=uid,
                                        kind="docking-outcome", text="与两家面料厂达成打样意向"))  # fmt: skip
    browser = signed_in(client, db, "admin")
    page = browser.get(f"/console/series/{series_id}/occurrences/{stamp}").text
    assert "参加 2 · 不参加 1 · 待定 0" in page
    assert "对接成果：与两家面料厂达成打样意向" in page
    detail = browser.get(f"/console/series/{series_id}").text
    assert "2 / 1 / 0" in detail
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    with db.session() as session:
        session.execute(
            update(NoticeRow)
            .where(NoticeRow.kind == "invitation", NoticeRow.occurrence_uid == uid)
            .values(status="sent")
        )
    ledger = browser.get(f"/console/ledger?series={series_id}").text
    summary = ledger[ledger.index('id="per-session"') :]
    first_row = summary[summary.index(f"/occurrences/{stamp}") :].split("</tr>")[0]
    assert re.findall(r"<td>([^<]*)</td>", first_row) == ["3", "2 / 1 / 0", "1"]


# --- ledger ------------------------------------------------------------------------------------


def test_a_failed_notice_shows_its_reason_and_can_be_retried_once(client: TestClient, db: Database) -> None:
    make_series(db)
    make_member(db, "chen@example.com")
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    with db.session() as session:
        notice = session.scalars(select(NoticeRow).where(NoticeRow.kind == "invitation")).first()
        assert notice is not None
        notice.status, notice.attempts = "failed", 8
        notice.reason_code, notice.reason_params = (
            "smtp-reply",
            {"code": 550, "text": "5.1.1 mailbox unavailable"},
        )
        notice_id = notice.id
    browser = signed_in(client, db, "admin")
    ledger = browser.get("/console/ledger?status=failed").text
    # what happened and what to do, in the reader's words; the server's own answer as a detail
    assert "对方邮箱不存在或拒收" in ledger and "请核对该成员的邮箱地址" in ledger
    assert "<summary>技术细节</summary>邮件服务器回复 550：5.1.1 mailbox unavailable" in ledger
    assert ledger.count('data-status="failed"') == 1
    retried = browser.post(
        f"/console/ledger/{notice_id}/retry", data={"csrf": csrf_of(ledger)}, follow_redirects=False
    )
    assert retried.status_code == 303
    assert "自失败以来收件人资料没有任何修改" in browser.get(retried.headers["location"]).text
    with db.session() as session:
        row = session.get(NoticeRow, notice_id)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)
        assert row.reason_code == "staff-retry" and row.reason_params["before"]["params"]["code"] == 550
        assert reason_text(row).startswith("retry asked by admin")
    again = browser.post(f"/console/ledger/{notice_id}/retry", data={"csrf": csrf_of(ledger)})
    assert again.status_code == 409 and "只有发送失败的通知可以重新发送。" in again.text


def _failed(db: Database, member_email: str, code: str, params: dict[str, Any]) -> uuid.UUID:
    with db.session() as session:
        notice = session.scalars(
            select(NoticeRow)
            .join(MemberRow)
            .where(NoticeRow.kind == "invitation", MemberRow.email == member_email)
        ).first()
        assert notice is not None
        notice.status, notice.reason_code, notice.reason_params = "failed", code, params
        return notice.id


def test_a_retry_after_the_address_was_corrected_says_so(client: TestClient, db: Database) -> None:
    make_series(db)
    member_id = make_member(db, "chen@exmaple.com")
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    notice_id = _failed(db, "chen@exmaple.com", "smtp-recipients", {"code": 550, "detail": "no such user"})
    browser = signed_in(client, db, "admin")
    with db.session() as session:  # staff correct the typo a moment later
        member = session.get(MemberRow, member_id)
        assert member is not None
        member.email, member.updated_at = "chen@example.com", datetime.now(UTC) + timedelta(seconds=1)
    ledger = browser.get("/console/ledger?status=failed").text
    done = browser.post(f"/console/ledger/{notice_id}/retry", data={"csrf": csrf_of(ledger)})
    assert "自失败以来，该成员的资料（如邮箱地址）已修改" in done.text


@pytest.mark.parametrize(
    ("code", "params", "what", "todo"),
    [
        (
            "webhook-http",
            {"format": "wecom", "status": 400},
            "群机器人拒收了这条消息",
            "重新粘贴平台给出的地址",
        ),
        ("webhook-http", {"format": "feishu", "status": 404}, "群机器人已不存在", "重新添加机器人"),
        (
            "webhook-error",
            {"format": "dingtalk", "code": 310000, "body": "keywords not in content"},
            "安全设置",
            "关键词",
        ),
        ("smtp-connection", {"error": "Connection refused"}, "无法连接协会的发信服务器", "信息技术人员"),
        (
            "gave-up",
            {"attempts": 8, "last": {"code": "smtp-reply", "params": {"code": 452, "text": "mailbox full"}}},
            "对方邮箱已满",
            "清理邮箱",
        ),
    ],
)
def test_each_failure_says_what_happened_and_what_to_do(
    client: TestClient, db: Database, code: str, params: dict[str, Any], what: str, todo: str
) -> None:
    make_series(db)
    make_member(db, "chen@example.com")
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    _failed(db, "chen@example.com", code, params)
    ledger = signed_in(client, db, "admin").get("/console/ledger?status=failed").text
    [cell] = re.findall(r'<td class="reason"[^>]*>(.*?)</td>', ledger, re.S)
    assert what in cell and todo in cell
    shown = re.sub(r"<details.*?</details>|<[^>]+>", "", cell, flags=re.S)  # seen before opening the detail
    assert not re.search(r"[A-Za-z]{3,}|\b[45]\d\d\b", shown), shown  # no English, no status code


# --- home --------------------------------------------------------------------------------------


def test_staff_land_on_this_weeks_sessions_what_needs_them_and_what_happened(
    client: TestClient, db: Database
) -> None:
    from scheduler.notices.answers import answer

    series_id = make_series(db, title="宁波 · 限额对接会", capacity=1)  # weekly; one session this week
    make_series(db, title="温州 · 别家的会", chapter="wenzhou")
    first, second = make_member(db, "first@example.com"), make_member(db, "second@example.com")
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        occ = occurrences(row, ChineseStatutoryCalendar(), now, now + timedelta(days=7))[0]
        answer(session, row, occ, first, "accepted", now, source="staff")
        answer(session, row, occ, second, "accepted", now, source="staff")  # full: waits
        answer(session, row, occ, first, "declined", now, source="link")  # the seat goes to the second
        failed = session.scalars(select(NoticeRow).where(NoticeRow.kind == "reminder")).first()
        assert failed is not None
        failed.status, failed.reason_code = "failed", "smtp-connection"
        member = session.get(MemberRow, first)
        assert member is not None
        member.undeliverable_at = now
    browser = signed_in(client, db, "nb", "chapter", "ningbo")
    landed = browser.get("/console", follow_redirects=True)
    assert landed.url.path == "/console/home"
    home = landed.text
    coming = home[home.index('id="coming"') : home.index('id="alerts"')]
    assert coming.count('<li class="card') == 1 and "宁波 · 限额对接会" in coming  # this week, this chapter
    assert "温州" not in coming
    assert (
        "参加 0 · 不参加 1 · 待定 0 · 候补 1" in coming and "已占 1 / 共 1 席" in coming and "满员" in coming
    )
    attention = home[home.index('id="attention"') : home.index('id="coming"')]
    assert "1 条通知发送失败" in attention and "1 位成员的邮箱无法投递" in attention
    alerts = home[home.index('id="alerts"') :]
    assert "陈晓燕（锦程服饰）不参加已满员的宁波 · 限额对接会" in alerts and "候补 1 人" in alerts
    assert "条通知发送失败" in alerts


# --- members -----------------------------------------------------------------------------------


def _upload(browser: TestClient, content: bytes, name: str = "members.csv", **extra: str) -> Any:
    csrf = csrf_of(browser.get("/console/members").text)
    return browser.post(
        "/console/members/import",
        data={"csrf": csrf, **extra},
        files={"file": (name, content, "text/csv")},
    )


def import_errors(page: str) -> list[tuple[str, str, str, str]]:
    """(line, column, value found, reason) of each row of the import report's error table."""
    cells = r"<td>([^<]*)</td><td>([^<]*)</td><td><code>([^<]*)</code></td><td class=\"error\">([^<]*)</td>"
    return re.findall(cells, page)


def confirm_import(browser: TestClient, preview: str) -> Any:
    """Press the preview's button: the file's text goes back with it, and is imported."""
    return browser.post("/console/members/import", data=dict(form_fields(preview, "import-confirm")))


def test_csv_import_reports_each_bad_row_and_imports_nothing_until_asked(
    client: TestClient, db: Database
) -> None:
    make_member(db, "taken@example.com")
    series_id = make_series(db)
    browser = signed_in(client, db, "admin")
    content = (
        "name,email,company,chapter,subscribe\n"
        f"李四,li@example.com,嘉兴织造,jiaxing,kind:tech-exchange;series:{series_id};kind:tech-exchange\n"
        ",bad-address,,nowhere,\n"
        "赵六,taken@example.com,,ningbo,\n"
        "钱七,qian@example.com,,ningbo,chapter:beijing\n"
        "孙八,LI@example.com,,ningbo,\n"
    ).encode()
    report = _upload(browser, content)
    assert report.status_code == 422
    assert import_errors(report.text) == [
        ("3", "分会", "nowhere", "不是分会名称：可写 宁波、宁波分会 或 ningbo"),
        ("3", "姓名", "（空）", "此项必填。"),
        ("3", "邮箱", "bad-address", "邮箱地址无效。"),
        (
            "5",
            "订阅",
            "chapter:beijing",
            "无法识别的订阅：可写 分会：宁波、类型：技术交流会、系列：活动名称（或系列编号）",
        ),
        ("6", "邮箱", "LI@example.com", "文件中第 2 行已有此邮箱。"),
    ]
    # a row whose address is a member's already updates that member: shown, not yet done
    assert "新增 1 位成员" in report.text and "更新 1 位已有成员" in report.text
    assert "姓名：陈晓燕 → 赵六" in report.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 1  # nothing imported
        taken = session.scalar(select(MemberRow).where(MemberRow.email == "taken@example.com"))
        assert taken is not None and taken.name == "陈晓燕"
    done = confirm_import(browser, report.text)
    assert done.status_code == 200 and "已导入：新增 1 位成员，更新 1 位。" in done.text
    with db.session() as session:
        li = session.scalar(select(MemberRow).where(MemberRow.email == "li@example.com"))
        assert li is not None and li.chapter == "jiaxing" and li.plan_requested_at is not None
        assert sorted(s.target_type for s in li.subscriptions) == ["kind", "series"]
        taken = session.scalar(select(MemberRow).where(MemberRow.email == "taken@example.com"))
        assert taken is not None and taken.name == "赵六" and taken.company == "锦程服饰"  # empty cell: kept


def test_a_file_in_chinese_words_is_read_and_says_how_many_invitations_go_at_once(
    client: TestClient, db: Database
) -> None:
    series_id = make_series(db, title="宁波 · 面料数字化对接会", chapter="ningbo")  # weekly, from 5 days on
    browser = signed_in(client, db, "admin")
    content = (
        "姓名,邮箱,公司,分会,语言,时区,订阅\n"
        "孙丽,sun.li@example.com,绍兴纺织,绍兴分会,英文,日本时间,技术交流会；系列：宁波 · 面料数字化对接会\n"
        "周杰,zhou@example.com,湖州丝绸,湖州,中文,北京时间,分会：宁波\n"
    ).encode()
    preview = _upload(browser, content, name="宁波分会成员.csv")  # named as staff name files
    assert preview.status_code == 200, import_errors(preview.text)
    assert "新增 2 位成员" in preview.text
    # two sessions within the 14 days an invitation goes ahead, for each of the two members
    assert "导入后将立即发出 4 封邀请（2 场即将举行的活动）" in preview.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 0  # a preview stores nothing
    assert confirm_import(browser, preview.text).status_code == 200
    with db.session() as session:
        sun = session.scalar(select(MemberRow).where(MemberRow.email == "sun.li@example.com"))
        assert sun is not None
        assert (sun.chapter, sun.locale, sun.timezone) == ("shaoxing", "en", "Asia/Tokyo")
        assert sorted((s.target_type, s.target) for s in sun.subscriptions) == [
            ("kind", "tech-exchange"),
            ("series", str(series_id)),
        ]
        zhou = session.scalar(select(MemberRow).where(MemberRow.email == "zhou@example.com"))
        assert zhou is not None and zhou.chapter == "huzhou" and zhou.timezone == "Asia/Shanghai"
        assert [(s.target_type, s.target) for s in zhou.subscriptions] == [("chapter", "ningbo")]


def test_an_edited_export_updates_the_members_and_shows_each_change_first(
    client: TestClient, db: Database
) -> None:
    make_member(db, "chen@example.com")
    browser = signed_in(client, db, "admin")
    exported = browser.get("/console/members/export.csv").content.decode("utf-8-sig")
    edited = exported.replace("锦程服饰", "锦程集团").replace(",中文,", ",英文,").replace(",北京时间,", ",,")
    edited = edited.replace("分会：宁波", "分会：宁波；类型：项目对接会")
    preview = _upload(browser, edited.encode("utf-8-sig"))
    assert preview.status_code == 200, import_errors(preview.text)
    assert "更新 1 位已有成员" in preview.text and "新增 0 位成员" in preview.text
    assert "公司：锦程服饰 → 锦程集团；语言：中文 → 英文；新增 1 项订阅" in preview.text
    assert "导入后将立即发出" not in preview.text  # no project-docking series exists: nothing at once
    assert confirm_import(browser, preview.text).status_code == 200
    with db.session() as session:
        chen = session.scalar(select(MemberRow).where(MemberRow.email == "chen@example.com"))
        assert chen is not None and (chen.company, chen.locale) == ("锦程集团", "en")
        assert chen.timezone == "Asia/Shanghai"  # the emptied cell kept the zone
        assert sorted(s.target for s in chen.subscriptions) == ["ningbo", "project-docking"]


def test_chapter_staff_cannot_update_another_chapters_member_by_import(
    client: TestClient, db: Database
) -> None:
    make_member(db, "yiwu@example.com", chapter="yiwu")
    browser = signed_in(client, db, "nb", "chapter", "ningbo")
    report = _upload(browser, "姓名,邮箱,公司\n改名,yiwu@example.com,别家\n".encode())
    assert report.status_code == 422
    assert import_errors(report.text) == [
        ("2", "邮箱", "yiwu@example.com", "该邮箱属于其他分会的成员，不能在此修改。")
    ]
    with db.session() as session:
        member = session.scalar(select(MemberRow).where(MemberRow.email == "yiwu@example.com"))
        assert member is not None and member.name == "陈晓燕"


def test_csv_import_says_what_is_wrong_with_the_file_itself(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    gbk = _upload(browser, "name,email,chapter\n张三,z@example.com,ningbo\n".encode("gbk"))
    assert gbk.status_code == 422 and "文件不是 UTF-8 编码" in gbk.text
    headless = _upload(browser, b"full name,mail\nx,y\n")
    assert headless.status_code == 422 and "文件缺少列：姓名、邮箱、分会" in headless.text
    # a cell longer than the csv module reads (131,072 characters) answered 500
    long_cell = _upload(browser, b"name,email,chapter\n" + b"x" * 140_000 + b",z@example.com,ningbo\n")
    assert long_cell.status_code == 422 and "文件第 2 行无法读取" in long_cell.text
    controls = _upload(browser, "name,email,chapter\n张\x1b三,z@example.com,ningbo\n".encode())
    assert controls.status_code == 422 and "不能包含控制字符" in controls.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    assert "文件不超过 1 MB" in browser.get("/console/members").text  # said before uploading
    huge = b"name,email,chapter\n" + "张三,z@example.com,ningbo\n".encode() * 40000
    assert _upload(browser, huge).status_code == 413
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(MemberRow)) == 0


def test_exported_members_read_back_as_the_same_rows(client: TestClient, db: Database) -> None:
    make_member(db, "chen@example.com")
    make_member(db, "formula@example.com", chapter="yiwu", kind="tech-exchange")
    with db.session() as session:
        session.execute(
            update(MemberRow).where(MemberRow.email == "formula@example.com").values(company="=HYPERLINK(1)")
        )
    browser = signed_in(client, db, "admin")
    exported = browser.get("/console/members/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {(r["邮箱"], r["分会"], r["语言"], r["时区"], r["订阅"]) for r in rows} == {
        ("chen@example.com", "宁波", "中文", "北京时间", "分会：宁波"),
        ("formula@example.com", "义乌", "中文", "北京时间", "类型：技术交流会"),
    }
    assert next(r for r in rows if r["分会"] == "义乌")["公司"] == "'=HYPERLINK(1)"  # not a formula
    again = _upload(browser, exported.content)  # the same file read back: every row is recognised
    assert again.status_code == 200 and "2 行与现有成员相同，不作改动" in again.text
    assert "新增 0 位成员" in again.text and "更新 0 位已有成员" in again.text


def test_console_errors_are_pages_not_json(client: TestClient, db: Database) -> None:
    browser = signed_in(client, db, "admin")
    for path in ("/console/series/not-a-uuid", f"/console/series/{uuid.uuid4()}", "/console/nowhere"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "找不到此内容" in response.text
    assert client.get("/api/v1/series/not-a-uuid").headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("username", ["x", "Has Space", "中文名"])
def test_usernames_are_checked(db: Database, username: str) -> None:
    from scheduler.domain.errors import InvalidInput

    with db.session() as session, pytest.raises(InvalidInput, match="a username is"):
        create_staff(session, username=username, password=PASSWORD, role="admin")


def test_every_page_renders_in_both_languages_and_escapes_what_people_typed(
    client: TestClient, db: Database
) -> None:
    series_id = make_series(db, title='<script>alert("x")</script> 对接会')
    member_id = make_member(db, "chen@example.com")
    stamp = first_stamp(db, series_id)
    browser = signed_in(client, db, "admin")
    pages = [
        "/console/series",
        "/console/series/new",
        f"/console/series/{series_id}",
        f"/console/series/{series_id}/edit",
        f"/console/series/{series_id}/occurrences/{stamp}",
        "/console/members",
        f"/console/members/{member_id}",
        f"/console/ledger?series={series_id}",
        "/console/feeds",
    ]
    for language, marker in (("zh-CN", "退出"), ("en", "Sign out")):
        browser.get(f"/console/lang/{language}")
        for path in pages:
            response = browser.get(path)
            assert response.status_code == 200, (language, path)
            assert marker in response.text, (language, path)
            assert '<script>alert("x")</script>' not in response.text, path
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 对接会" in browser.get("/console/series").text


#: What staff must not meet in the Chinese console: a raw rule, a time-zone id, an HTTP or
#: SMTP status code, an English sentence (four English words in a row).
JARGON = {
    "a raw RRULE": re.compile(r"FREQ=|BYDAY=|RRULE"),
    "an IANA zone id": re.compile(r"\b(?:Asia|Europe|America|Africa|Australia|Pacific|Etc)/[A-Z][a-z]"),
    "a status code": re.compile(
        r"\b(?:HTTP|SMTP)\s*\d{3}\b|\b[45]\d\d\b(?!\s*(?:位|条|行|封|人|席|场|天|分钟|小时))"
    ),
    "an English sentence": re.compile(r"\b[A-Za-z]{2,}(?:[ ,][A-Za-z]{2,}){3,}"),
}


def visible_text(page: str) -> str:
    """What a reader sees before opening anything: no markup, scripts, styles or the closed
    "technical detail" boxes; the values of form fields and options as shown."""
    page = re.sub(r"<(script|style|details)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<(textarea)\b[^>]*>.*?</\1>", " ", page, flags=re.S)  # what was typed
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_chinese_console_shows_no_rule_code_zone_id_status_code_or_english(
    client: TestClient, db: Database
) -> None:
    from scheduler.db.models import ChapterWebhookRow

    series_id = make_series(db, title="宁波 · 每两周技术交流会", rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=6")
    member_id = make_member(db, "rossi@tessuti.example")
    with db.session() as session:
        member = session.get(MemberRow, member_id)
        assert member is not None
        member.timezone, member.locale = "Europe/Rome", "en"
        session.add(ChapterWebhookRow(chapter="ningbo", format="wecom", url="https://qyapi.weixin.qq.com/x"))
    Planner(db, ChineseStatutoryCalendar()).plan_all()
    with db.session() as session:
        notices = session.scalars(select(NoticeRow).where(NoticeRow.kind == "invitation")).all()
        for notice, (code, params) in zip(
            notices,
            [
                ("webhook-http", {"format": "wecom", "status": 400}),
                (
                    "smtp-reply",
                    {"code": 550, "text": "5.1.1 The email account that you tried to reach does not exist"},
                ),
            ],
            strict=False,
        ):
            notice.status, notice.reason_code, notice.reason_params = "failed", code, params
    stamp = first_stamp(db, series_id)
    browser = signed_in(client, db, "admin")
    pages = [
        "/console/home",
        "/console/series",
        "/console/series/new",
        f"/console/series/{series_id}",
        f"/console/series/{series_id}/edit",
        f"/console/series/{series_id}/occurrences/{stamp}",
        f"/console/series/{series_id}/occurrences/{stamp}/checkin",
        f"/console/series/{series_id}/occurrences/{stamp}/outcomes",
        "/console/members",
        f"/console/members/{member_id}",
        "/console/ledger",
        f"/console/ledger?series={series_id}",
        "/console/joins",
        "/console/replies",
        "/console/bounces",
        "/console/robots",
        "/console/feeds",
        "/console/accounts",
        "/console/password",
        "/console/reports",
        "/console/holidays",
        f"/console/holidays?year={utcnow().astimezone(OFFICE).year + 1}",
    ]
    found = {}
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.text)
        for what, pattern in JARGON.items():
            if match := pattern.search(text):
                found[(path, what)] = text[max(0, match.start() - 30) : match.end() + 30]
    assert found == {}, "\n".join(f"{k}: {v!r}" for k, v in found.items())


def test_a_member_is_corrected_and_removed_with_reasons_for_bad_input(
    client: TestClient, db: Database
) -> None:
    member_id = make_member(db, "chen@example.com")
    make_member(db, "other@example.com")
    browser = signed_in(client, db, "nb", "chapter", "ningbo")
    page = browser.get(f"/console/members/{member_id}").text
    fields = dict(form_fields(page, "edit-member"))
    assert fields["email"] == "chen@example.com" and fields["channels"] == "on"

    taken = browser.post(f"/console/members/{member_id}", data={**fields, "email": "other@example.com"})
    assert taken.status_code == 422 and 'id="err-email" role="alert">已有成员使用此邮箱。' in taken.text
    elsewhere = browser.post(f"/console/members/{member_id}", data={**fields, "chapter": "wenzhou"})
    assert elsewhere.status_code == 422 and "您只能为本分会（宁波）操作。" in elsewhere.text

    fixed = {**fields, "email": "Chen.XY@Example.com", "locale": "en"}
    fixed.pop("channels")  # no more email notices
    saved = browser.post(f"/console/members/{member_id}", data=fixed, follow_redirects=False)
    assert saved.status_code == 303
    with db.session() as session:
        row = session.get(MemberRow, member_id)
        assert row is not None
        assert (row.email, row.locale, row.channels) == ("chen.xy@example.com", "en", [])
        assert row.plan_requested_at is not None  # its pending notices are withdrawn by the planner

    csrf = csrf_of(browser.get(f"/console/members/{member_id}").text)
    gone = browser.post(f"/console/members/{member_id}/delete", data={"csrf": csrf}, follow_redirects=True)
    assert "成员已删除。" in gone.text
    with db.session() as session:
        assert session.get(MemberRow, member_id) is None


def test_the_series_page_says_every_setting_in_words(client: TestClient, db: Database) -> None:
    """Staff read 每月最后一个周五 14:00–16:30（北京时间）, the seats and when the notices go — no
    RRULE, no IANA zone id; in English too."""
    series_id = make_series(
        db,
        rrule="FREQ=MONTHLY;BYDAY=-1FR",
        dtstart="2026-12-25T14:00:00",
        duration="PT2H30M",
        capacity=40,
        notices={"invite_before": "P14D", "reminders": ["P1D", "PT2H"], "followup_after": "P1D"},
    )
    browser = signed_in(client, db, "office")
    page = browser.get(f"/console/series/{series_id}").text
    assert "每月最后一个周五 14:00–16:30（北京时间）" in page
    assert "40 · 空出的席位为候补保留 1天" in page
    assert "开始前 14天 发邀请；提醒：1天、2小时；结束后 1天 发会后跟进" in page
    assert "FREQ=" not in page and "Asia/Shanghai" not in page
    form = browser.get("/console/series/new").text
    assert '<option value="Asia/Shanghai" selected>北京时间</option>' in form
    # the organizer comes from the chapter (the form's script swaps it when the chapter changes)
    assert 'name="organizer_name" value="省协会 秘书处"' in form
    [organizers] = re.findall(r'data-organizers="([^"]*)"', form)
    assert json.loads(html.unescape(organizers))["shaoxing"] == "绍兴分会 秘书处"
    assert "exsched staff" not in client.get("/console/login").text
    assert '<option value="Asia/Tokyo">日本时间 (UTC+09:00)</option>' in form
    assert "北京时间" in browser.get("/console/members").text  # the member form picks zones too
    browser.get("/console/lang/en")
    english = browser.get(f"/console/series/{series_id}").text
    assert "The last Fri of every month, 14:00–16:30 (Beijing time)" in english
    assert "FREQ=" not in english and "Asia/Shanghai" not in english
