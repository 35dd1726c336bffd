"""What a session achieved, as fields: the follow-up page in the member's language (firms picked
from those who came or typed, intention, contract, value; or a rating), corrected until 30 days
after the session and then closed; staff recording a report for a member; the outcomes API."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import FollowupResponseRow, MemberRow, RsvpRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import occurrences
from scheduler.domain.tokens import sign
from scheduler.ops.config import Settings
from tests.support.api import create_series
from tests.support.console import csrf_of, signed_in
from tests.support.services import make_key

SHANGHAI_OFFSET = timedelta(hours=8)


def a_past_session(client: TestClient, admin: dict[str, str], days_ago: int, kind: str) -> dict:
    """A one-off session ``days_ago`` days back (Shanghai 14:00), and its occurrence UID."""
    start = (datetime.now(UTC) + SHANGHAI_OFFSET - timedelta(days=days_ago)).replace(
        hour=14, minute=0, second=0, microsecond=0, tzinfo=None
    )
    return create_series(
        client, admin, title=f"宁波 · {kind} 会", kind=kind, dtstart=start.isoformat(), rrule=None
    )


def uid_of(db: Database, series_id: str) -> tuple[str, datetime]:
    with db.session() as session:
        row = session.get(SeriesRow, uuid.UUID(series_id))
        assert row is not None
        [occ] = occurrences(
            row,
            ChineseStatutoryCalendar(),
            datetime(2000, 1, 1, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
        )
        return occ.uid, occ.end


def people(
    db: Database, series_id: str, uid: str, rows: list[tuple[str, str, str, str | None]]
) -> list[uuid.UUID]:
    """Members (name, company, locale, answer) invited to the session with their answers."""
    made = []
    with db.session() as session:
        for n, (name, company, locale, answer) in enumerate(rows):
            member = MemberRow(
                name=name, email=f"p{n}.{uuid.uuid4().hex[:6]}@firm.example", company=company,
                chapter="ningbo", locale=locale, feed_token=uuid.uuid4().hex,
            )  # fmt: skip
            session.add(member)
            session.flush()
            if answer:
                session.add(
                    RsvpRow(
                        series_id=uuid.UUID(series_id),
                        member_id=member.id,
                        occurrence_uid=uid,
                        response=answer,
                    )
                )
            made.append(member.id)
    return made


def link(settings: Settings, member_id: uuid.UUID, series_id: str, uid: str, end: datetime) -> str:
    claims = {"m": str(member_id), "s": series_id, "o": uid}
    return "/followup/" + sign(settings.secret_key, "followup", claims, expires=end + timedelta(days=60))


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


def test_a_docking_report_picks_the_firms_that_came_and_says_what_came_of_it(
    client: TestClient, admin: dict[str, str], db: Database, settings: Settings
) -> None:
    made = a_past_session(client, admin, 2, "project-docking")
    uid, end = uid_of(db, made["id"])
    me, _, _, _ = people(
        db, made["id"], uid,
        [("王磊", "锦程服饰", "zh-CN", "accepted"), ("李娜", "森马面料", "zh-CN", "accepted"),
         ("赵敏", "欧嘉针织", "zh-CN", "declined"), ("孙杰", "恒丰辅料", "zh-CN", "accepted")],
    )  # fmt: skip
    path = link(settings, me, made["id"], uid, end)
    page = client.get(path).text
    assert "本次与多少家企业进行了洽谈？" in page
    offered = re.findall(r'name="firms" value="([^"]+)"', page)
    assert offered == ["恒丰辅料", "森马面料"]  # those who came, not the one who declined, not oneself

    bad = client.post(
        path, data={"csrf": csrf(page), "contacts": "三", "value_wan": "1.25", "contract": "false"}
    )
    assert bad.status_code == 422
    assert re.search(r'id="err-contacts" role="alert">请填写整数', bad.text)
    assert re.search(r'id="err-value_wan" role="alert">请填写数字，最多一位小数', bad.text)
    assert re.search(r'id="err-intention" role="alert">', bad.text)
    assert 'value="1.25"' in bad.text  # what was typed stays
    with db.session() as session:
        assert session.scalar(select(FollowupResponseRow)) is None

    sent = client.post(
        path,
        data={
            "csrf": csrf(page),
            "contacts": "3",
            "firms": ["森马面料"],
            "other_firms": "博奥袜业、 义乌美佳",
            "intention": "true",
            "contract": "true",
            "value_wan": "12.5",
            "note": "打样两款",
        },
    )
    assert sent.status_code == 200 and "谢谢！已记录。" in sent.text
    with db.session() as session:
        row = session.scalars(select(FollowupResponseRow)).one()
        assert (row.contacts, row.firms, row.intention, row.contract) == (
            3,
            ["森马面料", "博奥袜业", "义乌美佳"],
            True,
            True,
        )
        assert (row.value_wan, row.text, row.source, row.recorded_by) == (
            Decimal("12.5"),
            "打样两款",
            "member",
            None,
        )
    again = client.get(path).text  # shown to correct
    assert re.search(r'name="firms" value="森马面料" checked', again) and 'value="12.5"' in again
    assert "博奥袜业、义乌美佳" in again


def test_a_tech_exchange_is_rated_in_the_members_language(
    client: TestClient, admin: dict[str, str], db: Database, settings: Settings
) -> None:
    made = a_past_session(client, admin, 1, "tech-exchange")
    uid, end = uid_of(db, made["id"])
    [anna] = people(db, made["id"], uid, [("Anna Rossi", "Tessile Srl", "en", "accepted")])
    path = link(settings, anna, made["id"], uid, end)
    page = client.get(path).text
    assert "Overall rating" in page and "总体评价" not in page
    too_high = client.post(path, data={"csrf": csrf(page), "rating": "6"})
    assert too_high.status_code == 422 and "Out of the allowed range." in too_high.text
    client.post(
        path, data={"csrf": csrf(page), "rating": "4", "useful": "Laser cutting demo", "next_topic": "Dyeing"}
    ).raise_for_status()
    with db.session() as session:
        row = session.scalars(select(FollowupResponseRow)).one()
        assert (row.kind, row.rating, row.useful, row.next_topic, row.contacts) == (
            "feedback",
            4,
            "Laser cutting demo",
            "Dyeing",
            None,
        )


def test_a_report_is_closed_30_days_after_the_session(
    client: TestClient, admin: dict[str, str], db: Database, settings: Settings
) -> None:
    made = a_past_session(client, admin, 31, "tech-exchange")
    uid, end = uid_of(db, made["id"])
    [me] = people(db, made["id"], uid, [("王磊", "锦程服饰", "zh-CN", "accepted")])
    path = link(settings, me, made["id"], uid, end)
    page = client.get(path).text
    assert "已超过会后 30 天，不能再修改" in page and '<fieldset class="plain" disabled>' in page
    refused = client.post(path, data={"csrf": csrf(page), "rating": "5"})
    assert refused.status_code == 409 and "已超过会后 30 天" in refused.text
    with db.session() as session:
        assert session.scalar(select(FollowupResponseRow)) is None


def test_staff_record_a_report_from_a_phone_call_and_the_api_lists_it(
    client: TestClient, admin: dict[str, str], db: Database, settings: Settings
) -> None:
    made = a_past_session(client, admin, 3, "project-docking")
    uid, end = uid_of(db, made["id"])
    wang, _ = people(
        db,
        made["id"],
        uid,
        [("王磊", "锦程服饰", "zh-CN", "accepted"), ("李娜", "森马面料", "zh-CN", "accepted")],
    )
    staff = signed_in(client, db, "nb", role="chapter", chapter="ningbo")
    occurrences_page = staff.get(f"/console/series/{made['id']}").text
    [path] = set(re.findall(r"/console/series/[0-9a-f-]+/occurrences/\d{8}T\d{6}Z", occurrences_page))
    form = staff.get(path + "/outcomes").text
    assert "代会员记录（电话回访）" in form
    missing = staff.post(
        path + "/outcomes",
        data={"csrf": csrf_of(form), "contacts": "1", "intention": "false", "contract": "false"},
    )
    assert missing.status_code == 422 and "请选择受邀参加本场的会员" in missing.text
    recorded = staff.post(
        path + "/outcomes",
        data={
            "csrf": csrf_of(form),
            "member": str(wang),
            "contacts": "2",
            "firms": ["森马面料"],
            "intention": "true",
            "contract": "false",
            "note": "电话回访",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    listed = staff.get(path + "/outcomes").text
    assert (
        "洽谈 2 家；对接企业：森马面料；有合作意向；未签约；说明：电话回访" in listed
        and "工作人员 nb 代填" in listed
    )
    assert "洽谈 2 家" in staff.get(path).text  # the session's page says it too

    api = client.get(
        f"/api/v1/series/{made['id']}/occurrences/{path.rsplit('/', 1)[1]}/outcomes",
        headers=make_key(db, "chapter", "ningbo"),
    )
    assert api.status_code == 200
    [out] = api.json()
    assert (
        out["name"],
        out["contacts"],
        out["firms"],
        out["intention"],
        out["source"],
        out["recorded_by"],
    ) == ("王磊", 2, ["森马面料"], True, "staff", "nb")
    other = client.get(
        f"/api/v1/series/{made['id']}/occurrences/{path.rsplit('/', 1)[1]}/outcomes",
        headers=make_key(db, "chapter", "yiwu"),
    )
    assert other.status_code == 403

    # The member's own answer later replaces what staff entered.
    page = client.get(link(settings, wang, made["id"], uid, end)).text
    assert 'value="2"' in page
    client.post(
        link(settings, wang, made["id"], uid, end),
        data={"csrf": csrf(page), "contacts": "4", "intention": "true", "contract": "true"},
    ).raise_for_status()
    with db.session() as session:
        row = session.scalars(select(FollowupResponseRow).where(FollowupResponseRow.member_id == wang)).one()
        assert (row.contacts, row.source, row.recorded_by) == (4, "member", None)
