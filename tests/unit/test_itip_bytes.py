"""An iTIP message written from its session's frame (rendered once, kept) plus the invitee's two
lines is byte for byte what icalendar writes when given the whole message at once — for every
kind of invitee name (folded, escaped, quoted) and every shape of session."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.calendars import ics
from tests.unit.test_feed_bytes import BERLIN, SHANGHAI, facts

SESSIONS = [
    facts("a@x", datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)),
    facts("b@x", datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN)),  # across Berlin's DST
    facts("c@x", datetime(2026, 12, 17, 14, 0, tzinfo=SHANGHAI), cancelled=True),
    ics.replace(
        facts("d@x", datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI)), url=None, categories=(), notes=""
    ),
]
INVITEES = [
    ("陈静", "chen@lihua.example"),
    ("", "nobody@x.example"),
    ('Wang, Li; "the boss": 王丽', "wang.li@x.example"),
    (
        "浙江省服装行业协会宁波分会 数字化制衣与柔性供应链技术委员会 秘书处 联络人 张三丰" * 2,
        "z" * 60 + "@x.example",
    ),
    ("line\r\nbreak", "a@b.example"),
]
STAMPS = [
    datetime(2026, 12, 3, 2, 47, 5, 123456, tzinfo=UTC),
    datetime(2026, 12, 3, 10, 47, 5, tzinfo=ZoneInfo("Asia/Shanghai")),  # the same instant, not in UTC
]


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_a_message_from_the_kept_frame_is_what_icalendar_writes_whole(method: str) -> None:
    write = ics.itip_request if method == "REQUEST" else ics.itip_cancel
    for session in SESSIONS:
        for organizer in (None, "replies@assoc.example"):
            for name, email in INVITEES:
                for stamp in STAMPS:
                    whole_facts = session if method == "REQUEST" else replace(session, cancelled=True)
                    expected = ics._itip_whole(
                        method, whole_facts, name, email, stamp.astimezone(UTC), organizer
                    )
                    assert write(session, name, email, stamp, organizer) == expected, (session.uid, name)


def test_each_invitee_reads_their_own_attendee_and_stamp_in_one_frame() -> None:
    session = SESSIONS[0]
    first = Calendar.from_ical(ics.itip_request(session, "陈静", "chen@lihua.example", STAMPS[0]))
    second = Calendar.from_ical(
        ics.itip_request(session, "王丽", "wang@x.example", STAMPS[0] + timedelta(hours=1))
    )
    [one], [two] = first.walk("VEVENT"), second.walk("VEVENT")
    assert str(one["ATTENDEE"]) == "mailto:chen@lihua.example" and one["ATTENDEE"].params["CN"] == "陈静"
    assert str(two["ATTENDEE"]) == "mailto:wang@x.example" and two["ATTENDEE"].params["CN"] == "王丽"
    assert two["DTSTAMP"].dt - one["DTSTAMP"].dt == timedelta(hours=1)
    assert one["DTSTAMP"].dt.tzinfo is not None and one["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert one["UID"] == two["UID"] == "a@x" and one["ATTENDEE"].params["RSVP"] == "TRUE"


def test_a_feed_event_from_its_series_frame_is_what_icalendar_writes_whole() -> None:
    long_uid = "0f8c2a1e-5b7d-4c3a-9e21-7d4f3b2a1c0e-20261210T060000Z@exsched.association.example"
    for session in [*SESSIONS, replace(SESSIONS[0], uid=long_uid, sequence=12)]:
        for zone in (None, UTC, BERLIN):
            moved = (
                session
                if zone is None
                else replace(session, start=session.start.astimezone(zone), end=session.end.astimezone(zone))
            )
            for stamp in STAMPS:
                for alarm in (None, timedelta(days=1), timedelta(minutes=90)):
                    whole = ics._feed_event_whole(moved, stamp, alarm)
                    assert ics.feed_event(moved, stamp, alarm) == whole, (moved.uid, zone, stamp, alarm)
