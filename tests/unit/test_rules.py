from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.errors import RecurrenceError
from scheduler.domain.rules import parse_rule

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=WEEKLY;BYDAY=XX", "unknown weekday 'XX'"),
        ("BYDAY=MO", "FREQ is required"),
        ("FREQ=FORTNIGHTLY", "unknown FREQ"),
        ("FREQ=HOURLY", "sessions recur at most daily"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000Z", "COUNT and UNTIL must not be used together"),
        ("FREQ=WEEKLY;COUNT=0", "out of range"),
        ("FREQ=WEEKLY;COUNT=5000", "out of range 1..999"),
        ("FREQ=WEEKLY;INTERVAL=two", "not a whole number"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "out of range"),
        ("FREQ=WEEKLY;BYDAY=2TH", "ordinals need FREQ=MONTHLY or YEARLY"),
        ("FREQ=WEEKLY;FOO=1", "unknown part 'FOO'"),
        ("FREQ=WEEKLY;BYHOUR=9", "time of day is dtstart's"),
        ("FREQ=WEEKLY;FREQ=DAILY", "given twice"),
        ("FREQ=WEEKLY;UNTIL=2026-12-31", "must look like"),
        ("FREQ=WEEKLY;UNTIL=20261340", "not a real date"),
        ("FREQ=WEEKLY;UNTIL=20261332T000000Z", "not a real date"),
        ("FREQ=WEEKLY;BYDAY", "not NAME=VALUE"),
        ("", "empty"),
    ],
)
def test_bad_rules_are_refused_naming_the_part(rule: str, reason: str) -> None:
    with pytest.raises(RecurrenceError, match=reason) as caught:
        parse_rule(rule, SH)
    assert caught.value.field == "rrule"
    assert "invalid RRULE" in caught.value.message


def test_rule_is_normalized_with_until_in_utc() -> None:
    parsed = parse_rule("RRULE:byday=TH;freq=weekly;until=20261231", SH)
    assert parsed.text == "FREQ=WEEKLY;UNTIL=20261231T155959Z;BYDAY=TH"
    assert parsed.until == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert parsed.bounded


def test_floating_until_is_read_in_the_series_zone() -> None:
    parsed = parse_rule("FREQ=DAILY;UNTIL=20261231T140000", SH)
    assert parsed.until == datetime(2026, 12, 31, 6, 0, tzinfo=UTC)
    assert "UNTIL=20261231T140000" in parsed.dateutil_text(SH)


def test_rule_without_count_or_until_is_unbounded() -> None:
    assert not parse_rule("FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1", SH).bounded
