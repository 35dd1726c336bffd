"""Hostile input: nothing a client sends can break a header, a calendar, a page, or the server."""

from __future__ import annotations

import string
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import update

from scheduler.db.models import SeriesRow
from scheduler.db.session import Database
from schemas.ids import recurrence_stamp
from tests.support.api import create_series, series_body
from tests.support.console import csrf_of, signed_in
from tests.support.periods import count_scanned_periods
from tests.support.services import make_key

SOON = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
INJECTION = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@attacker\r\nSUMMARY:owned\r\n"


def test_calendar_text_cannot_inject_components(client: TestClient, admin: dict) -> None:
    series = create_series(
        client,
        admin,
        title="BEGIN:VEVENT; UID:x, <b>bold</b>",
        description=INJECTION * 3,
        venue="END:VCALENDAR",
        dtstart=f"{SOON}T14:00:00",
        rrule=None,
    )
    body = client.get("/calendars/all.ics").content
    calendar = Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    assert (
        str(event["UID"]).startswith(series["id"])
        and b"evil@attacker" not in body.replace(b"\r\n ", b"").split(b"UID:")[1][:200]
    )
    assert str(event["SUMMARY"]) == "BEGIN:VEVENT; UID:x, <b>bold</b>"
    assert str(event["DESCRIPTION"]).count("UID:evil@attacker") == 3  # kept as text, escaped
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE", "VEVENT"]


def test_html_in_titles_is_escaped_on_the_page(client: TestClient, admin: dict) -> None:
    create_series(
        client, admin, title='<img src=x onerror="alert(1)">', dtstart=f"{SOON}T14:00:00", rrule=None
    )
    page = client.get("/").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_oversized_bodies_are_refused_before_parsing(client: TestClient, admin: dict) -> None:
    huge = series_body(description="x" * (2 * 1024 * 1024))
    response = client.post("/api/v1/series", json=huge, headers=admin)
    assert response.status_code == 413


def test_an_rrule_that_would_expand_to_millions_is_refused(client: TestClient, admin: dict) -> None:
    response = client.post(
        "/api/v1/series", json=series_body(rrule="FREQ=DAILY;UNTIL=21991231T000000Z"), headers=admin
    )
    assert response.status_code == 422 and "more than 5000 sessions" in response.json()["detail"]
    endless = create_series(client, admin, rrule="FREQ=DAILY", dtstart=f"{SOON}T14:00:00")
    wide = client.get(
        f"/api/v1/series/{endless['id']}/occurrences", params={"start": "1970-01-01", "end": "2199-01-01"}
    )
    assert wide.status_code == 422 and "narrow it" in wide.json()["detail"]


text_values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.printable, max_size=40),
    st.sampled_from(
        ["", "\x00", "\r\n", "FREQ=DAILY", "P1M", "2026-13-40T25:61:00", "💥" * 50, "-1", "9" * 40]
    ),
)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text_values
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text_values, inner, max_size=3)),
    max_leaves=8,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(
        [*sorted(series_body()), "notices", "exdates", "rdates", "skip_holidays", "capacity"]
    ),
    value=json_values,
)
def test_any_value_in_any_series_field_gets_a_reasoned_4xx_or_a_201_never_a_500(
    client: TestClient, admin: dict, field: str, value: object
) -> None:
    response = client.post("/api/v1/series", json=series_body(**{field: value}), headers=admin)
    assert response.status_code in (201, 400, 409, 422), response.text
    if response.status_code != 201:
        assert response.json()["detail"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.text(alphabet=string.ascii_letters + string.digits + "-_.%:", min_size=1, max_size=60))
def test_any_path_segment_gets_a_clean_answer(client: TestClient, admin: dict, path: str) -> None:
    for url in (
        f"/api/v1/series/{path}",
        f"/api/v1/members/{path}",
        f"/calendars/{path}.ics",
        f"/rsvp/{path}",
        f"/api/v1/series/00000000-0000-0000-0000-000000000000/occurrences/{path}",
    ):
        response = client.get(url, headers=admin)
        assert response.status_code < 500, (url, response.status_code, response.text[:200])


# --- requests that cost the server more than they ask -----------------------------------------


def test_a_thousand_exdates_two_centuries_out_cost_what_they_ask(client: TestClient, db: Database) -> None:
    """A chapter key created a daily series from 1970 with 1,000 EXDATEs in 2197: 114 s of CPU
    before the 201, each EXDATE walking the rule from 1970. Counted in periods dateutil walks."""
    key = make_key(db, "chapter", "ningbo")
    body = series_body(
        dtstart="1970-01-01T09:00:00",
        rrule="FREQ=DAILY",
        exdates=[(datetime(2197, 1, 1, 9) + timedelta(days=i)).isoformat() for i in range(1000)],
    )
    answers = []
    walked = count_scanned_periods(
        lambda: answers.append(client.post("/api/v1/series", json=body, headers=key))
    )
    assert answers[0].status_code == 201, answers[0].text
    assert walked < 3653 + 3 * 1000 + 100  # the ten-year checks, a period or so per EXDATE


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
@pytest.mark.parametrize(
    ("dtstart", "rule"),
    [
        ("2016-02-29T09:00:00", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=999"),
        ("2026-12-10T09:00:00", "FREQ=YEARLY;INTERVAL=1000;COUNT=9"),
    ],
)
def test_rules_too_sparse_to_expand_are_refused_not_answered_in_seconds_or_500(
    client: TestClient, admin: dict, zone: str, dtstart: str, rule: str
) -> None:
    answers = []
    walked = count_scanned_periods(
        lambda: answers.append(
            client.post(
                "/api/v1/series", json=series_body(dtstart=dtstart, rrule=rule, timezone=zone), headers=admin
            )
        )
    )
    assert answers[0].status_code == 422, answers[0].text
    assert answers[0].json()["errors"][0]["field"] == "rrule" and "ten years" in answers[0].json()["detail"]
    assert walked <= 2 * 3653 + 10


def test_a_sparse_series_stored_before_the_check_is_read_cheaply(
    client: TestClient, admin: dict, db: Database
) -> None:
    """Series stored before sparse rules were refused stay readable, at the cost of what is
    read: listing them took 3 s, their .ics 6 s (dateutil walking to year 9999)."""
    made = create_series(
        client, admin, dtstart="2016-02-29T09:00:00", rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"
    )
    with db.session() as session:  # what an older version let in
        session.execute(
            update(SeriesRow)
            .where(SeriesRow.id == uuid.UUID(made["id"]))
            .values(rrule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO")
        )
    for path in (
        f"/api/v1/series/{made['id']}/occurrences?start=2026-01-01T00:00:00&end=2027-01-01T00:00:00",
        f"/calendars/series/{made['id']}.ics",
        "/calendars/all.ics",
    ):
        answers = []
        walked = count_scanned_periods(lambda: answers.append(client.get(path)))  # noqa: B023
        assert answers[0].status_code == 200, (path, answers[0].text)
        assert walked < 4 * 366, path  # the year or so asked for (twice for the .ics), not 8,000 years


def test_no_database_connection_is_held_while_an_answer_is_computed(
    client: TestClient, admin: dict, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 parallel anonymous listings of a costly series used to take every pooled connection
    (26 answered 500, an unrelated request waited 43 s): each held its connection through the
    expansion. Now the reading ends before the CPU work starts."""
    made = create_series(client, admin, dtstart="2026-12-10T09:00:00", rrule="FREQ=DAILY;COUNT=400")
    held: list[tuple[str, int]] = []
    from scheduler.calendars import feeds
    from scheduler.domain import series as catalog

    expand = catalog.expand
    render_rows = feeds.FeedService._render_rows

    def expanding(*args: object, **kwargs: object) -> object:
        held.append(("expand", db.engine.pool.checkedout()))  # type: ignore[attr-defined]
        return expand(*args, **kwargs)  # type: ignore[arg-type]

    def rendering(self: feeds.FeedService, *args: object) -> object:
        held.append(("render", db.engine.pool.checkedout()))  # type: ignore[attr-defined]
        return render_rows(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog, "expand", expanding)
    monkeypatch.setattr(feeds.FeedService, "_render_rows", rendering)
    for path in (
        f"/api/v1/series/{made['id']}/occurrences",
        f"/calendars/series/{made['id']}.ics",
        "/calendars/all.ics",
    ):
        assert client.get(path).status_code == 200, path
    assert {what for what, _ in held} == {"expand", "render"}
    assert all(count == 0 for _, count in held), held


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x00", "\x7f"])
def test_control_characters_are_refused_in_every_text_field(
    client: TestClient, admin: dict, char: str
) -> None:
    """RFC 5545 has no place for them in TEXT, and a consumer splitting lines on any of them would
    read what follows as properties (an injected UID). Line breaks stay allowed in descriptions."""
    for field in ("title", "venue", "description", "organizer_name"):
        answer = client.post("/api/v1/series", json=series_body(**{field: f"a{char}UID:evil"}), headers=admin)
        assert answer.status_code == 422, (field, repr(char))
        assert answer.json()["errors"][0]["field"] == field
    kept = create_series(client, admin, description="第一行\r\n第二行\r第三行\t缩进")
    assert kept["description"] == "第一行\n第二行\n第三行\t缩进"


def test_text_stored_before_the_check_reaches_no_calendar_with_its_control_characters(
    client: TestClient, admin: dict, db: Database
) -> None:
    made = create_series(client, admin, dtstart=f"{SOON}T14:00:00", rrule=None)
    with db.session() as session:
        session.execute(
            update(SeriesRow)
            .where(SeriesRow.id == uuid.UUID(made["id"]))
            .values(title="标题\x1b\u2028UID:evil", description="说明\x0bEND:VEVENT")
        )
    body = client.get("/calendars/all.ics").content.decode()
    assert "\x1b" not in body and "\u2028" not in body and "\x0b" not in body
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "标题UID:evil" and str(event["UID"]).startswith(made["id"])


def test_line_breaks_and_control_characters_in_the_session_form_are_field_errors(
    client: TestClient, db: Database
) -> None:
    made = create_series(client, make_key(db), dtstart=f"{SOON}T14:00:00", rrule="FREQ=WEEKLY;COUNT=3")
    browser = signed_in(client, db, "admin")
    stamp = client.get(f"/api/v1/series/{made['id']}/occurrences").json()[0]["recurrence_id"]
    path = f"/console/series/{made['id']}/occurrences/{recurrence_stamp(datetime.fromisoformat(stamp))}"
    for venue, agenda, message in (
        ("三号厅\r\n四号厅", "", "只能填写一行，不能换行。"),
        ("三号厅", "议程\x00", "不能包含控制字符"),
        ("三号\x1b厅", "", "不能包含控制字符"),
    ):
        page = browser.get(path).text
        answer = browser.post(
            path, data={"csrf": csrf_of(page), "action": "details", "venue": venue, "agenda": agenda}
        )
        assert answer.status_code == 422 and message in answer.text, (venue, agenda)
