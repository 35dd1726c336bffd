"""Who may read what: a private series is as invisible as a missing one to anyone but its own
chapter's staff and the province office, and a bad key is refused wherever it is presented."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices.planner import Planner
from tests.support.api import create_member, create_series
from tests.support.clock import Clock
from tests.support.services import PUBLIC_URL, make_key


@pytest.fixture
def private(client: TestClient, admin: dict) -> dict:
    return create_series(client, admin, private=True, title="宁波 · 内部对接会")


def reads_of(series_id: str) -> list[str]:
    return [
        f"/api/v1/series/{series_id}",
        f"/api/v1/series/{series_id}/occurrences",
        f"/calendars/series/{series_id}.ics",
    ]


def test_without_a_key_a_private_series_is_as_missing_as_one_that_never_was(
    client: TestClient, admin: dict, private: dict
) -> None:
    public = create_series(client, admin)
    listed = {s["id"] for s in client.get("/api/v1/series").json()}
    assert public["id"] in listed and private["id"] not in listed
    never = str(uuid.uuid4())
    for hidden, missing in zip(reads_of(private["id"]), reads_of(never), strict=True):
        answer, nothing = client.get(hidden), client.get(missing)
        assert (answer.status_code, nothing.status_code) == (404, 404), hidden
        assert answer.text.replace(private["id"], never) == nothing.text, hidden
        assert "宁波 · 内部对接会" not in answer.text


def test_its_own_chapter_and_the_province_office_read_it_other_chapters_do_not(
    client: TestClient, admin: dict, db: Database, private: dict
) -> None:
    ningbo, wenzhou = make_key(db, "chapter", "ningbo"), make_key(db, "chapter", "wenzhou")
    for headers in (admin, ningbo):
        assert private["id"] in {s["id"] for s in client.get("/api/v1/series", headers=headers).json()}
        for path in reads_of(private["id"]):
            assert client.get(path, headers=headers).status_code == 200, path
    assert private["id"] not in {s["id"] for s in client.get("/api/v1/series", headers=wenzhou).json()}
    for path in reads_of(private["id"]):
        assert client.get(path, headers=wenzhou).status_code == 404, path
    patched = client.patch(f"/api/v1/series/{private['id']}", json={"title": "x"}, headers=wenzhou)
    assert patched.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/series", "/api/v1/chapters", "/calendars/all.ics", "/calendars/chapters/ningbo.ics"]
)
def test_a_forged_or_revoked_key_is_refused_even_where_no_key_is_needed(
    client: TestClient, db: Database, path: str
) -> None:
    assert client.get(path).status_code == 200
    forged = {"Authorization": "Bearer exs_not-a-key-anyone-issued"}
    revoked = make_key(db, "chapter", "ningbo")
    secret = revoked["Authorization"].split()[1]
    from sqlalchemy import update

    from scheduler.db.models import ApiKeyRow
    from scheduler.domain.auth import hash_key

    with db.session() as session:
        session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.key_hash == hash_key(secret))
            .values(revoked_at=ApiKeyRow.created_at)
        )
    for headers in (forged, revoked, {"Authorization": "Basic Zm9vOmJhcg=="}):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, (path, headers)
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_private_series_reaches_only_members_subscribed_to_it_by_name(
    client: TestClient, admin: dict, db: Database, private: dict
) -> None:
    """Subscribing to a chapter or a kind never brings in a private series (its feed entries, its
    invitations); its own chapter's staff subscribe members to it one by one."""
    ningbo, wenzhou = make_key(db, "chapter", "ningbo"), make_key(db, "chapter", "wenzhou")
    public = create_series(client, admin, title="宁波 · 公开交流会")
    by_chapter = create_member(client, ningbo, email="a@x.example")
    by_kind = create_member(client, ningbo, email="b@x.example")
    by_name = create_member(client, ningbo, email="c@x.example")
    outsider = create_member(client, wenzhou, email="d@x.example", chapter="wenzhou")
    for member, target, key in (
        (by_chapter, {"chapter": "ningbo"}, ningbo),
        (by_kind, {"kind": "tech-exchange"}, ningbo),
        (by_name, {"series_id": private["id"]}, ningbo),
        (outsider, {"kind": "tech-exchange"}, wenzhou),
    ):
        made = client.post(f"/api/v1/members/{member['id']}/subscriptions", json=target, headers=key)
        assert made.status_code == 201, made.text
    refused = client.post(
        f"/api/v1/members/{outsider['id']}/subscriptions", json={"series_id": private["id"]}, headers=wenzhou
    )
    assert refused.status_code == 404
    Planner(db, ChineseStatutoryCalendar(), clock=Clock(datetime(2026, 12, 1, tzinfo=UTC))).plan_requested()
    with db.session() as session:
        told = set(
            session.scalars(
                select(NoticeRow.member_id).where(NoticeRow.series_id == uuid.UUID(private["id"])).distinct()
            )
        )
        told_public = set(
            session.scalars(
                select(NoticeRow.member_id).where(NoticeRow.series_id == uuid.UUID(public["id"])).distinct()
            )
        )
    assert told == {uuid.UUID(by_name["id"])}
    assert told_public == {uuid.UUID(m["id"]) for m in (by_chapter, by_kind, outsider)}
    for member in (by_chapter, by_kind, outsider):
        feed = client.get(member["feed_url"].removeprefix(PUBLIC_URL)).text
        assert "宁波 · 公开交流会" in feed and "宁波 · 内部对接会" not in feed
    assert "宁波 · 内部对接会" in client.get(by_name["feed_url"].removeprefix(PUBLIC_URL)).text


def test_a_series_made_private_is_withdrawn_from_chapter_and_kind_subscribers(
    client: TestClient, admin: dict, db: Database
) -> None:
    series = create_series(client, admin)
    member = create_member(client, admin, email="a@x.example")
    client.post(f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin)
    planner = Planner(db, ChineseStatutoryCalendar(), clock=Clock(datetime(2026, 12, 1, tzinfo=UTC)))
    planner.plan_requested()
    client.patch(f"/api/v1/series/{series['id']}", json={"private": True}, headers=admin)
    planner.plan_requested()
    with db.session() as session:
        rows = session.scalars(select(NoticeRow).where(NoticeRow.series_id == uuid.UUID(series["id"]))).all()
    assert rows and {(r.status, r.reason_code) for r in rows} == {("cancelled", "unsubscribed")}
