"""Every write endpoint × every kind of caller, generated from the OpenAPI schema.

A new write endpoint without a row here fails the first test, so none can ship unguarded.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scheduler.db.session import Database
from tests.support.api import member_body, series_body
from tests.support.robot import Robot
from tests.support.services import make_key

_count = itertools.count()


def _series(client: TestClient, admin: dict) -> dict:
    response = client.post("/api/v1/series", json=series_body(), headers=admin)
    assert response.status_code == 201
    return response.json()


def _member(client: TestClient, admin: dict) -> dict:
    response = client.post(
        "/api/v1/members", json=member_body(email=f"m{next(_count)}@x.example"), headers=admin
    )
    assert response.status_code == 201
    return response.json()


def _subscription(client: TestClient, admin: dict) -> tuple[dict, dict]:
    member = _member(client, admin)
    made = client.post(
        f"/api/v1/members/{member['id']}/subscriptions", json={"chapter": "ningbo"}, headers=admin
    )
    return member, made.json()


#: A chat robot on loopback for the robot endpoints to post to (started once for the module).
ROBOT: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def _robot() -> Iterator[None]:
    made = Robot()
    ROBOT["url"] = made.url
    yield
    made.stop()


def _webhook(client: TestClient, admin: dict) -> dict:
    response = client.post(
        "/api/v1/chapters/ningbo/webhooks", json={"format": "wecom", "url": ROBOT["url"]}, headers=admin
    )
    assert response.status_code == 201
    return response.json()


def _occurrence(client: TestClient, admin: dict) -> tuple[str, str]:
    series = _series(client, admin)
    first = client.get(f"/api/v1/series/{series['id']}/occurrences").json()[0]["recurrence_id"]
    return series["id"], first.replace("-", "").replace(":", "")


def _attendee(client: TestClient, admin: dict) -> str:
    """The attendee URL of a Ningbo member following the Ningbo chapter, for one session."""
    member, _ = _subscription(client, admin)
    series_id, rid = _occurrence(client, admin)
    return f"/api/v1/series/{series_id}/occurrences/{rid}/attendees/{member['id']}"


# (method, path template) → builds (url, json body) for a Ningbo-owned resource
Build = Callable[[TestClient, dict], tuple[str, Any]]
MATRIX: dict[tuple[str, str], Build] = {
    ("POST", "/api/v1/series"): lambda c, a: ("/api/v1/series", series_body()),
    ("PATCH", "/api/v1/series/{series_id}"): lambda c, a: (
        f"/api/v1/series/{_series(c, a)['id']}",
        {"venue": "x"},
    ),
    ("DELETE", "/api/v1/series/{series_id}"): lambda c, a: (f"/api/v1/series/{_series(c, a)['id']}", None),
    ("PATCH", "/api/v1/series/{series_id}/occurrences/{recurrence_id}"): lambda c, a: (
        "/api/v1/series/{}/occurrences/{}".format(*_occurrence(c, a)),
        {"agenda": "x"},
    ),
    ("PUT", "/api/v1/series/{series_id}/occurrences/{recurrence_id}/attendees/{member_id}"): lambda c, a: (
        _attendee(c, a),
        {"response": "accepted"},
    ),
    ("POST", "/api/v1/members"): lambda c, a: (
        "/api/v1/members",
        member_body(email=f"n{next(_count)}@x.example"),
    ),
    ("PATCH", "/api/v1/members/{member_id}"): lambda c, a: (
        f"/api/v1/members/{_member(c, a)['id']}",
        {"company": "x"},
    ),
    ("DELETE", "/api/v1/members/{member_id}"): lambda c, a: (f"/api/v1/members/{_member(c, a)['id']}", None),
    ("POST", "/api/v1/members/{member_id}/subscriptions"): lambda c, a: (
        f"/api/v1/members/{_member(c, a)['id']}/subscriptions",
        {"kind": "project-docking"},
    ),
    ("DELETE", "/api/v1/members/{member_id}/subscriptions/{subscription_id}"): lambda c, a: (
        "/api/v1/members/{}/subscriptions/{}".format(*(x["id"] for x in _subscription(c, a))),
        None,
    ),
    ("POST", "/api/v1/members/{member_id}/feed-token"): lambda c, a: (
        f"/api/v1/members/{_member(c, a)['id']}/feed-token",
        None,
    ),
    ("POST", "/api/v1/series/{series_id}/occurrences/{recurrence_id}/messages"): lambda c, a: (
        "/api/v1/series/{}/occurrences/{}/messages".format(*_occurrence(c, a)),
        {"kind": "nudge"},
    ),
    ("POST", "/api/v1/chapters/{chapter}/webhooks"): lambda c, a: (
        "/api/v1/chapters/ningbo/webhooks",
        {"format": "dingtalk", "url": ROBOT["url"], "secret": "s"},
    ),
    ("DELETE", "/api/v1/chapters/{chapter}/webhooks/{webhook_id}"): lambda c, a: (
        f"/api/v1/chapters/ningbo/webhooks/{_webhook(c, a)['id']}",
        None,
    ),
    ("POST", "/api/v1/chapters/{chapter}/webhooks/{webhook_id}/test"): lambda c, a: (
        f"/api/v1/chapters/ningbo/webhooks/{_webhook(c, a)['id']}/test",
        None,
    ),
}
#: Writes authorized by a signed token in the URL instead of a staff key.
TOKEN_AUTHORIZED = {
    ("POST", "/followup/{token}"),
    ("POST", "/rsvp/{token}"),
    ("POST", "/unsubscribe/{token}"),
}
#: Writes anyone may make: asking to join a chapter, and confirming it from the mail's link
#: (tests/integration/test_join.py: limited per address and per client, nothing told apart).
OPEN_TO_ANYONE = {("POST", "/join/{chapter}"), ("POST", "/join/confirm/{token}")}
CALLERS = ("nobody", "forged", "revoked", "other-chapter", "own-chapter", "admin")


def test_every_write_endpoint_is_in_the_matrix(client: TestClient) -> None:
    """Staff-key writes here; writes a member makes are tested in test_member_isolation.py."""
    spec = client.get("/openapi.json").json()
    writes = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m in ops
        if m in ("post", "put", "patch", "delete")
    }
    member_writes = {w for w in writes if w[1].startswith("/me")}
    assert writes - member_writes == set(MATRIX) | TOKEN_AUTHORIZED | OPEN_TO_ANYONE


def headers_for(caller: str, db: Database) -> dict[str, str]:
    if caller == "nobody":
        return {}
    if caller == "forged":
        return {"Authorization": f"Bearer exs_{uuid.uuid4().hex}{uuid.uuid4().hex}"}
    if caller == "revoked":
        from sqlalchemy import update

        from scheduler.db.models import ApiKeyRow

        headers = make_key(db, "chapter", "ningbo")
        with db.session() as session:
            session.execute(
                update(ApiKeyRow).where(ApiKeyRow.chapter == "ningbo").values(revoked_at=ApiKeyRow.created_at)
            )
        return headers
    if caller == "other-chapter":
        return make_key(db, "chapter", "yiwu")
    if caller == "own-chapter":
        return make_key(db, "chapter", "ningbo")
    return make_key(db)


EXPECTED = {"nobody": {401}, "forged": {401}, "revoked": {401}, "other-chapter": {403}}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
def test_write_endpoint_answers_each_caller_as_it_should(
    client: TestClient, admin: dict, db: Database, endpoint: tuple[str, str], caller: str
) -> None:
    url, body = MATRIX[endpoint](client, admin)
    headers = headers_for(caller, db)
    response = client.request(endpoint[0], url, json=body, headers=headers)
    if caller in EXPECTED:
        assert response.status_code in EXPECTED[caller], (caller, response.status_code, response.text)
        assert response.json()["detail"]
    else:
        assert response.status_code in (200, 201, 204), (caller, response.status_code, response.text)
