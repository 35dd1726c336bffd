"""Seats and the waiting list, end to end: members answer from their emails' links, the API shows
``waitlisted`` with a position, a decline offers the seat to the first waiting (an email with the
calendar, held until a time), silence passes it on, a lower capacity gives seats back, staff move
someone up; a member waiting gets no calendar and no reminder. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from scheduler.db.models import RsvpRow
from scheduler.domain.seats import LAST_OFFER
from scheduler.notices.answers import pass_on_lapsed_offers
from scheduler.ops.config import Settings
from tests.integration.test_attendees import attendees_url, by_email
from tests.support.members import page_csrf, sign_in
from tests.support.world import START, World, a_session, confirm, form_token, links_in, subscribed

PEOPLE = [
    ("陈静", "chen@lihua.example"),
    ("王磊", "wang@oujia.example"),
    ("李娜", "li@senma.example"),
    ("赵强", "zhao@youngor.example"),
]


def catch_up(world: World) -> None:
    """Run what is due by the real clock: the web app answers at that time, and the notices an
    answer makes (an offer, a place on the list) are due then."""
    world.run(datetime.now(UTC))


def everyone(world: World) -> None:
    for name, email in PEOPLE:
        subscribed(world, name=name, email=email)


def mails_to(world: World, address: str, since: int = 0) -> list[EmailMessage]:
    return [m for m in world.mails()[since:] if address in str(m["To"])]


def accept(world: World, address: str) -> str:
    """The member presses Accept in their invitation; the page they see."""
    [invitation] = [m for m in mails_to(world, address) if "邀请" in str(m["Subject"])]
    yes, _no = links_in(invitation, "rsvp")
    answered = confirm(world, yes)
    assert answered.status_code == 200, answered.text
    return answered.text


def decline(world: World, address: str) -> None:
    [invitation] = [m for m in mails_to(world, address) if "邀请" in str(m["Subject"])]
    _yes, no = links_in(invitation, "rsvp")
    assert confirm(world, no).status_code == 200


def method_of(mail: EmailMessage) -> str | None:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    return str(Calendar.from_ical(parts[0].get_payload(decode=True))["METHOD"])


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def standing(world: World, series: dict) -> dict[str, tuple[str, int | None, bool]]:
    rows = by_email(world.client.get(attendees_url(world, series), headers=world.admin).json())
    return {email: (r["response"], r["position"], r["offer_until"] is not None) for email, r in rows.items()}


def full_session(world: World, capacity: int = 2) -> dict:
    """Four members invited to a session of ``capacity`` seats; all four accept, in order."""
    everyone(world)
    series = a_session(world, capacity=capacity, notices={"reminders": ["PT2H"]})
    world.run()
    for _, email in PEOPLE:
        accept(world, email)
    return series


def test_accepts_past_the_capacity_join_the_waiting_list_in_order(world: World) -> None:
    everyone(world)
    series = a_session(world, capacity=2)
    world.run()
    for _, email in PEOPLE[:2]:
        assert "已确认参加" in accept(world, email)
    third = accept(world, "li@senma.example")
    assert "候补名单（第 1 位）" in third and "waiting list (number 1)" in third
    accept(world, "zhao@youngor.example")
    assert standing(world, series) == {
        "chen@lihua.example": ("accepted", None, False),
        "wang@oujia.example": ("accepted", None, False),
        "li@senma.example": ("waitlisted", 1, False),
        "zhao@youngor.example": ("waitlisted", 2, False),
    }
    # accepting again keeps one's place, and says so
    assert "第 1 位" in accept(world, "li@senma.example")
    sent = len(world.mails())
    catch_up(world)
    notes = mails_to(world, "li@senma.example", sent)
    [note] = notes
    assert "【候补】" in str(note["Subject"]) and "候补名单第 1 位" in text_of(note)
    # the invitation brought the session into their calendar: the note takes it out again
    assert method_of(note) == "CANCEL"
    # …and offers to leave the list, not to accept again
    assert len(links_in(note, "rsvp")) == 1


def test_a_decline_offers_the_seat_to_the_first_waiting_and_accepting_takes_it(world: World) -> None:
    series = full_session(world)
    catch_up(world)
    sent = len(world.mails())
    decline(world, "chen@lihua.example")
    assert standing(world, series)["li@senma.example"] == ("waitlisted", 1, True)
    catch_up(world)
    [offer] = mails_to(world, "li@senma.example", sent)
    assert "【有空位】" in str(offer["Subject"])
    assert method_of(offer) == "REQUEST"  # holding a seat: the session goes into their calendar
    assert "席位为您保留至" in text_of(offer)
    assert not mails_to(world, "zhao@youngor.example", sent)  # second in line: nothing yet
    yes, _no = links_in(offer, "rsvp")
    assert "已确认参加" in confirm(world, yes).text
    assert standing(world, series) == {
        "chen@lihua.example": ("declined", None, False),
        "wang@oujia.example": ("accepted", None, False),
        "li@senma.example": ("accepted", None, False),
        "zhao@youngor.example": ("waitlisted", 1, False),
    }


def test_an_offer_not_taken_up_in_time_passes_to_the_next(world: World) -> None:
    series = full_session(world)
    decline(world, "chen@lihua.example")
    with world.db.session() as session:
        assert pass_on_lapsed_offers(session, world.holidays, datetime.now(UTC)) == 0  # still held
    with world.db.session() as session:
        later = datetime.now(UTC) + timedelta(hours=24, minutes=1)
        assert pass_on_lapsed_offers(session, world.holidays, later) == 1
    rows = by_email(world.client.get(attendees_url(world, series), headers=world.admin).json())
    assert (rows["li@senma.example"]["response"], rows["li@senma.example"]["source"]) == (
        "declined",
        "lapsed",
    )
    assert standing(world, series)["zhao@youngor.example"] == ("waitlisted", 1, True)


def test_an_offer_is_held_until_two_hours_before_the_start_at_the_latest(world: World) -> None:
    series = full_session(world)
    url = f"/api/v1/series/{series['id']}"
    hold = world.client.patch(url, json={"offer_hold": "P14D"}, headers=world.admin)
    assert hold.status_code == 200 and hold.json()["offer_hold"] == "P14D", hold.text
    decline(world, "chen@lihua.example")
    [row] = [
        r
        for r in world.client.get(attendees_url(world, series), headers=world.admin).json()
        if r["offer_until"]
    ]
    assert datetime.fromisoformat(row["offer_until"]) == START - LAST_OFFER
    bad = world.client.patch(url, json={"offer_hold": "PT1M"}, headers=world.admin)
    assert bad.status_code == 422 and "offer_hold" in bad.text


def test_a_lower_capacity_gives_the_latest_seats_back_to_the_head_of_the_list(world: World) -> None:
    series = full_session(world, capacity=3)
    catch_up(world)  # Zhao, fourth, is told he waits
    occurrence = attendees_url(world, series).removesuffix("/attendees")
    lowered = world.client.patch(occurrence, json={"capacity": 1}, headers=world.admin)
    assert lowered.status_code == 200 and lowered.json()["capacity"] == 1, lowered.text
    assert standing(world, series) == {
        "chen@lihua.example": ("accepted", None, False),
        "wang@oujia.example": ("waitlisted", 1, False),
        "li@senma.example": ("waitlisted", 2, False),
        "zhao@youngor.example": ("waitlisted", 3, False),
    }
    sent = len(world.mails())
    catch_up(world)
    for address in ("wang@oujia.example", "li@senma.example"):
        [note] = mails_to(world, address, sent)
        assert method_of(note) == "CANCEL" and "候补名单第" in text_of(note)
    assert not mails_to(world, "zhao@youngor.example", sent)  # waiting already: told nothing new
    raised = world.client.patch(occurrence, json={"capacity": None}, headers=world.admin)
    assert raised.status_code == 200 and raised.json()["capacity"] == 3  # the series' again
    after = standing(world, series)
    assert [after[a] for a in ("wang@oujia.example", "li@senma.example", "zhao@youngor.example")] == [
        ("waitlisted", 1, True),  # two seats free again: offered to the first two waiting
        ("waitlisted", 2, True),
        ("waitlisted", 3, False),
    ]


def test_staff_move_someone_up_the_waiting_list(world: World) -> None:
    series = full_session(world, capacity=1)
    zhao = next(
        r
        for r in world.client.get(attendees_url(world, series), headers=world.admin).json()
        if r["email"].startswith("zhao")
    )
    moved = world.client.put(
        f"{attendees_url(world, series)}/{zhao['member_id']}", json={"position": 1}, headers=world.admin
    )
    assert moved.status_code == 200 and moved.json()["position"] == 1, moved.text
    after = standing(world, series)
    assert [after[email][1] for _, email in PEOPLE] == [None, 2, 3, 1]
    chen = next(
        r
        for r in world.client.get(attendees_url(world, series), headers=world.admin).json()
        if r["email"].startswith("chen")
    )
    refused = world.client.put(
        f"{attendees_url(world, series)}/{chen['member_id']}", json={"position": 1}, headers=world.admin
    )
    assert refused.status_code == 422 and "not on the waiting list" in refused.text
    both = world.client.put(
        f"{attendees_url(world, series)}/{chen['member_id']}",
        json={"position": 1, "response": "accepted"},
        headers=world.admin,
    )
    assert both.status_code == 422


def test_a_member_waiting_gets_no_reminder_and_one_holding_a_seat_does(world: World) -> None:
    full_session(world, capacity=1)
    catch_up(world)
    sent = len(world.mails())
    world.run(START - timedelta(hours=2))
    reminded = {str(m["To"]) for m in world.mails()[sent:] if "【提醒】" in str(m["Subject"])}
    assert reminded == {"陈静 <chen@lihua.example>"}
    assert {n.reason_code for n in world.notices(kind="reminder") if n.status == "skipped"} == {"waitlisted"}


def test_an_invitation_to_a_full_session_carries_no_calendar_and_says_so(world: World) -> None:
    subscribed(world, name="陈静", email="chen@lihua.example")
    a_session(world, capacity=1)
    world.run()
    accept(world, "chen@lihua.example")
    sent = len(world.mails())
    subscribed(world, name="王磊", email="wang@oujia.example")
    catch_up(world)
    [invitation] = mails_to(world, "wang@oujia.example", sent)
    assert method_of(invitation) is None
    assert "席位已满" in text_of(invitation)
    assert "已确认参加" not in accept(world, "wang@oujia.example")


@pytest.mark.parametrize("db", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_answers_racing_for_the_last_seat_give_it_to_one_of_them(world: World) -> None:
    """Four members press Accept at the same moment for a session with one seat (real concurrent
    requests, each its own transaction on PostgreSQL): one seat, three on the list, numbered 1–3.
    Five sessions, so the race is run five times."""
    everyone(world)
    sessions = [a_session(world, capacity=1, title=f"对接会 {n}") for n in range(5)]
    world.run()
    for series in sessions:
        presses = []
        for _, email in PEOPLE:
            [invitation] = [
                m
                for m in mails_to(world, email)
                if series["title"] in text_of(m) and "邀请" in str(m["Subject"])
            ]
            yes, _no = links_in(invitation, "rsvp")
            presses.append((yes, form_token(world, yes)))
        start = threading.Barrier(len(presses))
        with ThreadPoolExecutor(len(presses)) as pool:
            pages = list(pool.map(partial(press_together, world, start), *zip(*presses, strict=True)))
        assert sum("已确认参加" in page for page in pages) == 1, series["title"]
        after = standing(world, series)
        assert sorted(p or 0 for _, p, _ in after.values()) == [0, 1, 2, 3], after
        assert sorted(r for r, _, _ in after.values()) == ["accepted", *["waitlisted"] * 3]


def press_together(world: World, start: threading.Barrier, path: str, token: str) -> str:
    """Press a link's button from a browser of one's own, at the same moment as the others."""
    client = TestClient(world.client.app)
    start.wait()
    return client.post(path, data={"csrf": token}).text


def test_the_member_page_shows_the_waiting_list_and_the_seat_held(world: World, settings: Settings) -> None:
    series = full_session(world, capacity=3)
    browser = TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(browser, settings, "zhao@youngor.example")
    page = browser.get("/me").text
    assert "候补第 1 位" in page
    assert 'value="accepted"' not in page  # waiting already: accepting again does nothing
    decline(world, "chen@lihua.example")
    page = browser.get("/me").text
    assert "已为你保留席位" in page and 'value="accepted"' in page
    stamp = attendees_url(world, series).split("/")[-2]
    data = {"csrf": page_csrf(browser), "series": series["id"], "occurrence": stamp, "response": "accepted"}
    assert browser.post("/me/answer", data=data).status_code == 303
    assert standing(world, series)["zhao@youngor.example"] == ("accepted", None, False)
    # a newcomer accepting now joins the list from the member page too
    sign_in(browser, settings, "chen@lihua.example")
    data = {"csrf": page_csrf(browser), "series": series["id"], "occurrence": stamp, "response": "accepted"}
    done = browser.post("/me/answer", data=data)
    assert done.headers["location"] == "/me?done=waitlisted"
    assert "席位已满，你已列入候补名单" in browser.get(done.headers["location"]).text


def test_a_moved_session_tells_the_waiting_without_putting_it_in_their_calendar(world: World) -> None:
    series = full_session(world, capacity=2)
    catch_up(world)
    sent = len(world.mails())
    occurrence = attendees_url(world, series).removesuffix("/attendees")
    moved = world.client.patch(occurrence, json={"start": "2026-12-11T14:00:00+08:00"}, headers=world.admin)
    assert moved.status_code == 200, moved.text
    catch_up(world)
    [holding] = mails_to(world, "chen@lihua.example", sent)
    [waiting] = mails_to(world, "li@senma.example", sent)
    assert "【变更】" in str(holding["Subject"]) and method_of(holding) == "REQUEST"
    assert "【变更】" in str(waiting["Subject"]) and method_of(waiting) is None
    assert "候补名单第 1 位" in text_of(waiting) and "12月11日" in text_of(waiting)


def test_answers_leave_the_series_as_it_was(world: World) -> None:
    """Taking the seats' lock changes nothing of the series: its "last changed" (and so its feeds'
    ETag, and the console's edit check) stays as it was."""
    everyone(world)
    series = a_session(world, capacity=1)
    world.run()
    before = world.client.get(f"/api/v1/series/{series['id']}").json()["updated_at"]
    for _, email in PEOPLE[:2]:
        accept(world, email)
    assert world.client.get(f"/api/v1/series/{series['id']}").json()["updated_at"] == before


def test_an_accept_after_the_offer_ran_out_keeps_the_place_and_is_not_taken_for_silence(world: World) -> None:
    """The offer to Li ran out and a newcomer took the seat before the scheduler passed it on; Li
    presses Accept late: she is still waiting (first), and passing on lapsed offers leaves her so."""
    series = full_session(world, capacity=2)
    decline(world, "chen@lihua.example")  # the seat is held for Li
    with world.db.session() as session:
        row = session.scalar(select(RsvpRow).where(RsvpRow.offer_until.is_not(None)))
        assert row is not None
        row.offer_until = datetime.now(UTC) - timedelta(minutes=1)  # it ran out a minute ago
    accept(world, "chen@lihua.example")  # Chen changes her mind: the seat is free, she takes it
    accept(world, "li@senma.example")  # Li, late
    assert standing(world, series)["li@senma.example"] == ("waitlisted", 1, False)
    with world.db.session() as session:
        pass_on_lapsed_offers(session, world.holidays, datetime.now(UTC))
    assert standing(world, series)["li@senma.example"] == ("waitlisted", 1, False)
