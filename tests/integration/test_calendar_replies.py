"""A calendar app's reply sets the member's answer like a link does, on SQLite and PostgreSQL,
and only when it matches: a real session, an invited member, the current SEQUENCE, newer than
their last answer. Reading the same mail twice changes nothing."""

from __future__ import annotations

import os
import smtplib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.db.models import InboundMailRow, RsvpRow
from scheduler.inbound.apply import Applied, Unmatched, apply_reply
from scheduler.inbound.intake import take_in
from scheduler.inbound.mailbox import DONE_FOLDER, Mailbox, poll_once
from scheduler.inbound.replies import Reply, read_reply
from tests.support.api import create_member
from tests.support.console import signed_in
from tests.support.dovecot import Dovecot
from tests.support.processes import EXSCHED, free_port, listening, wait_until
from tests.support.replies import reply_mail
from tests.support.world import START, World, a_session, calendar_uid, confirm, links_in, subscribed

CHEN = "chen.jing@lihua.example"


def applied(world: World, raw: bytes) -> Applied | Unmatched:
    reply = read_reply(raw)
    assert isinstance(reply, Reply), reply
    with world.db.session() as session:
        return apply_reply(session, reply, datetime.now(UTC), world.holidays)


def answers(world: World) -> list[tuple[str, str | None, str | None]]:
    with world.db.session() as session:
        return [(r.response, r.source, r.user_agent) for r in session.scalars(select(RsvpRow))]


def test_a_reply_from_each_client_sets_the_answer_once_and_steers_the_reminder(world: World) -> None:
    subscribed(world)
    a_session(world, notices={"reminders": ["PT2H"]})
    world.run()
    [invitation] = world.mails()
    uid = calendar_uid(invitation)
    for client, response in (("gmail", "accepted"), ("apple", "tentative"), ("outlook", "declined")):
        raw = reply_mail(client, uid, "Chen.Jing@Lihua.EXAMPLE", response, stamp=datetime.now(UTC))
        first = applied(world, raw)
        assert isinstance(first, Applied) and first.changed and first.response == response
        again = applied(world, raw)
        assert isinstance(again, Applied) and not again.changed  # the same mail read twice
    [(response, source, client)] = answers(world)
    assert (response, source, client) == ("declined", "calendar", "Microsoft Exchange Server 2010")
    world.run(START - timedelta(hours=2))
    assert not [m for m in world.mails() if m["Subject"].startswith("【提醒】")]


def test_replies_that_do_not_match_are_not_applied_and_say_why(world: World) -> None:
    subscribed(world)
    create_member(
        world.client, world.admin, name="王磊", email="wang@yiwu.example", chapter="yiwu"
    )  # not invited
    series = a_session(world)
    world.run()
    [invitation] = world.mails()
    uid = calendar_uid(invitation)
    stranger = applied(world, reply_mail("thunderbird", uid, "wang@yiwu.example", "accepted"))
    assert stranger == Unmatched("not-invited", "wang@yiwu.example")
    unknown = applied(world, reply_mail("gmail", "no-such-session@elsewhere", CHEN, "accepted"))
    assert isinstance(unknown, Unmatched) and unknown.reason == "unknown-session"
    moved = world.client.patch(
        f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z",
        json={"venue": "5号厅"},
        headers=world.admin,
    )
    assert moved.status_code == 200
    world.run()  # the update goes out with SEQUENCE 1
    stale = applied(world, reply_mail("outlook", uid, CHEN, "accepted", sequence=0))
    assert stale == Unmatched("older-sequence", "0 < 1")
    assert answers(world) == []
    accept, _ = links_in(invitation, "rsvp")
    assert confirm(world, accept).status_code == 200  # the member answers by link now
    earlier = applied(
        world,
        reply_mail("apple", uid, CHEN, "declined", sequence=1, stamp=datetime.now(UTC) - timedelta(hours=1)),
    )
    assert isinstance(earlier, Unmatched) and earlier.reason == "older-than-answer"
    assert [a[:2] for a in answers(world)] == [("accepted", "link")]  # the last human action stands


def test_serve_inbound_takes_replies_by_lmtp_and_smtp_keeping_what_it_cannot_apply(
    world: World, tmp_path: Path
) -> None:
    """``exsched serve inbound`` as a real process: an MTA delivers by LMTP; a reply is applied,
    the same mail delivered again is read once, a COUNTER and a stranger's reply are kept with
    their reasons, and a mail over the size limit is refused before it is read."""
    subscribed(world)
    a_session(world)
    world.run()
    uid = calendar_uid(world.mails()[0])
    for protocol in ("lmtp", "smtp"):
        port = free_port()
        proc = serve_inbound(
            world, tmp_path, EXSCHED_INBOUND_LISTEN=f"127.0.0.1:{port}", EXSCHED_INBOUND_PROTOCOL=protocol
        )
        try:
            wait_until(lambda port=port: listening(port), 60, f"serve inbound ({protocol}) listening")
            client = (
                smtplib.LMTP("127.0.0.1", port) if protocol == "lmtp" else smtplib.SMTP("127.0.0.1", port)
            )
            with client:
                response = "accepted" if protocol == "lmtp" else "declined"
                raw = reply_mail("outlook", uid, CHEN, response, stamp=datetime.now(UTC))
                for _ in range(2):  # delivered twice: read once
                    client.sendmail(CHEN, ["sessions+reply@assoc.example"], raw)
                client.sendmail(
                    CHEN,
                    ["sessions+reply@assoc.example"],
                    reply_mail("gmail", uid, CHEN, "accepted", method="COUNTER"),
                )
                client.sendmail(
                    "x@y.example",
                    ["sessions+reply@assoc.example"],
                    reply_mail("apple", uid, "wang@yiwu.example", "accepted"),
                )
                with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
                    client.sendmail(
                        CHEN,
                        ["sessions+reply@assoc.example"],
                        b"Subject: x\r\n\r\n" + b"x" * 76 + b"\r\n" * 40_000 + (b"y" * 76 + b"\r\n") * 40_000,
                    )
                assert refused.value.smtp_code == 552
            assert [a[:2] for a in answers(world)] == [(response, "calendar")]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    with world.db.session() as session:
        kept = sorted((r.outcome, r.reason or "") for r in session.scalars(select(InboundMailRow)))
    assert (
        kept
        == [  # each run: one applied, a COUNTER, a stranger; not the duplicates nor the oversized mail
            ("applied", ""),
            ("applied", ""),
            ("not-a-reply", "counter"),
            ("not-a-reply", "counter"),
            ("unmatched", "not-invited"),
            ("unmatched", "not-invited"),
        ]
    )


def serve_inbound(world: World, home: Path, **settings: str) -> subprocess.Popen[bytes]:
    """``exsched serve inbound`` on the test's database, its log in ``home/inbound.log``."""
    env = {**os.environ, "EXSCHED_DATABASE_URL": world.db.url, "EXSCHED_LOG_FORMAT": "json", **settings}
    with (home / "inbound.log").open("ab") as log:
        return subprocess.Popen([*EXSCHED, "serve", "inbound"], env=env, cwd=home, stdout=log, stderr=log)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.stop()


def test_replies_are_read_from_a_hosted_mailbox_by_imap_once_each(world: World, dovecot: Dovecot) -> None:
    """A real Dovecot: each message is taken in, then moved to ``exsched-done``; polling again
    reads nothing twice; what is not an answer is moved too, and kept with its reason."""
    subscribed(world)
    a_session(world)
    world.run()
    uid = calendar_uid(world.mails()[0])
    dovecot.deliver(reply_mail("thunderbird", uid, CHEN, "accepted", stamp=datetime.now(UTC)))
    dovecot.deliver(reply_mail("gmail", uid, CHEN, "accepted", method="COUNTER"))
    mailbox = Mailbox.from_url(dovecot.url)
    assert poll_once(world.db, world.holidays, mailbox) == 2
    assert (dovecot.count("INBOX"), dovecot.count(DONE_FOLDER)) == (0, 2)
    assert [a[:2] for a in answers(world)] == [("accepted", "calendar")]
    assert poll_once(world.db, world.holidays, mailbox) == 0
    with world.db.session() as session:
        assert sorted((r.outcome, r.reason or "") for r in session.scalars(select(InboundMailRow))) == [
            ("applied", ""),
            ("not-a-reply", "counter"),
        ]


def test_serve_inbound_reads_the_mailbox_as_a_process(world: World, dovecot: Dovecot, tmp_path: Path) -> None:
    subscribed(world)
    a_session(world)
    world.run()
    uid = calendar_uid(world.mails()[0])
    proc = serve_inbound(
        world, tmp_path, EXSCHED_INBOUND_IMAP_URL=dovecot.url, EXSCHED_INBOUND_IMAP_POLL_SECONDS="1"
    )
    try:
        dovecot.deliver(reply_mail("apple", uid, CHEN, "declined", stamp=datetime.now(UTC)))
        wait_until(lambda: bool(answers(world)), 60, "the reply read from the mailbox")
        assert [a[:2] for a in answers(world)] == [("declined", "calendar")]
        wait_until(lambda: dovecot.count("INBOX") == 0, 30, "the reply moved out of INBOX")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_staff_see_the_replies_that_were_not_applied_and_why(world: World) -> None:
    subscribed(world)
    a_session(world)
    world.run()
    uid = calendar_uid(world.mails()[0])
    now = datetime.now(UTC)
    for raw in (
        reply_mail("outlook", uid, CHEN, "accepted", stamp=now),
        reply_mail("apple", uid, "wang@yiwu.example", "accepted", stamp=now),
        reply_mail("gmail", uid, CHEN, "accepted", method="COUNTER"),
        reply_mail("thunderbird", "no-such@elsewhere", CHEN, "accepted"),
    ):
        take_in(world.db, raw, now, world.holidays)
    admin = signed_in(world.client, world.db, "office")
    page = admin.get("/console/replies").text
    assert (
        "回复人不是这场活动的受邀会员" in page and "对方提议了新时间" in page and "找不到对应的活动" in page
    )
    assert "已记录" not in page.split('id="replies"')[1]  # applied ones only under "show every reply"
    assert "已记录" in admin.get("/console/replies?show=all").text.split('id="replies"')[1]
    ningbo = signed_in(world.client, world.db, "ningbo-staff", role="chapter", chapter="ningbo").get(
        "/console/replies"
    )
    assert (
        "回复人不是这场活动的受邀会员" in ningbo.text and "找不到对应的活动" not in ningbo.text
    )  # no session: the office's
    yiwu = signed_in(world.client, world.db, "yiwu-staff", role="chapter", chapter="yiwu").get(
        "/console/replies"
    )
    assert "没有需要处理的回执" in yiwu.text
