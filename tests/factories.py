"""Rows written straight to the database, for tests and benchmarks that need volume fast."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from scheduler.db.models import MemberRow, NoticeRow, SeriesRow
from scheduler.db.session import Database
from schemas.names import NoticeStatus


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
