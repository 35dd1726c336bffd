from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas.durations import IsoDuration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P14D", timedelta(days=14)),
        ("PT2H", timedelta(hours=2)),
        ("PT30S", timedelta(seconds=30)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("P2W", timedelta(weeks=2)),
        ("pt90m", timedelta(minutes=90)),
    ],
)
def test_parses_exact_iso_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M"])
def test_months_and_years_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="no fixed length"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["", "P", "PT", "2H", "P1DT", "PT-5M", "P1.5D", "one hour"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid ISO 8601 duration"):
        parse_duration(text)


def test_absurdly_long_durations_are_refused_not_crashed() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration("PT99999999999999999999S")


@given(st.integers(min_value=0, max_value=400 * 86400))
def test_format_then_parse_gives_the_same_duration(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_models_read_and_write_iso_text() -> None:
    class Plan(BaseModel):
        before: IsoDuration

    plan = Plan.model_validate({"before": "P1DT2H"})
    assert plan.before == timedelta(days=1, hours=2)
    assert plan.model_dump_json() == '{"before":"P1DT2H"}'
    with pytest.raises(ValidationError, match="ISO 8601"):
        Plan.model_validate({"before": 3600})
