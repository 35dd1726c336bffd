"""A year's holidays as staff type them from the State Council's notice: what is refused and why,
and how the calendar then answers (entered years stand for their year)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.domain.errors import InvalidInput
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.official_days import BREAKS, read_entry
from scheduler.domain.recurrence import Override, expand, make_timing

YEAR = 2031  # a year the installed data will not have for a while


def breaks(**changes: tuple[str, str]) -> dict[str, tuple[str, str]]:
    given = {
        "New Year's Day": ("2031-01-01", "2031-01-01"),
        "Spring Festival": ("2031-01-22", "2031-01-28"),
        "Tomb-sweeping Day": ("2031-04-05", "2031-04-07"),
        "Labour Day": ("2031-05-01", "2031-05-05"),
        "Dragon Boat Festival": ("2031-06-24", "2031-06-26"),
        "Mid-autumn Festival": ("2031-10-01", "2031-10-01"),
        "National Day": ("2031-10-02", "2031-10-08"),
    }
    given.update(changes)
    return given


WORKED = ["2031-01-26", "2031-02-08", "2031-09-28", "2031-10-11"]  # Sun, Sat, Sun, Sat


def test_a_notice_becomes_the_days_off_and_the_weekend_days_worked() -> None:
    entry = read_entry(YEAR, breaks(), WORKED[1:])
    days = entry.days()
    assert days[date(2031, 10, 5)] == (True, "National Day")
    assert days[date(2031, 10, 1)] == (True, "Mid-autumn Festival")
    assert days[date(2031, 2, 8)] == (False, "Spring Festival")  # worked for the nearest break
    assert days[date(2031, 10, 11)] == (False, "National Day")
    assert sum(off for off, _ in days.values()) == 1 + 7 + 3 + 5 + 3 + 1 + 7


def test_mid_autumn_may_be_left_to_national_day_and_nothing_else_may_be_left_out() -> None:
    joined = read_entry(
        YEAR, breaks(**{"Mid-autumn Festival": ("", ""), "National Day": ("2031-10-01", "2031-10-08")}), []
    )
    assert "Mid-autumn Festival" not in joined.breaks
    for name in BREAKS:
        if name == "Mid-autumn Festival":
            continue
        with pytest.raises(InvalidInput) as refused:
            read_entry(YEAR, breaks(**{name: ("", "")}), [])
        assert (refused.value.field, refused.value.code) == (name, "break-missing")


@pytest.mark.parametrize(
    ("changes", "workdays", "field", "code"),
    [
        ({"Labour Day": ("2031-05-05", "2031-05-01")}, [], "Labour Day", "break-order"),
        ({"Spring Festival": ("2031-01-20", "2031-02-05")}, [], "Spring Festival", "break-long"),
        ({"National Day": ("2032-10-01", "2032-10-07")}, [], "National Day", "break-year"),
        ({"National Day": ("2031-09-30", "2031-10-07")}, [], "National Day", "break-overlap"),
        ({"Labour Day": ("2031-05-01", "5月5日")}, [], "Labour Day", "date"),
        ({}, ["2031-03-04"], "workdays", "workday-weekday"),
        ({}, ["2032-01-03"], "workdays", "workday-year"),
        ({}, ["2031-01-25"], "workdays", "workday-off"),
        ({}, ["not a day"], "workdays", "date"),
    ],
)
def test_what_the_notice_cannot_say_is_refused_with_the_field(
    changes: dict[str, tuple[str, str]], workdays: list[str], field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_entry(YEAR, breaks(**changes), workdays)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_new_years_day_may_start_in_the_last_days_of_the_year_before() -> None:
    entry = read_entry(YEAR, breaks(**{"New Year's Day": ("2030-12-30", "2031-01-01")}), [])
    assert date(2030, 12, 30) not in entry.days() and entry.days()[date(2031, 1, 1)] == (
        True,
        "New Year's Day",
    )


def test_an_entered_year_stands_for_its_year_and_only_for_it() -> None:
    calendar = ChineseStatutoryCalendar()
    assert not calendar.day(date(2031, 10, 3)).known
    calendar.use_entered({YEAR: read_entry(YEAR, breaks(), WORKED[1:]).days()}, version=(1, "x"))
    holiday = calendar.day(date(2031, 10, 3))
    assert (holiday.known, holiday.workday, holiday.holiday, holiday.statutory_off) == (
        True,
        False,
        "National Day",
        True,
    )
    worked = calendar.day(date(2031, 2, 8))
    assert (worked.workday, worked.statutory_off) == (True, False)
    ordinary = calendar.day(date(2031, 3, 1))  # a Saturday
    assert (ordinary.known, ordinary.workday, ordinary.holiday) == (True, False, None)
    assert calendar.day(date(2026, 10, 1)).holiday == "National Day"  # installed years as they were
    assert YEAR in calendar.entered_years() and calendar.entered_version == (1, "x")
    calendar.use_entered({}, version=(0, None))
    assert not calendar.day(date(2031, 10, 3)).known


def test_a_session_whose_only_change_is_its_sequence_still_follows_the_holiday_rules() -> None:
    """The override that tells members of a holiday move must not pin the session where it was."""
    calendar = ChineseStatutoryCalendar()
    calendar.use_entered({YEAR: read_entry(YEAR, breaks(), []).days()}, version=1)
    start = datetime(2031, 10, 3, 14, 0)
    rid = start.replace(tzinfo=UTC) - timedelta(hours=8)
    window = (datetime(2031, 9, 1, tzinfo=UTC), datetime(2031, 11, 1, tzinfo=UTC))

    def sessions(mode: str, override: Override | None) -> list[tuple[date, int]]:
        timing = make_timing(
            dtstart=start,
            timezone="Asia/Shanghai",
            duration=timedelta(hours=2),
            rrule=None,
            skip_holidays=mode,
        )
        found = expand(
            timing, series_uid="s", overrides=[override] if override else [], holidays=calendar, window=window
        )
        return [(o.start.date(), o.sequence) for o in found]

    bumped = Override(recurrence_id=rid, sequence=1)
    assert sessions("cn-statutory-shift", None) == [(date(2031, 10, 9), 0)]
    assert sessions("cn-statutory-shift", bumped) == [(date(2031, 10, 9), 1)]
    assert sessions("cn-statutory", bumped) == []  # dropped, as without it
    staff_kept = Override(recurrence_id=rid, venue="线上", sequence=1)
    assert sessions("cn-statutory", staff_kept) == [(date(2031, 10, 3), 1)]  # staff's decision stands
