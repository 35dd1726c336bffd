"""The recurrence engine against an independent expansion, and its refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.domain.errors import RecurrenceError
from scheduler.domain.holidays import ChineseStatutoryCalendar, DayInfo
from scheduler.domain.recurrence import Override, expand, make_timing
from schemas.names import OccurrenceStatus
from tests.support.oracle import expected_starts
from tests.support.periods import count_scanned_periods

HOLIDAYS = ChineseStatutoryCalendar()
UID = "9a1c-series@exsched.test"
H2 = timedelta(hours=2)

# (name, dtstart, zone, rule, exdates, rdates, skip, window end for unbounded rules)
CASES = [
    (
        "weekly",
        datetime(2026, 3, 5, 14),
        "Asia/Shanghai",
        "FREQ=WEEKLY;BYDAY=TH;COUNT=12",
        [],
        [],
        "none",
        None,
    ),
    (
        "every second thursday",
        datetime(2026, 1, 8, 14),
        "Asia/Shanghai",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        [],
        [],
        "none",
        datetime(2027, 1, 1),
    ),
    (
        "last thursday of the month",
        datetime(2026, 1, 29, 9, 30),
        "Asia/Shanghai",
        "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1",
        [],
        [],
        "none",
        datetime(2027, 6, 1),
    ),
    (
        "second thursday monthly",
        datetime(2026, 12, 10, 14),
        "Asia/Shanghai",
        "FREQ=MONTHLY;BYDAY=2TH;COUNT=24",
        [],
        [],
        "none",
        None,
    ),
    (
        "count with exdates and rdates",
        datetime(2026, 6, 2, 9),
        "Asia/Shanghai",
        "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        [datetime(2026, 6, 16, 9), datetime(2026, 6, 30, 9)],
        [datetime(2026, 6, 20, 10)],
        "none",
        None,
    ),
    (
        "until in utc",
        datetime(2026, 1, 5, 19),
        "Asia/Shanghai",
        "FREQ=DAILY;UNTIL=20260120T110000Z",
        [],
        [],
        "none",
        None,
    ),
    (
        "weekly across the berlin dst change",
        datetime(2026, 3, 5, 18),
        "Europe/Berlin",
        "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261130T000000Z",
        [],
        [],
        "none",
        None,
    ),
    ("single session", datetime(2026, 12, 10, 14), "Asia/Shanghai", None, [], [], "none", None),
    (
        "national day 2026 skipped, adjusted saturday kept",
        datetime(2026, 9, 5, 10),
        "Asia/Shanghai",
        "FREQ=WEEKLY;BYDAY=SA;COUNT=8",
        [],
        [],
        "cn-statutory",
        None,
    ),
    (
        "national day 2026 skipped, adjusted sunday kept",
        datetime(2026, 9, 6, 10),
        "Asia/Shanghai",
        "FREQ=WEEKLY;BYDAY=SU;COUNT=8",
        [],
        [],
        "cn-statutory",
        None,
    ),
    (
        "holidays shifted to the next working day",
        datetime(2026, 1, 1, 14),
        "Asia/Shanghai",
        "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12",
        [],
        [],
        "cn-statutory-shift",
        None,
    ),
]


@pytest.mark.parametrize(
    ("dtstart", "zone", "rule", "exdates", "rdates", "skip", "until"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_expansion_equals_an_independent_expansion(dtstart, zone, rule, exdates, rdates, skip, until) -> None:
    timing = make_timing(
        dtstart=dtstart,
        timezone=zone,
        duration=H2,
        rrule=rule,
        exdates=exdates,
        rdates=rdates,
        skip_holidays=skip,
    )
    window = None
    if until is not None:
        window = (datetime(2000, 1, 1, tzinfo=UTC), until.replace(tzinfo=timing.zone))
    got = expand(timing, series_uid=UID, holidays=HOLIDAYS, window=window)
    expected = expected_starts(
        dtstart=dtstart,
        timezone=zone,
        rrule=rule,
        exdates=exdates,
        rdates=rdates,
        skip=skip,
        until=until,
    )
    assert [(o.recurrence_id, o.start.astimezone(UTC)) for o in got] == expected
    assert all(o.end - o.start == H2 for o in got)
    assert len({o.uid for o in got}) == len(got)


def test_berlin_sessions_keep_their_wall_time_across_dst() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 3, 19, 18), timezone="Europe/Berlin", duration=H2, rrule="FREQ=WEEKLY;COUNT=3"
    )
    got = expand(timing, series_uid=UID)
    assert [o.start.hour for o in got] == [18, 18, 18]
    assert [o.recurrence_id.hour for o in got] == [17, 17, 16]  # CET until 29 March, then CEST


def test_national_day_week_2026_is_skipped_but_not_its_adjusted_working_day() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 9, 19, 10),
        timezone="Asia/Shanghai",
        duration=H2,
        rrule="FREQ=WEEKLY;BYDAY=SA;COUNT=5",
        skip_holidays="cn-statutory",
    )
    days = [o.start.date() for o in expand(timing, series_uid=UID, holidays=HOLIDAYS)]
    assert date(2026, 9, 26) not in days  # Mid-autumn break
    assert date(2026, 10, 3) not in days  # National Day break
    assert date(2026, 10, 10) in days  # 调休: an adjusted working Saturday
    assert days == [date(2026, 9, 19), date(2026, 10, 10), date(2026, 10, 17)]


def test_shift_lands_on_an_adjusted_working_sunday() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 1, 1, 14),
        timezone="Asia/Shanghai",
        duration=H2,
        skip_holidays="cn-statutory-shift",
    )
    [occ] = expand(timing, series_uid=UID, holidays=HOLIDAYS)
    assert occ.start == datetime(2026, 1, 4, 14, tzinfo=timing.zone)  # Sunday, a working day
    assert occ.recurrence_id == datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert occ.holiday == "New Year's Day"
    assert occ.uid.endswith("-20260101T060000Z@exsched.test")


def test_shift_onto_the_series_own_next_session_does_not_double_it() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 9, 24, 14),
        timezone="Asia/Shanghai",
        duration=H2,
        rrule="FREQ=WEEKLY;COUNT=3",
        skip_holidays="cn-statutory-shift",
    )
    starts = [o.start.date() for o in expand(timing, series_uid=UID, holidays=HOLIDAYS)]
    assert starts == [date(2026, 9, 24), date(2026, 10, 8)]


def test_a_year_without_official_data_is_provisional_not_guessed() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 12, 31, 14),
        timezone="Asia/Shanghai",
        duration=H2,
        rrule="FREQ=DAILY;COUNT=3",
        skip_holidays="cn-statutory",
    )
    got = expand(timing, series_uid=UID, holidays=HOLIDAYS)
    assert [(o.start.date(), o.provisional) for o in got] == [
        (date(2026, 12, 31), False),
        (date(2027, 1, 1), True),
        (date(2027, 1, 2), True),
    ]


def test_a_shift_into_an_unknown_year_is_provisional() -> None:
    class LastDayOff:
        def day(self, day: date) -> DayInfo:
            if day.year > 2026:
                return DayInfo(day, known=False, workday=True, holiday=None)
            return DayInfo(day, known=True, workday=day != date(2026, 12, 31), holiday="Test break")

    timing = make_timing(
        dtstart=datetime(2026, 12, 31, 9),
        timezone="Asia/Shanghai",
        duration=H2,
        skip_holidays="cn-statutory-shift",
    )
    [occ] = expand(timing, series_uid=UID, holidays=LastDayOff())
    assert occ.start.date() == date(2027, 1, 1)
    assert occ.provisional


def test_without_holiday_skipping_nothing_is_provisional() -> None:
    timing = make_timing(dtstart=datetime(2027, 10, 1, 9), timezone="Asia/Shanghai", duration=H2)
    assert not expand(timing, series_uid=UID)[0].provisional


class TestOverrides:
    timing = make_timing(
        dtstart=datetime(2026, 12, 3, 14), timezone="Asia/Shanghai", duration=H2, rrule="FREQ=WEEKLY;BYDAY=TH"
    )
    window = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    second = datetime(2026, 12, 10, 6, tzinfo=UTC)

    def test_moving_keeps_uid_and_raises_sequence(self) -> None:
        before = {o.recurrence_id: o for o in expand(self.timing, series_uid=UID, window=self.window)}
        moved_to = datetime(2026, 12, 11, 10, tzinfo=UTC)
        after = expand(
            self.timing,
            series_uid=UID,
            sequence=2,
            window=self.window,
            overrides=[Override(self.second, start=moved_to, sequence=1)],
        )
        occ = next(o for o in after if o.recurrence_id == self.second)
        assert occ.uid == before[self.second].uid
        assert occ.start == moved_to and occ.end == moved_to + H2
        assert occ.status is OccurrenceStatus.MOVED
        assert occ.sequence == 3
        assert [o.start for o in after] == sorted(o.start for o in after)

    def test_cancelled_occurrence_stays_listed_as_cancelled(self) -> None:
        got = expand(
            self.timing,
            series_uid=UID,
            window=self.window,
            overrides=[Override(self.second, cancelled=True, sequence=1)],
        )
        assert [o.status for o in got if o.recurrence_id == self.second] == [OccurrenceStatus.CANCELLED]
        assert len(got) == 5

    def test_occurrence_moved_into_the_window_from_outside_is_listed(self) -> None:
        january = datetime(2027, 1, 7, 6, tzinfo=UTC)
        moved = Override(january, start=datetime(2026, 12, 30, 6, tzinfo=UTC), sequence=1)
        got = expand(self.timing, series_uid=UID, window=self.window, overrides=[moved])
        assert january in [o.recurrence_id for o in got]
        later = expand(
            self.timing,
            series_uid=UID,
            overrides=[moved],
            window=(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
        )
        assert january not in [o.recurrence_id for o in later]

    def test_series_cancelled_from_an_instant_cancels_later_sessions_only(self) -> None:
        got = expand(
            self.timing, series_uid=UID, window=self.window, cancelled_from=datetime(2026, 12, 15, tzinfo=UTC)
        )
        assert [o.status.value for o in got] == [
            "scheduled",
            "scheduled",
            "cancelled",
            "cancelled",
            "cancelled",
        ]


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "unknown weekday"),
        ({"rrule": "FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z"}, "rrule", "COUNT and UNTIL"),
        (
            {"rrule": "FREQ=WEEKLY;BYDAY=TH", "dtstart": datetime(2026, 12, 9, 14)},
            "dtstart",
            r"not a session of the rule .*first session would be 2026-12-10T14:00",
        ),
        ({"timezone": "Europe/Berlin", "dtstart": datetime(2027, 3, 28, 2, 30)}, "dtstart", "does not exist"),
        (
            {
                "timezone": "Europe/Berlin",
                "dtstart": datetime(2027, 3, 21, 2, 30),
                "rrule": "FREQ=WEEKLY;COUNT=3",
            },
            "rrule",
            "2027-03-28 at 02:30 does not exist in Europe/Berlin",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"duration": timedelta(0)}, "duration", "positive"),
        ({"duration": timedelta(days=20)}, "duration", "at most 14 days"),
        (
            {"rrule": "FREQ=WEEKLY;COUNT=5", "exdates": [datetime(2026, 12, 11, 14)]},
            "exdates[0]",
            "removes nothing",
        ),
        ({"rdates": [datetime(2026, 1, 1, 14)]}, "rdates[0]", "before dtstart"),
        ({"rrule": "FREQ=DAILY;UNTIL=20501231T000000Z"}, "rrule", "more than 5000 sessions"),
    ],
)
def test_bad_timing_is_refused_with_field_and_reason(kwargs: dict, field: str, reason: str) -> None:
    base = {"dtstart": datetime(2026, 12, 10, 14), "timezone": "Asia/Shanghai", "duration": H2}
    with pytest.raises(RecurrenceError, match=reason) as caught:
        make_timing(**(base | kwargs))
    assert caught.value.field == field


def test_an_unbounded_rule_needs_a_window() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 12, 10, 14), timezone="Asia/Shanghai", duration=H2, rrule="FREQ=WEEKLY"
    )
    with pytest.raises(RecurrenceError, match="no end") as caught:
        expand(timing, series_uid=UID)
    assert caught.value.field == "window"


def test_a_window_with_too_many_sessions_is_refused() -> None:
    timing = make_timing(
        dtstart=datetime(2026, 12, 10, 14), timezone="Asia/Shanghai", duration=H2, rrule="FREQ=DAILY"
    )
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC))
    with pytest.raises(RecurrenceError, match="narrow it"):
        expand(timing, series_uid=UID, window=window)


def test_aware_dtstart_is_converted_to_the_series_wall_time() -> None:
    timing = make_timing(dtstart=datetime(2026, 12, 10, 6, tzinfo=UTC), timezone="Asia/Shanghai", duration=H2)
    assert timing.dtstart == datetime(2026, 12, 10, 14)


WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def weekly_rules(draw: st.DrawFn) -> tuple[datetime, str, str]:
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]))
    day = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)))
    hour = draw(st.sampled_from([8, 9, 14, 19]))  # outside every DST gap
    start = datetime(day.year, day.month, day.day, hour, draw(st.sampled_from([0, 30])))
    freq = draw(st.sampled_from(["WEEKLY", "MONTHLY"]))
    interval = draw(st.integers(1, 3))
    count = draw(st.integers(1, 40))
    weekday = WEEKDAYS[start.weekday()]
    if freq == "WEEKLY":
        rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={weekday};COUNT={count}"
    else:
        nth = (start.day - 1) // 7 + 1
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={nth}{weekday};COUNT={count}"
    return start, zone, rule


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weekly_rules())
def test_random_weekly_and_monthly_rules_match_the_oracle(case: tuple[datetime, str, str]) -> None:
    start, zone, rule = case
    timing = make_timing(dtstart=start, timezone=zone, duration=H2, rrule=rule)
    got = [(o.recurrence_id, o.start.astimezone(UTC)) for o in expand(timing, series_uid=UID)]
    assert got == expected_starts(dtstart=start, timezone=zone, rrule=rule)


# --- cost: what is asked, never the distance from dtstart ------------------------------------


@st.composite
def any_rules(draw: st.DrawFn) -> tuple[datetime, str, datetime, datetime]:
    """A rule of any frequency and BY-part mix, with a dtstart that is its first session, and a
    window somewhere in the following decades."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 4))}"]
    if draw(st.booleans()):
        parts.append(
            "BYMONTH=" + ",".join(map(str, draw(st.sets(st.integers(1, 12), min_size=1, max_size=4))))
        )
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        days = draw(st.sets(st.integers(-31, 31).filter(bool), min_size=1, max_size=3))
        parts.append("BYMONTHDAY=" + ",".join(map(str, sorted(days))))
    if draw(st.booleans()):
        days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=3))
        if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
            parts.append("BYDAY=" + ",".join(f"{draw(st.sampled_from([1, 2, -1]))}{d}" for d in sorted(days)))
        else:
            parts.append("BYDAY=" + ",".join(sorted(days)))
    if freq in ("MONTHLY", "YEARLY") and "BYDAY" in ";".join(parts) and draw(st.booleans()):
        parts.append(f"BYSETPOS={draw(st.sampled_from([1, -1, 2]))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(WEEKDAYS))}")
    rule = ";".join(parts)
    seed = draw(st.datetimes(min_value=datetime(1975, 1, 1), max_value=datetime(2030, 1, 1)))
    seed = seed.replace(hour=draw(st.sampled_from([9, 14])), minute=0, second=0, microsecond=0)
    first = rrulestr(rule, dtstart=seed).after(seed, inc=True)  # type: ignore[union-attr]
    assume(first is not None and first.year < 2100)
    after = first + timedelta(days=draw(st.integers(0, 40 * 366)), hours=draw(st.integers(0, 23)))
    before = after + timedelta(days=draw(st.integers(1, 800)))
    return first, rule, after, before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_rules())
def test_a_rule_restarted_in_the_period_of_the_window_gives_what_dateutil_gives_from_dtstart(
    case: tuple[datetime, str, datetime, datetime],
) -> None:
    first, rule, after, before = case
    try:
        timing = make_timing(dtstart=first, timezone="UTC", duration=H2, rrule=rule)
    except RecurrenceError as refused:
        assume(refused.field != "rrule" or "ten years" not in refused.message)
        raise
    whole = rrulestr(rule, dtstart=first)
    expected = [s for s in whole.between(after, before, inc=True) if s < before]  # type: ignore[union-attr]
    assert list(timing.rule_starts(after=after, before=before)) == expected
    for start in expected[:5]:
        assert timing.is_rule_instance(start)
        assert not timing.is_rule_instance(start + timedelta(hours=1))


def test_a_thousand_exdates_two_centuries_after_dtstart_are_checked_in_no_time() -> None:
    """A daily series from 1970 with 1,000 EXDATEs in 2197 took 114 s of CPU: each EXDATE ran the
    rule again from 1970. Now each looks at its own day only (the figure is in the bench, not here:
    this counts the periods dateutil is asked to look at)."""
    exdates = [datetime(2197, 1, 1, 9) + timedelta(days=i) for i in range(1000)]
    scanned = count_scanned_periods(
        lambda: make_timing(
            dtstart=datetime(1970, 1, 1, 9),
            timezone="Asia/Shanghai",
            duration=H2,
            rrule="FREQ=DAILY",
            exdates=exdates,
        )
    )
    assert scanned < 10 * 366 + 3 * 1000  # the ten-year checks from dtstart, and a day or so per EXDATE


@pytest.mark.parametrize(
    ("rule", "dtstart", "reason"),
    [
        (
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=999",
            datetime(2016, 2, 29, 9),
            "no second session",
        ),
        ("FREQ=YEARLY;INTERVAL=1000;COUNT=9", datetime(2026, 12, 10, 9), "no second session"),
        ("FREQ=YEARLY;INTERVAL=11", datetime(2026, 12, 10, 9), "no second session"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", datetime(2026, 12, 10, 9), "no session in the ten years"),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=999",
            datetime(2024, 2, 29, 9),
            "use a COUNT of at most 43",  # 2100 is no leap year
        ),
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_rules_too_sparse_to_expand_cheaply_are_refused_with_the_reason(
    rule: str, dtstart: datetime, reason: str, zone: str
) -> None:
    with pytest.raises(RecurrenceError, match=reason) as caught:
        make_timing(dtstart=dtstart, timezone=zone, duration=H2, rrule=rule)
    assert caught.value.field in ("rrule", "dtstart")


def test_reading_a_window_looks_only_at_that_window() -> None:
    timing = make_timing(
        dtstart=datetime(1970, 1, 1, 9), timezone="Asia/Shanghai", duration=H2, rrule="FREQ=DAILY"
    )
    window = (datetime(2190, 3, 1, tzinfo=UTC), datetime(2190, 4, 1, tzinfo=UTC))
    scanned = count_scanned_periods(lambda: expand(timing, series_uid=UID, window=window))
    assert scanned < 31 + 16 + 3  # the window, the holiday-shift margin, a day of slack
    assert len(expand(timing, series_uid=UID, window=window)) == 31
