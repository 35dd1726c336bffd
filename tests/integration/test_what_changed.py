"""Changes members can read: an update says what changed since the member was last told (the
old and the new time, venue, agenda), bringing a cancelled session back reads as "on again",
and a cancellation carries the reason staff gave — in email and in the chapter's chat group."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import update

from scheduler.db.models import NoticeRow
from tests.support.robot import Robot
from tests.support.world import World, a_session, add_webhook, subscribed

OCCURRENCE = "20261210T060000Z"
VENUE = "宁波国际会展中心 3号会议室"


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def changes_in(mail: EmailMessage) -> list[str]:
    """The lines of the letter's "what changed" list (empty when it has none)."""
    text = text_of(mail).replace("\r\n", "\n")
    if "变更内容\n" not in text and "What changed\n" not in text:
        return []
    block = text.split("变更内容\n" if "变更内容\n" in text else "What changed\n", 1)[1]
    return block.split("\n\n", 1)[0].splitlines()


def change(world: World, series: dict, **patch: object) -> None:
    url = f"/api/v1/series/{series['id']}/occurrences/{OCCURRENCE}"
    response = world.client.patch(url, json=patch, headers=world.admin)
    assert response.status_code == 200, response.text
    world.run(world.clock.now + timedelta(minutes=1))


def mails_to(world: World, address: str) -> list[EmailMessage]:
    return [m for m in world.mails() if m["To"].addresses[0].addr_spec == address]


def test_an_update_says_what_changed_in_each_members_language_and_zone(world: World) -> None:
    subscribed(world)  # 陈静, Beijing time
    subscribed(world, name="Anna Rossi", email="anna@tessuti.example", locale="en", timezone="Europe/Rome")
    series = a_session(world)
    world.run()
    change(
        world, series, start="2026-12-11T09:30:00", venue="宁波国际会展中心 5号厅", agenda="面料数字化打样"
    )

    [_, update] = mails_to(world, "chen.jing@lihua.example")
    assert update["Subject"].startswith("【变更】")
    text = text_of(update)
    assert "有以下变更" in text and "第 1 版" not in text
    assert changes_in(update) == [
        "时间：2026年12月10日 周四 14:00–16:00 → 2026年12月11日 周五 09:30–11:30",
        f"地点：{VENUE} → 宁波国际会展中心 5号厅",
        "议程：（无） → 面料数字化打样",
    ]  # the title did not change: not listed
    html = html_of(update)
    assert "变更内容" in html and "line-through" in html and "<strong>宁波国际会展中心 5号厅</strong>" in html

    [_, english] = mails_to(world, "anna@tessuti.example")
    assert "has changed as shown below" in text_of(english)
    assert changes_in(english)[0] == (
        "Time: Thursday 10 December 2026, 07:00–09:00 → Friday 11 December 2026, 02:30–04:30"
    )
    assert "(Italy Time, UTC+01:00)" in text_of(english) and "Europe/Rome" not in text_of(english)


def test_an_update_compares_with_what_this_member_was_told_last(world: World) -> None:
    """Two changes, the member told of each: the second update names only the second change."""
    subscribed(world)
    series = a_session(world)
    world.run()
    change(world, series, venue="宁波国际会展中心 5号厅")
    change(world, series, start="2026-12-10T15:00:00")
    _, first, second = mails_to(world, "chen.jing@lihua.example")
    assert changes_in(first) == [f"地点：{VENUE} → 宁波国际会展中心 5号厅"]
    assert changes_in(second) == ["时间：2026年12月10日 周四 14:00–16:00 → 2026年12月10日 周四 15:00–17:00"]
    told = {n.kind: n.told for n in world.notices() if n.kind in ("invitation", "update") and n.sequence < 2}
    assert told["invitation"] and told["invitation"]["location"] == VENUE
    assert told["invitation"]["start"] == "2026-12-10T06:00:00+00:00"


def test_an_update_of_a_notice_sent_before_they_were_kept_gives_the_plan(world: World) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    with world.db.session() as session:  # as rows sent before migration 0017 are
        session.execute(update(NoticeRow).values(told=None))
    change(world, series, venue="宁波国际会展中心 5号厅")
    [_, update_mail] = world.mails()
    text = text_of(update_mail)
    assert "有变更，以下为最新安排。" in text and changes_in(update_mail) == []
    assert "地点：宁波国际会展中心 5号厅" in text


def test_a_cancellation_carries_the_reason_and_a_restore_reads_on_again(world: World, robot: Robot) -> None:
    add_webhook(world, robot)
    subscribed(world)
    series = a_session(world)
    world.run()
    change(world, series, status="cancelled", reason="受台风影响，会展中心临时闭馆")
    [_, cancelled] = world.mails()
    assert cancelled["Subject"].startswith("【取消】")
    assert "取消原因：受台风影响，会展中心临时闭馆" in text_of(cancelled)
    assert "取消原因：受台风影响，会展中心临时闭馆" in html_of(cancelled)
    group = robot.posts[-1][1]["markdown"]["content"]
    assert "【取消】" in group and "取消原因：受台风影响，会展中心临时闭馆" in group
    occurrence = world.client.get(f"/api/v1/series/{series['id']}/occurrences").json()[0]
    assert occurrence["cancel_reason"] == "受台风影响，会展中心临时闭馆"

    change(world, series, status="scheduled")
    [_, _, resumed] = world.mails()
    assert resumed["Subject"].startswith("【恢复举行】")
    text = text_of(resumed)
    assert "此前通知取消的宁波技术交流会将恢复举行" in text and changes_in(resumed) == []
    assert "取消原因" not in text
    [part] = [p for p in resumed.walk() if p.get_content_type() == "text/calendar"]
    assert b"METHOD:REQUEST" in part.get_payload(decode=True)
    group = robot.posts[-1][1]["markdown"]["content"]
    assert "【恢复举行】" in group and "此前取消的活动恢复举行。" in group
    occurrence = world.client.get(f"/api/v1/series/{series['id']}/occurrences").json()[0]
    assert occurrence["status"] == "scheduled" and occurrence["cancel_reason"] is None


def test_a_restore_that_also_moves_the_session_says_both(world: World) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    change(world, series, status="cancelled")
    change(world, series, status="scheduled", start="2026-12-12T14:00:00")
    [_, cancelled, resumed] = world.mails()
    assert "取消原因" not in text_of(cancelled)  # none given, none shown
    assert resumed["Subject"].startswith("【恢复举行】")
    assert changes_in(resumed) == ["时间：2026年12月10日 周四 14:00–16:00 → 2026年12月12日 周六 14:00–16:00"]


def test_cancelling_a_series_with_a_reason_tells_every_member_why(world: World) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    response = world.client.delete(
        f"/api/v1/series/{series['id']}", params={"reason": "本系列并入宁波分会年度大会"}, headers=world.admin
    )
    assert response.status_code == 204
    world.run(world.clock.now + timedelta(minutes=1))
    [_, cancelled] = world.mails()
    assert "取消原因：本系列并入宁波分会年度大会" in text_of(cancelled)
    assert (
        world.client.get(f"/api/v1/series/{series['id']}").json()["cancel_reason"]
        == "本系列并入宁波分会年度大会"
    )


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"status": "scheduled", "reason": "没有取消"}, "reason"),
        ({"status": "cancelled", "reason": "第一行\r\n第二行"}, "reason"),
        ({"status": "cancelled", "reason": "长" * 501}, "reason"),
    ],
)
def test_a_reason_that_cannot_be_sent_is_refused_with_why(world: World, patch: dict, where: str) -> None:
    series = a_session(world)
    url = f"/api/v1/series/{series['id']}/occurrences/{OCCURRENCE}"
    response = world.client.patch(url, json=patch, headers=world.admin)
    assert response.status_code == 422
    assert where in response.text
    refused = world.client.delete(
        f"/api/v1/series/{series['id']}", params={"reason": "a\nb"}, headers=world.admin
    )
    assert refused.status_code == 422 and "reason" in refused.text
    assert world.client.get(f"/api/v1/series/{series['id']}").json()["status"] == "active"
