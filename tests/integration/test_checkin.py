"""Check-in at the door, end to end: a member who accepted gets their code as a QR image in the
reminder (and on their member page); staff send a photo of it from the console's check-in page
and the member is checked in once; found by name instead, or added as a walk-in; the attendees
API shows when; after the session the follow-up goes to those who came and a short note to those
who accepted and did not. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from email.message import EmailMessage

import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from scheduler.domain.checkin import qr_png
from scheduler.ops.config import Settings
from tests.integration.test_attendees import attendees_url, by_email
from tests.integration.test_seats import accept, catch_up, mails_to, text_of
from tests.support.console import csrf_of, signed_in
from tests.support.members import sign_in
from tests.support.world import START, World, a_session, subscribed

CHEN, WANG, LI = "chen@lihua.example", "wang@oujia.example", "li@senma.example"


def code_image(mail: EmailMessage) -> bytes:
    [image] = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<checkin-code>"
    data = image.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def decoded(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def setting(world: World) -> tuple[dict, str]:
    """Three members invited to a two-seat session; Chen and Wang accept, Li waits; the reminder
    a day before has gone out. The series, and the check-in page's path."""
    for name, email in (("陈静", CHEN), ("王磊", WANG), ("李娜", LI)):
        subscribed(world, name=name, email=email)
    series = a_session(world, capacity=2, notices={"reminders": ["P1D"]})
    world.run()
    for email in (CHEN, WANG, LI):
        accept(world, email)
    catch_up(world)
    world.run(START - timedelta(days=1))
    page = (
        attendees_url(world, series)
        .replace("/api/v1/series", "/console/series")
        .replace("/attendees", "/checkin")
    )
    return series, page


def reminder_to(world: World, address: str) -> EmailMessage:
    [reminder] = [m for m in mails_to(world, address) if "【提醒】" in str(m["Subject"])]
    return reminder


def test_the_reminder_carries_the_members_code_and_its_page_shows_it_again(
    world: World, settings: Settings
) -> None:
    setting(world)
    reminder = reminder_to(world, CHEN)
    url = decoded(code_image(reminder))
    assert url.startswith("https://exsched.test/c/") and url in text_of(reminder)
    assert 'src="cid:checkin-code"' in reminder.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "陈静" not in url and CHEN not in url  # a signed token, nothing personal in it
    path = url.split("https://exsched.test", 1)[1]
    shown = world.client.get(path)
    assert shown.status_code == 200 and "陈静" in shown.text and "<svg" in shown.text
    assert world.client.head(path).status_code == 200
    assert world.client.get(path[:-3] + "xyz").status_code == 404  # forged
    # a member waiting for a seat has no code; the member page shows Chen hers
    assert not [m for m in mails_to(world, LI) if "【提醒】" in str(m["Subject"])]
    browser = TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(browser, settings, CHEN)
    assert "显示签到码" in browser.get("/me").text


def test_staff_check_in_a_photo_of_the_code_once(world: World) -> None:
    series, page = setting(world)
    staff = signed_in(world.client, world.db, "door", "chapter", "ningbo")
    csrf = csrf_of(staff.get(page).text)
    photo = code_image(reminder_to(world, CHEN))
    first = staff.post(
        page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("code.png", photo, "image/png")}
    )
    assert (
        first.status_code == 200
        and "签到成功" in first.text
        and "陈静" in first.text
        and "持有席位" in first.text
    )
    again = staff.post(
        page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("code.png", photo, "image/png")}
    )
    assert "签到过，无需重复签到" in again.text
    rows = by_email(world.client.get(attendees_url(world, series), headers=world.admin).json())
    assert rows[CHEN]["checked_in_at"] is not None and rows[WANG]["checked_in_at"] is None
    # what is not a code of this session is refused, and says why
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    nothing = staff.post(
        page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("x.png", blank.getvalue(), "image/png")}
    )
    assert nothing.status_code == 422 and "没有识别到二维码" in nothing.text
    forged = qr_png("https://exsched.test/c/eyJtIjoiMSJ9.AAAA")
    refused = staff.post(
        page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("x.png", forged, "image/png")}
    )
    assert refused.status_code == 422 and "不是有效的签到码" in refused.text
    other = a_session(world, title="宁波 · 另一场", capacity=5)
    world.run()
    other_page = (
        attendees_url(world, other)
        .replace("/api/v1/series", "/console/series")
        .replace("/attendees", "/checkin")
    )
    wrong = staff.post(
        other_page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("code.png", photo, "image/png")}
    )
    assert wrong.status_code == 409 and "另一场活动" in wrong.text


def test_staff_find_someone_by_name_or_add_a_walk_in(world: World) -> None:
    series, page = setting(world)
    staff = signed_in(world.client, world.db, "door2", "chapter", "ningbo")
    found = staff.get(page, params={"q": "李"})
    assert "李娜" in found.text and "候补第 1 位" in found.text and "陈静" not in found.text
    li_id = by_email(world.client.get(attendees_url(world, series), headers=world.admin).json())[LI][
        "member_id"
    ]
    came = staff.post(page, data={"csrf": csrf_of(found.text), "action": "member", "member": li_id})
    assert "签到成功" in came.text and "未持有席位：候补第 1 位" in came.text
    walk_in = {
        "csrf": csrf_of(came.text),
        "action": "walkin",
        "name": "赵强",
        "company": "雅戈尔",
        "email": "zhao@x.example",
    }
    added = staff.post(page, data=walk_in)
    assert "签到成功" in added.text and "赵强" in added.text
    bad = staff.post(page, data=walk_in | {"email": "not an address"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    rows = by_email(world.client.get(attendees_url(world, series), headers=world.admin).json())
    assert (rows[LI]["response"], rows[LI]["source"]) == ("accepted", "door")
    assert rows["zhao@x.example"]["checked_in_at"] is not None
    # another chapter's staff cannot use this door
    wenzhou = signed_in(world.client, world.db, "wz", "chapter", "wenzhou")
    assert wenzhou.get(page).status_code == 403


def test_the_follow_up_goes_to_those_who_came_and_a_note_to_those_who_did_not(world: World) -> None:
    _series, page = setting(world)
    staff = signed_in(world.client, world.db, "door3", "chapter", "ningbo")
    csrf = csrf_of(staff.get(page).text)
    photo = code_image(reminder_to(world, CHEN))
    assert (
        "签到成功"
        in staff.post(
            page, data={"csrf": csrf, "action": "scan"}, files={"photo": ("c.png", photo, "image/png")}
        ).text
    )
    sent = len(world.mails())
    world.run(START + timedelta(days=2))
    chen = [m for m in world.mails()[sent:] if CHEN in str(m["To"])]
    wang = [m for m in world.mails()[sent:] if WANG in str(m["To"])]
    assert len(chen) == len(wang) == 1
    assert "/followup/" in text_of(chen[0]) and "感谢您参加" in text_of(chen[0])
    assert "/followup/" not in text_of(wang[0]) and "没有见到您" in text_of(wang[0])
    assert not [m for m in world.mails()[sent:] if LI in str(m["To"])]  # waited, never had a seat
