"""Calendar feeds on SQLite and PostgreSQL: what calendar clients subscribe to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import recurring_ical_events
from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.support.api import create_member, create_series

SOON = datetime.now(UTC).date() + timedelta(days=7)


def weekly(client: TestClient, admin: dict, **overrides: Any) -> dict:
    first = SOON + timedelta(days=(3 - SOON.weekday()) % 7)  # the next Thursday from a week on
    body = {"dtstart": f"{first.isoformat()}T14:00:00", "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=6"} | overrides
    return create_series(client, admin, **body)


def feed_path(member: dict) -> str:
    return member["feed_url"].removeprefix("https://exsched.test")


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def occurrences_of(client: TestClient, series: dict) -> list[dict]:
    return client.get(f"/api/v1/series/{series['id']}/occurrences").json()


def test_member_feed_expands_to_exactly_the_apis_occurrences(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    client.post(f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin)
    series = weekly(client, admin)
    other = weekly(client, admin, chapter="yiwu", title="义乌 · 不订阅")
    rid = occurrences_of(client, series)[1]["recurrence_id"].replace("-", "").replace(":", "")
    url = f"/api/v1/series/{series['id']}/occurrences/{rid}"
    client.patch(
        url, json={"start": occurrences_of(client, series)[1]["start"][:10] + "T16:30:00"}, headers=admin
    )
    third = occurrences_of(client, series)[2]["recurrence_id"].replace("-", "").replace(":", "")
    client.patch(
        f"/api/v1/series/{series['id']}/occurrences/{third}", json={"status": "cancelled"}, headers=admin
    )

    response = client.get(feed_path(member))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.content)
    assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"]) == "浙江服装 · 我的交流会"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert calendar["X-WR-TIMEZONE"] == "Asia/Shanghai" and "X-PUBLISHED-TTL" in calendar
    expanded = recurring_ical_events.of(calendar).between(datetime(2000, 1, 1), datetime(2100, 1, 1))
    got = sorted(
        (str(e["UID"]), e.decoded("DTSTART"), e.decoded("DTEND"), str(e["STATUS"]), int(e["SEQUENCE"]))
        for e in expanded
    )
    expected = sorted(
        (
            o["uid"],
            datetime.fromisoformat(o["start"]),
            datetime.fromisoformat(o["end"]),
            "CANCELLED" if o["status"] == "cancelled" else "CONFIRMED",
            o["sequence"],
        )
        for o in occurrences_of(client, series)
    )
    assert got == expected
    assert other["id"] not in response.text
    for event in calendar.walk("VEVENT"):
        assert "ATTENDEE" not in event and str(event["ORGANIZER"]) == "mailto:ningbo@assoc.example"
        assert event["DTSTAMP"] and event["URL"] and event["CATEGORIES"]
        assert str(event["SUMMARY"]) == series["title"]  # Chinese text survives folding intact
        assert str(event["LOCATION"]) in (series["venue"], "宁波国际会展中心 3号会议室")
    used = {e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT")}
    assert {tz["TZID"] for tz in calendar.walk("VTIMEZONE")} == used == {"Asia/Shanghai"}
    raw = response.content
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75


def test_unchanged_feed_answers_304_and_a_change_gives_a_new_etag(client: TestClient, admin: dict) -> None:
    series = weekly(client, admin)
    first = client.get("/calendars/chapters/ningbo.ics")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and first.headers["cache-control"] == "public, max-age=300"
    again = client.get("/calendars/chapters/ningbo.ics")
    assert again.content == first.content and again.headers["etag"] == etag
    not_modified = client.get("/calendars/chapters/ningbo.ics", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert (
        client.get("/calendars/chapters/ningbo.ics", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    assert (
        client.get("/calendars/chapters/ningbo.ics", headers={"If-None-Match": '"other"'}).status_code == 200
    )
    client.patch(f"/api/v1/series/{series['id']}", json={"venue": "线上"}, headers=admin)
    changed = client.get("/calendars/chapters/ningbo.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag and "线上" in changed.text


def test_feeds_are_rendered_once_per_change(client: TestClient, admin: dict) -> None:
    feeds = client.app.state.feeds  # type: ignore[attr-defined]
    renders: list[str] = []
    original = feeds._render

    def counting(*args: Any, **kwargs: Any) -> Any:
        renders.append("x")
        return original(*args, **kwargs)

    feeds._render = counting
    series = weekly(client, admin)
    answered = {source: feed_answers(source) for source in ("render", "cache", "memory")}
    for _ in range(5):
        client.get("/calendars/all.ics")
    assert len(renders) == 1
    # what the dashboard shows: one render, four answered without one (from memory on PostgreSQL)
    counted = {source: feed_answers(source) - n for source, n in answered.items()}
    assert counted["render"] == 1 and counted["cache"] + counted["memory"] == 4
    client.patch(f"/api/v1/series/{series['id']}", json={"title": "新标题"}, headers=admin)
    client.get("/calendars/all.ics")
    assert len(renders) == 2


def test_the_feed_cache_is_bounded_by_bytes_not_entries(client: TestClient, admin: dict) -> None:
    """Rendered feeds are kept up to a number of bytes (EXSCHED_FEED_CACHE_MB): a few large feeds
    cannot take the API's memory, whatever the number of entries."""
    feeds = client.app.state.feeds  # type: ignore[attr-defined]
    weekly(client, admin)
    one = len(client.get("/calendars/all.ics").content)
    feeds.max_bytes = int(one * 1.5)
    feeds._cache.clear()
    feeds._bytes = 0
    for path in (
        "/calendars/all.ics",
        "/calendars/chapters/ningbo.ics",
        "/calendars/kinds/tech-exchange.ics",
    ):
        assert client.get(path).status_code == 200
        assert feeds.cached_bytes <= feeds.max_bytes
    assert list(feeds._cache) == ["public:None:tech-exchange:False"]  # the newest; the others dropped
    before = feeds.renders
    evicted = feed_evictions()
    client.get("/calendars/all.ics")
    assert feeds.renders == before + 1  # rendered again, having been dropped
    assert feed_evictions() == evicted + 1  # and counted: the feed-cache alert's signal


def feed_answers(source: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("exsched_feed_answers_total", {"source": source}) or 0.0


def feed_evictions() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("exsched_feed_evictions_total") or 0.0


def test_each_event_is_rendered_once_and_shared_by_the_feeds_that_hold_it(
    client: TestClient, admin: dict
) -> None:
    feeds = client.app.state.feeds  # type: ignore[attr-defined]
    series = weekly(client, admin)
    everything = client.get("/calendars/all.ics").content
    sessions = everything.count(b"BEGIN:VEVENT")
    assert sessions > 5 and feeds.events_rendered == sessions
    ningbo = client.get("/calendars/chapters/ningbo.ics").content  # another feed, the same sessions
    assert feeds.events_rendered == sessions
    assert vevents(ningbo) == vevents(everything)  # the same bytes for the same event
    first = occurrences_of(client, series)[0]["recurrence_id"]
    stamp = first.replace("-", "").replace(":", "").replace("+0000", "Z").replace("+00:00", "Z")
    moved = client.patch(
        f"/api/v1/series/{series['id']}/occurrences/{stamp}", json={"venue": "宁波 · 线上"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    changed = client.get("/calendars/all.ics").content
    assert feeds.events_rendered == sessions + 1  # only the session that changed
    assert "宁波 · 线上" in changed.decode() and vevents(changed)[1:] == vevents(everything)[1:]
    assert parse(changed).walk("VEVENT")[0]["LOCATION"] == "宁波 · 线上"
    feeds.max_event_bytes = len(vevents(everything)[0]) * 3
    client.patch(f"/api/v1/series/{series['id']}", json={"title": "新标题"}, headers=admin)
    assert b"SUMMARY:\xe6\x96\xb0" in client.get("/calendars/all.ics").content.replace(b"\r\n ", b"")
    assert feeds.cached_event_bytes <= feeds.max_event_bytes  # bounded, the oldest dropped


def vevents(body: bytes) -> list[bytes]:
    return [b"BEGIN:VEVENT" + part.split(b"END:VEVENT")[0] for part in body.split(b"BEGIN:VEVENT")[1:]]


def test_unknown_and_rotated_tokens_get_the_same_404(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    old = feed_path(member)
    assert client.get(old).status_code == 200
    rotated = client.post(f"/api/v1/members/{member['id']}/feed-token", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["feed_url"] != member["feed_url"]
    gone = client.get(old)
    unknown = client.get("/calendars/" + "A" * 43 + ".ics")
    assert gone.status_code == unknown.status_code == 404
    assert gone.content == unknown.content and gone.headers["content-type"] == unknown.headers["content-type"]
    assert client.get(feed_path(rotated.json())).status_code == 200
    assert client.post(f"/api/v1/members/{member['id']}/feed-token").status_code == 401


def test_public_feeds_select_by_chapter_and_kind_and_leave_out_private_series(
    client: TestClient, admin: dict
) -> None:
    ningbo = weekly(client, admin)
    docking = weekly(client, admin, kind="project-docking", title="宁波 · 对接")
    hidden = weekly(client, admin, private=True, title="宁波 · 内部")
    yiwu = weekly(client, admin, chapter="yiwu", title="义乌 · 交流")
    uids = {
        path: {
            str(e["UID"]).split("@")[0].rsplit("-", 1)[0]
            for e in parse(client.get(path).content).walk("VEVENT")
        }
        for path in (
            "/calendars/chapters/ningbo.ics",
            "/calendars/kinds/tech-exchange.ics",
            "/calendars/all.ics",
            "/calendars/chapters/ningbo.ics?kind=project-docking",
        )
    }
    ids = lambda *rows: {r["id"] for r in rows}  # noqa: E731
    assert uids["/calendars/chapters/ningbo.ics"] == ids(ningbo, docking)
    assert uids["/calendars/kinds/tech-exchange.ics"] == ids(ningbo, yiwu)
    assert uids["/calendars/all.ics"] == ids(ningbo, docking, yiwu)
    assert uids["/calendars/chapters/ningbo.ics?kind=project-docking"] == ids(docking)
    assert hidden["private"] is True
    name = parse(client.get("/calendars/chapters/ningbo.ics?kind=tech-exchange").content)["X-WR-CALNAME"]
    assert str(name) == "浙江服装 · 宁波 · 技术交流会"
    assert client.get("/calendars/chapters/mars.ics").status_code == 422


def test_member_feed_keeps_private_series_they_follow_and_can_carry_alarms(
    client: TestClient, admin: dict
) -> None:
    member = create_member(client, admin, locale="en")
    hidden = weekly(client, admin, private=True)
    client.post(
        f"/api/v1/members/{member['id']}/subscriptions", json={"series_id": hidden["id"]}, headers=admin
    )
    calendar = parse(client.get(feed_path(member) + "?alarm=1").content)
    assert str(calendar["X-WR-CALNAME"]) == "Zhejiang garment · my sessions"
    events = calendar.walk("VEVENT")
    assert len(events) == 6
    alarms = [a for e in events for a in e.walk("VALARM")]
    assert len(alarms) == 6 and all(a.decoded("TRIGGER") == -timedelta(days=1) for a in alarms)
    assert not parse(client.get(feed_path(member)).content).walk("VALARM")


@pytest.mark.parametrize("path", ["/calendars/all.ics", "/calendars/chapters/ningbo.ics"])
def test_an_empty_feed_is_still_a_valid_calendar(client: TestClient, path: str) -> None:
    calendar = parse(client.get(path).content)
    assert calendar["METHOD"] == "PUBLISH" and calendar.walk("VEVENT") == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=6"},
        {
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=6",
            "dtstart": "2026-09-01T14:00:00",
            "skip_holidays": "cn-statutory-shift",
        },
        {
            "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=8",
            "dtstart": "2026-09-05T10:00:00",
            "skip_holidays": "cn-statutory",
        },
        {
            "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=6",
            "dtstart": "2026-06-02T09:00:00",
            "exdates": ["2026-06-16T09:00:00"],
            "rdates": ["2026-06-20T10:00:00"],
        },
    ],
)
def test_series_file_in_rrule_form_expands_like_the_per_occurrence_feed(
    client: TestClient, admin: dict, overrides: dict
) -> None:
    series = weekly(client, admin, **overrides)
    listed = occurrences_of(client, series)
    moved = listed[1]["recurrence_id"].replace("-", "").replace(":", "")
    client.patch(
        f"/api/v1/series/{series['id']}/occurrences/{moved}",
        json={"start": listed[1]["start"][:10] + "T08:15:00", "venue": "线上"},
        headers=admin,
    )
    cancelled = listed[-1]["recurrence_id"].replace("-", "").replace(":", "")
    client.patch(
        f"/api/v1/series/{series['id']}/occurrences/{cancelled}", json={"status": "cancelled"}, headers=admin
    )
    response = client.get(f"/calendars/series/{series['id']}.ics")
    assert response.status_code == 200
    calendar = parse(response.content)
    masters = [e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert len(masters) == 1 and "RRULE" in masters[0]
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == {series["uid"]}
    assert not calendar.get_missing_tzids()
    expanded = recurring_ical_events.of(calendar).between(datetime(2000, 1, 1), datetime(2100, 1, 1))
    got = sorted(
        (e.decoded("DTSTART"), e.decoded("DTEND"), str(e.get("STATUS", "CONFIRMED"))) for e in expanded
    )
    expected = sorted(
        (
            datetime.fromisoformat(o["start"]),
            datetime.fromisoformat(o["end"]),
            "CANCELLED" if o["status"] == "cancelled" else "CONFIRMED",
        )
        for o in occurrences_of(client, series)
    )
    assert got == expected


def test_calendar_names_are_escaped_text_and_the_ttl_is_a_duration(client: TestClient, admin: dict) -> None:
    series = weekly(client, admin, title="宁波, 嘉兴; 技术\\交流会")
    raw = client.get(f"/calendars/series/{series['id']}.ics").content
    lines = raw.decode().split("\r\n")
    assert "NAME:宁波\\, 嘉兴\\; 技术\\\\交流会" in lines
    assert "X-WR-CALNAME:宁波\\, 嘉兴\\; 技术\\\\交流会" in lines
    import vobject

    assert vobject.readOne(raw.decode()).x_wr_calname.value == "宁波, 嘉兴; 技术\\交流会"
    feed = client.get("/calendars/chapters/ningbo.ics").content.decode().split("\r\n")
    assert "X-PUBLISHED-TTL:PT1H" in feed and "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in feed


@pytest.mark.parametrize(
    "rule",
    ["FREQ=WEEKLY;BYDAY=TH;UNTIL=20270531", "FREQ=WEEKLY;BYDAY=TH"],
    ids=["bounded-jan-may", "endless"],
)
def test_a_series_file_places_every_session_right_in_clients_that_read_its_vtimezone(
    client: TestClient, admin: dict, rule: str
) -> None:
    """vobject, like libical, Radicale and Outlook, takes TZID times from the file's VTIMEZONE."""
    import vobject

    series = create_series(
        client,
        admin,
        timezone="Europe/Berlin",
        dtstart="2027-01-07T18:00:00",
        rrule=rule,
        skip_holidays="none",
    )
    raw = client.get(f"/calendars/series/{series['id']}.ics").content.decode()
    api = client.get(
        f"/api/v1/series/{series['id']}/occurrences", params={"start": "2027-01-01", "end": "2028-03-01"}
    ).json()
    assert len(api) >= 21
    expected = [datetime.fromisoformat(o["start"]).astimezone(UTC) for o in api]
    [master] = [e for e in vobject.readOne(raw).vevent_list if not hasattr(e, "recurrence_id")]
    placed = [
        s.astimezone(UTC)
        for s in master.getrruleset(addRDate=True).between(
            datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC), inc=True
        )
    ]
    assert placed == expected
    daylight = raw.split("BEGIN:DAYLIGHT", 1)[1].split("END:DAYLIGHT", 1)[0]
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in daylight and "T020000\r\n" in daylight
