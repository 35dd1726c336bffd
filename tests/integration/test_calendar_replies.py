"""A calendar app's reply sets the member's answer like a link does, on SQLite and PostgreSQL,
and only when it matches: a real session, an invited member, the current SEQUENCE, newer than
their last answer. Reading the same mail twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scheduler.db.models import RsvpRow
from scheduler.inbound.apply import Applied, Unmatched, apply_reply
from scheduler.inbound.replies import Reply, read_reply
from tests.support.api import create_member
from tests.support.replies import reply_mail
from tests.support.world import START, World, a_session, calendar_uid, confirm, links_in, subscribed

CHEN = "chen.jing@lihua.example"


def applied(world: World, raw: bytes) -> Applied | Unmatched:
    reply = read_reply(raw)
    assert isinstance(reply, Reply), reply
    with world.db.session() as session:
        return apply_reply(session, reply, datetime.now(UTC))


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
