"""Rows written straight to the database, for tests and benchmarks that need volume fast."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from scheduler.db.models import MemberRow, NoticeRow, SeriesRow, SubscriptionRow
from scheduler.db.session import Database
from schemas.names import NoticeStatus
from tests.support.api import series_body
from tests.support.processes import local


def insert_due_notices(db: Database, count: int, now: datetime) -> uuid.UUID:
    """``count`` pending reminders already due at ``now`` (spread over the last ten minutes), for
    one series and one member made here; the session they remind of is a day ahead."""
    series_id, member_id = uuid.uuid4(), uuid.uuid4()
    with db.session() as session:
        session.add(
            SeriesRow(
                id=series_id,
                uid=f"{series_id}@exsched.test",
                kind="tech-exchange",
                status="active",
                title="volume",
                description="",
                chapter="ningbo",
                venue="",
                timezone="Asia/Shanghai",
                dtstart=datetime(2027, 1, 7, 14),
                duration_s=7200,
                rrule=None,
                exdates=[],
                rdates=[],
                skip_holidays="none",
                organizer_name="volume",
                organizer_email="volume@x.example",
                invite_before_s=0,
                reminders_s=[],
                followup_after_s=0,
                sequence=0,
            )
        )
        session.add(
            MemberRow(
                id=member_id,
                name="volume",
                email=f"{member_id}@x.example",
                chapter="ningbo",
                feed_token=member_id.hex,
            )
        )
        session.flush()
        session.execute(
            NoticeRow.__table__.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "series_id": series_id,
                    "member_id": member_id,
                    "occurrence_uid": f"{series_id}-{n}@exsched.test",
                    "recurrence_id": now,
                    "kind": "reminder",
                    "slot": "PT2H",
                    "channel": "email",
                    "sequence": 0,
                    "due_at": now - timedelta(seconds=n % 600),
                    "starts_at": now + timedelta(days=1),
                    "status": NoticeStatus.PENDING.value,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
    return series_id


def add_subscribers(db: Database, count: int) -> None:
    """``count`` members of Ningbo, all following the chapter, written straight to the table."""
    now = datetime.now(UTC)
    with db.session() as session:
        ids = [uuid.uuid4() for _ in range(count)]
        session.execute(
            MemberRow.__table__.insert(),
            [
                {
                    "id": i,
                    "name": f"m{n}",
                    "email": f"m{n}-{i.hex[:6]}@x.example",
                    "company": "",
                    "chapter": "ningbo",
                    "locale": "zh-CN",
                    "timezone": "Asia/Shanghai",
                    "feed_token": i.hex,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )
        session.execute(
            SubscriptionRow.__table__.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "member_id": i,
                    "target_type": "chapter",
                    "target": "ningbo",
                    "created_at": now,
                }
                for i in ids
            ],
        )


def create_series_in_db(db: Database, start: datetime) -> None:
    from scheduler.domain.auth import Principal
    from scheduler.domain.series import create_series
    from scheduler.notices.planner import request_plan
    from schemas.api import SeriesCreate
    from schemas.names import Role

    body = SeriesCreate.model_validate(
        series_body(dtstart=local(start), rrule=None, notices={"invite_before": "P1D", "reminders": []})
    )
    with db.session() as session:
        row = create_series(session, body, Principal(Role.ADMIN), "https://exsched.test")
        request_plan(session, series_ids=[row.id])


def weekend_before(day: date) -> date:
    """The last Saturday or Sunday on or before ``day`` (a day worked instead of a holiday)."""
    while day.weekday() < 5:
        day -= timedelta(days=1)
    return day


def holiday_notice(year: int) -> dict[str, tuple[str, str]]:
    """A State Council notice as staff type it: each break's first and last day off, by the name
    the holiday data uses (a plausible year: the dates matter, not which). 中秋 is joined with
    国庆节, so it is left empty."""
    return {
        "New Year's Day": (f"{year}-01-01", f"{year}-01-03"),
        "Spring Festival": (f"{year}-02-10", f"{year}-02-16"),
        "Tomb-sweeping Day": (f"{year}-04-04", f"{year}-04-06"),
        "Labour Day": (f"{year}-05-01", f"{year}-05-05"),
        "Dragon Boat Festival": (f"{year}-06-09", f"{year}-06-11"),
        "Mid-autumn Festival": ("", ""),
        "National Day": (f"{year}-10-01", f"{year}-10-08"),
    }
