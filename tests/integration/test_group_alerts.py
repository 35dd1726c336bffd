"""Alerts to a chapter's chat group: a seat given up at a full session, and the hour's failed
notices (once an hour, however many fail) — sent as WeCom posts to a robot on loopback."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.test_attendees import attendees_url
from tests.integration.test_seats import catch_up
from tests.support.robot import Robot
from tests.support.smtp import SmtpSink
from tests.support.world import World, a_session, add_webhook, subscribed


def posts(robot: Robot) -> list[str]:
    return [payload["markdown"]["content"] for _, payload in robot.posts]


def answer(world: World, series: dict, member: dict, response: str) -> None:
    url = f"{attendees_url(world, series)}/{member['id']}"
    assert world.client.put(url, json={"response": response}, headers=world.admin).status_code == 200


def test_a_seat_given_up_at_a_full_session_is_told_to_the_group_with_who_holds_it_now(
    world: World, robot: Robot
) -> None:
    add_webhook(world, robot)
    chen = subscribed(world)
    wang = subscribed(world, name="王磊", email="wang.lei@lihua.example", company="欧佳制衣")
    series = a_session(world, capacity=1)
    world.run()
    answer(world, series, chen, "accepted")
    answer(world, series, wang, "accepted")  # full: waits
    answer(world, series, wang, "declined")  # a waiting member leaving frees no seat: no alert
    answer(world, series, wang, "accepted")
    catch_up(world)
    assert not [p for p in posts(robot) if "【工作提醒】" in p]
    answer(world, series, chen, "declined")  # the seat holder gives it up
    catch_up(world)
    [alert] = [p for p in posts(robot) if "【工作提醒】" in p]
    assert "陈静（丽华服饰）不参加已满员的场次，候补 0 人。空出的席位已保留给 王磊。" in alert
    assert "数字化制衣技术交流会" in alert
    answer(world, series, chen, "accepted")
    answer(world, series, chen, "declined")  # told once per member and session
    catch_up(world)
    assert len([p for p in posts(robot) if "【工作提醒】" in p]) == 1
    [notice] = world.notices(kind="alert")
    assert notice.status == "sent" and notice.webhook_id is not None


def test_failed_notices_are_told_to_the_group_once_an_hour_with_their_count(
    world: World, robot: Robot, smtp_sink: SmtpSink
) -> None:
    add_webhook(world, robot)
    for n in range(3):
        member = subscribed(world, name=f"成员{n}", email=f"m{n}@gone.example")
        smtp_sink.reject.add(member["email"])
    a_session(world)
    world.run()
    assert sorted(n.status for n in world.notices(kind="invitation") if n.member_id) == ["failed"] * 3
    [alert] = world.notices(kind="alert")
    assert alert.status == "pending" and alert.due_at > world.clock.now  # gathers the hour's failures
    world.run(world.clock.now + timedelta(minutes=3))
    [post] = [p for p in posts(robot) if "【工作提醒】" in p]
    assert "有 3 条成员通知发送失败" in post and "投递记录" in post
    assert len(world.notices(kind="alert")) == 1
