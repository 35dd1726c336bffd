"""Who hears about an occurrence, and what they answered: the facts behind the occurrence page.

The split mirrors the planner's rules (:mod:`scheduler.notices.policy`): a member who has been told
of the session (an invitation or update was published or sent) gets an update or cancellation
right away after a change; a subscriber not yet invited gets the current details with the
invitation; the chapter's chat groups hear of changes too.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import (
    ChapterWebhookRow,
    FollowupResponseRow,
    MemberRow,
    NoticeRow,
    RsvpRow,
    SeriesRow,
)
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.members import series_followed_by, subscriber_ids
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import occurrences
from scheduler.notices import store
from scheduler.notices.store import CALENDAR_KINDS, TOLD_OR_TELLING


@dataclass(frozen=True)
class Audience:
    told: list[MemberRow]  # get an update (or cancellation) as soon as the change is saved
    not_told: list[MemberRow]  # get the invitation later, with the current details
    webhooks: int  # the chapter's chat groups


def audience(session: Session, series: SeriesRow, occurrence_uid: str) -> Audience:
    told_ids = store.members_told(session, [occurrence_uid])
    following = subscriber_ids(session, series)
    wanted = told_ids | following
    members = (
        session.scalars(select(MemberRow).where(MemberRow.id.in_(wanted)).order_by(MemberRow.name)).all()
        if wanted
        else []
    )
    told = [m for m in members if m.id in told_ids]
    not_told = [m for m in members if m.id not in told_ids and "email" in (m.channels or [])]
    webhooks = session.scalar(
        select(func.count())
        .select_from(ChapterWebhookRow)
        .where(ChapterWebhookRow.chapter == series.chapter, ChapterWebhookRow.enabled.is_(True))
    )
    return Audience(told=told, not_told=not_told, webhooks=int(webhooks or 0))


@dataclass(frozen=True)
class Attendee:
    member: MemberRow
    answer: RsvpRow | None


def attendees(session: Session, series: SeriesRow, occurrence_uid: str) -> list[Attendee]:
    """Everyone invited to one session: members told of it, members following its series (who
    will be told), and anyone who answered; by name."""
    answers = {
        row.member_id: row
        for row in session.scalars(select(RsvpRow).where(RsvpRow.occurrence_uid == occurrence_uid))
    }
    wanted = store.members_told(session, [occurrence_uid]) | subscriber_ids(session, series) | set(answers)
    if not wanted:
        return []
    members = session.scalars(
        select(MemberRow).where(MemberRow.id.in_(wanted)).order_by(MemberRow.name, MemberRow.id)
    )
    return [Attendee(member, answers.get(member.id)) for member in members]


@dataclass
class Unfollowed:
    """What :func:`unfollowing` did: how many pending notices it withdrew."""

    cancelled: int = 0


@contextmanager
def unfollowing(session: Session, member_id: uuid.UUID, now: datetime) -> Iterator[Unfollowed]:
    """Around a change that may end a member's subscriptions: afterwards, the pending notices of
    every series they no longer follow are withdrawn at once (``unsubscribed``), not at the
    planner's next look (a reminder due in a minute must not go out after they said stop)."""
    before = set(series_followed_by(session, member_id))
    done = Unfollowed()
    yield done
    gone = before - set(series_followed_by(session, member_id))
    done.cancelled = store.withdraw_unfollowed(session, member_id, sorted(gone), now)


@dataclass(frozen=True)
class Invited:
    """One session on a member's page: the series, the occurrence, and their answer."""

    series: SeriesRow
    occurrence: Occurrence
    answer: str | None


def member_agenda(
    session: Session, member_id: uuid.UUID, holidays: HolidayCalendar, start: datetime, end: datetime
) -> list[Invited]:
    """The sessions in [start, end) a member is invited to: every one of the series they follow,
    and the ones they were told of (a series they have left since); soonest first."""
    followed = set(series_followed_by(session, member_id))
    told: dict[uuid.UUID, set[str]] = {}
    for series_id, uid in session.execute(
        select(NoticeRow.series_id, NoticeRow.occurrence_uid)
        .where(
            NoticeRow.member_id == member_id,
            NoticeRow.starts_at >= start,
            NoticeRow.kind.in_([k.value for k in CALENDAR_KINDS]),
            NoticeRow.status.in_([s.value for s in TOLD_OR_TELLING]),
        )
        .distinct()
    ):
        if series_id is not None:  # (a member's notices are all about a session)
            told.setdefault(series_id, set()).add(uid)
    wanted = followed | set(told)
    if not wanted:
        return []
    answers = dict(
        session.execute(
            select(RsvpRow.occurrence_uid, RsvpRow.response).where(RsvpRow.member_id == member_id)
        ).all()
    )
    found: list[Invited] = []
    for row in session.scalars(
        select(SeriesRow).where(SeriesRow.id.in_(wanted)).options(selectinload(SeriesRow.overrides))
    ):
        try:
            upcoming = occurrences(row, holidays, start, end)
        except RecurrenceError:
            continue
        for occ in upcoming:
            if row.id in followed or occ.uid in told.get(row.id, ()):
                found.append(Invited(row, occ, answers.get(occ.uid)))
    return sorted(found, key=lambda item: item.occurrence.start)


def told_of_series(session: Session, series_id: uuid.UUID, now: datetime) -> int:
    """How many members were told of at least one session of the series still ahead: the people
    an edit of the series' calendar facts sends an update to."""
    return int(
        session.scalar(
            select(func.count(func.distinct(NoticeRow.member_id))).where(
                NoticeRow.series_id == series_id,
                NoticeRow.member_id.is_not(None),
                NoticeRow.starts_at >= now,
                NoticeRow.kind.in_([k.value for k in CALENDAR_KINDS]),
                NoticeRow.status.in_([s.value for s in TOLD_OR_TELLING]),
            )
        )
        or 0
    )


def rsvp_counts(session: Session, occurrence_uids: Iterable[str]) -> dict[str, Counter[str]]:
    """Per occurrence: how many accepted, declined, tentative."""
    uids = list(occurrence_uids)
    counts: dict[str, Counter[str]] = {uid: Counter() for uid in uids}
    if not uids:
        return counts
    for uid, response, n in session.execute(
        select(RsvpRow.occurrence_uid, RsvpRow.response, func.count())
        .where(RsvpRow.occurrence_uid.in_(uids))
        .group_by(RsvpRow.occurrence_uid, RsvpRow.response)
    ):
        counts[uid][response] = n
    return counts


def followup_counts(session: Session, occurrence_uids: Iterable[str]) -> dict[str, int]:
    uids = list(occurrence_uids)
    if not uids:
        return {}
    rows = session.execute(
        select(FollowupResponseRow.occurrence_uid, func.count())
        .where(FollowupResponseRow.occurrence_uid.in_(uids))
        .group_by(FollowupResponseRow.occurrence_uid)
    )
    return {uid: n for uid, n in rows}


def member_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, MemberRow]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {m.id: m for m in session.scalars(select(MemberRow).where(MemberRow.id.in_(wanted)))}
