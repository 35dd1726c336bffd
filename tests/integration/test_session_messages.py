"""Who is coming, and words to them: the session page lists everyone by answer, staff remind
those who have not answered and send a message to those invited ("the room is now 3F") —
planned as notices, sent once however often the button is pressed, kept in the ledger."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from scheduler.db.models import SessionMessageRow
from tests.integration.test_attendees import attendees_url
from tests.integration.test_seats import catch_up, mails_to, text_of
from tests.support.console import as_data, csrf_of, form_fields, signed_in
from tests.support.world import World, a_session, confirm, links_in, subscribed

PAGE = "/console/series/{id}/occurrences/20261210T060000Z"
CHEN, WANG, LI = "chen.jing@lihua.example", "wang.lei@lihua.example", "li.na@lihua.example"


def three_invited(world: World) -> dict:
    """Chen Jing accepts, Wang Lei declines, Li Na does not answer."""
    subscribed(world)
    subscribed(world, name="王磊", email=WANG)
    subscribed(world, name="李娜", email=LI)
    series = a_session(world)
    world.run()
    url = attendees_url(world, series)
    for address, answer in ((CHEN, "accepted"), (WANG, "declined")):
        [member] = [
            m
            for m in world.client.get("/api/v1/members", headers=world.admin).json()
            if m["email"] == address
        ]
        response = world.client.put(f"{url}/{member['id']}", json={"response": answer}, headers=world.admin)
        assert response.status_code == 200, response.text
    return series


def press(browser: TestClient, series: dict, form: str, **typed: str) -> tuple[int, str]:
    """Fill a form of the session page as shown and press its button."""
    path = PAGE.format(id=series["id"])
    page = browser.get(path)
    assert page.status_code == 200, page.text
    data = as_data(form_fields(page.text, form)) | {k: [v] for k, v in typed.items()}
    response = browser.post(path, data=data, follow_redirects=True)
    return response.status_code, response.text


def test_the_session_page_lists_everyone_by_answer(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    page = browser.get(PAGE.format(id=series["id"])).text

    def group(name: str) -> str:
        found = re.search(rf'<details class="answer-group" id="answers-{name}".*?</details>', page, re.S)
        assert found, name
        return found.group(0)

    assert "陈静" in group("accepted") and "工作人员代填" in group("accepted")
    assert "王磊" in group("declined") and "王磊" not in group("accepted")
    assert "李娜" in group("needs-action") and "未回复（1）" in group("needs-action")
    assert "提醒未回复的 1 位成员" in page
    assert "所有受邀成员（不含已回复不参加的）（2 位）" in page and "确认参加的成员（1 位）" in page


def test_a_message_goes_once_to_everyone_invited_who_did_not_decline(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    path = PAGE.format(id=series["id"])
    page = browser.get(path).text
    data = as_data(form_fields(page, "message-form")) | {
        "action": ["message"],
        "body": ["会场改到 3 楼 301 室，请从东门进入。"],
    }
    first = browser.post(path, data=data, follow_redirects=True)
    again = browser.post(path, data=data, follow_redirects=True)  # the same form pressed twice
    assert first.status_code == again.status_code == 200
    assert "消息已安排发送" in first.text
    catch_up(world)

    for address in (CHEN, LI):
        [mail] = [m for m in mails_to(world, address) if str(m["Subject"]).startswith("【通知】")]
        assert "会场改到 3 楼 301 室，请从东门进入。" in text_of(mail)
        assert not [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert not [m for m in mails_to(world, WANG) if str(m["Subject"]).startswith("【通知】")]
    sent = world.notices(kind="message")
    assert sorted(n.status for n in sent) == ["sent", "sent"]
    with world.db.session() as session:
        [message] = session.query(SessionMessageRow).all()
        assert (message.recipients, message.audience, message.sent_by) == (2, "invited", "admin")

    ledger = browser.get("/console/ledger?kind=message").text
    assert ledger.count('data-kind="message"') == 2 and "工作人员消息" in ledger
    page = browser.get(path).text
    assert "已发出的消息与提醒" in page and "会场改到 3 楼 301 室" in page


def test_a_message_to_those_coming_skips_the_rest(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    status, _ = press(browser, series, "message-form", action="message", body="请带名片", audience="accepted")
    assert status == 200
    catch_up(world)
    assert [m["To"].addresses[0].addr_spec for m in world.mails() if "【通知】" in str(m["Subject"])] == [
        CHEN
    ]


def test_a_reminder_to_answer_goes_to_who_has_not_and_its_link_answers(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    status, page = press(browser, series, "nudge-form", action="nudge")
    assert status == 200 and "已提醒未回复的成员" in page
    catch_up(world)
    [nudge] = [m for m in world.mails() if str(m["Subject"]).startswith("【请回复】")]
    assert nudge["To"].addresses[0].addr_spec == LI
    assert "您还没有回复" in text_of(nudge)
    yes, _no = links_in(nudge, "rsvp")
    assert confirm(world, yes).status_code == 200
    rows = {
        r["email"]: r["response"]
        for r in world.client.get(attendees_url(world, series), headers=world.admin).json()
    }
    assert rows[LI] == "accepted"
    assert "提醒未回复的 0 位成员" in browser.get(PAGE.format(id=series["id"])).text


def test_a_member_who_answers_before_the_reminder_goes_is_not_reminded(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    press(browser, series, "nudge-form", action="nudge")
    [li] = [m for m in world.client.get("/api/v1/members", headers=world.admin).json() if m["email"] == LI]
    world.client.put(
        f"{attendees_url(world, series)}/{li['id']}", json={"response": "declined"}, headers=world.admin
    )
    catch_up(world)
    [nudge] = world.notices(kind="nudge")
    assert (nudge.status, nudge.reason_code) == ("skipped", "answered")
    assert not [m for m in world.mails() if "【请回复】" in str(m["Subject"])]


def test_a_bad_message_is_refused_next_to_the_field_and_nothing_is_sent(world: World) -> None:
    series = three_invited(world)
    browser = signed_in(world.client, world.db, "admin")
    status, page = press(browser, series, "message-form", action="message", body="")
    assert status == 422 and "必填" in page
    status, page = press(browser, series, "message-form", action="message", body="x" * 2001)
    assert status == 422 and "2000" in page and "x" * 2001 in page  # kept for correcting
    status, page = press(browser, series, "message-form", action="message", body="hi", audience="everyone")
    assert status == 422
    status, page = press(browser, series, "message-form", action="message", body="hi", key="not-a-key")
    assert status == 422 and "表单已失效" in page
    assert world.notices(kind="message") == []
    path = PAGE.format(id=series["id"])
    token = csrf_of(browser.get(path).text)
    forged = browser.post(path, data={"csrf": "0" * len(token), "action": "message", "body": "hi"})
    assert forged.status_code == 403


def test_the_api_sends_a_message_and_a_reminder_once_per_key(world: World) -> None:
    series = three_invited(world)
    url = attendees_url(world, series).replace("/attendees", "/messages")
    key = "9b2f3c1e-0d4a-4f7b-8c6e-1a2b3c4d5e6f"
    body = {"kind": "message", "body": "会场改到 3 楼 301 室。", "audience": "accepted", "key": key}
    first = world.client.post(url, json=body, headers=world.admin)
    assert first.status_code == 201, first.text
    assert (first.json()["recipients"], first.json()["audience"]) == (1, "accepted")
    again = world.client.post(url, json=body, headers=world.admin)  # a retried request: nothing more
    assert again.status_code == 200 and again.json()["id"] == key
    nudge = world.client.post(url, json={"kind": "nudge"}, headers=world.admin)
    assert nudge.status_code == 201 and nudge.json()["recipients"] == 1  # Li Na, who has not answered
    catch_up(world)
    assert [str(m["Subject"])[:4] for m in mails_to(world, CHEN) if "【通知】" in str(m["Subject"])] == [
        "【通知】"
    ]
    assert sorted(n.kind for n in world.notices() if n.kind in ("message", "nudge")) == ["message", "nudge"]
    listed = world.client.get(url, headers=world.admin).json()
    assert [m["kind"] for m in listed] == ["nudge", "message"]

    for bad in (
        {"kind": "message", "body": "  "},
        {"kind": "message", "body": "x" * 2001},
        {"kind": "message", "body": "a\x00b"},
        {"kind": "nudge", "body": "words"},
        {"kind": "message", "body": "hi", "audience": "everyone"},
    ):
        refused = world.client.post(url, json=bad, headers=world.admin)
        assert refused.status_code == 422, (bad, refused.text)
    assert len(world.client.get(url, headers=world.admin).json()) == 2
