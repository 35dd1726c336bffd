"""VTIMEZONEs hold for every instance a calendar describes: read back by their own observances,
they give the offset the zone's data gives, from the first instant on, for decades; the rule in
force is written as RRULE observances starting at the local time before each change."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.calendars.zones import month_of, parse_posix, vtimezone
from tests.support.vtimezone import offset_at, onsets

SPAN = timedelta(days=30 * 366)
ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def check(tzid: str, first: datetime, last: datetime | None, step: timedelta) -> None:
    component = vtimezone(tzid, month_of(first), month_of(last) + timedelta(days=32) if last else None)
    end = last or first + SPAN
    table = onsets(component, end)
    zone = zoneinfo.ZoneInfo(tzid)
    instant = first
    while instant <= end:
        assert offset_at(table, instant) == instant.astimezone(zone).utcoffset(), (tzid, instant)
        instant += step


@pytest.mark.parametrize(
    "tzid",
    [
        *("Europe/Berlin", "Europe/Rome", "America/New_York", "Australia/Sydney", "Asia/Shanghai"),
        *("Europe/London", "America/Santiago", "Africa/Cairo", "America/Nuuk", "Asia/Jerusalem"),
        *("America/Sao_Paulo", "Pacific/Apia", "America/Port-au-Prince"),
    ],
)
@pytest.mark.parametrize("year", [1975, 1996, 2026, 2040])
def test_an_endless_calendar_is_placed_right_for_thirty_years_from_its_first_session(
    tzid: str, year: int
) -> None:
    check(tzid, datetime(year, 1, 7, 10, tzinfo=UTC), None, timedelta(hours=61))


@settings(max_examples=300, deadline=None)
@given(
    tzid=st.sampled_from(ZONES),
    first=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=0, max_value=3000),
)
def test_any_zone_any_span_reads_back_as_the_zone_says(tzid: str, first: datetime, days: int) -> None:
    check(tzid, first, first + timedelta(days=days), timedelta(hours=97))


@pytest.mark.parametrize("tzid", ZONES)
def test_every_zone_reads_back_right_from_now_to_the_end_of_the_decade(tzid: str) -> None:
    check(tzid, datetime(2026, 12, 1, tzinfo=UTC), datetime(2030, 12, 31, tzinfo=UTC), timedelta(hours=53))


def test_the_rule_in_force_is_rrule_observances_starting_before_each_change() -> None:
    berlin = vtimezone("Europe/Berlin", datetime(2027, 1, 1, tzinfo=UTC), None)
    parts = {p.name: p for p in berlin.subcomponents}
    assert set(parts) == {"DAYLIGHT", "STANDARD"}
    spring, autumn = parts["DAYLIGHT"], parts["STANDARD"]
    assert spring["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert spring.decoded("DTSTART").time().isoformat() == "02:00:00"  # not 03:00 (RFC 5545 §3.6.5)
    assert (spring.decoded("TZOFFSETFROM"), spring.decoded("TZOFFSETTO")) == (
        timedelta(hours=1),
        timedelta(hours=2),
    )
    assert autumn["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert autumn.decoded("DTSTART").time().isoformat() == "03:00:00"
    shanghai = vtimezone("Asia/Shanghai", datetime(2027, 1, 1, tzinfo=UTC), None)
    [only] = shanghai.subcomponents
    assert (
        only.name == "STANDARD" and only.decoded("TZOFFSETTO") == timedelta(hours=8) and "RRULE" not in only
    )


def test_posix_rules_are_read_with_their_west_positive_offsets() -> None:
    rule = parse_posix("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1")
    assert (rule.std, rule.dst) == (timedelta(hours=-3), timedelta(hours=-2))
    assert rule.start is not None and rule.start.time == timedelta(hours=-2) and rule.start.rrule is None
    assert parse_posix("CST-8").std == timedelta(hours=8) and parse_posix("CST-8").start is None
    with pytest.raises(ValueError, match=r"Mm\.w\.d"):
        parse_posix("XST3XDT,J60,J300")
