"""A mail scanner opens every link of every kind of email a member can get; nothing changes.

tests/integration/test_workers.py covers invitations, reminders and follow-ups; here: updates and
cancellations, and the mails members ask for (sign-in, a new address, joining, a member who asks
to join again) and the welcome staff send by approving a request.
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.db.models import (
    ChapterRow,
    JoinRequestRow,
    MemberRow,
    NoticeRow,
    RsvpRow,
    SubscriptionRow,
    UsedLinkRow,
)
from scheduler.ops.config import Settings
from tests.support.console import csrf_of as console_csrf
from tests.support.console import signed_in
from tests.support.members import outbox, page_csrf, sign_in
from tests.support.world import START, World, a_session, subscribed

HOST = "https://exsched.test"


def test_opening_every_link_of_every_kind_of_email_changes_nothing(world: World, settings: Settings) -> None:
    subscribed(world)
    series = a_session(world)
    world.run()
    moved = world.client.patch(
        f"/api/v1/series/{series['id']}/occurrences/20261210T060000Z",
        json={"venue": "宁波国际会展中心 5号厅"},
        headers=world.admin,
    )
    assert moved.status_code == 200
    world.run()
    assert world.client.delete(f"/api/v1/series/{series['id']}", headers=world.admin).status_code == 204
    world.run(START - timedelta(days=1))
    subjects = [m["Subject"][:4] for m in world.mails()]
    assert subjects == ["【邀请】", "【变更】", "【取消】"], subjects

    phone = TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(phone, settings, "chen.jing@lihua.example")
    phone.post("/me/email", data={"csrf": page_csrf(phone), "email": "chen@newmail.example"})
    with world.db.session() as session:
        session.get(ChapterRow, "yiwu").join_approval = True  # type: ignore[union-attr]
    joiner = {"name": "王磊", "company": "义乌织造", "email": "wang@yiwu.example", "chapter": "yiwu"}
    phone.post("/join/yiwu", data=joiner)
    phone.post("/join/ningbo", data={**joiner, "email": "chen.jing@lihua.example", "chapter": "ningbo"})
    [confirm] = [m for m in outbox(settings) if m["Subject"] == "确认加入义乌分会"]
    confirm_link = re.search(r"https://exsched\.test(/join/confirm/\S+)", body(confirm))
    assert confirm_link
    form = phone.get(confirm_link.group(1)).text
    phone.post(
        confirm_link.group(1), data={"csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)}
    )  # type: ignore[union-attr]
    staff = signed_in(world.client, world.db, "yiwu-staff", role="chapter", chapter="yiwu")
    with world.db.session() as session:
        request_id = session.scalars(select(JoinRequestRow.id)).one()
    approved = staff.post(
        f"/console/joins/{request_id}/approve", data={"csrf": console_csrf(staff.get("/console/joins").text)}
    )
    assert approved.status_code == 200
    member_mails = {m["Subject"] for m in outbox(settings)}
    assert member_mails >= {
        "登录我的活动页",
        "确认你的新邮箱地址",
        "确认加入义乌分会",
        "你已经是会员",
        "欢迎加入义乌分会",
    }, member_mails
    # a new request, to leave one confirmation unused
    phone.post("/join/yiwu", data={**joiner, "email": "zhao@x.example", "name": "赵六"})

    links = {
        url.split(HOST, 1)[1]
        for mail in [*world.mails(), *outbox(settings)]
        for url in re.findall(
            re.escape(HOST) + r'[^\s"<>]*', body(mail) + str(mail["List-Unsubscribe"] or "")
        )
    }
    kinds = {
        link.split("/")[1] + ("/" + link.split("/")[2] if link.startswith(("/me/", "/join/")) else "")
        for link in links
    }
    assert kinds >= {"rsvp", "unsubscribe", "me/link", "me/email", "join/confirm"}, kinds

    def state() -> list[object]:
        with world.db.session() as session:
            return [
                sorted(
                    (m.email, m.name, m.session_epoch, m.feed_token)
                    for m in session.scalars(select(MemberRow))
                ),
                sorted((s.member_id, s.target) for s in session.scalars(select(SubscriptionRow))),
                sorted((r.member_id, r.response) for r in session.scalars(select(RsvpRow))),
                sorted(u.key for u in session.scalars(select(UsedLinkRow))),
                sorted(j.email for j in session.scalars(select(JoinRequestRow))),
                sorted((n.id, n.status) for n in session.scalars(select(NoticeRow))),
            ]

    before = state()
    scanner = TestClient(world.client.app, base_url="https://testserver", follow_redirects=False)
    for link in sorted(links):
        for method in ("GET", "HEAD"):
            assert scanner.request(method, link).status_code < 500, (method, link)
    assert state() == before


def body(mail: object) -> str:
    return "\n".join(
        part.get_content()  # type: ignore[attr-defined]
        for part in mail.walk()  # type: ignore[attr-defined]
        if part.get_content_type() in ("text/plain", "text/html")
    )
