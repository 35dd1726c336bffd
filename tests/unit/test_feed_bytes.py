"""A feed joined from events rendered one by one (and kept) is byte for byte the calendar
icalendar writes when given all the events at once: the VTIMEZONEs before the events, one per
zone named, alarms where asked, cancelled events without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar

from scheduler.calendars import ics
from scheduler.calendars.facts import EventFacts

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def facts(uid: str, start: datetime, **more: object) -> EventFacts:
    return EventFacts(
        uid=uid,
        sequence=1,
        start=start,
        end=start + timedelta(hours=2),
        summary="宁波 · 数字化制衣技术交流会, 第二场; 报名\\请到前台",
        location="宁波国际会展中心 3号会议室",
        organizer_name="宁波分会 秘书处",
        organizer_email="ningbo@assoc.example",
        notes="智能裁剪与柔性产线。" * 12,
        url="https://exsched.test/sessions/x",
        categories=("技术交流会", "宁波"),
        **more,  # type: ignore[arg-type]
    )


EVENTS = [
    (facts("a@x", datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)), STAMP, timedelta(days=1)),
    (facts("b@x", datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN)), STAMP, None),  # across Berlin's DST
    (facts("c@x", datetime(2026, 12, 17, 14, 0, tzinfo=SHANGHAI), cancelled=True), STAMP, timedelta(hours=2)),
]


def all_at_once(events: list, name: str, timezone: str, refresh: timedelta) -> bytes:
    """The reference: every event handed to icalendar in one calendar, as feeds were made."""
    vevents = []
    for fact, stamp, before in events:
        event = ics._vevent(fact, stamp)
        if before is not None and not fact.cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", fact.summary)
            alarm.add("trigger", -before)
            event.add_component(alarm)
        vevents.append(event)
    first = min(f.start for f, _, _ in events)
    last = max(f.end for f, _, _ in events)
    return ics._calendar("PUBLISH", vevents, first, last, name=name, timezone=timezone, refresh=refresh)


def test_a_feed_of_events_rendered_one_by_one_is_the_calendar_of_them_all() -> None:
    joined = ics.publish(EVENTS, name="商会 · 我的活动", timezone="Asia/Shanghai", refresh=timedelta(hours=1))
    assert joined == all_at_once(EVENTS, "商会 · 我的活动", "Asia/Shanghai", timedelta(hours=1))
    calendar = Calendar.from_ical(joined)
    assert sorted(str(z["TZID"]) for z in calendar.walk("VTIMEZONE")) == ["Asia/Shanghai", "Europe/Berlin"]
    assert [len(e.walk("VALARM")) for e in calendar.walk("VEVENT")] == [1, 0, 0]
    assert calendar.get_missing_tzids() == set()


def test_the_zones_of_an_event_are_read_from_its_bytes() -> None:
    assert ics.tzids_of(ics.feed_event(*EVENTS[1])) == {"Europe/Berlin"}
    utc = facts("d@x", datetime(2026, 12, 10, 6, 0, tzinfo=UTC))
    assert ics.tzids_of(ics.feed_event(utc, STAMP, None)) == set()  # UTC needs no VTIMEZONE
