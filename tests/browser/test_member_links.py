"""A member on a phone opens the accept link of an invitation: the page says what will be
answered, and only its button answers (Chromium, zh-CN, a 390 px wide viewport)."""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduler.db.models import RsvpRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.members import create_member, subscribe
from scheduler.domain.series import create_series
from scheduler.notices.planner import request_plan
from schemas.api import MemberCreate, SeriesCreate, SubscriptionCreate
from schemas.names import Role
from tests.support.api import series_body
from tests.support.browser import Console
from tests.support.processes import local

pytestmark = pytest.mark.browser
ADMIN = Principal(Role.ADMIN)


def invitation_to(outbox: Path, address: str, timeout: float = 90) -> email.message.EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.rglob("*.eml")):
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            plain = mail.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            if address in str(mail["To"]) and plain is not None and "/rsvp/" in plain.get_content():
                return mail  # type: ignore[return-value]
        time.sleep(0.5)
    pytest.fail(f"no invitation to {address} in the outbox within {timeout} s")


def test_a_member_confirms_on_a_phone_that_they_will_attend(
    phone: Page, console: Console, artifacts: Path
) -> None:
    db = Database(console.database_url)
    with db.session() as session:
        member = create_member(
            session,
            MemberCreate(name="陈静", email="chen.phone@lihua.example", company="丽华服饰", chapter="ningbo"),
            ADMIN,
        )
        subscribe(session, member, SubscriptionCreate(chapter="ningbo"), ADMIN)
        body = series_body(
            title="宁波 · 面料供应对接会", dtstart=local(datetime.now(UTC) + timedelta(days=3)), rrule=None
        )
        series = create_series(session, SeriesCreate.model_validate(body), ADMIN, console.base)
        request_plan(session, series_ids=[series.id])  # as the API does: the scheduler plans it now
        member_id = member.id
    mail = invitation_to(console.outbox, "chen.phone@lihua.example")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    accept = next(url for url in re.findall(r"https?://\S+", text) if "/rsvp/" in url)

    phone.goto(accept)
    expect(phone.get_by_text("您将回复：参加这场活动。")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-rsvp-confirm.png"), full_page=True)
    with db.session() as session:  # opening the link answered nothing
        assert session.scalars(select(RsvpRow).where(RsvpRow.member_id == member_id)).all() == []
    phone.get_by_role("button", name=re.compile("确认回复")).click()
    expect(phone.get_by_text("已确认参加，谢谢！")).to_be_visible()
    phone.screenshot(path=str(artifacts / "member-rsvp-done.png"), full_page=True)
    with db.session() as session:
        [answer] = session.scalars(select(RsvpRow).where(RsvpRow.member_id == member_id)).all()
    assert (answer.response, answer.source) == ("accepted", "link")
    assert "Chrome" in (answer.user_agent or "")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    db.dispose()
