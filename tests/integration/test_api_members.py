"""/api/v1/members and subscriptions on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from scheduler.db.session import Database
from tests.support.api import create_member, create_series, member_body
from tests.support.services import make_key


def test_member_gets_an_unguessable_feed_url_and_defaults(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    assert member["email"] == "chen.jing@lihua.example"
    assert (member["locale"], member["timezone"]) == ("zh-CN", "Asia/Shanghai")
    token = member["feed_url"].removeprefix("https://exsched.test/calendars/").removesuffix(".ics")
    assert len(token) >= 43 and member["id"] not in token  # ≥ 256 bits, no member id in it
    assert member["webcal_url"] == "webcal://exsched.test/calendars/" + token + ".ics"
    other = create_member(client, admin, email="wang@yiwu.example")
    assert other["feed_url"] != member["feed_url"]


def test_get_patch_delete_member(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    url = f"/api/v1/members/{member['id']}"
    assert client.get(url, headers=admin).json() == member
    patched = client.patch(url, json={"locale": "en", "timezone": "Europe/Rome"}, headers=admin)
    assert patched.status_code == 200
    assert (patched.json()["locale"], patched.json()["timezone"]) == ("en", "Europe/Rome")
    assert patched.json()["feed_url"] == member["feed_url"]
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"locale": "fr"}, "locale"),
        ({"timezone": "Moon/Base"}, "timezone"),
        ({"chapter": "beijing"}, "chapter"),
        ({"name": ""}, "name"),
        ({"name": "x\nBcc: y@z.example"}, "name"),
    ],
)
def test_bad_members_get_422_naming_the_field(
    client: TestClient, admin: dict, change: dict, field: str
) -> None:
    response = client.post("/api/v1/members", json=member_body(**change), headers=admin)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_duplicate_email_is_a_conflict(client: TestClient, admin: dict) -> None:
    first = create_member(client, admin)
    response = client.post(
        "/api/v1/members", json=member_body(email="CHEN.jing@lihua.example"), headers=admin
    )
    assert response.status_code == 409 and first["id"] in response.json()["detail"]
    other = create_member(client, admin, email="li@oujia.example")
    clash = client.patch(f"/api/v1/members/{other['id']}", json={"email": first["email"]}, headers=admin)
    assert clash.status_code == 409


def test_a_duplicate_email_does_not_tell_another_chapter_who_has_it(
    client: TestClient, admin: dict, db: Database
) -> None:
    wenzhou = create_member(client, admin, chapter="wenzhou")
    ningbo_key = make_key(db, "chapter", "ningbo")
    for answer in (
        client.post("/api/v1/members", json=member_body(email=wenzhou["email"]), headers=ningbo_key),
        client.patch(
            f"/api/v1/members/{create_member(client, ningbo_key, email='li@oujia.example')['id']}",
            json={"email": wenzhou["email"]},
            headers=ningbo_key,
        ),
    ):
        assert answer.status_code == 409 and "another chapter" in answer.json()["detail"]
        assert wenzhou["id"] not in answer.text
    own = client.post(
        "/api/v1/members",
        json=member_body(email=wenzhou["email"], chapter="wenzhou"),
        headers=make_key(db, "chapter", "wenzhou"),
    )
    assert own.status_code == 409 and wenzhou["id"] in own.json()["detail"]


def test_subscriptions_to_series_chapter_and_kind(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    series = create_series(client, admin)
    url = f"/api/v1/members/{member['id']}/subscriptions"
    made = [
        client.post(url, json=body, headers=admin)
        for body in ({"series_id": series["id"]}, {"chapter": "yiwu"}, {"kind": "project-docking"})
    ]
    assert [r.status_code for r in made] == [201, 201, 201]
    listed = client.get(url, headers=admin).json()
    assert [(s["series_id"], s["chapter"], s["kind"]) for s in listed] == [
        (series["id"], None, None),
        (None, "yiwu", None),
        (None, None, "project-docking"),
    ]
    again = client.post(url, json={"chapter": "yiwu"}, headers=admin)
    assert again.status_code == 409 and "already subscribed" in again.json()["detail"]
    assert client.delete(f"{url}/{listed[1]['id']}", headers=admin).status_code == 204
    assert client.delete(f"{url}/{listed[1]['id']}", headers=admin).status_code == 404
    assert len(client.get(url, headers=admin).json()) == 2


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({}, 422, "exactly one"),
        ({"chapter": "yiwu", "kind": "tech-exchange"}, 422, "exactly one"),
        ({"series_id": "00000000-0000-0000-0000-000000000000"}, 404, "no series"),
        ({"kind": "party"}, 422, "kind"),
    ],
)
def test_bad_subscriptions_are_refused(
    client: TestClient, admin: dict, body: dict, status: int, reason: str
) -> None:
    member = create_member(client, admin)
    response = client.post(f"/api/v1/members/{member['id']}/subscriptions", json=body, headers=admin)
    assert response.status_code == status and reason in response.json()["detail"]


def test_cannot_subscribe_to_a_cancelled_series(client: TestClient, admin: dict) -> None:
    member = create_member(client, admin)
    series = create_series(client, admin)
    client.delete(f"/api/v1/series/{series['id']}", headers=admin)
    response = client.post(
        f"/api/v1/members/{member['id']}/subscriptions", json={"series_id": series["id"]}, headers=admin
    )
    assert response.status_code == 409


def test_deleting_a_member_removes_their_subscriptions(client: TestClient, admin: dict, db: Database) -> None:
    from sqlalchemy import func, select

    from scheduler.db.models import SubscriptionRow

    member = create_member(client, admin)
    client.post(f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin)
    client.delete(f"/api/v1/members/{member['id']}", headers=admin)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SubscriptionRow)) == 0


class TestAuthorization:
    def test_member_data_needs_a_key_even_to_read(self, client: TestClient, admin: dict) -> None:
        member = create_member(client, admin)
        assert client.get("/api/v1/members").status_code == 401
        assert client.get(f"/api/v1/members/{member['id']}").status_code == 401
        assert client.get(f"/api/v1/members/{member['id']}/subscriptions").status_code == 401

    def test_chapter_key_sees_and_changes_only_its_members(
        self, client: TestClient, admin: dict, db: Database
    ) -> None:
        ningbo_member = create_member(client, admin)
        yiwu_member = create_member(client, admin, email="wang@yiwu.example", chapter="yiwu")
        yiwu = make_key(db, "chapter", "yiwu")
        assert [m["id"] for m in client.get("/api/v1/members", headers=yiwu).json()] == [yiwu_member["id"]]
        assert client.get("/api/v1/members?chapter=ningbo", headers=yiwu).status_code == 403
        url = f"/api/v1/members/{ningbo_member['id']}"
        assert client.get(url, headers=yiwu).status_code == 403
        assert client.patch(url, json={"name": "x"}, headers=yiwu).status_code == 403
        assert client.delete(url, headers=yiwu).status_code == 403
        assert client.post(f"{url}/subscriptions", json={"chapter": "yiwu"}, headers=yiwu).status_code == 403
        assert (
            client.post("/api/v1/members", json=member_body(email="n@x.example"), headers=yiwu).status_code
            == 403
        )
        moved = client.patch(f"/api/v1/members/{yiwu_member['id']}", json={"chapter": "ningbo"}, headers=yiwu)
        assert moved.status_code == 403
        assert client.get(url, headers=admin).json()["name"] == "陈静"
