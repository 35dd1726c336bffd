"""Alerts to a chapter's chat groups: what its staff should hear of without opening the console —
a seat given up at a full session (someone may want it), and notices that failed.

An alert is a notice like any other (planned, sent by the workers, in the ledger) to each
enabled chat robot of the chapter. Failures are told once an hour per chapter: the first failure
of the hour plans the alert a few minutes ahead, later ones in the same hour find it planned,
and the message counts the hour's failures when it is sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import ChapterWebhookRow, NoticeRow, SeriesRow
from scheduler.domain.recurrence import Occurrence
from scheduler.notices import store
from schemas.ids import notice_id
from schemas.names import Channel, NoticeKind

log = structlog.get_logger(__name__)

#: How long after the first failure of an hour its alert goes (later failures join it).
GATHER = timedelta(minutes=2)
FAILED = "failed-"


def _robots(session: Session, chapter: str) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(ChapterWebhookRow.id).where(
                ChapterWebhookRow.chapter == chapter, ChapterWebhookRow.enabled.is_(True)
            )
        )
    )


def _plan(
    session: Session,
    series: SeriesRow,
    occurrence_uid: str,
    recurrence_id: datetime,
    starts_at: datetime | None,
    slot: str,
    identity: str,
    due: datetime,
    now: datetime,
) -> int:
    webhook = Channel.WEBHOOK.value
    robots = _robots(session, series.chapter)
    return store.plan(
        session,
        [
            store.NewNotice(
                id=notice_id(identity, robot, NoticeKind.ALERT.value, webhook, 0, slot),
                series_id=series.id,
                member_id=None,
                webhook_id=robot,
                occurrence_uid=occurrence_uid,
                recurrence_id=recurrence_id,
                kind=NoticeKind.ALERT,
                slot=slot,
                channel=webhook,
                sequence=0,
                due_at=due,
                starts_at=starts_at or recurrence_id,
            )
            for robot in robots
        ],
        now,
    )


def seat_given_up(
    session: Session, series: SeriesRow, occ: Occurrence, member_id: uuid.UUID, now: datetime
) -> int:
    """A member gave up their seat at a full session: the chapter's groups hear of it (once per
    member and session)."""
    planned = _plan(session, series, occ.uid, occ.recurrence_id, occ.start, member_id.hex, occ.uid, now, now)
    if planned:
        log.info("alert_planned", what="seat-given-up", occurrence_uid=occ.uid, robots=planned)
    return planned


def notice_failed(session: Session, failed: uuid.UUID, now: datetime) -> int:
    """A member's notice failed: the chapter's groups hear of the hour's failures, once."""
    row = session.execute(
        select(NoticeRow, SeriesRow)
        .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
        .where(NoticeRow.id == failed)
    ).first()
    if row is None or row[0].member_id is None:  # a robot's own failure is not told to robots
        return 0
    notice, series = row
    slot = f"{FAILED}{now.astimezone(UTC):%Y%m%d%H}"
    return _plan(
        session,
        series,
        notice.occurrence_uid,
        notice.recurrence_id,
        notice.starts_at,
        slot,
        f"chapter:{series.chapter}",
        now + GATHER,
        now,
    )


def hour_of(slot: str) -> datetime | None:
    """The hour a failure alert counts (from its slot), in UTC; None for another alert."""
    if not slot.startswith(FAILED):
        return None
    try:
        return datetime.strptime(slot[len(FAILED) :], "%Y%m%d%H").replace(tzinfo=UTC)
    except ValueError:
        return None
