"""The doctor's judgements that need no server: the clock's skew, next year's holidays, and how
findings read."""

from __future__ import annotations

from datetime import date

from scheduler.doctor import render
from scheduler.doctor.findings import fail, ok, warn, without_password
from scheduler.doctor.storage import clock_finding, holidays


class Calendar:
    def __init__(self, last: int) -> None:
        self.last = last

    def known_years(self) -> range:
        return range(2004, self.last + 1)

    def entered_years(self) -> list[int]:
        return []


def test_the_clock_is_judged_by_how_far_it_is_off() -> None:
    assert clock_finding(0.3, 0.01).status == "ok"
    late = clock_finding(-5.0, 0.01)
    assert late.status == "warn" and "5.0 s behind the database server's" in late.said and "NTP" in late.fix
    wrong = clock_finding(45.0, 0.01)
    assert wrong.status == "fail" and "45.0 s ahead of" in wrong.said


def test_next_years_holidays_are_awaited_from_november() -> None:
    assert holidays(Calendar(2027), date(2026, 12, 3)).status == "ok"  # type: ignore[arg-type]
    missing = holidays(Calendar(2026), date(2026, 12, 3))  # type: ignore[arg-type]
    assert missing.status == "warn" and "2027's official holidays are not installed" in missing.said
    assert "chinesecalendar" in missing.fix
    assert holidays(Calendar(2026), date(2026, 6, 1)).status == "ok"  # type: ignore[arg-type]


def test_passwords_never_reach_the_screen() -> None:
    assert without_password("amqp://exsched:s3cret@mq:5672/exsched") == "amqp://exsched:***@mq:5672/exsched"
    assert without_password("smtp://relay:25") == "smtp://relay:25"


def test_findings_read_as_a_list_with_fixes_under_problems_and_a_verdict() -> None:
    text = render(
        [
            ok("database", "answers"),
            warn("smtp", "not set", "set EXSCHED_SMTP_URL"),
            fail("secret key", "the development key", "set EXSCHED_SECRET_KEY"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "  ✓ database    answers"
    assert lines[1] == "  ! smtp        not set" and lines[2].strip() == "→ set EXSCHED_SMTP_URL"
    assert lines[3] == "  ✗ secret key  the development key"
    assert lines[-1] == "1 problem to fix before going live; 1 warning to read."
    assert render([ok("database", "answers")]).splitlines()[-1] == "nothing stops it going live."
