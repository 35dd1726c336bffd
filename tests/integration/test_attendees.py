"""``/api/v1/series/{id}/occurrences/{recurrence_id}/attendees``: who is invited, what they answered,
when and how; staff setting an answer, which steers what is sent like any other answer."""

from __future__ import annotations

from datetime import timedelta

from tests.support.services import make_key
from tests.support.world import START, World, a_session, confirm, links_in, subscribed


def attendees_url(world: World, series: dict) -> str:
    [first] = world.client.get(f"/api/v1/series/{series['id']}/occurrences").json()[:1]
    stamp = first["recurrence_id"].replace("-", "").replace(":", "").replace("+0000", "Z")
    return f"/api/v1/series/{series['id']}/occurrences/{stamp}/attendees"


def by_email(rows: list[dict]) -> dict[str, dict]:
    return {row["email"]: row for row in rows}


def test_attendees_show_each_answer_with_when_and_how(world: World) -> None:
    chen = subscribed(world)
    wang = subscribed(world, name="王磊", email="wang@lihua.example")
    series = a_session(world, notices={"reminders": ["PT2H"]})
    url = attendees_url(world, series)
    listed = world.client.get(url, headers=world.admin)
    assert listed.status_code == 200, listed.text
    assert [(r["name"], r["response"], r["responded_at"], r["source"]) for r in listed.json()] == [
        ("王磊", "needs-action", None, None),
        ("陈静", "needs-action", None, None),
    ]
    world.run()
    chen_mail = next(m for m in world.mails() if "chen.jing" in str(m["To"]))
    accept, _decline = links_in(chen_mail, "rsvp")
    assert confirm(world, accept).status_code == 200
    put = world.client.put(f"{url}/{wang['id']}", json={"response": "declined"}, headers=world.admin)
    assert put.status_code == 200, put.text
    assert (put.json()["response"], put.json()["source"]) == ("declined", "staff")
    rows = by_email(world.client.get(url, headers=world.admin).json())
    assert (rows["chen.jing@lihua.example"]["response"], rows["chen.jing@lihua.example"]["source"]) == (
        "accepted",
        "link",
    )
    assert rows["chen.jing@lihua.example"]["responded_at"] is not None
    assert rows["wang@lihua.example"]["member_id"] == wang["id"]

    world.run(START - timedelta(hours=2))  # staff's "declined" skips 王磊's reminder like his own would
    reminded = {m["To"].addresses[0].addr_spec for m in world.mails() if m["Subject"].startswith("【提醒】")}
    assert reminded == {"chen.jing@lihua.example"}

    cleared = world.client.put(f"{url}/{chen['id']}", json={"response": "needs-action"}, headers=world.admin)
    assert (cleared.json()["response"], cleared.json()["responded_at"]) == ("needs-action", None)


def test_attendees_are_for_staff_of_the_sessions_chapter_only(world: World) -> None:
    member = subscribed(world)
    url = attendees_url(world, a_session(world))
    assert world.client.get(url).status_code == 401
    assert world.client.get(url, headers=make_key(world.db, "chapter", "yiwu")).status_code == 403
    assert world.client.get(url, headers=make_key(world.db, "chapter", "ningbo")).status_code == 200
    other = make_key(world.db, "chapter", "yiwu")
    assert (
        world.client.put(f"{url}/{member['id']}", json={"response": "accepted"}, headers=other).status_code
        == 403
    )


def test_bad_attendee_requests_say_what_is_wrong(world: World) -> None:
    member = subscribed(world)
    stranger = world.client.post(
        "/api/v1/members",
        json={"name": "赵六", "email": "zhao@x.example", "chapter": "yiwu"},
        headers=world.admin,
    ).json()
    series = a_session(world)
    url = attendees_url(world, series)
    wrong = world.client.put(f"{url}/{member['id']}", json={"response": "maybe"}, headers=world.admin)
    assert wrong.status_code == 422 and "response" in wrong.text
    not_invited = world.client.put(
        f"{url}/{stranger['id']}", json={"response": "accepted"}, headers=world.admin
    )
    assert not_invited.status_code == 404 and "not invited" in not_invited.json()["detail"]
    no_session = url.replace("T060000Z", "T070000Z")
    assert no_session != url
    assert world.client.get(no_session, headers=world.admin).status_code == 404
    garbled = world.client.get(
        f"/api/v1/series/{series['id']}/occurrences/yesterday/attendees", headers=world.admin
    )
    assert garbled.status_code == 422 and "recurrence_id" in garbled.text
