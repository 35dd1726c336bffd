"""Workers end to end in one process: planner → dispatcher → bus → worker → real SMTP server.

Runs on SQLite and PostgreSQL with the in-process bus and an aiosmtpd server; every email the
server accepts is parsed, and its calendar is checked against what the API says.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import recurring_ical_events
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import delete, select, update

from scheduler.bus.base import OutboundMessage, Outcome
from scheduler.bus.memory import InProcessBus
from scheduler.db.models import FollowupResponseRow, NoticeRow, RsvpRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.notices import store
from scheduler.ops.config import Settings
from schemas.bus import DEAD_QUEUE, queue_name, routing_key
from schemas.mail import notice_of, verp
from tests.support.inproc import drain
from tests.support.ledger import reason_text
from tests.support.robot import Robot
from tests.support.smtp import SmtpSink
from tests.support.world import START, World, a_session, add_webhook, confirm, form_token, subscribed
from workers.runtime import DeadLetterHandler


def calendar_of(mail: EmailMessage) -> tuple[Calendar, bytes, dict[str, str]]:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    raw = part.get_payload(decode=True)
    return Calendar.from_ical(raw), raw, dict(part.get_params()[1:])


def test_invitation_is_imip_that_matches_the_api(world: World) -> None:
    member = subscribed(world)
    series = a_session(world)
    world.run()
    [mail] = world.mails()
    [occurrence] = world.client.get(f"/api/v1/series/{series['id']}/occurrences").json()
    [notice] = world.notices(kind="invitation")

    # the series' title (which names the chapter here), so two series of a chapter read apart
    assert mail["Subject"] == "【邀请】宁波 · 数字化制衣技术交流会 · 12月10日 周四 14:00"
    assert mail["To"].addresses[0].addr_spec == member["email"]
    assert mail["Message-ID"] == f"<{notice.id}@exsched.invalid>"
    assert mail.get_content_type() == "multipart/mixed"
    alternative = mail.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert mail.get_payload()[1].get_filename() == "invite.ics"

    calendar, raw, params = calendar_of(mail)
    assert params == {"method": "REQUEST", "charset": "UTF-8"}
    assert calendar["METHOD"] == "REQUEST" and not calendar.get_missing_tzids()
    assert {tz["TZID"] for tz in calendar.walk("VTIMEZONE")} == {"Asia/Shanghai"}
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == occurrence["uid"] and event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == datetime.fromisoformat(occurrence["start"])
    assert event.decoded("DTEND") == datetime.fromisoformat(occurrence["end"])
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["ORGANIZER"]) == "mailto:ningbo@assoc.example"
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{member['email']}"
    assert {k: str(v) for k, v in attendee.params.items()} == {
        "CN": "陈静",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    [expanded] = recurring_ical_events.of(calendar).between(
        START - timedelta(days=1), START + timedelta(days=1)
    )
    assert expanded.decoded("DTSTART") == datetime.fromisoformat(occurrence["start"])
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines) and b"\n" not in b"".join(lines)
    assert notice.status == "sent" and notice.message_id == mail["Message-ID"]


def test_moving_then_cancelling_sends_update_and_cancel_with_rising_sequence(world: World) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    url = f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z"
    assert (
        world.client.patch(url, json={"start": "2026-12-11T09:30:00"}, headers=world.admin).status_code == 200
    )
    world.run(world.clock.now + timedelta(minutes=1))
    assert world.client.patch(url, json={"status": "cancelled"}, headers=world.admin).status_code == 200
    world.run(world.clock.now + timedelta(minutes=1))
    invitation, update_mail, cancel_mail = world.mails()
    uids = set()
    for mail, method, sequence in (
        (invitation, "REQUEST", 0),
        (update_mail, "REQUEST", 1),
        (cancel_mail, "CANCEL", 2),
    ):
        calendar, _, params = calendar_of(mail)
        [event] = calendar.walk("VEVENT")
        assert (calendar["METHOD"], params["method"], event["SEQUENCE"]) == (method, method, sequence)
        uids.add(str(event["UID"]))
    assert len(uids) == 1
    [moved] = calendar_of(update_mail)[0].walk("VEVENT")
    assert moved.decoded("DTSTART").isoformat() == "2026-12-11T09:30:00+08:00"
    assert update_mail["Subject"].startswith("【变更】") and cancel_mail["Subject"].startswith("【取消】")
    [cancelled] = calendar_of(cancel_mail)[0].walk("VEVENT")
    assert cancelled["STATUS"] == "CANCELLED"
    assert {n.status for n in world.notices(kind="reminder")} == {"cancelled"}


def test_english_member_reads_their_own_time_zone(world: World) -> None:
    subscribed(world, name="Anna Rossi", email="anna@tessuti.example", locale="en", timezone="Europe/Rome")
    a_session(world)
    world.run()
    [mail] = world.mails()
    # a title that does not name the chapter (in the reader's language) gets it in front
    assert mail["Subject"] == "[Invitation] Ningbo · 宁波 · 数字化制衣技术交流会 · Thu 10 Dec 07:00"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Thursday 10 December 2026, 07:00–09:00 (Italy Time, UTC+01:00)" in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Accept</a>" in html


def test_reminder_and_follow_up_go_out_at_their_times(world: World) -> None:
    subscribed(world)
    a_session(world)
    world.run()
    world.run(START - timedelta(hours=2))
    world.run(START + timedelta(days=1, hours=2))
    subjects = [m["Subject"][:4] for m in world.mails()]
    assert subjects == ["【邀请】", "【提醒】", "【提醒】", "【会后】"]
    followup = world.mails()[-1].get_body(preferencelist=("plain",)).get_content()
    assert "/followup/" in followup
    assert not [p for p in world.mails()[-1].walk() if p.get_content_type() == "text/calendar"]


def test_smtp_451_is_retried_later_and_delivered_once(world: World, smtp_sink: SmtpSink) -> None:
    subscribed(world)
    a_session(world)
    smtp_sink.fail_next(451)
    world.run()
    [invitation] = world.notices(kind="invitation")
    assert invitation.status == "pending" and invitation.reason_code == "smtp-reply"
    assert invitation.reason_params["code"] == 451 and "451" in reason_text(invitation)
    assert invitation.due_at > world.clock.now and world.mails() == []
    world.run(invitation.due_at)
    [invitation] = world.notices(kind="invitation")
    assert invitation.status == "sent" and invitation.attempts == 2
    assert len(world.mails()) == 1


def test_smtp_550_fails_the_notice_with_the_reason(world: World, smtp_sink: SmtpSink) -> None:
    member = subscribed(world)
    smtp_sink.reject.add(member["email"])
    a_session(world)
    world.run()
    [invitation] = world.notices(kind="invitation")
    assert invitation.status == "failed" and invitation.reason_code == "smtp-recipients"
    assert invitation.reason_params["code"] == 550 and "550" in reason_text(invitation)
    assert world.mails() == []


def test_transient_failures_give_up_after_the_limit(world: World, smtp_sink: SmtpSink) -> None:
    subscribed(world)
    a_session(world)
    smtp_sink.fail_next(421, count=10)
    for _ in range(4):
        world.run(world.clock.now + timedelta(hours=2))
    [invitation] = world.notices(kind="invitation")
    assert invitation.status == "failed" and invitation.reason_code == "gave-up"
    assert invitation.reason_params["last"]["params"]["code"] == 421
    assert "gave up after 3 attempts" in reason_text(invitation)


def test_a_duplicate_message_sends_nothing_twice(world: World) -> None:
    subscribed(world)
    a_session(world)
    world.planner.plan_requested()
    world.dispatcher.dispatch_once()
    [delivery] = peek(world.bus, queue_name("invitations"))
    world.bus.publish([delivery])  # the same message again, as after a lease expiry
    world.run()
    assert len(world.mails()) == 1


def peek(bus: InProcessBus, queue: str) -> list[OutboundMessage]:
    with bus._cond:
        return [stored.message for stored in bus._queues[queue]]


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"{not json", {}, "not JSON"),
        (json.dumps({"version": 2}).encode(), {"x-exsched-schema": 2}, "unknown envelope version 2"),
        (json.dumps({"version": 1, "notice_id": "x"}).encode(), {}, "invalid envelope"),
    ],
)
def test_poison_messages_are_dead_lettered_and_the_notice_failed(
    world: World, body: bytes, headers: dict, reason: str
) -> None:
    subscribed(world)
    a_session(world)
    world.planner.plan_requested()
    world.dispatcher.dispatch_once()
    world.work(queue_name("invitations"))  # the real invitation goes out
    [invitation] = world.notices(kind="invitation")
    [reminder] = world.notices(kind="reminder", slot="P1D")
    poison = OutboundMessage(
        message_id=str(reminder.id), routing_key=routing_key("reminder"), body=body, headers=headers
    )
    world.bus.publish([poison])
    assert world.work(queue_name("reminders")) == [Outcome.REJECT]
    assert world.work(DEAD_QUEUE, DeadLetterHandler(world.db, world.clock)) == [Outcome.ACK]
    [reminder] = world.notices(kind="reminder", slot="P1D")
    assert (
        reminder.status == "failed" and reminder.reason_code == "poison" and reason in reason_text(reminder)
    )
    assert "dead-lettered" not in reason_text(reminder)  # the worker's own reason was kept
    assert invitation.status == "sent"


def test_a_message_for_an_unknown_notice_is_dropped(world: World) -> None:
    stray = OutboundMessage(
        message_id="00000000-0000-0000-0000-000000000000",
        routing_key=routing_key("invitation"),
        body=json.dumps(
            {
                "version": 1,
                "notice_id": "00000000-0000-0000-0000-000000000000",
                "kind": "invitation",
                "channel": "email",
                "series_id": "00000000-0000-0000-0000-000000000000",
                "member_id": "00000000-0000-0000-0000-000000000000",
                "occurrence_uid": "x",
                "recurrence_id": START.isoformat(),
                "sequence": 0,
                "due_at": START.isoformat(),
                "attempt": 1,
                "trace_id": "t",
            }
        ).encode(),
    )
    world.bus.publish([stray])
    assert world.work(queue_name("invitations")) == [Outcome.ACK]
    assert world.mails() == []


def test_rsvp_links_record_answers_and_steer_follow_ups_and_reminders(world: World) -> None:
    subscribed(world)
    subscribed(world, name="王磊", email="wang@yiwu.example")
    subscribed(world, name="李娜", email="li@oujia.example")
    a_session(world)
    world.run()
    links: dict[str, dict[str, str]] = {}
    for mail in world.mails():
        text = mail.get_body(preferencelist=("plain",)).get_content()
        urls = [word for word in text.split() if "/rsvp/" in word]
        links[mail["To"].addresses[0].addr_spec] = {"accept": urls[0], "decline": urls[1]}
    assert len(links) == 3
    accept = links["chen.jing@lihua.example"]["accept"].split("https://exsched.test", 1)[1]
    decline = links["li@oujia.example"]["decline"].split("https://exsched.test", 1)[1]
    assert "您将回复：参加这场活动。" in world.client.get(accept).text  # opening a link answers nothing
    with world.db.session() as session:
        assert list(session.scalars(select(RsvpRow))) == []
    assert confirm(world, accept).status_code == 200
    assert confirm(world, accept).status_code == 200  # a second press changes nothing
    assert confirm(world, decline).status_code == 200
    assert world.client.get(accept[:-4] + "AAAA").status_code == 404
    assert world.client.post(accept, data={"csrf": "0" * 64}).status_code == 403
    with world.db.session() as session:
        assert sorted(session.scalars(select(RsvpRow.response))) == ["accepted", "declined"]
        assert {(r.source, r.user_agent) for r in session.scalars(select(RsvpRow))} == {
            ("link", "testclient")
        }
    world.run(START - timedelta(hours=2))
    reminded = {m["To"].addresses[0].addr_spec for m in world.mails() if m["Subject"].startswith("【提醒】")}
    assert reminded == {"chen.jing@lihua.example", "wang@yiwu.example"}
    world.run(START + timedelta(days=1, hours=2))
    followed = {m["To"].addresses[0].addr_spec for m in world.mails() if m["Subject"].startswith("【会后】")}
    assert followed == {"chen.jing@lihua.example"}
    skipped = [n for n in world.notices(kind="followup") if n.status == "skipped"]
    assert len(skipped) == 2 and {n.reason_code for n in skipped} == {"not-accepted"}
    assert all("accepted" in reason_text(n) for n in skipped)


def followed_up(world: World) -> str:
    """A member invited to a project-docking session, which took place: the path of the
    follow-up link in the email they got after it."""
    subscribed(world)
    a_session(world, kind="project-docking")
    world.run()
    world.run(START + timedelta(days=1, hours=2))
    text = world.mails()[-1].get_body(preferencelist=("plain",)).get_content()
    [url] = [w for w in text.split() if "/followup/" in w]
    return url.split("https://exsched.test", 1)[1]


#: The questions after a project-docking session every post must answer (the note is optional).
DOCKING = {"contacts": "2", "intention": "true", "contract": "false"}


def test_follow_up_form_records_docking_outcomes(world: World) -> None:
    path = followed_up(world)
    assert "对接的成果" in world.client.get(path).text
    posted = world.client.post(
        path, data={"csrf": form_token(world, path), **DOCKING, "note": "意向订单 3件"}
    )
    assert posted.status_code == 200
    with world.db.session() as session:
        [row] = session.scalars(select(FollowupResponseRow))
        assert (row.kind, row.text) == ("docking-outcome", "意向订单 3件")
        assert (row.contacts, row.intention, row.contract, row.source) == (2, True, False, "member")
    assert world.client.post(path, data={"csrf": form_token(world, path), "note": ""}).status_code == 422


def test_a_follow_up_answer_is_edited_not_multiplied_and_a_deleted_members_link_is_gone(world: World) -> None:
    """300 posts of 4.9 KB in a second were all stored and all listed on the console page; now a
    member has one answer per session, which the form shows again to be edited."""
    path = followed_up(world)
    long = "意" * 4900
    csrf = form_token(world, path)
    assert world.client.post(path, data={**DOCKING, "note": "no form token"}).status_code == 403
    assert (
        world.client.post(path, data={"csrf": "é" * 64, **DOCKING, "note": "a forged token"}).status_code
        == 403
    )
    assert (
        world.client.post(path, data={"csrf": csrf, **DOCKING, "note": "控制\x00字符\x1b"}).status_code == 200
    )
    with world.db.session() as session:
        assert session.scalars(select(FollowupResponseRow.text)).one() == "控制字符"
    for i in range(30):
        assert (
            world.client.post(path, data={"csrf": csrf, **DOCKING, "note": f"{long}{i}"}).status_code == 200
        )
    from scheduler.db.models import MemberRow

    with world.db.session() as session:
        [row] = session.scalars(select(FollowupResponseRow))
        assert row.text.endswith("29") and row.updated_at is not None
    assert f"{long}29</textarea>" in world.client.get(path).text  # shown again, to edit
    with world.db.session() as session:
        session.execute(delete(MemberRow))
    gone_form, gone_post = (
        world.client.get(path),
        world.client.post(path, data={"csrf": csrf, **DOCKING, "note": "x"}),
    )
    assert gone_form.status_code == gone_post.status_code == 404
    assert "此链接无效或已过期" in gone_form.text and gone_post.headers["content-type"].startswith(
        "text/html"
    )


def test_chapter_group_hears_of_new_sessions_reminders_and_cancellations(world: World, robot: Robot) -> None:
    add_webhook(world, robot)
    series = a_session(world)
    world.run()
    assert [p["markdown"]["content"].splitlines()[0] for _, p in robot.posts] == [
        "**【新活动】宁波 · 技术交流会**"
    ]
    assert "时间：2026年12月10日 周四 14:00–16:00（北京时间）" in robot.posts[0][1]["markdown"]["content"]
    world.run(START - timedelta(days=1))
    assert robot.posts[-1][1]["markdown"]["content"].startswith("**【提醒】")
    world.run(START - timedelta(hours=2))  # the group gets one reminder only
    assert len(robot.posts) == 2
    url = f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z"
    world.client.patch(url, json={"status": "cancelled"}, headers=world.admin)
    world.run(world.clock.now + timedelta(minutes=1))
    assert robot.posts[-1][1]["markdown"]["content"].startswith("**【取消】")
    assert world.mails() == [] and not world.notices(kind="followup")


def test_webhook_5xx_is_retried_and_4xx_fails(world: World, robot: Robot) -> None:
    add_webhook(world, robot)
    a_session(world)
    robot.answers.append((502, "bad gateway"))
    world.run()
    [announcement] = world.notices(kind="invitation")
    assert announcement.status == "pending" and announcement.reason_code == "webhook-http"
    assert announcement.reason_params["status"] == 502 and "HTTP 502" in reason_text(announcement)
    world.run(announcement.due_at)
    assert world.notices(kind="invitation")[0].status == "sent" and len(robot.posts) == 1
    robot.answers.append((200, '{"errcode":93000,"errmsg":"invalid webhook url"}'))
    world.run(START - timedelta(days=1))
    [reminder] = world.notices(kind="reminder")
    assert reminder.status == "failed" and reminder.reason_code == "webhook-error"
    assert reminder.reason_params["code"] == 93000 and "93000" in reason_text(reminder)


def test_a_member_without_email_gets_no_email_and_pending_ones_are_cancelled(world: World) -> None:
    quiet = subscribed(world, name="王磊", email="wang@yiwu.example", channels=[])
    member = subscribed(world)
    a_session(world, dtstart="2027-01-21T14:00:00")  # invitations due on 7 January
    world.run()
    assert {n.member_id for n in world.notices()} == {uuid.UUID(member["id"])}
    patched = world.client.patch(
        f"/api/v1/members/{member['id']}", json={"channels": []}, headers=world.admin
    )
    assert patched.status_code == 200 and patched.json()["channels"] == []
    world.run(world.clock.now + timedelta(minutes=1))
    assert {n.status for n in world.notices()} == {"cancelled"}
    assert quiet["channels"] == []


def metric(client: TestClient, name: str, **labels: str) -> float:
    """A sample from the API's /metrics, 0 when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_metrics_follow_notices_as_they_flow(world: World) -> None:
    subscribed(world)
    a_session(world)
    sent = metric(world.client, "exsched_notices_sent_total", kind="invitation", channel="email")
    published = metric(world.client, "exsched_dispatch_lateness_seconds_count")
    confirms = metric(world.client, "exsched_publish_confirm_seconds_count")
    world.planner.plan_requested()
    assert metric(world.client, "exsched_notices", kind="invitation", status="pending") == 1
    world.run()
    assert metric(world.client, "exsched_notices", kind="invitation", status="sent") == 1
    assert metric(world.client, "exsched_notices", kind="reminder", status="pending") == 2
    assert metric(world.client, "exsched_notices_sent_total", kind="invitation", channel="email") == sent + 1
    assert metric(world.client, "exsched_dispatch_lateness_seconds_count") == published + 1
    assert metric(world.client, "exsched_publish_confirm_seconds_count") >= confirms + 1
    assert metric(world.client, "exsched_send_seconds_count", channel="email") >= 1


def test_the_longest_wait_of_each_open_status_is_measured(world: World) -> None:
    """``exsched_notices_oldest_seconds``: what the stuck-notice alerts watch."""
    subscribed(world)
    a_session(world)
    world.planner.plan_requested()
    assert [
        metric(world.client, "exsched_notices_oldest_seconds", status=s) for s in ("published", "sending")
    ] == [
        0,
        0,
    ]
    now = datetime.now(UTC)
    [invitation] = world.notices(kind="invitation")
    first, second = world.notices(kind="reminder")
    with world.db.session() as session:
        for notice_id, values in (
            (invitation.id, {"due_at": now - timedelta(minutes=30)}),
            (first.id, {"status": "published", "published_at": now - timedelta(minutes=20)}),
            (second.id, {"status": "sending", "lease_until": now - timedelta(minutes=10), "holder": "w1"}),
        ):
            session.execute(update(NoticeRow).where(NoticeRow.id == notice_id).values(**values))
    waited = {
        s: metric(world.client, "exsched_notices_oldest_seconds", status=s)
        for s in ("pending", "published", "sending")
    }
    assert 30 * 60 <= waited["pending"] < 31 * 60
    assert 20 * 60 <= waited["published"] < 21 * 60
    assert 10 * 60 <= waited["sending"] < 11 * 60


def test_readiness_names_what_is_missing(world: World, settings: Settings) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok"}
    assert world.client.get("/readyz").json() == {"status": "ready"}
    from scheduler.web.app import create_app

    broken = Settings(**(settings.model_dump() | {"amqp_url": "amqp://guest:guest@127.0.0.1:1/%2F"}))
    response = TestClient(create_app(broken, world.db)).get("/readyz")
    assert response.status_code == 503 and response.json()["problems"] == ["broker: AMQPConnectionError"]


def test_html_and_header_tricks_in_titles_stay_text_in_emails(world: World) -> None:
    subscribed(world)
    a_session(world, title='<script>alert("x")</script> BEGIN:VEVENT', venue="<b>会场</b>")
    world.run()
    [mail] = world.mails()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<b>会场</b>" not in html and "&lt;b&gt;会场&lt;/b&gt;" in html
    assert len(mail.keys()) == len(set(k.lower() for k in mail.keys()))  # no smuggled headers
    calendar, _, _ = calendar_of(mail)
    assert len(calendar.walk("VEVENT")) == 1
    assert str(calendar.walk("VEVENT")[0]["SUMMARY"]) == '<script>alert("x")</script> BEGIN:VEVENT'


#: What a calendar shows of an event; an invitation and a feed must agree on every one of them.
EVENT_PROPERTIES = ("UID", "SEQUENCE", "SUMMARY", "LOCATION", "DESCRIPTION", "URL", "CATEGORIES", "ORGANIZER")


def shown(event: Any) -> dict[str, Any]:
    facts = {name: event[name].to_ical() if name in event else None for name in EVENT_PROPERTIES}
    return facts | {
        "DTSTART": event.decoded("DTSTART"),
        "DTEND": event.decoded("DTEND"),
        "STATUS": str(event["STATUS"]),
    }


def test_the_invitation_and_the_feed_say_the_same_of_a_session(world: World) -> None:
    member = subscribed(world)
    series = a_session(world, kind="project-docking")
    url = f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z"
    world.client.patch(url, json={"agenda": "面料供需对接"}, headers=world.admin)
    world.run()
    [mail] = world.mails()
    [invited] = calendar_of(mail)[0].walk("VEVENT")
    feed = Calendar.from_ical(
        world.client.get(member["feed_url"].removeprefix("https://exsched.test")).content
    )
    [listed] = [e for e in feed.walk("VEVENT") if str(e["UID"]) == str(invited["UID"])]
    assert shown(invited) == shown(listed)
    assert invited["CATEGORIES"].to_ical() == "项目对接会,宁波".encode()
    assert str(invited["URL"]) == f"https://exsched.test/api/v1/series/{series['id']}"


def test_a_cleared_venue_reads_to_be_announced_everywhere_and_null_gives_back_the_series_one(
    world: World,
) -> None:
    member = subscribed(world)
    series = a_session(world, venue="宁波国际会展中心 3号会议室")
    url = f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z"
    cleared = world.client.patch(url, json={"venue": ""}, headers=world.admin)
    assert cleared.status_code == 200 and cleared.json()["venue"] == ""
    world.run()
    [mail] = world.mails()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "地点：待定" in text and "3号会议室" not in text
    [event] = calendar_of(mail)[0].walk("VEVENT")
    assert "LOCATION" not in event
    feed_path = member["feed_url"].removeprefix("https://exsched.test")
    [listed] = Calendar.from_ical(world.client.get(feed_path).content).walk("VEVENT")
    assert "LOCATION" not in listed
    series_file = Calendar.from_ical(world.client.get(f"/calendars/series/{series['id']}.ics").content)
    [override] = [e for e in series_file.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert "LOCATION" not in override
    restored = world.client.patch(url, json={"venue": None}, headers=world.admin)
    assert restored.json()["venue"] == "宁波国际会展中心 3号会议室"
    [listed] = Calendar.from_ical(world.client.get(feed_path).content).walk("VEVENT")
    assert str(listed["LOCATION"]) == "宁波国际会展中心 3号会议室"


def test_a_notice_this_process_holds_is_resumed_after_an_outage_but_never_sent_twice_at_once(
    world: World,
) -> None:
    """A copy of a message for a notice one of this worker's threads is sending is a duplicate in
    hand and is dropped; a notice this worker claimed and let go of when the database went away
    is taken up again by its redelivery."""
    subscribed(world)
    a_session(world)
    world.planner.plan_requested()
    world.clock.now = START - timedelta(days=2)
    while world.dispatcher.dispatch_once().claimed:
        pass
    [delivery] = drain(world.bus, queue_name("invitations"))
    [notice] = world.notices(kind="invitation")
    leases = world.handler.leases
    with world.db.session() as session:  # this process claimed it earlier
        assert store.take(session, notice.id, world.clock(), leases.lease, holder=leases.holder)
    leases.hold(notice.id)  # … and one of its threads is sending it now
    assert world.handler(delivery) is Outcome.ACK
    assert world.sink.received() == [] and world.notices(kind="invitation")[0].status == "sending"
    leases.release(notice.id)  # that handling was cut short by an outage: the redelivery resumes it
    assert world.handler(delivery) is Outcome.ACK
    assert world.notices(kind="invitation")[0].status == "sent" and len(world.sink.received()) == 1


def test_a_mail_scanner_opening_every_link_of_every_email_changes_nothing(world: World) -> None:
    """Scanners (Defender Safe Links, gateway sandboxes) GET and HEAD every link of an email
    before the person reads it; none of them may answer, subscribe or record anything."""
    subscribed(world)
    a_session(world, kind="project-docking", notices={"reminders": ["PT2H"], "followup_after": "PT1H"})
    world.run()
    for mail in world.mails():  # the member accepts, so the follow-up comes too
        text = mail.get_body(preferencelist=("plain",)).get_content()
        accept = next(w for w in text.split() if "/rsvp/" in w).split("https://exsched.test", 1)[1]
        confirm(world, accept)
    world.run(START - timedelta(hours=2))
    world.run(START + timedelta(days=1, hours=2))
    kinds = {m["Subject"][:4] for m in world.mails()}
    assert len(kinds) == 3, kinds  # invitation, reminder, follow-up
    links = {
        url.split("https://exsched.test", 1)[1]
        for mail in world.mails()
        for part in (mail.get_body(preferencelist=("plain",)), mail.get_body(preferencelist=("html",)))
        if part is not None
        for url in re.findall(r'https://exsched\.test[^\s"<>]*', part.get_content())
    }
    links |= {  # and the link a mail provider's unsubscribe button uses
        part.strip(" <>").split("https://exsched.test", 1)[1]
        for mail in world.mails()
        for part in str(mail["List-Unsubscribe"]).split(",")
        if "https://" in part
    }
    assert {link.split("/")[1] for link in links} == {"rsvp", "followup", "unsubscribe", "me", "c"}

    def state() -> list[object]:
        with world.db.session() as session:
            return [
                sorted(
                    (r.member_id, r.occurrence_uid, r.response, r.responded_at)
                    for r in session.scalars(select(RsvpRow))
                ),
                sorted((f.member_id, f.text) for f in session.scalars(select(FollowupResponseRow))),
                sorted((n.id, n.status) for n in session.scalars(select(NoticeRow))),
                sorted((s.member_id, s.target) for s in session.scalars(select(SubscriptionRow))),
            ]

    before = state()
    for link in sorted(links):
        for method in ("GET", "HEAD"):
            assert world.client.request(method, link).status_code < 500, (method, link)
    assert state() == before


def test_replies_and_bounces_are_addressed_to_mailboxes_exsched_reads(
    settings: Settings, db: Database, client: TestClient, admin: dict, smtp_sink: SmtpSink
) -> None:
    """With EXSCHED_REPLY_ADDRESS, calendar apps reply to it (the ORGANIZER; its name is still
    the organizer's); with EXSCHED_BOUNCE_ADDRESS, each email's envelope sender names its notice
    (VERP), and no Return-Path header leaves (the receiving server writes it). People who press
    "reply" still write to the organizer."""
    addressed = settings.model_copy(
        update={"reply_address": "sessions+reply@assoc.example", "bounce_address": "bounce@assoc.example"}
    )
    world = World(addressed, db, client, admin, smtp_sink)
    try:
        subscribed(world)
        series = a_session(world)
        world.run()
        [mail] = world.mails()
        [notice] = world.notices(kind="invitation")
        assert smtp_sink.senders == [f"bounce+{notice.id}@assoc.example"]
        assert mail["Return-Path"] is None
        assert mail["Reply-To"] == series["organizer_email"]
        calendar, _, _ = calendar_of(mail)
        [event] = calendar.walk("VEVENT")
        assert str(event["ORGANIZER"]) == "mailto:sessions+reply@assoc.example"
        assert event["ORGANIZER"].params["CN"] == series["organizer_name"]
    finally:
        world.close()


def test_a_bounce_address_must_be_an_address_and_names_each_notice(tmp_path: Any) -> None:
    from scheduler.ops.config import Settings as Configured
    from workers.channels.outbox import FileOutbox
    from workers.mail import build_email

    with pytest.raises(ValueError, match="not an address"):
        Configured(bounce_address="bounce")
    notice_id = uuid.UUID(int=7)
    assert verp("bounce@assoc.example", notice_id) == f"bounce+{notice_id}@assoc.example"
    assert verp(None, notice_id) == ""
    assert notice_of(f"Bounce+{str(notice_id).upper()}@assoc.example") == notice_id
    assert notice_of("bounce@assoc.example") is None and notice_of("bounce+not-an-id@x.example") is None
    mail = build_email(
        notice_id=notice_id,
        sender="exsched <noreply@assoc.example>",
        to_name="陈静",
        to_email="chen@lihua.example",
        reply_to=None,
        subject="s",
        text="t",
        html="<p>t</p>",
        sent_at=datetime(2026, 12, 2, tzinfo=UTC),
        return_path=verp("bounce@assoc.example", notice_id),
    )
    FileOutbox(tmp_path, mail_from="exsched <noreply@assoc.example>").send(mail)
    [written] = list(tmp_path.glob("*.eml"))
    assert f"Return-Path: <bounce+{notice_id}@assoc.example>" in written.read_text()  # where bounces would go
