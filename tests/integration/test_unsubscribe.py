"""One-click unsubscribe (RFC 8058), List-Id and the "why you get this" footer, end to end:
emails received by a real SMTP server, unsubscribed from as a mail provider or a person does."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from scheduler.db.models import SubscriptionRow
from tests.support.world import START, World, a_session, confirm, path_of, subscribed


def unsubscribe_link(mail: object) -> str:
    header = str(mail["List-Unsubscribe"])  # type: ignore[index]
    https = [part.strip(" <>") for part in header.split(",") if "https://" in part]
    assert len(https) == 1, header
    return path_of(https[0])


def subscriptions(world: World) -> list[tuple[str, str]]:
    with world.db.session() as session:
        return sorted((s.target_type, s.target) for s in session.scalars(select(SubscriptionRow)))


def test_every_member_email_offers_one_click_unsubscribe_and_says_why(world: World) -> None:
    subscribed(world)
    series = a_session(world, kind="tech-exchange", notices={"reminders": ["PT2H"]})
    world.run()
    world.run(START - timedelta(hours=2))
    mails = world.mails()
    assert len(mails) == 2  # the invitation and the reminder
    for mail in mails:
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe_link(mail).startswith("/unsubscribe/")
        assert str(mail["List-Id"]).endswith(f"<{series['id']}.lists.exsched.invalid>")
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "你收到这封邮件，是因为你关注了宁波分会的活动。" in text
        assert "是因为你关注了宁波分会的活动。" in html and '">退订</a>' in html
        assert path_of(next(w for w in text.split() if "/unsubscribe/" in w)) == unsubscribe_link(mail)


def test_one_click_unsubscribe_posted_as_a_mail_provider_sends_it(world: World) -> None:
    """Gmail's and Yahoo's unsubscribe button: a bare POST of ``List-Unsubscribe=One-Click`` to the
    header's URL, no cookie, no other token. It ends the chapter subscription the email came
    through, and every pending notice of its sessions is cancelled at once, with the reason."""
    chen = subscribed(world)
    subscribed(world, name="王磊", email="wang@yiwu.example")
    a_session(world, notices={"reminders": ["PT2H"]})
    other = a_session(world, title="宁波 面料趋势分享", dtstart="2026-12-17T14:00:00")
    world.run()
    mail = next(m for m in world.mails() if m["To"].addresses[0].addr_spec == "chen.jing@lihua.example")
    url = "https://exsched.test" + unsubscribe_link(mail)
    owed = [n for n in world.notices(member_id=uuid.UUID(chen["id"])) if n.status == "pending"]
    assert {str(n.series_id) for n in owed} == {other["id"], mail_series(mail)}  # a reminder, an invitation

    world.client.cookies.clear()
    raw = world.client.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "GoogleOneClick/1.0"},
    )
    assert raw.status_code == 200 and "已退订" in raw.text
    assert subscriptions(world) == [("chapter", "ningbo")]  # 王磊's stays
    theirs = {n.id: n for n in world.notices(member_id=uuid.UUID(chen["id"]))}
    assert all(theirs[n.id].status == "cancelled" for n in owed)
    assert {theirs[n.id].reason_code for n in owed} == {"unsubscribed"}

    before = len(world.mails())
    world.run(START - timedelta(hours=2))
    world.run(START + timedelta(days=8))
    newly = {m["To"].addresses[0].addr_spec for m in world.mails()[before:]}
    assert newly == {"wang@yiwu.example"}
    assert world.client.post(url, content=b"List-Unsubscribe=One-Click").status_code == 200  # again: no error


def mail_series(mail: object) -> str:
    """The series an email is about, read back from its List-Id."""
    return str(mail["List-Id"]).rsplit("<", 1)[1].split(".", 1)[0]  # type: ignore[index]


def test_the_link_opens_a_page_and_only_its_button_unsubscribes(world: World) -> None:
    """A person following the link reads what will end; a scanner opening it ends nothing. The
    email came through a series subscription and a kind subscription: both end (either alone
    would keep sending the series), the member's chapter subscription stays."""
    member = subscribed(world)  # ningbo chapter
    series = a_session(world, chapter="yiwu", kind="tech-exchange")
    for body in ({"series_id": series["id"]}, {"kind": "tech-exchange"}):
        made = world.client.post(
            f"/api/v1/members/{member['id']}/subscriptions", json=body, headers=world.admin
        )
        assert made.status_code == 201
    world.run()
    [mail] = world.mails()
    assert "你关注了「" in mail.get_body(preferencelist=("plain",)).get_content()  # the series, by name
    path = unsubscribe_link(mail)
    for method in ("GET", "HEAD"):
        assert world.client.request(method, path).status_code == 200
    page = world.client.get(path).text
    assert "不再接收「" in page and "关注各分会的全部技术交流会" in page and 'href="/me"' in page
    assert len(subscriptions(world)) == 3
    assert world.client.post(path, data={"csrf": "0" * 64}).status_code == 403
    assert world.client.post(path, content=b"List-Unsubscribe=Yes").status_code == 403
    assert world.client.post(path[:-3] + "AAA", content=b"List-Unsubscribe=One-Click").status_code == 404
    assert len(subscriptions(world)) == 3
    done = confirm(world, path)
    assert done.status_code == 200 and "已退订" in done.text
    assert subscriptions(world) == [("chapter", "ningbo")]


def test_a_notice_already_on_the_bus_is_not_sent_after_the_member_unsubscribed(world: World) -> None:
    subscribed(world)
    a_session(world, notices={"reminders": ["PT2H"]})
    world.run()
    [invitation] = world.mails()
    world.clock.now = START - timedelta(hours=2)
    while world.dispatcher.dispatch_once().claimed:  # the reminder is published, not yet sent
        pass
    [published] = world.notices(kind="reminder")
    assert published.status == "published"
    path = unsubscribe_link(invitation)
    assert world.client.post(path, content=b"List-Unsubscribe=One-Click").status_code == 200
    world.run()
    [reminder] = world.notices(kind="reminder")
    assert (reminder.status, reminder.reason_code) == ("cancelled", "unsubscribed")
    assert len(world.mails()) == 1


def test_a_member_told_of_a_session_still_hears_of_its_cancellation_after_unsubscribing(
    world: World,
) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    [invitation] = world.mails()
    assert (
        world.client.post(unsubscribe_link(invitation), content=b"List-Unsubscribe=One-Click").status_code
        == 200
    )
    cancelled = world.client.delete(f"/api/v1/series/{series['id']}", headers=world.admin)
    assert cancelled.status_code == 204, cancelled.text
    world.run()
    [_, cancellation] = world.mails()
    assert cancellation["List-Unsubscribe"] is None  # nothing left to unsubscribe from
    text = cancellation.get_body(preferencelist=("plain",)).get_content()
    assert "是因为你曾收到这场活动的邀请" in text
