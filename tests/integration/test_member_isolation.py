"""Nothing a member does can touch another member's data: every member route × another member.

Two members, 陈静 (Ningbo) and 王磊 (Yiwu). 王磊 is signed in and tries, on every route a member
can write through, to act on 陈静's things: with 陈静's form token in his browser, with his own
token naming 陈静's subscription or a session only she is invited to, and with her links' tokens
re-used for his own. 陈静's data is the same afterwards. A member route without a row here
fails the first test, so none can ship unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import FollowupResponseRow, MemberRow, RsvpRow, SubscriptionRow
from scheduler.ops.config import Settings
from tests.support.members import mails_to, page_csrf, sign_in
from tests.support.world import World, a_session, links_in, subscribed

CHEN, WANG = "chen.jing@lihua.example", "wang@yiwu.example"


class Scene:
    def __init__(self, world: World, settings: Settings) -> None:
        self.world = world
        self.chen = subscribed(world)
        self.wang = subscribed(world, name="王磊", email=WANG, chapter="yiwu")
        # a session only 陈静 is invited to (王磊 follows the Ningbo chapter too, but not this one)
        self.private = a_session(world, title="宁波 理事会", private=True)
        made = world.client.post(
            f"/api/v1/members/{self.chen['id']}/subscriptions",
            json={"series_id": self.private["id"]},
            headers=world.admin,
        )
        assert made.status_code == 201
        world.run()
        [self.invitation] = world.mails()
        self.chen_browser = browser(world)
        self.wang_browser = browser(world)
        sign_in(self.chen_browser, settings, CHEN)
        sign_in(self.wang_browser, settings, WANG)
        with world.db.session() as session:
            self.chen_subscription = str(
                session.scalars(
                    select(SubscriptionRow.id).where(SubscriptionRow.target_type == "series")
                ).one()
            )

    def chen_state(self) -> list[Any]:
        with self.world.db.session() as session:
            member = session.get(MemberRow, __import__("uuid").UUID(self.chen["id"]))
            assert member is not None
            return [
                (member.name, member.email, member.company, member.locale, member.timezone, member.channels),
                (member.feed_token, member.session_epoch),
                sorted(
                    (s.target_type, s.target)
                    for s in session.scalars(
                        select(SubscriptionRow).where(SubscriptionRow.member_id == member.id)
                    )
                ),
                sorted(
                    (r.occurrence_uid, r.response)
                    for r in session.scalars(select(RsvpRow).where(RsvpRow.member_id == member.id))
                ),
                sorted(
                    f.text
                    for f in session.scalars(
                        select(FollowupResponseRow).where(FollowupResponseRow.member_id == member.id)
                    )
                ),
            ]


def browser(world: World) -> TestClient:
    return TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)


STAMP = "20261210T060000Z"
Attempt = Callable[[Scene], list[tuple[str, str, dict[str, str]]]]


#: member route → what 王磊 tries on it (method, path, form)
MATRIX: dict[tuple[str, str], Attempt] = {
    ("POST", "/me/answer"): lambda s: [
        (
            "POST",
            "/me/answer",
            {"csrf": c, "series": s.private["id"], "occurrence": STAMP, "response": "declined"},
        )
        for c in (page_csrf(s.chen_browser), page_csrf(s.wang_browser))
    ],
    ("POST", "/me/subscriptions"): lambda s: [
        (
            "POST",
            "/me/subscriptions",
            {"csrf": page_csrf(s.wang_browser), "target": f"series:{s.private['id']}"},
        ),
        ("POST", "/me/subscriptions", {"csrf": page_csrf(s.chen_browser), "target": "kind:tech-exchange"}),
    ],
    ("POST", "/me/subscriptions/{subscription_id}/end"): lambda s: [
        ("POST", f"/me/subscriptions/{s.chen_subscription}/end", {"csrf": c})
        for c in (page_csrf(s.chen_browser), page_csrf(s.wang_browser))
    ],
    ("POST", "/me/preferences"): lambda s: [
        (
            "POST",
            "/me/preferences",
            {"csrf": page_csrf(s.chen_browser), "name": "X", "locale": "en", "timezone": "Asia/Tokyo"},
        ),
    ],
    ("POST", "/me/email"): lambda s: [
        ("POST", "/me/email", {"csrf": page_csrf(s.chen_browser), "email": "evil@x.example"}),
    ],
    ("POST", "/me/feed"): lambda s: [("POST", "/me/feed", {"csrf": page_csrf(s.chen_browser)})],
    ("POST", "/me/sign-out"): lambda s: [
        ("POST", "/me/sign-out", {"csrf": page_csrf(s.chen_browser), "everywhere": "1"})
    ],
    ("GET", "/me/sessions/{series_id}/{stamp}.ics"): lambda s: [
        ("GET", f"/me/sessions/{s.private['id']}/{STAMP}.ics", {})
    ],
    # links: 陈静's tokens from her mail, posted with the form token of 王磊's own page
    ("POST", "/rsvp/{token}"): lambda s: [
        ("POST", links_in(s.invitation, "rsvp")[1], {"csrf": page_csrf(s.wang_browser)})
    ],
    ("POST", "/unsubscribe/{token}"): lambda s: [
        ("POST", links_in(s.invitation, "unsubscribe")[0], {"csrf": page_csrf(s.wang_browser)})
    ],
    ("POST", "/me/link/{token}"): lambda s: [
        ("POST", links_in(s.invitation, "me/link")[0], {"csrf": page_csrf(s.wang_browser)})
    ],
}
#: Routes that need no member: the sign-in form (answers the same for anyone) and the follow-up
#: form and email confirmation (checked by their own tests, with tokens made for them).
ANYONE = {("POST", "/me/sign-in"), ("POST", "/followup/{token}"), ("POST", "/me/email/{token}")}


def test_every_member_route_is_in_the_matrix(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path.startswith(("/me", "/rsvp", "/unsubscribe", "/followup"))
        and (method in ("post", "put", "patch", "delete") or path.endswith(".ics"))
    }
    assert routes == set(MATRIX) | ANYONE


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_another_member_cannot_touch_this_members_data(
    world: World, settings: Settings, route: tuple[str, str]
) -> None:
    scene = Scene(world, settings)
    before = scene.chen_state()
    for method, path, form in MATRIX[route](scene):
        answered = scene.wang_browser.request(method, path, data=form or None)
        assert answered.status_code in (403, 404), (method, path, answered.status_code)
    assert scene.chen_state() == before
    assert scene.chen_browser.get("/me").status_code == 200  # still signed in
    assert mails_to(settings, "evil@x.example") == []
