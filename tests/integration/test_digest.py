"""The monthly digest: planned for the first working day of the month (the statutory calendar's),
sent at 09:00 Beijing time once to each chapter's staff (email, the month's report attached as
.xlsx) and chat group (a short text with a link), and to the province office (all chapters);
in the ledger like any other notice; skipped when the system was down past its week."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from openpyxl import load_workbook

from scheduler.db.models import NoticeRow, StaffRow
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.staff import create_staff, set_email
from scheduler.notices import digests
from scheduler.notices.policy import DIGEST_GRACE
from tests.support.console import PASSWORD, try_sign_in
from tests.support.robot import Robot
from tests.support.world import World, a_session, add_webhook, subscribed

# Tuesday 1 December 2026, a working day: due at 09:00 Beijing time
DUE = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def staff(world: World, username: str, email: str | None, chapter: str | None = None) -> None:
    with world.db.session() as session:
        row = create_staff(
            session,
            username=username,
            password=PASSWORD,
            role="chapter" if chapter else "admin",
            chapter=chapter,
            display_name=username,
        )
        set_email(row, email)


def plan(world: World) -> int:
    with world.db.session() as session:
        return digests.plan(session, world.holidays, world.clock.now)


def digest_mails(world: World) -> dict[str, EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in world.mails() if "月报" in str(m["Subject"])}


def november(world: World) -> dict:
    """A Ningbo session on 27 November with two members invited, and one in December."""
    subscribed(world)
    subscribed(world, name="王磊", email="wang.lei@lihua.example", company="欧佳制衣")
    held = a_session(world, title="宁波 · 11月项目对接会", dtstart="2026-11-27T14:00:00")
    a_session(world, title="宁波 · 12月技术交流会", dtstart="2026-12-17T14:00:00")
    world.run()
    return held


@pytest.mark.parametrize(
    ("year", "month", "first"),
    [
        (2026, 12, date(2026, 12, 1)),  # a Tuesday
        (2026, 11, date(2026, 11, 2)),  # the 1st is a Sunday
        (2026, 10, date(2026, 10, 8)),  # National Day break 1–7 October
        (2026, 1, date(2026, 1, 4)),  # New Year 1–3 January; Sunday the 4th is worked (调休)
        (2025, 2, date(2025, 2, 5)),  # Spring Festival
    ],
)
def test_the_digest_goes_on_the_first_working_day_of_the_statutory_calendar(
    year: int, month: int, first: date
) -> None:
    holidays = ChineseStatutoryCalendar()
    assert digests.first_working_day(holidays, year, month) == first
    due = digests.due_of(holidays, year, month)
    assert due.date() == first and (due.hour, due.minute) == (9, 0) and due.utcoffset() == timedelta(hours=8)


def test_each_chapters_staff_and_group_and_the_province_office_get_last_months_digest_once_and_on_time(
    world: World, robot: Robot
) -> None:
    november(world)
    add_webhook(world, robot)
    staff(world, "office", "office@assoc.example")
    staff(world, "chen.nb", "chen@nb.assoc.example", chapter="ningbo")
    staff(world, "li.wz", "li@wz.assoc.example", chapter="wenzhou")
    staff(world, "no.mail", None, chapter="ningbo")  # no address: no digest
    staff(world, "gone", "gone@assoc.example", chapter="ningbo")
    with world.db.session() as session:
        gone = session.query(StaffRow).filter_by(username="gone").one()
        gone.disabled_at = DUE - timedelta(days=3)

    world.clock.now = DUE - timedelta(days=2)
    assert plan(world) == 0  # not yet near its day
    world.clock.now = DUE - timedelta(hours=2)
    assert plan(world) == 4  # office, chen.nb, li.wz and the Ningbo group
    assert plan(world) == 4 and len(world.notices(kind="digest")) == 4  # planned again: the same four
    world.run(DUE - timedelta(minutes=1))
    assert digest_mails(world) == {} and not robot.said("月报")  # on time, not before
    world.run(DUE)
    mails = digest_mails(world)
    assert set(mails) == {"office@assoc.example", "chen@nb.assoc.example", "li@wz.assoc.example"}

    ningbo = mails["chen@nb.assoc.example"]
    assert ningbo["Subject"] == "宁波分会 2026年11月月报"
    text = ningbo.get_body(preferencelist=("plain",)).get_content()
    assert "举办场次: 1" in text and "邀请人数: 2" in text
    assert "宁波 · 11月项目对接会" in text  # its line among the series
    assert "2026年12月安排（1 场）" in text and "宁波 · 12月技术交流会" in text
    assert "https://exsched.test/console/reports?from=2026-11&to=2026-11&chapter=ningbo" in text
    [sheet] = [p for p in ningbo.iter_attachments() if p.get_filename() == "report-ningbo-2026-11.xlsx"]
    cells = list(load_workbook(io.BytesIO(sheet.get_content())).active.iter_rows(values_only=True))
    assert cells[0][:5] == ("系列", "举办场次", "取消", "调整", "邀请人数")
    assert cells[1][0] == "宁波 · 宁波 · 11月项目对接会" and cells[1][1] == 1 and cells[1][4] == 2
    assert cells[-1][0] == "合计" and cells[-1][4] == 2

    office = mails["office@assoc.example"]
    assert office["Subject"] == "全省各分会 2026年11月月报"
    office_text = office.get_body(preferencelist=("plain",)).get_content()
    assert "邀请人数: 2" in office_text and "宁波:" in office_text  # a line per chapter
    wenzhou = mails["li@wz.assoc.example"].get_body(preferencelist=("plain",)).get_content()
    assert "举办场次: 0" in wenzhou and "上个月没有举办活动" in wenzhou

    [post] = robot.said("月报")
    content = post["markdown"]["content"]
    assert "2026年11月：举办 1 场" in content and "2026年12月安排（1 场）" in content
    assert "/console/reports?from=2026-11&to=2026-11&chapter=ningbo" in content

    sent = world.notices(kind="digest")
    assert {n.status for n in sent} == {"sent"} and all(n.series_id is None for n in sent)
    assert {n.chapter for n in sent} == {None, "ningbo", "wenzhou"}
    world.clock.now = DUE + timedelta(hours=1)
    assert plan(world) == 4
    world.run(DUE + timedelta(hours=2))
    assert len(digest_mails(world)) == 3 and len(robot.said("月报")) == 1  # once


def test_a_digest_found_a_week_late_is_skipped_with_the_reason(world: World) -> None:
    staff(world, "office", "office@assoc.example")
    world.clock.now = DUE - timedelta(hours=1)
    assert plan(world) == 1
    world.run(DUE + DIGEST_GRACE + timedelta(hours=1))  # the system was down all week
    [notice] = world.notices(kind="digest")
    assert notice.status == "skipped" and notice.reason_code == "digest-too-late"
    assert digest_mails(world) == {}
    world.clock.now = DUE + DIGEST_GRACE + timedelta(hours=1)
    assert plan(world) == 0  # and not planned again


def test_a_digest_for_someone_disabled_or_without_an_address_since_it_was_planned_is_cancelled(
    world: World,
) -> None:
    staff(world, "chen.nb", "chen@nb.assoc.example", chapter="ningbo")
    world.clock.now = DUE - timedelta(hours=1)
    assert plan(world) == 1
    with world.db.session() as session:
        set_email(session.query(StaffRow).filter_by(username="chen.nb").one(), "")
    world.run(DUE)
    [notice] = world.notices(kind="digest")
    assert notice.status == "cancelled" and notice.reason_code == "recipient-gone"


def test_the_ledger_shows_digests_to_whom_they_belong(world: World) -> None:
    staff(world, "office", "office@assoc.example")
    staff(world, "chen.nb", "chen@nb.assoc.example", chapter="ningbo")
    staff(world, "li.wz", "li@wz.assoc.example", chapter="wenzhou")
    world.clock.now = DUE - timedelta(hours=1)
    plan(world)
    world.run(DUE)
    office, _ = try_sign_in(world.client, "office", PASSWORD)
    page = office.get("/console/ledger?kind=digest").text
    assert (
        "全省各分会 2026-11 月报" in page
        and "宁波分会 2026-11 月报" in page
        and "温州分会 2026-11 月报" in page
    )
    assert page.count('data-kind="digest"') == 3
    ningbo, _ = try_sign_in(world.client, "chen.nb", PASSWORD)
    page = ningbo.get("/console/ledger?kind=digest").text
    assert page.count('data-kind="digest"') == 1 and "宁波分会 2026-11 月报" in page
    assert "全省各分会" not in page and "温州分会 2026-11" not in page
    assert "chen.nb" in page  # to whom
    listed = world.client.get("/api/v1/notices?kind=digest", headers=world.admin).json()
    assert len(listed) == 3 and all(n["series_id"] is None and n["staff_id"] for n in listed)
    with world.db.session() as session:
        rows = session.query(NoticeRow).filter_by(kind="digest").all()
        assert all(r.occurrence_uid.startswith("digest:") for r in rows)
