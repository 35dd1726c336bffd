"""Next year's holidays entered in the console when the installed data lags (SQLite and
PostgreSQL): the provisional sessions they move are moved, those they drop are cancelled, and the
members who were invited are told — through the whole notice path, to the SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from scheduler.db.models import HolidayDayRow, HolidayYearRow
from scheduler.domain import holidays as holiday_data
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import OFFICE
from tests.support.console import csrf_of, signed_in
from tests.support.factories import holiday_notice, weekend_before
from tests.support.world import World, a_session, subscribed

NEXT = utcnow().astimezone(OFFICE).year + 1


@pytest.fixture(autouse=True)
def next_year_not_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Next year as it is until the package has it (so this test stays true after it does)."""
    installed = holiday_data._known_years()
    monkeypatch.setattr(
        holiday_data, "_known_years", lambda: range(installed[0], min(installed[-1], NEXT - 1) + 1)
    )
    holiday_data._lookup.cache_clear()
    yield
    holiday_data._lookup.cache_clear()


def notice_form(year: int, **changes: tuple[str, str]) -> dict[str, object]:
    """The form as staff fill it in from the notice, with ``changes`` to some breaks."""
    breaks = holiday_notice(year) | changes
    form: dict[str, object] = {"year": str(year)}
    for name, (first, last) in breaks.items():
        form[f"{name}.first"], form[f"{name}.last"] = first, last
    form["workday"] = [
        weekend_before(date(year, 2, 9)).isoformat(),
        weekend_before(date(year, 9, 30)).isoformat(),
        "",
    ]
    return form


def post(browser, form: dict[str, object]):  # type: ignore[no-untyped-def]
    page = browser.get(f"/console/holidays?year={form['year']}")
    assert page.status_code == 200, page.text
    return browser.post("/console/holidays", data=form | {"csrf": csrf_of(page.text)}, follow_redirects=False)


def sessions(world: World, series: dict, start: str, end: str) -> list[dict]:
    answer = world.client.get(
        f"/api/v1/series/{series['id']}/occurrences", params={"start": start, "end": end}, headers=world.admin
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def calendar_of(world: World, index: int) -> Calendar:
    mail = world.mails()[index]
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


def test_entered_holidays_move_and_cancel_provisional_sessions_and_tell_the_invited(world: World) -> None:
    subscribed(world)
    plan = {"invite_before": "P60D", "reminders": []}
    moved = a_session(
        world,
        title="元旦后的对接会",
        dtstart=f"{NEXT}-01-01T14:00:00",
        skip_holidays="cn-statutory-shift",
        notices=plan,
    )
    dropped = a_session(
        world,
        title="元旦当天的交流会",
        dtstart=f"{NEXT}-01-01T09:00:00",
        skip_holidays="cn-statutory",
        notices=plan,
    )
    a_session(
        world,
        title="平常的一场",
        dtstart=f"{NEXT}-01-05T14:00:00",
        skip_holidays="cn-statutory-shift",
        notices=plan,
    )
    world.run()
    assert len(world.mails()) == 3  # three invitations, each to a provisional date
    for series in (moved, dropped):
        [occ] = sessions(world, series, f"{NEXT}-01-01", f"{NEXT}-01-02")
        assert occ["provisional"] is True

    office = signed_in(world.client, world.db, "wang.li")
    page = office.get("/console/holidays").text
    assert f"{NEXT} 年" in page and "尚未录入" in page
    saved = post(office, notice_form(NEXT))
    assert saved.status_code == 303, saved.text
    result = office.get(saved.headers["location"]).text
    assert "已保存。1 场活动改期，1 场活动取消" in result and "工作人员录入（wang.li" in result

    world.run()
    mails = world.mails()
    assert len(mails) == 5  # an update and a cancellation, nothing to the unchanged session
    update, cancellation = calendar_of(world, 3), calendar_of(world, 4)
    if str(update["METHOD"]) == "CANCEL":
        update, cancellation = cancellation, update
    [event] = update.walk("VEVENT")
    assert str(update["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART").date() == date(NEXT, 1, 4)  # the first working day after 1–3 January
    assert "元旦后的对接会" in str(event["SUMMARY"])
    assert str(cancellation["METHOD"]) == "CANCEL"
    assert "元旦当天的交流会" in str(cancellation.walk("VEVENT")[0]["SUMMARY"])
    [occ] = sessions(world, moved, f"{NEXT}-01-01", f"{NEXT}-01-10")
    assert occ["provisional"] is False and occ["start"].startswith(f"{NEXT}-01-04T14:00")

    # entered again, unchanged: nothing moves, nobody is told again
    again = post(office, notice_form(NEXT))
    assert "moved=0&dropped=0" in again.headers["location"]
    world.run()
    assert len(world.mails()) == 5

    # corrected: New Year's Day is only the 2nd and 3rd — the session on the 1st is held again and
    # the one moved to the 4th goes back to the 1st; those told hear it, above what they were sent
    corrected = post(office, notice_form(NEXT, **{"New Year's Day": (f"{NEXT}-01-02", f"{NEXT}-01-03")}))
    assert "moved=2&dropped=0" in corrected.headers["location"]
    world.run()
    assert len(world.mails()) == 7
    back = {str(c.walk("VEVENT")[0]["SUMMARY"]): c for c in (calendar_of(world, 5), calendar_of(world, 6))}
    held = back["元旦当天的交流会"]
    [event] = held.walk("VEVENT")
    assert str(held["METHOD"]) == "REQUEST" and event.decoded("DTSTART").date() == date(NEXT, 1, 1)
    assert int(event["SEQUENCE"]) > int(cancellation.walk("VEVENT")[0]["SEQUENCE"])
    [event] = back["元旦后的对接会"].walk("VEVENT")
    assert event.decoded("DTSTART").date() == date(NEXT, 1, 1) and int(event["SEQUENCE"]) == 2


def test_only_the_province_office_enters_and_a_wrong_date_is_said_in_the_staffs_words(world: World) -> None:
    chapter = signed_in(world.client, world.db, "chen.nb", role="chapter", chapter="ningbo")
    assert chapter.get("/console/holidays").status_code == 200  # they may look
    page = chapter.get(f"/console/holidays?year={NEXT}").text
    assert "保存并通知会员" not in page
    refused = chapter.post("/console/holidays", data=notice_form(NEXT) | {"csrf": csrf_of(page)})
    assert refused.status_code == 403 and "只有省协会可以录入" in refused.text

    office = signed_in(world.client, world.db, "wang.li")
    wrong = post(office, notice_form(NEXT, **{"Labour Day": (f"{NEXT}-05-05", f"{NEXT}-05-01")}))
    assert wrong.status_code == 422 and "劳动节：最后一天不能早于第一天。" in wrong.text
    assert f'value="{NEXT}-05-05"' in wrong.text  # what was typed is kept
    weekday = post(
        office,
        notice_form(NEXT)
        | {"workday": [f"{NEXT}-03-03" if date(NEXT, 3, 3).weekday() < 5 else f"{NEXT}-03-04"]},
    )
    assert weekday.status_code == 422 and "调休上班日应是周六或周日" in weekday.text
    installed = post(office, notice_form(NEXT - 1))
    assert installed.status_code == 409
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(HolidayYearRow)) == 0
        assert session.scalar(select(func.count()).select_from(HolidayDayRow)) == 0
