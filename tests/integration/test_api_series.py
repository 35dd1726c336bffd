"""/api/v1/series on SQLite and PostgreSQL: what staff define is what the API expands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from scheduler.db.session import Database
from tests.support.api import create_series, series_body
from tests.support.oracle import expected_starts
from tests.support.services import make_key


def test_created_series_is_stored_with_defaults_and_normalized_rule(client: TestClient, admin: dict) -> None:
    created = create_series(client, admin, rrule="freq=monthly;byday=2TH;until=20271231")
    assert created["uid"] == f"{created['id']}@exsched.test"
    assert created["rrule"] == "FREQ=MONTHLY;UNTIL=20271231T155959Z;BYDAY=2TH"
    assert created["notices"] == {
        "invite_before": "P14D",
        "reminders": ["P1D", "PT2H"],
        "followup_after": "P1D",
    }
    assert created["sequence"] == 0 and created["status"] == "active"
    fetched = client.get(f"/api/v1/series/{created['id']}").json()
    assert fetched == created


# (rule, dtstart, zone, exdates, rdates, skip, window)
TABLE = [
    ("FREQ=WEEKLY;BYDAY=TH;COUNT=10", "2026-12-03T14:00:00", "Asia/Shanghai", [], [], "none", None),
    (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        "2026-01-08T14:00:00",
        "Asia/Shanghai",
        [],
        [],
        "none",
        ("2026-01-01", "2027-01-01"),
    ),
    (
        "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1",
        "2026-01-29T09:30:00",
        "Asia/Shanghai",
        [],
        [],
        "none",
        ("2026-01-01", "2027-07-01"),
    ),
    (
        "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        "2026-06-02T09:00:00",
        "Asia/Shanghai",
        ["2026-06-16T09:00:00"],
        ["2026-06-20T10:00:00"],
        "none",
        None,
    ),
    ("FREQ=DAILY;UNTIL=20260120T110000Z", "2026-01-05T19:00:00", "Asia/Shanghai", [], [], "none", None),
    (
        "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261130T000000Z",
        "2026-03-05T18:00:00",
        "Europe/Berlin",
        [],
        [],
        "none",
        None,
    ),
    ("FREQ=WEEKLY;BYDAY=SA;COUNT=8", "2026-09-05T10:00:00", "Asia/Shanghai", [], [], "cn-statutory", None),
    (
        "FREQ=WEEKLY;BYDAY=SU;COUNT=8",
        "2026-09-06T10:00:00",
        "Asia/Shanghai",
        [],
        [],
        "cn-statutory-shift",
        None,
    ),
]


@pytest.mark.parametrize(("rule", "dtstart", "zone", "exdates", "rdates", "skip", "window"), TABLE)
def test_occurrences_equal_an_independent_expansion(
    client: TestClient, admin: dict, rule, dtstart, zone, exdates, rdates, skip, window
) -> None:
    created = create_series(
        client,
        admin,
        rrule=rule,
        dtstart=dtstart,
        timezone=zone,
        exdates=exdates,
        rdates=rdates,
        skip_holidays=skip,
    )
    query = {"start": window[0], "end": window[1]} if window else {}
    response = client.get(f"/api/v1/series/{created['id']}/occurrences", params=query)
    assert response.status_code == 200, response.text
    got = [
        (datetime.fromisoformat(o["recurrence_id"]), datetime.fromisoformat(o["start"]).astimezone(UTC))
        for o in response.json()
    ]
    until = datetime.fromisoformat(window[1]) if window else None
    expected = expected_starts(
        dtstart=datetime.fromisoformat(dtstart),
        timezone=zone,
        rrule=rule,
        exdates=[datetime.fromisoformat(d) for d in exdates],
        rdates=[datetime.fromisoformat(d) for d in rdates],
        skip=skip,
        until=until,
    )
    assert got == expected
    for occ in response.json():
        assert occ["uid"].startswith(created["id"] + "-") and occ["uid"].endswith("Z@exsched.test")
        assert datetime.fromisoformat(occ["end"]) - datetime.fromisoformat(occ["start"]) == timedelta(hours=2)
        assert occ["start"].endswith(("+08:00", "+01:00", "+02:00"))


def test_listing_an_endless_series_without_a_window_is_refused(client: TestClient, admin: dict) -> None:
    created = create_series(client, admin, rrule="FREQ=WEEKLY;BYDAY=TH")
    response = client.get(f"/api/v1/series/{created['id']}/occurrences")
    assert response.status_code == 422
    assert "no end" in response.json()["detail"]


def test_extreme_windows_are_clamped_not_crashed(client: TestClient, admin: dict) -> None:
    created = create_series(client, admin)
    for query in (
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"start": "0001-01-01"},
        {"end": "9999-12-31"},
    ):
        response = client.get(f"/api/v1/series/{created['id']}/occurrences", params=query)
        assert response.status_code == 200 and len(response.json()) == 12


def test_national_day_occurrences_are_shifted_and_named(client: TestClient, admin: dict) -> None:
    created = create_series(
        client,
        admin,
        rrule="FREQ=MONTHLY;BYMONTHDAY=1;COUNT=3",
        dtstart="2026-09-01T14:00:00",
        skip_holidays="cn-statutory-shift",
    )
    occ = client.get(f"/api/v1/series/{created['id']}/occurrences").json()
    october = occ[1]
    assert october["recurrence_id"] == "2026-10-01T06:00:00Z"
    assert october["start"] == "2026-10-08T14:00:00+08:00"
    assert october["holiday"] == "National Day"
    assert [o["provisional"] for o in occ] == [False, False, False]


def test_sessions_in_a_year_without_official_holidays_are_provisional(
    client: TestClient, admin: dict
) -> None:
    created = create_series(
        client,
        admin,
        rrule="FREQ=MONTHLY;BYMONTHDAY=1;COUNT=3",
        dtstart="2026-12-01T14:00:00",
        skip_holidays="cn-statutory",
    )
    occ = client.get(f"/api/v1/series/{created['id']}/occurrences").json()
    assert [(o["start"][:10], o["provisional"]) for o in occ] == [
        ("2026-12-01", False),
        ("2027-01-01", True),
        ("2027-02-01", True),
    ]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "unknown weekday 'XX'"),
        ({"rrule": "FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000Z"}, "rrule", "COUNT and UNTIL"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=WE"}, "dtstart", "not a session of the rule"),
        (
            {"timezone": "Europe/Berlin", "dtstart": "2027-03-28T02:30:00", "rrule": None},
            "dtstart",
            "does not exist",
        ),
        ({"timezone": "Nowhere/City"}, "timezone", "unknown time zone"),
        ({"duration": "P1M"}, "duration", "no fixed length"),
        ({"duration": "two hours"}, "duration", "invalid ISO 8601 duration"),
        ({"kind": "party"}, "kind", "project-docking"),
        ({"chapter": "hangzhou"}, "chapter", "ningbo"),
        ({"title": ""}, "title", "at least 1"),
        ({"title": "a\r\nBcc: x@example.com"}, "title", "single line"),
        ({"organizer_email": "not-an-email"}, "organizer_email", "email"),
        ({"notices": {"reminders": ["PT2H", "PT2H"]}}, "notices", "must not repeat"),
        ({"unknown_field": 1}, "unknown_field", "Extra inputs are not permitted"),
        ({"exdates": ["2026-12-11T14:00:00"]}, "exdates[0]", "removes nothing"),
        ({"dtstart": "9999-12-31T23:00:00", "rrule": None}, "dtstart", "outside the supported years"),
        (
            {"dtstart": "0001-01-01T00:00:00", "timezone": "America/New_York"},
            "dtstart",
            "outside the supported",
        ),
        ({"duration": "PT99999999999999999999S"}, "duration", "too long"),
        (
            {"rrule": "FREQ=DAILY;UNTIL=99991231T000000Z", "dtstart": "2026-12-10T14:00:00"},
            "rrule",
            "more than 5000",
        ),
    ],
)
def test_bad_series_get_422_naming_field_and_reason(
    client: TestClient, admin: dict, change: dict, field: str, reason: str
) -> None:
    response = client.post("/api/v1/series", json=series_body(**change), headers=admin)
    assert response.status_code == 422, response.text
    body = response.json()
    assert reason in body["detail"]
    assert any(e["field"] is not None and e["field"].startswith(field) for e in body["errors"]), body


@pytest.mark.parametrize("payload", ["{", "[]", "null", '"x"', '{"kind": 5}'])
def test_malformed_bodies_get_4xx_not_500(client: TestClient, admin: dict, payload: str) -> None:
    response = client.post(
        "/api/v1/series", content=payload, headers={**admin, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_patching_calendar_fields_raises_sequence_and_revalidates(client: TestClient, admin: dict) -> None:
    created = create_series(client, admin)
    url = f"/api/v1/series/{created['id']}"
    moved = client.patch(url, json={"venue": "宁波 新会场"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["sequence"] == 1
    same = client.patch(url, json={"capacity": 50}, headers=admin)
    assert same.json()["sequence"] == 1 and same.json()["capacity"] == 50
    bad = client.patch(url, json={"rrule": "FREQ=WEEKLY;BYDAY=MO"}, headers=admin)
    assert bad.status_code == 422 and "not a session of the rule" in bad.json()["detail"]
    null = client.patch(url, json={"title": None}, headers=admin)
    assert null.status_code == 422 and "title cannot be null" in null.json()["detail"]
    assert client.get(url).json()["rrule"] == created["rrule"]


def test_filters_by_chapter_and_kind(client: TestClient, admin: dict) -> None:
    create_series(client, admin)
    create_series(client, admin, chapter="yiwu", kind="project-docking")
    assert [s["chapter"] for s in client.get("/api/v1/series", params={"chapter": "yiwu"}).json()] == ["yiwu"]
    assert [s["kind"] for s in client.get("/api/v1/series", params={"kind": "tech-exchange"}).json()] == [
        "tech-exchange"
    ]
    assert client.get("/api/v1/series", params={"chapter": "mars"}).status_code == 422


class TestOccurrencePatch:
    def test_moving_one_occurrence_raises_its_sequence_and_keeps_uid(
        self, client: TestClient, admin: dict
    ) -> None:
        created = create_series(client, admin)
        base = f"/api/v1/series/{created['id']}/occurrences"
        before = client.get(base).json()[1]
        response = client.patch(
            f"{base}/20270114T060000Z", json={"start": "2027-01-15T10:00:00"}, headers=admin
        )
        assert response.status_code == 200, response.text
        moved = response.json()
        assert moved["uid"] == before["uid"]
        assert moved["status"] == "moved"
        assert moved["start"] == "2027-01-15T10:00:00+08:00" and moved["end"] == "2027-01-15T12:00:00+08:00"
        assert moved["sequence"] == before["sequence"] + 1
        listed = client.get(base).json()
        assert [o["start"] for o in listed] == sorted(o["start"] for o in listed)

    def test_cancel_then_restore_each_raise_sequence(self, client: TestClient, admin: dict) -> None:
        created = create_series(client, admin)
        url = f"/api/v1/series/{created['id']}/occurrences/2026-12-10T06:00:00Z"
        cancelled = client.patch(url, json={"status": "cancelled"}, headers=admin).json()
        assert (cancelled["status"], cancelled["sequence"]) == ("cancelled", 1)
        again = client.patch(url, json={"status": "cancelled"}, headers=admin).json()
        assert again["sequence"] == 1  # nothing changed, nothing to tell calendars
        restored = client.patch(
            url, json={"status": "scheduled", "agenda": "议程：面料新品发布"}, headers=admin
        ).json()
        assert (restored["status"], restored["sequence"], restored["agenda"]) == (
            "scheduled",
            2,
            "议程：面料新品发布",
        )

    def test_venue_of_one_occurrence_overrides_the_series_venue(
        self, client: TestClient, admin: dict
    ) -> None:
        created = create_series(client, admin)
        url = f"/api/v1/series/{created['id']}/occurrences/20261210T060000Z"
        assert (
            client.patch(url, json={"venue": "线上 腾讯会议"}, headers=admin).json()["venue"]
            == "线上 腾讯会议"
        )
        listed = client.get(f"/api/v1/series/{created['id']}/occurrences").json()
        assert [o["venue"] for o in listed[:2]] == ["线上 腾讯会议", created["venue"]]

    @pytest.mark.parametrize(
        ("rid", "body", "status", "reason"),
        [
            ("20261211T060000Z", {"status": "cancelled"}, 404, "has no occurrence"),
            ("yesterday", {"status": "cancelled"}, 422, "invalid recurrence id"),
            ("20261210T060000Z", {}, 422, "at least one"),
            ("20261210T060000Z", {"status": "maybe"}, 422, "status"),
            (
                "20261210T060000Z",
                {"start": "2026-12-10T10:00:00+08:00", "end": "2026-12-10T09:00:00+08:00"},
                422,
                "end must be after start",
            ),
            ("20261210T060000Z", {"end": "2026-12-10T13:00:00+08:00"}, 422, "end must be after"),
        ],
    )
    def test_bad_occurrence_changes_are_refused(
        self, client: TestClient, admin: dict, rid: str, body: dict, status: int, reason: str
    ) -> None:
        created = create_series(client, admin)
        response = client.patch(f"/api/v1/series/{created['id']}/occurrences/{rid}", json=body, headers=admin)
        assert response.status_code == status, response.text
        assert reason in response.json()["detail"]


def test_delete_cancels_future_sessions_and_keeps_the_series_readable(
    client: TestClient, admin: dict
) -> None:
    created = create_series(
        client, admin, dtstart="2030-01-10T14:00:00", rrule="FREQ=MONTHLY;BYDAY=2TH;COUNT=3"
    )
    url = f"/api/v1/series/{created['id']}"
    assert client.delete(url, headers=admin).status_code == 204
    assert client.delete(url, headers=admin).status_code == 204
    series = client.get(url).json()
    assert series["status"] == "cancelled" and series["sequence"] == 1
    assert {o["status"] for o in client.get(url + "/occurrences").json()} == {"cancelled"}
    assert created["id"] not in [s["id"] for s in client.get("/api/v1/series").json()]
    assert created["id"] in [s["id"] for s in client.get("/api/v1/series?include_cancelled=true").json()]
    assert client.patch(url, json={"title": "x"}, headers=admin).status_code == 409


class TestAuthorization:
    def test_writes_need_a_key(self, client: TestClient) -> None:
        response = client.post("/api/v1/series", json=series_body())
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert (
            client.post(
                "/api/v1/series", json=series_body(), headers={"Authorization": "Bearer nope"}
            ).status_code
            == 401
        )
        assert (
            client.post(
                "/api/v1/series", json=series_body(), headers={"Authorization": "Basic abc"}
            ).status_code
            == 401
        )

    def test_chapter_key_writes_only_its_chapter(self, client: TestClient, db: Database, admin: dict) -> None:
        ningbo = make_key(db, "chapter", "ningbo")
        own = client.post("/api/v1/series", json=series_body(), headers=ningbo)
        assert own.status_code == 201
        other = client.post("/api/v1/series", json=series_body(chapter="yiwu"), headers=ningbo)
        assert other.status_code == 403 and "chapter 'yiwu'" in other.json()["detail"]
        yiwu_series = create_series(client, admin, chapter="yiwu")
        url = f"/api/v1/series/{yiwu_series['id']}"
        assert client.patch(url, json={"title": "改"}, headers=ningbo).status_code == 403
        assert client.delete(url, headers=ningbo).status_code == 403
        assert (
            client.patch(
                f"{url}/occurrences/20261210T060000Z", json={"status": "cancelled"}, headers=ningbo
            ).status_code
            == 403
        )
        steal = client.patch(f"/api/v1/series/{own.json()['id']}", json={"chapter": "yiwu"}, headers=ningbo)
        assert steal.status_code == 403
        assert client.get(url).json()["sequence"] == 0

    def test_revoked_key_is_refused(self, client: TestClient, db: Database) -> None:
        from sqlalchemy import update

        from scheduler.db.models import ApiKeyRow

        headers = make_key(db)
        assert client.post("/api/v1/series", json=series_body(), headers=headers).status_code == 201
        with db.session() as session:
            session.execute(update(ApiKeyRow).values(revoked_at=datetime.now(UTC)))
        assert client.post("/api/v1/series", json=series_body(), headers=headers).status_code == 401

    def test_keys_are_stored_hashed(self, db: Database) -> None:
        from sqlalchemy import select

        from scheduler.db.models import ApiKeyRow

        secret = make_key(db)["Authorization"].split()[1]
        with db.session() as session:
            stored = session.scalars(select(ApiKeyRow.key_hash)).all()
        assert secret not in stored and len(stored[0]) == 64


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/series/{series_id}/occurrences/{recurrence_id}" in spec["paths"]
    assert "/api/v1/members/{member_id}/subscriptions" in spec["paths"]
