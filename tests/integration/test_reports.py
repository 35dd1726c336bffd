"""Reports against a seeded history whose answers are known: two chapters, a monthly docking
series with one session cancelled, a tech exchange rated twice; invitations sent and bounced,
answers, a check-in, follow-up reports. The figures per chapter, series and month, the console's
page as the province office and as a chapter, and the Excel file read back with openpyxl."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from scheduler.db.models import FollowupResponseRow, MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.reports import Report, report
from scheduler.domain.series import occurrences
from tests.support.api import create_series
from tests.support.console import signed_in
from tests.support.services import make_key

SHANGHAI = ZoneInfo("Asia/Shanghai")


def months_ago(n: int) -> datetime:
    """The 10th of the month ``n`` months before this one, 14:00 in Shanghai (a Monday or not)."""
    now = datetime.now(SHANGHAI)
    index = now.year * 12 + now.month - 1 - n
    return datetime(index // 12, index % 12 + 1, 10, 14, 0)


def sessions_of(db: Database, series_id: str) -> list[tuple[str, datetime]]:
    with db.session() as session:
        row = session.get(SeriesRow, uuid.UUID(series_id))
        assert row is not None
        found = occurrences(
            row,
            ChineseStatutoryCalendar(),
            datetime(2000, 1, 1, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
        )
        return [(o.uid, o.recurrence_id) for o in found]


History = dict[str, object]


@pytest.fixture
def history(client: TestClient, admin: dict[str, str], db: Database) -> History:
    docking = create_series(
        client, admin, title="宁波 · 面料对接会", kind="project-docking", chapter="ningbo",
        dtstart=months_ago(3).isoformat(), rrule="FREQ=MONTHLY;COUNT=3", skip_holidays="none",
    )  # fmt: skip
    exchange = create_series(
        client, admin, title="义乌 · 针织技术交流会", kind="tech-exchange", chapter="yiwu",
        dtstart=months_ago(2).isoformat(), rrule=None, skip_holidays="none",
    )  # fmt: skip
    (first, rid1), (second, rid2), (third, rid3) = sessions_of(db, docking["id"])
    [(yiwu_uid, yiwu_rid)] = sessions_of(db, exchange["id"])
    rid_of = {first: rid1, second: rid2, third: rid3, yiwu_uid: yiwu_rid}
    stamp2 = rid2.strftime("%Y%m%dT%H%M%SZ")
    client.patch(
        f"/api/v1/series/{docking['id']}/occurrences/{stamp2}", json={"status": "cancelled"}, headers=admin
    ).raise_for_status()
    nb, yw = uuid.UUID(docking["id"]), uuid.UUID(exchange["id"])
    with db.session() as session:
        people = [
            MemberRow(name=f"m{i}", email=f"m{i}@firm.example", company=f"firm{i}", feed_token=f"{i:032d}",
                      chapter="ningbo" if i < 4 else "yiwu")
            for i in range(6)
        ]  # fmt: skip
        session.add_all(people)
        session.flush()
        a, b, c, d, e, f = (p.id for p in people)

        def notice(series: uuid.UUID, uid: str, member: uuid.UUID, kind: str, status: str) -> NoticeRow:
            return NoticeRow(
                id=uuid.uuid4(), series_id=series, member_id=member, occurrence_uid=uid,
                recurrence_id=rid_of[uid], kind=kind, slot="", channel="email", sequence=0,
                due_at=rid_of[uid], status=status,
            )  # fmt: skip

        session.add_all(
            [
                notice(nb, first, a, "invitation", "sent"),
                notice(nb, first, b, "invitation", "sent"),
                notice(nb, first, c, "invitation", "bounced"),
                notice(nb, first, a, "followup", "sent"),
                notice(nb, first, b, "followup", "sent"),
                notice(nb, second, a, "invitation", "sent"),  # a cancelled session counts as cancelled only
                notice(nb, third, a, "invitation", "sent"),
                notice(nb, third, d, "invitation", "failed"),  # not sent: not invited
                notice(yw, yiwu_uid, e, "invitation", "sent"),
                notice(yw, yiwu_uid, f, "invitation", "sent"),
                notice(yw, yiwu_uid, e, "followup", "sent"),
                notice(yw, yiwu_uid, f, "followup", "sent"),
            ]
        )
        now = datetime.now(UTC)

        def answer(
            series: uuid.UUID, uid: str, member: uuid.UUID, response: str, came: bool = False
        ) -> RsvpRow:
            return RsvpRow(series_id=series, member_id=member, occurrence_uid=uid, response=response,
                           checked_in_at=now if came else None)  # fmt: skip

        session.add_all(
            [
                answer(nb, first, a, "accepted", came=True),
                answer(nb, first, b, "accepted"),
                answer(nb, first, c, "waitlisted"),
                answer(nb, third, a, "accepted"),  # no one checked in: says nothing of no-shows
                answer(yw, yiwu_uid, e, "accepted", came=True),
                answer(yw, yiwu_uid, f, "accepted", came=True),
            ]
        )

        def report_of(
            series: uuid.UUID, uid: str, member: uuid.UUID, **fields: object
        ) -> FollowupResponseRow:
            kind = "docking-outcome" if series == nb else "feedback"
            return FollowupResponseRow(
                series_id=series, member_id=member, occurrence_uid=uid, kind=kind, text="", **fields
            )

        session.add_all(
            [
                report_of(nb, first, a, contacts=3, intention=True, contract=True, value_wan=Decimal("12.5")),
                report_of(nb, first, b, contacts=1, intention=False, contract=False, source="staff"),
                report_of(yw, yiwu_uid, e, rating=4),
                report_of(yw, yiwu_uid, f, rating=5),
            ]
        )
    return {
        "docking": docking,
        "exchange": exchange,
        "months": [months_ago(n).strftime("%Y-%m") for n in (3, 2, 1)],
    }


def period() -> tuple[datetime, datetime]:
    start = months_ago(6).replace(day=1, hour=0, tzinfo=SHANGHAI)
    return start, datetime.now(UTC) + timedelta(days=1)


def test_the_figures_per_chapter_are_the_known_ones(history: History, db: Database) -> None:
    start, end = period()
    with db.session() as session:
        made = report(
            session,
            ChineseStatutoryCalendar(),
            chapters=["ningbo", "yiwu", "shaoxing"],
            start=start,
            end=end,
            now=datetime.now(UTC),
        )
    ningbo, yiwu, shaoxing = made.rows
    assert (ningbo.key, yiwu.key, shaoxing.key) == ("ningbo", "yiwu", "shaoxing")
    n = ningbo.figures
    assert (n.held, n.cancelled, n.moved) == (2, 1, 0)
    assert (n.invited, n.accepted, n.waitlisted, n.attended) == (4, 3, 1, 1)  # 3 + 1 at the third
    assert n.no_show_rate == 0.5  # of the two who accepted the session the door checked, one came
    assert (n.emails, n.bounced) == (6, 1)  # 4 invitations and 2 follow-ups; the failed one was not sent
    assert n.bounce_rate == pytest.approx(1 / 6)
    assert (n.followups_sent, n.reports, n.followup_rate) == (2, 2, 1.0)
    assert (n.contacts, n.intentions, n.contracts, n.value_wan) == (4, 1, 1, Decimal("12.5"))
    assert n.rating is None
    y = yiwu.figures
    assert (y.held, y.invited, y.attended, y.no_show_rate, y.rating) == (1, 2, 2, 0.0, 4.5)
    assert shaoxing.figures.held == 0 and made.total.held == 3 and made.total.invited == 6


def report_over(db: Database, **choice: str) -> Report:
    """The seeded period's report for Ningbo and Yiwu, grouped or filtered as ``choice`` says."""
    start, end = period()
    with db.session() as session:
        return report(
            session, ChineseStatutoryCalendar(), chapters=["ningbo", "yiwu"], start=start, end=end,
            now=datetime.now(UTC), **choice,  # type: ignore[arg-type]
        )  # fmt: skip


def test_the_figures_per_series_and_month_add_up_to_the_same(history: History, db: Database) -> None:
    by_series = report_over(db, group_by="series")
    by_month = report_over(db, group_by="month")
    docking = report_over(db, kind="project-docking")
    assert [r.label for r in by_series.rows] == ["宁波 · 面料对接会", "义乌 · 针织技术交流会"]
    months = {r.key: r.figures for r in by_month.rows}
    first, second, third = history["months"]  # type: ignore[misc]
    assert (months[first].held, months[first].accepted, months[second].cancelled, months[second].held) == (
        1,
        2,
        1,
        1,
    )
    assert months[third].accepted == 1
    assert by_series.total == by_month.total
    assert docking.total.held == 2 and docking.total.rating is None


def test_the_reports_page_as_the_office_and_as_a_chapter(
    history: History, client: TestClient, db: Database
) -> None:
    first = history["months"][0]  # type: ignore[index]
    office = signed_in(client, db, "office")
    page = office.get(
        "/console/reports", params={"from": first, "to": datetime.now(SHANGHAI).strftime("%Y-%m")}
    )
    assert page.status_code == 200
    text = page.text
    assert 'id="chart-attendance"' in text and 'id="chart-chapters"' in text
    row = text.split('data-key="ningbo"', 1)[1].split("</tr>", 1)[0]
    assert '<a href="/console/series?chapter=ningbo">2</a>' in row
    assert '<a href="/console/ledger?chapter=ningbo&amp;kind=invitation">4</a>' in row
    assert ">50%<" in row and ">12.5<" in row
    by_month = office.get(
        "/console/reports",
        params={"from": first, "to": first, "group_by": "month", "chapter": "ningbo"},
    ).text
    month_row = by_month.split(f'data-key="{first}"', 1)[1].split("</tr>", 1)[0]
    found = re.search(
        r'<a href="(/console/ledger\?[^"]+)">(\d+)</a>', month_row.split('data-col="invited"')[1]
    )
    assert found, month_row
    link, invited = found.group(1).replace("&amp;", "&"), int(found.group(2))
    assert f"month={first}" in link and "kind=invitation" in link and "chapter=ningbo" in link
    listed = office.get(link).text  # the list the figure counts
    assert invited > 0 and listed.count('data-kind="invitation"') == invited
    bad = office.get("/console/reports", params={"from": "2026-13", "to": "去年"})
    assert (
        bad.status_code == 422 and 'id="err-from"' in bad.text and "请按 2026-11 的格式填写月份" in bad.text
    )

    xlsx = office.get(
        "/console/reports.xlsx", params={"from": first, "to": datetime.now(SHANGHAI).strftime("%Y-%m")}
    )
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    assert head[:5] == ["分会", "举办场次", "取消", "调整", "邀请人数"]
    ningbo = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "宁波")
    columns = dict(zip(head, ningbo, strict=True))
    assert (columns["举办场次"], columns["缺席率"], columns["金额（万元）"], columns["平均评分"]) == (
        2,
        0.5,
        12.5,
        None,
    )
    assert sheet["I2"].number_format == "0.0%" and sheet.freeze_panes == "B2"

    chapter = signed_in(client, db, "yw", role="chapter", chapter="yiwu")
    mine = chapter.get(
        "/console/reports", params={"from": first, "chapter": "ningbo", "group_by": "chapter"}
    ).text
    assert (
        'data-key="yiwu"' in mine
        and 'data-key="ningbo"' not in mine
        and "宁波" not in mine.split('id="report"', 1)[1]
    )
    assert 'id="chart-chapters"' not in mine


def test_a_sessions_people_download_as_excel_and_csv(
    history: History, client: TestClient, db: Database
) -> None:
    docking = history["docking"]
    (_, rid), *_ = sessions_of(db, docking["id"])  # type: ignore[index]
    path = f"/console/series/{docking['id']}/occurrences/{rid.strftime('%Y%m%dT%H%M%SZ')}/attendees"  # type: ignore[index]
    office = signed_in(client, db, "office")
    sheet = load_workbook(io.BytesIO(office.get(path + ".xlsx").content)).active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    assert head == ["姓名", "单位", "邮箱", "分会", "回复", "候补顺位", "回复时间", "回复方式", "已签到"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["m0"][4] == "参加" and rows["m0"][8] == "是" and rows["m1"][8] == "否"
    assert rows["m2"][4] == "候补" and rows["m2"][5] == 1
    text = office.get(path + ".csv").content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("姓名,单位,邮箱") and "m0,firm0,m0@firm.example,宁波" in text
    assert office.get(path + ".pdf").status_code == 404
    other = signed_in(client, db, "yw2", role="chapter", chapter="yiwu")
    assert other.get(path + ".xlsx").status_code == 403


def test_the_reports_api_gives_the_same_figures_to_staff_keys(
    history: History, client: TestClient, db: Database
) -> None:
    start, _ = period()
    params = {"from": start.date().isoformat(), "to": datetime.now(SHANGHAI).date().isoformat()}
    admin = make_key(db)
    answer = client.get("/api/v1/reports", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ningbo = next(r for r in body["rows"] if r["key"] == "ningbo")["figures"]
    assert (ningbo["held"], ningbo["invited"], ningbo["no_show_rate"], ningbo["value_wan"]) == (
        2,
        4,
        0.5,
        "12.5",
    )
    assert body["total"]["held"] == 3 and body["from"] == params["from"]
    by_month = client.get(
        "/api/v1/reports", params=params | {"group_by": "month", "kind": "tech-exchange"}, headers=admin
    ).json()
    assert sum(r["figures"]["held"] for r in by_month["rows"]) == 1
    yiwu = make_key(db, "chapter", "yiwu")
    mine = client.get("/api/v1/reports", params=params, headers=yiwu).json()
    assert [r["key"] for r in mine["rows"]] == ["yiwu"]
    assert (
        client.get("/api/v1/reports", params=params | {"chapter": "ningbo"}, headers=yiwu).status_code == 403
    )
    backwards = client.get(
        "/api/v1/reports", params={"from": "2026-05-01", "to": "2026-04-01"}, headers=admin
    )
    assert backwards.status_code == 422 and "after 'from'" in backwards.text
    assert client.get("/api/v1/reports", params=params).status_code == 401
