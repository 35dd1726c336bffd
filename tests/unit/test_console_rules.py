"""The human rule form, its preview, and the series form's messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.recurrence import make_timing
from scheduler.domain.rules import parse_rule
from scheduler.i18n import translator
from scheduler.web.console.forms import (
    format_offset,
    parse_offset,
    parse_targets,
    read_member,
    read_series_form,
)
from scheduler.web.console.preview import preview_sessions
from scheduler.web.console.rule_form import (
    NTHS,
    WEEKDAY_CODES,
    RuleChoice,
    from_rrule,
    to_rrule,
)
from schemas.names import (
    Chapter,
    Role,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Principal(role=Role.ADMIN)
NINGBO = Principal(role=Role.CHAPTER, chapter=Chapter.NINGBO)
ZH, EN = translator("zh-CN"), translator("en")


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        (RuleChoice(repeat="weekly", weekdays=("TH", "MO")), "FREQ=WEEKLY;BYDAY=MO,TH"),
        (RuleChoice(repeat="weekly", interval=2, weekdays=("TU",)), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        (RuleChoice(repeat="monthly_nth", nth=2, weekday="TH"), "FREQ=MONTHLY;BYDAY=2TH"),
        (RuleChoice(repeat="monthly_nth", nth=-1, weekday="FR", ends="count", count=6),
         "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"),
        (RuleChoice(repeat="monthly_day", monthday=15, ends="until", until=date(2027, 6, 30)),
         "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270630"),
        (RuleChoice(repeat="custom", custom="RRULE:FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=1"),
         "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=1"),
        (RuleChoice(repeat="once"), None),
    ],
)  # fmt: skip
def test_the_form_writes_the_rule_it_says(choice: RuleChoice, rule: str | None) -> None:
    assert to_rrule(choice) == rule


choices = st.builds(
    RuleChoice,
    repeat=st.sampled_from(["weekly", "monthly_nth", "monthly_day"]),
    interval=st.integers(1, 12),
    weekdays=st.sets(st.sampled_from(WEEKDAY_CODES), min_size=1).map(tuple),
    nth=st.sampled_from(NTHS),
    weekday=st.sampled_from(WEEKDAY_CODES),
    monthday=st.integers(1, 28),
    ends=st.sampled_from(["never", "until", "count"]),
    until=st.dates(date(2026, 1, 1), date(2035, 12, 31)),
    count=st.integers(1, 500),
)


@given(choices)
def test_a_stored_simple_rule_reopens_in_the_form_and_saves_back_unchanged(choice: RuleChoice) -> None:
    stored = parse_rule(str(to_rrule(choice)), SHANGHAI).text
    reopened = from_rrule(stored, SHANGHAI)
    assert reopened.repeat == choice.repeat
    assert parse_rule(str(to_rrule(reopened)), SHANGHAI).text == stored


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1",  # last Thursday, written another way
        "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=1",
        "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T020000Z",  # UNTIL not at the end of a local day
        "FREQ=DAILY;COUNT=5",
        "FREQ=WEEKLY;BYDAY=MO;WKST=SU",
    ],
)
def test_a_rule_the_form_cannot_say_opens_as_custom_and_unchanged(rule: str) -> None:
    stored = parse_rule(rule, SHANGHAI).text
    reopened = from_rrule(stored, SHANGHAI)
    assert reopened.repeat == "custom"
    assert parse_rule(str(to_rrule(reopened)), SHANGHAI).text == stored


def _form(**overrides: object) -> FormData:
    values: dict[str, object] = {
        "title": "宁波 · 月度项目对接会", "kind": "project-docking", "chapter": "ningbo", "description": "",
        "venue": "会展中心", "capacity": "", "organizer_name": "秘书处",
        "organizer_email": "nb@example.com",
        "date": "2026-12-01", "time": "14:00", "duration": "120",
        "timezone": "Asia/Shanghai",
        "repeat": "monthly_nth", "interval": "1", "nth": "2", "weekday": "TH", "monthday": "1",
        "ends": "never",
        "until": "", "count": "", "custom": "", "skip_holidays": "cn-statutory-shift", "invite_days": "14",
        "reminder_hours": "24, 2", "followup_hours": "24",
    }  # fmt: skip
    values.update(overrides)
    items: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list):
            items.extend((key, v) for v in value)
        else:
            items.append((key, str(value)))
    return FormData(items)


def test_a_from_date_becomes_the_first_session_of_the_rule() -> None:
    checked = read_series_form(_form(), ZH, ADMIN)
    assert checked.errors == {}
    assert checked.payload is not None
    assert checked.payload.dtstart == datetime(2026, 12, 10, 14, 0)  # the second Thursday
    assert checked.payload.rrule == "FREQ=MONTHLY;BYDAY=2TH"
    assert checked.payload.duration.total_seconds() == 7200
    assert [r.total_seconds() / 3600 for r in checked.payload.notices.reminders] == [24, 2]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "此项必填。"),
        ({"title": "长" * 201}, "title", "太长了，最多 200 个字符。"),
        ({"date": "12/10/2026"}, "date", "请按 年-月-日 填写日期，例如 2026-12-10。"),
        ({"date": "2026-02-30"}, "date", "请按 年-月-日 填写日期，例如 2026-12-10。"),
        ({"time": "25:00"}, "time", "请按 时:分 填写时间，例如 14:00。"),
        ({"duration": "0"}, "duration", "请填写 1秒 到 14天 之间的数"),
        ({"duration": "两小时"}, "duration", "请填写 1秒 到 14天 之间的数"),
        ({"organizer_email": "nb@"}, "organizer_email", "邮箱地址无效。"),
        ({"timezone": "Asia/Beijing"}, "timezone", "未知时区，请填写如 Asia/Shanghai 的 IANA 时区名。"),
        ({"repeat": "weekly", "weekdays": []}, "weekdays", "至少选择一天。"),
        ({"ends": "until", "until": "2026-11-01"}, "until", "截止日期不能早于第一场。"),
        ({"ends": "count", "count": "0"}, "count", "请填写 1 到 1000 之间的整数。"),
        ({"repeat": "monthly_day", "monthday": "31", "ends": "until", "until": "2026-12-20"}, "until",
         "按此规则，从开始日期起没有任何场次。"),
        ({"reminder_hours": "两小时"}, "reminder_hours", "请填写最多 5 个用逗号分隔的提前量"),
        ({"reminder_hours": "1,2,3,4,5,6"}, "reminder_hours", "请填写最多 5 个用逗号分隔的提前量"),
        ({"invite_days": "200"}, "invite_days", "请填写 0天 到 180天 之间的数"),
        ({"repeat": "custom", "custom": "FREQ=HOURLY"}, "custom", "重复规则无效："),
        ({"chapter": "wenzhou"}, "chapter", "您只能为本分会（宁波）操作。"),
        ({"timezone": "Europe/Berlin", "date": "2027-03-28", "time": "02:30", "repeat": "once"}, "time",
         "该时刻因夏令时切换并不存在，请换一个时间。"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_next_to_its_field_in_chinese(
    overrides: dict[str, object], field: str, message: str
) -> None:
    checked = read_series_form(_form(**overrides), ZH, NINGBO)
    assert checked.payload is None
    assert checked.errors[field].startswith(message), checked.errors


def test_lengths_and_offsets_take_units_and_read_back_exactly() -> None:
    form = _form(duration="2小时", reminder_hours="1天, 30分钟、90m", invite_days="3", followup_hours="15s")
    checked = read_series_form(form, ZH, ADMIN)
    assert checked.payload is not None, checked.errors
    assert checked.payload.duration == timedelta(hours=2)
    reminders = [timedelta(days=1), timedelta(minutes=90), timedelta(minutes=30)]
    assert checked.payload.notices.reminders == reminders
    assert checked.payload.notices.invite_before == timedelta(days=3)
    assert checked.payload.notices.followup_after == timedelta(seconds=15)
    for seconds, unit in ((7200, "min"), (5400, "h"), (86400, "h"), (15, "h"), (0, "d"), (3 * 86400, "d")):
        assert parse_offset(format_offset(seconds, unit), unit) == seconds
    assert format_offset(5400, "h") == "90m" and format_offset(7200, "min") == "120"
    assert [ZH.span(s) for s in (7200, 5400, 86400)] == ["2小时", "90分钟", "1天"]


def test_the_same_mistake_reads_in_english_when_asked() -> None:
    checked = read_series_form(_form(title="", date="tomorrow"), EN, ADMIN)
    assert checked.errors == {"title": "Required.", "date": "Enter a date as YYYY-MM-DD, e.g. 2026-12-10."}


def test_an_empty_title_does_not_hide_the_preview() -> None:
    checked = read_series_form(_form(title=""), ZH, ADMIN)
    assert checked.timing is not None and checked.payload is None


@pytest.mark.parametrize(
    ("skip", "note"),
    [("cn-statutory-shift", "shifted"), ("cn-statutory", "dropped"), ("none", "on_holiday")],
)
def test_preview_marks_what_national_day_does_to_a_session(skip: str, note: str) -> None:
    timing = make_timing(
        dtstart=datetime(2026, 9, 1, 14, 0), timezone="Asia/Shanghai", duration=timedelta(hours=2),
        rrule="FREQ=MONTHLY;BYMONTHDAY=1", skip_holidays=skip,
    )  # fmt: skip
    rows = preview_sessions(timing, ChineseStatutoryCalendar(), datetime(2026, 8, 20, tzinfo=UTC), count=3)
    october = [r for r in rows if r.note == note]
    assert len(october) == 1 and october[0].holiday == "National Day"
    assert ZH.holiday(october[0].holiday) == "国庆节"
    if note == "shifted":
        assert october[0].start.date() == date(2026, 10, 8)  # the first working day after 1–7 October
    else:
        assert october[0].start.date() == date(2026, 10, 1)
    assert [r.note for r in rows if r is not october[0]] == [None, None]


def test_preview_of_a_year_without_official_holidays_says_so() -> None:
    years = ChineseStatutoryCalendar().known_years()
    start = datetime(years.stop, 3, 2, 10, 0)
    timing = make_timing(
        dtstart=start, timezone="Asia/Shanghai", duration=timedelta(hours=1),
        rrule="FREQ=WEEKLY;BYDAY=" + WEEKDAY_CODES[start.weekday()],
        skip_holidays="cn-statutory-shift",
    )  # fmt: skip
    now = datetime(years.stop, 1, 1, tzinfo=UTC)
    rows = preview_sessions(timing, ChineseStatutoryCalendar(), now, count=2)
    assert [r.note for r in rows] == ["provisional", "provisional"]


def test_member_form_reports_every_problem_at_once() -> None:
    values = {"name": "", "email": "bad", "company": "", "chapter": "nowhere", "locale": "fr"}
    values["timezone"] = "X/Y"
    checked = read_member(values, ZH, ADMIN)
    assert checked.errors == {
        "name": "此项必填。",
        "email": "邮箱地址无效。",
        "chapter": "请从列表中选择。",
        "locale": "请从列表中选择。",
        "timezone": "未知时区，请填写如 Asia/Shanghai 的 IANA 时区名。",
    }


def test_subscription_cells_are_read_and_bad_pieces_named() -> None:
    good, bad = parse_targets("chapter:ningbo; kind:tech-exchange；chapter:beijing, 123")
    assert [(t.chapter, t.kind) for t in good] == [(Chapter.NINGBO, None), (None, "tech-exchange")]
    assert bad == ["chapter:beijing", "123"]


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [
        ("2小时30分钟", 9000),
        ("2.5小时", 9000),
        ("2．5小时", 9000),
        ("1h30m", 5400),
        ("2 h 30 min", 9000),
        ("1天2小时", 93600),
        ("90", 5400 * 60),  # a bare number is in the field's unit (hours here)
        ("2小时 30", None),  # a bare number only on its own
        ("0.0001h", None),
        ("1.5s", None),  # not whole seconds
        ("两小时", None),
        ("", None),
    ],
)
def test_lengths_are_read_as_staff_type_them(typed: str, seconds: int | None) -> None:
    assert parse_offset(typed, "h") == seconds
