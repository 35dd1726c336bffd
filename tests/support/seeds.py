"""What a browser test puts in the running exsched's database before opening a page: one series
with its first session, members and their answers, its notices planned, one made to fail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import MemberRow, NoticeRow, SeriesRow, SubscriptionRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series, occurrences
from scheduler.notices.answers import answer
from scheduler.notices.planner import Planner
from schemas.api import SeriesCreate
from schemas.ids import recurrence_stamp
from schemas.names import Role
from tests.support.api import series_body
from tests.support.browser import Console

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Seeded:
    series_id: uuid.UUID
    stamp: str  # the first session's, as console URLs write it
    members: list[uuid.UUID]


def seed_session(
    console: Console,
    title: str,
    chapter: str,
    *,
    days: int,
    people: Sequence[tuple[str, str, str | None]] = (),
    follow: str | None = "chapter",
    plan: bool = False,
    domain: str = "",
    **series: Any,
) -> Seeded:
    """A series ``days`` from now (ago, when negative; one session unless ``rrule`` says
    otherwise), and ``people`` as (name, company, answer or None), following the chapter, the
    series or nothing (``follow``); each answer goes through the seats (in order: a full session
    makes the later ones wait). ``plan`` plans its notices now. Emails (at ``domain``, else the chapter's) and
    feed tokens are unique per call: the tests of a module share one database."""
    db = Database(console.database_url)
    tag = uuid.uuid4().hex[:8]
    first = (datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=days)).replace(
        tzinfo=None, microsecond=0
    )
    body = series_body(
        **({"rrule": None} | series | {"title": title, "chapter": chapter, "dtstart": first.isoformat()})
    )
    with db.session() as session:
        made = SeriesCreate.model_validate(body)
        series_id = create_series(session, made, Principal(role=Role.ADMIN), console.base).id
    members: list[uuid.UUID] = []
    with db.session() as session:
        row = session.scalar(
            select(SeriesRow).where(SeriesRow.id == series_id).options(selectinload(SeriesRow.overrides))
        )
        assert row is not None
        since = min(datetime.now(UTC), first.replace(tzinfo=SHANGHAI).astimezone(UTC)) - timedelta(hours=1)
        occ = occurrences(row, ChineseStatutoryCalendar(), since, since + timedelta(days=400))[0]
        for n, (name, company, response) in enumerate(people):
            member = MemberRow(
                name=name,
                email=f"p{n}.{tag}@{domain or chapter + '.example'}",
                company=company,
                chapter=chapter,
                feed_token=f"seed{tag}{n:020d}",
            )
            session.add(member)
            session.flush()
            members.append(member.id)
            if follow == "chapter":
                session.add(SubscriptionRow(member_id=member.id, target_type="chapter", target=chapter))
            elif follow == "series":
                target = str(series_id)
                session.add(
                    SubscriptionRow(
                        member_id=member.id, target_type="series", target=target, series_id=series_id
                    )
                )
            if response:
                answer(session, row, occ, member.id, response, datetime.now(UTC), source="staff")
        row.plan_requested_at = datetime.now(UTC)
        stamp = recurrence_stamp(occ.recurrence_id)
    if plan:
        Planner(db, ChineseStatutoryCalendar()).plan_series(series_id)
    db.dispose()
    return Seeded(series_id, stamp, members)


def fail_one(
    console: Console, series_id: uuid.UUID, code: str, params: dict[str, Any], *, robot: bool = False
) -> None:
    """Mark one of the series' planned notices failed (a robot's, or a member's), with why."""
    db = Database(console.database_url)
    with db.session() as session:
        recipient = NoticeRow.webhook_id if robot else NoticeRow.member_id
        notice = session.scalars(
            select(NoticeRow).where(NoticeRow.series_id == series_id, recipient.is_not(None))
        ).first()
        assert notice is not None, "plan the series first"
        notice.status, notice.reason_code, notice.reason_params = "failed", code, params
    db.dispose()
