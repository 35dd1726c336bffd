"""The public sessions page and a page per session: every series shows its next session however
far off; each session has its own page (time with its zone, venue with a map link, agenda, a
calendar file, the way in); each feed is offered as webcal, as https and as a QR code of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi.testclient import TestClient

from scheduler.domain.checkin import qr_svg
from tests.integration.test_console import JARGON, visible_text
from tests.support.api import create_series

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_in(days: int, hour: int = 14) -> str:
    """A start ``days`` from now, on the hour, as the API takes it (Shanghai wall time)."""
    when = datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=days)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None).isoformat()


def session_links(page: str) -> list[str]:
    return re.findall(r'href="(/sessions/[0-9a-f-]{36}/\d{8}T\d{6}Z)"', page)


def test_a_series_far_off_still_shows_its_next_session_with_a_page(
    client: TestClient, admin: dict[str, str]
) -> None:
    near = create_series(
        client, admin, title="宁波 · 月度对接会", dtstart=local_in(5), rrule="FREQ=DAILY;COUNT=30"
    )
    far = create_series(
        client, admin, title="宁波 · 年度技术大会", dtstart=local_in(200), rrule=None, venue="宁波 南苑饭店"
    )
    home = client.get("/").text
    assert "宁波 · 年度技术大会" in home, "a session 200 days off is missing from the sessions page"
    assert "下一场" in home  # marked as past the page's two months
    links = session_links(home)
    assert any(far["id"] in link for link in links) and any(near["id"] in link for link in links)
    # The weekly series fills the chapter's twelve rows, yet the far series keeps its one.
    ningbo = home.split('id="ningbo"', 1)[1].split("<h2", 1)[0]
    assert ningbo.count("宁波 · 月度对接会") == 11 and ningbo.count("宁波 · 年度技术大会") == 1


def test_a_session_page_says_when_where_and_how_to_come(client: TestClient, admin: dict[str, str]) -> None:
    made = create_series(
        client,
        admin,
        title="宁波 · 数字化打样对接会",
        dtstart=local_in(9),
        duration="PT2H30M",
        rrule=None,
        venue="宁波国际会展中心 3号馆",
        description="面向中小服装企业",
    )
    [link] = [p for p in session_links(client.get("/").text) if made["id"] in p]
    stamp = link.rsplit("/", 1)[1]
    client.patch(
        f"/api/v1/series/{made['id']}/occurrences/{stamp}",
        json={"agenda": "14:00 开场\n14:30 企业路演"},
        headers=admin,
    ).raise_for_status()
    page = client.get(link)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "<h1>宁波 · 数字化打样对接会</h1>" in text
    assert "14:00–16:30" in text and "北京时间" in text and "Asia/Shanghai" not in text
    assert "宁波国际会展中心 3号馆" in text and "面向中小服装企业" in text and "14:30 企业路演" in text
    assert f'href="https://uri.amap.com/search?keyword={quote("宁波国际会展中心 3号馆", safe="")}"' in text
    assert 'href="/join/ningbo"' in text and 'href="/me"' in text
    english = client.get(link + "?lang=en").text
    assert "Where" in english and "Add to calendar" in english

    calendar = client.get(link + ".ics")
    assert calendar.status_code == 200 and calendar.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(calendar.content)
    assert parsed["METHOD"] == "PUBLISH"
    [event] = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == "宁波 · 数字化打样对接会"
    feed = icalendar.Calendar.from_ical(client.get("/calendars/chapters/ningbo.ics").content)
    [same] = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == "宁波 · 数字化打样对接会"]
    assert event["UID"] == same["UID"]  # the invitation's and the feed's: one event in a calendar
    assert event["DTSTART"].dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") == stamp
    assert str(event["LOCATION"]) == "宁波国际会展中心 3号馆"


def test_a_cancelled_session_says_why_and_offers_no_way_in(client: TestClient, admin: dict[str, str]) -> None:
    made = create_series(client, admin, title="宁波 · 面料对接会", dtstart=local_in(12), rrule=None)
    [link] = [p for p in session_links(client.get("/").text) if made["id"] in p]
    stamp = link.rsplit("/", 1)[1]
    client.patch(
        f"/api/v1/series/{made['id']}/occurrences/{stamp}",
        json={"status": "cancelled", "reason": "场地临时检修"},
        headers=admin,
    ).raise_for_status()
    text = client.get(link).text
    assert "本场已取消。" in text and "原因：场地临时检修" in text
    assert "加入日历" not in text and 'href="/join/ningbo"' not in text


@pytest.mark.parametrize("path", ["{id}/{stamp}", "{id}/{stamp}.ics"])
def test_private_unknown_and_malformed_sessions_have_no_page(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    hidden = create_series(
        client, admin, title="理事会内部会议", dtstart=local_in(3), rrule=None, private=True
    )
    shown = create_series(client, admin, title="宁波 · 公开会", dtstart=local_in(3), rrule=None)
    [link] = [p for p in session_links(client.get("/").text) if shown["id"] in p]
    stamp = link.rsplit("/", 1)[1]
    assert "理事会内部会议" not in client.get("/").text
    for series_id, when in (
        (hidden["id"], stamp),  # a private series: the same 404 as nothing at all
        ("00000000-0000-0000-0000-000000000000", stamp),
        (shown["id"], "20991231T000000Z"),  # no session then
        (shown["id"], "not-a-time"),
        ("not-a-uuid", stamp),
    ):
        answer = client.get("/sessions/" + path.format(id=series_id, stamp=when))
        assert answer.status_code == 404, (series_id, when)
    assert client.get("/sessions/" + path.format(id=shown["id"], stamp=stamp)).status_code == 200


def test_every_webcal_link_has_its_https_link_and_a_qr_code_of_it(client: TestClient) -> None:
    home = client.get("/").text
    webcals = re.findall(r'class="webcal" href="(webcal://[^"]+)"', home)
    https = re.findall(r'class="https-link" href="(https?://[^"]+)"', home)
    assert len(webcals) == 1 + 2 + 8  # every session, each kind, each chapter
    assert [w.split("://", 1)[1] for w in webcals] == [h.split("://", 1)[1] for h in https]
    for url in https:
        assert qr_svg(url, 4) in home, f"no QR code of {url}"
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        assert client.get(path).status_code == 200, path


def test_the_chinese_public_pages_show_no_rule_code_zone_id_or_english(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = create_series(
        client, admin, title="宁波 · 面料对接会", dtstart=local_in(4), rrule="FREQ=WEEKLY;COUNT=3"
    )
    home = client.get("/").text
    [link, *_] = [p for p in session_links(home) if made["id"] in p]
    found = {}
    for path, text in (("/", home), (link, client.get(link).text)):
        shown = visible_text(text)
        for what, pattern in JARGON.items():
            if match := pattern.search(shown):
                found[(path, what)] = shown[max(0, match.start() - 30) : match.end() + 30]
    assert found == {}, found
