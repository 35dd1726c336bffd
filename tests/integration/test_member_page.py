"""The member page and its sign-in, on SQLite and PostgreSQL: links that only a button uses, a
sign-in that tells nobody who is a member, and every change a member can make for themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from scheduler.db.models import MemberRow, RsvpRow, SubscriptionRow, UsedLinkRow
from scheduler.ops.config import Settings
from tests.integration.test_workers import calendar_of
from tests.support.console import new_browser
from tests.support.members import csrf_of, link_in, mails_to, outbox, page_csrf, press, sign_in
from tests.support.world import START, World, a_session, subscribed

CHEN = "chen.jing@lihua.example"


@pytest.fixture
def browser(world: World) -> TestClient:
    """A member's phone: its own cookies, over https as in production (the cookie is Secure)."""
    return TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)


def test_a_sign_in_link_signs_in_only_when_its_button_is_pressed_and_only_once(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    assert browser.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"
    asked = browser.post("/me/sign-in", data={"email": "Chen.Jing@Lihua.example"})
    assert asked.status_code == 200 and "登录链接已经发出" in asked.text
    [mail] = mails_to(settings, CHEN)
    assert mail["Subject"] == "登录我的活动页"
    link = link_in(mail, "me/link/")
    for _ in range(3):  # a scanner, then the person: opening it changes nothing and uses nothing
        for method in ("GET", "HEAD"):
            assert browser.request(method, link).status_code == 200
    assert "以 陈静 的身份登录？" in browser.get(link).text
    assert browser.get("/me", follow_redirects=False).status_code == 303
    with world.db.session() as session:
        assert session.scalars(select(UsedLinkRow)).all() == []
    assert browser.post(link, data={"csrf": "0" * 64}).status_code == 403
    signed = press(browser, link)
    assert signed.status_code == 303 and "exsched_member" in signed.headers["set-cookie"]
    assert (
        "HttpOnly" in signed.headers["set-cookie"] and "samesite=lax" in signed.headers["set-cookie"].lower()
    )
    page = browser.get("/me")
    assert page.status_code == 200 and "陈静，你好" in page.text
    again = browser.get(link)
    assert again.status_code == 404 and "此链接无效或已过期" in again.text  # used: the same page as unknown
    assert browser.post(link, data={"csrf": csrf_of(page.text)}).status_code == 404


def test_the_sign_in_form_answers_the_same_for_strangers_and_refuses_bad_input_by_field(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    known = browser.post("/me/sign-in", data={"email": CHEN})
    stranger = browser.post("/me/sign-in", data={"email": "nobody@else.example"})
    assert known.status_code == stranger.status_code == 200
    assert known.text.replace(CHEN, "X") == stranger.text.replace("nobody@else.example", "X")
    assert mails_to(settings, "nobody@else.example") == [] and len(mails_to(settings, CHEN)) == 1
    bad = browser.post("/me/sign-in", data={"email": "chen\r\nBcc: all@x.example"})
    assert bad.status_code == 422 and "只能填一行" in bad.text and 'aria-invalid="true"' in bad.text
    long = browser.post("/me/sign-in?lang=en", data={"email": "a" * 330 + "@x.example"})
    assert long.status_code == 422 and "Too long: at most 320 characters." in long.text
    shapeless = browser.post("/me/sign-in", data={"email": "not an address"})
    assert shapeless.status_code == 422 and "这不是有效的邮箱地址" in shapeless.text
    assert len(outbox(settings)) == 1


def test_sign_in_links_are_limited_per_address_and_per_client(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    for _ in range(5):
        assert browser.post("/me/sign-in", data={"email": CHEN}).status_code == 200
    assert len(mails_to(settings, CHEN)) == 3  # the rest are not sent, and nothing says so
    answers = [
        browser.post("/me/sign-in", data={"email": f"guess{i}@lihua.example"}).status_code for i in range(20)
    ]
    assert answers[:15] == [200] * 15 and answers[15:] == [429] * 5  # 20 per quarter hour per client
    assert "请在" in browser.post("/me/sign-in", data={"email": CHEN}).text


def test_the_personal_link_in_every_email_signs_in_after_its_button(
    browser: TestClient, world: World
) -> None:
    subscribed(world)
    a_session(world)
    world.run()
    [invitation] = world.mails()
    link = next(
        w for w in invitation.get_body(preferencelist=("plain",)).get_content().split() if "/me/link/" in w
    )
    path = link.split("https://exsched.test", 1)[1]
    assert press(browser, path).status_code == 303
    assert press(browser, path).status_code == 303  # reusable for its fortnight, unlike a sign-in link
    assert "陈静，你好" in browser.get("/me").text


def answer(client: TestClient, series_id: str, stamp: str, response: str) -> object:
    data = {"csrf": page_csrf(client), "series": series_id, "occurrence": stamp, "response": response}
    return client.post("/me/answer", data=data, follow_redirects=False)


def test_a_member_answers_changes_their_mind_and_takes_the_session_into_their_calendar(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    series = a_session(world)
    private = a_session(world, title="宁波 理事会", private=True)
    world.run()
    [invitation] = world.mails()
    sign_in(browser, settings, CHEN)
    page = browser.get("/me").text
    assert series["title"] in page and "宁波 理事会" not in page and "你还没有回复" in page
    stamp = "20261210T060000Z"
    assert answer(browser, series["id"], stamp, "accepted").status_code == 303
    assert "你已回复：参加" in browser.get("/me?done=answer").text
    assert answer(browser, series["id"], stamp, "declined").status_code == 303
    with world.db.session() as session:
        [row] = session.scalars(select(RsvpRow))
        assert (row.response, row.source) == ("declined", "member-page")
    assert answer(browser, series["id"], stamp, "maybe-not").status_code == 404
    assert answer(browser, private["id"], stamp, "accepted").status_code == 404  # not invited
    assert answer(browser, series["id"], "20261211T060000Z", "accepted").status_code == 404
    ics = browser.get(f"/me/sessions/{series['id']}/{stamp}.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    invited, _, _ = calendar_of(invitation)
    [sent] = invited.walk("VEVENT")
    assert (str(event["UID"]), event.decoded("DTSTART")) == (str(sent["UID"]), sent.decoded("DTSTART"))
    assert browser.get(f"/me/sessions/{private['id']}/{stamp}.ics").status_code == 404
    world.run(START - timedelta(hours=1))  # declined on the page: no reminder
    assert not [m for m in world.mails() if m["Subject"].startswith("【提醒】")]


def subscriptions(world: World) -> list[tuple[str, str]]:
    with world.db.session() as session:
        return sorted((s.target_type, s.target) for s in session.scalars(select(SubscriptionRow)))


def test_a_member_follows_and_leaves_what_they_choose_but_never_a_private_series(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    public = a_session(world, chapter="yiwu", title="义乌 面料对接会")
    private = a_session(world, title="宁波 理事会", private=True)
    sign_in(browser, settings, CHEN)
    page = browser.get("/me").text
    assert "义乌 面料对接会" in page and "宁波 理事会" not in page
    for target in ("kind:tech-exchange", f"series:{public['id']}"):
        made = browser.post("/me/subscriptions", data={"csrf": page_csrf(browser), "target": target})
        assert made.status_code == 303, made.text
    refused = browser.post(
        "/me/subscriptions", data={"csrf": page_csrf(browser), "target": f"series:{private['id']}"}
    )
    assert refused.status_code == 404
    assert (
        browser.post(
            "/me/subscriptions", data={"csrf": page_csrf(browser), "target": "chapter:mars"}
        ).status_code
        == 404
    )
    assert subscriptions(world) == [
        ("chapter", "ningbo"),
        ("kind", "tech-exchange"),
        ("series", public["id"]),
    ]
    with world.db.session() as session:
        kind = session.scalars(select(SubscriptionRow).where(SubscriptionRow.target_type == "kind")).one()
    ended = browser.post(f"/me/subscriptions/{kind.id}/end", data={"csrf": page_csrf(browser)})
    assert ended.status_code == 303
    assert subscriptions(world) == [("chapter", "ningbo"), ("series", public["id"])]


def test_preferences_change_the_language_and_refuse_bad_values_next_to_the_field(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    a_session(world)
    world.planner.plan_requested()  # the invitation is owed, not yet sent
    sign_in(browser, settings, CHEN)
    form = {
        "name": "陈静",
        "company": "丽华服饰",
        "locale": "en",
        "timezone": "Europe/Rome",
        "channels": "email",
    }
    changed = browser.post("/me/preferences", data={"csrf": page_csrf(browser), **form})
    assert changed.status_code == 303
    page = browser.get("/me?done=prefs").text
    assert "Hello, 陈静" in page and "Saved." in page and 'lang="en"' in page
    bad = browser.post(
        "/me/preferences",
        data={"csrf": page_csrf(browser), **form, "name": "陈\n静", "timezone": "Mars/Olympus"},
    )
    assert bad.status_code == 422 and "One line only (no line breaks)." in bad.text
    bad_zone = browser.post(
        "/me/preferences", data={"csrf": page_csrf(browser), **form, "timezone": "Mars/Olympus"}
    )
    assert bad_zone.status_code == 422 and "Unknown time zone." in bad_zone.text
    with world.db.session() as session:
        member = session.scalars(select(MemberRow)).one()
        assert (member.name, member.locale, member.timezone) == ("陈静", "en", "Europe/Rome")
    no_mail = {k: v for k, v in form.items() if k != "channels"}
    assert browser.post("/me/preferences", data={"csrf": page_csrf(browser), **no_mail}).status_code == 303
    world.run()
    assert {n.status for n in world.notices(kind="invitation")} == {"cancelled"}


def test_a_new_address_takes_effect_from_the_mail_sent_to_it_and_signs_out_other_browsers(
    browser: TestClient, world: World, settings: Settings
) -> None:
    subscribed(world)
    sign_in(browser, settings, CHEN)
    other = new_browser(world.client)
    sign_in(other, settings, CHEN)
    asked = browser.post("/me/email", data={"csrf": page_csrf(browser), "email": "Chen@NewMail.example"})
    assert asked.status_code == 303
    [mail] = mails_to(settings, "chen@newmail.example")
    link = link_in(mail, "me/email/")
    assert "把邮箱改为 chen@newmail.example？" in browser.get(link).text
    with world.db.session() as session:
        assert session.scalars(select(MemberRow.email)).one() == CHEN  # not before the button
    assert press(browser, link).status_code == 303
    with world.db.session() as session:
        assert session.scalars(select(MemberRow.email)).one() == "chen@newmail.example"
    assert browser.get("/me").status_code == 200  # this browser stays signed in
    assert other.get("/me", follow_redirects=False).status_code == 303  # the other is signed out
    assert browser.get(link).status_code == 404  # once
    assert browser.post(link, data={"csrf": page_csrf(browser)}).status_code == 404
    same = browser.post("/me/email", data={"csrf": page_csrf(browser), "email": "chen@newmail.example"})
    assert same.status_code == 422 and "这就是你现在的邮箱" in same.text


def test_a_new_feed_link_ends_the_old_one_and_signing_out_everywhere_ends_every_browser(
    browser: TestClient, world: World, settings: Settings
) -> None:
    made = subscribed(world)
    old_feed = made["feed_url"].split("https://exsched.test", 1)[1]
    assert browser.get(old_feed).status_code == 200
    sign_in(browser, settings, CHEN)
    assert browser.post("/me/feed", data={"csrf": page_csrf(browser)}).status_code == 303
    assert browser.get(old_feed).status_code == 404
    with world.db.session() as session:
        token = session.scalars(select(MemberRow.feed_token)).one()
    assert browser.get(f"/calendars/{token}.ics").status_code == 200
    other = new_browser(world.client)
    sign_in(other, settings, CHEN)
    out = browser.post("/me/sign-out", data={"csrf": page_csrf(browser), "everywhere": "1"})
    assert out.status_code == 303
    assert other.get("/me", follow_redirects=False).status_code == 303
    assert browser.get("/me", follow_redirects=False).status_code == 303
