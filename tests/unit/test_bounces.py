"""Reading bounces (pure): which notice, whether for good, what the server said; anything else
that reaches the bounce address is not a bounce, and nothing raises."""

from __future__ import annotations

import uuid

from scheduler.inbound.bounces import Bounce, NotABounce, read_bounce
from tests.support.bounces import dsn, exim, out_of_office, qmail

NOTICE = uuid.UUID("9b2f4d6e-1c3a-5b7d-8e9f-0a1b2c3d4e5f")
CHEN = "chen@lihua.example"


def test_a_delivery_status_notification_of_a_failure_is_a_hard_bounce_with_the_servers_words() -> None:
    found = read_bounce(dsn(NOTICE, CHEN))
    assert isinstance(found, Bounce)
    assert (found.notice_id, found.hard, found.recipients) == (NOTICE, True, frozenset({CHEN}))
    assert found.detail == (
        f"5.1.1 smtp; 550 5.1.1 <{CHEN}>: Recipient address rejected: User unknown in local recipient table"
    )


def test_a_delay_is_a_soft_bounce() -> None:
    found = read_bounce(
        dsn(NOTICE, CHEN, action="delayed", status="4.2.2", diagnostic="452 4.2.2 Mailbox full")
    )
    assert (
        isinstance(found, Bounce) and not found.hard and found.detail == "4.2.2 smtp; 452 4.2.2 Mailbox full"
    )


def test_plain_text_bounces_of_qmail_and_exim_are_read_too() -> None:
    found = read_bounce(qmail(NOTICE, "wang@oujia.example"))
    assert isinstance(found, Bounce) and found.hard and found.recipients == {"wang@oujia.example"}
    assert "5.1.1" in found.detail
    found = read_bounce(exim(NOTICE, "li@senma.example"))
    assert isinstance(found, Bounce) and found.hard and found.recipients == {"li@senma.example"}
    assert found.detail == "550 5.2.1 Mailbox disabled for this recipient"


def test_the_envelope_recipient_names_the_notice_when_the_headers_do_not() -> None:
    raw = dsn(NOTICE, CHEN, to="sessions-bounces@assoc.example")
    assert read_bounce(raw) == NotABounce("no-notice")
    found = read_bounce(raw, [f"bounce+{NOTICE}@assoc.example"])
    assert isinstance(found, Bounce) and found.notice_id == NOTICE


def test_an_auto_reply_garbage_and_an_empty_mail_are_not_bounces() -> None:
    assert isinstance(read_bounce(out_of_office(NOTICE, CHEN)), NotABounce)
    assert read_bounce(out_of_office(NOTICE, CHEN)).reason == "not-a-failure"  # type: ignore[union-attr]
    head = f"To: bounce+{NOTICE}@assoc.example\r\nContent-Type: multipart/report; boundary=\r\n\r\n"
    garbage = head.encode() + b"\x00\xff--\r\n"
    assert isinstance(read_bounce(garbage), NotABounce)
    assert read_bounce(b"") == NotABounce("no-notice")
