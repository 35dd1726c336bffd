"""Reading calendar apps' replies: the four common clients' shapes, their quirks, and what is
not an answer (a COUNTER, no calendar, garbage, too large, a reply without PARTSTAT)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.inbound.replies import MAX_BYTES, NotAReply, Reply, read_reply
from tests.support.replies import calendar, reply_mail

UID = "528ab232-bdb9-44b9-9709-5156acb301c7-20261210T060000Z@exsched.test"
STAMP = datetime(2026, 12, 3, 1, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize("client", ["outlook", "apple", "gmail", "thunderbird"])
@pytest.mark.parametrize("response", ["accepted", "declined", "tentative"])
def test_each_clients_reply_says_who_answers_what(client: str, response: str) -> None:
    found = read_reply(reply_mail(client, UID, "Chen.Jing@Lihua.example", response, sequence=2, stamp=STAMP))
    assert isinstance(found, Reply), found
    assert (found.uid, found.sequence, found.attendee, found.response, found.stamp) == (
        UID,
        2,
        "chen.jing@lihua.example",
        response,
        STAMP,
    )
    assert found.client  # which app answered, kept with the answer


def test_an_outlook_attendee_with_only_a_display_name_is_the_sender() -> None:
    found = read_reply(
        reply_mail(
            "outlook",
            UID,
            "ignored@x.example",
            "declined",
            sender="Chen.Jing@Lihua.example",
            display_name_only=True,
        )
    )
    assert isinstance(found, Reply) and found.attendee == "chen.jing@lihua.example"


def test_of_several_attendees_the_one_who_sent_it_answers() -> None:
    ics = calendar("thunderbird", UID, "chen@lihua.example", "accepted").replace(
        b"END:VEVENT", b"ATTENDEE;PARTSTAT=DECLINED:mailto:wang@yiwu.example\r\nEND:VEVENT"
    )
    mail = reply_mail("thunderbird", UID, "chen@lihua.example", "accepted")
    mail = mail.replace(b"chen@lihua.example>", b"wang@yiwu.example>", 1)  # From: 王磊's address
    from email import message_from_bytes, policy

    message = message_from_bytes(mail, policy=policy.default)
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            part.set_content(
                ics, maintype="text", subtype="calendar", cte="base64", params={"method": "REPLY"}
            )
    found = read_reply(message.as_bytes())
    assert isinstance(found, Reply) and (found.attendee, found.response) == ("wang@yiwu.example", "declined")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (reply_mail("gmail", UID, "chen@lihua.example", "accepted", method="COUNTER"), "counter"),
        (reply_mail("apple", UID, "chen@lihua.example", "accepted", method="REQUEST"), "not-a-reply"),
        (reply_mail("outlook", UID, "chen@lihua.example", "NEEDS-ACTION"), "no-answer"),
        (b"From: someone\r\n\r\nhello", "no-calendar"),
        (b"\x00\xff garbage \x00", "no-calendar"),
        (
            b"Content-Type: text/calendar; method=REPLY\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",
            "unreadable-calendar",
        ),
        (b"x" * (MAX_BYTES + 1), "too-large"),
    ],
)
def test_what_is_not_an_answer_says_why(raw: bytes, reason: str) -> None:
    found = read_reply(raw)
    assert isinstance(found, NotAReply) and found.reason == reason, found


def test_a_broken_dtstamp_is_tolerated_and_a_broken_sequence_is_unreadable() -> None:
    """Neither raises (a mail that raised would go back to the MTA, 451, or stay in the mailbox, and
    be tried for ever): a reply whose DTSTAMP is garbage still says its answer (timed when it is
    taken in); one whose SEQUENCE is garbage cannot be placed, so it is not applied."""

    def broken(prefix: bytes, value: bytes) -> Reply | NotAReply:
        ics = calendar("thunderbird", UID, "chen@lihua.example", "accepted")
        rows = [prefix + value if row.startswith(prefix) else row for row in ics.split(b"\r\n")]
        head = b"Content-Type: text/calendar; method=REPLY\r\nFrom: chen@lihua.example\r\n\r\n"
        return read_reply(head + b"\r\n".join(rows))

    stampless = broken(b"DTSTAMP:", b"not-a-time")
    assert isinstance(stampless, Reply) and stampless.stamp is None and stampless.response == "accepted"
    unplaced = broken(b"SEQUENCE:", b"many")
    assert isinstance(unplaced, NotAReply) and unplaced.reason == "unreadable-calendar"
