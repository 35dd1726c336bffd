"""The planner: keeps the notices table equal to what every subscribed member is owed.

It runs in the scheduler service: over every active series on a rolling horizon (so new
sessions come into view), and right away for the series and members whose change was
requested with :func:`request_plan` (the one way to ask for a re-plan: the API, the console and
the command line call it in the same transaction as the change, and PostgreSQL's ``NOTIFY``
wakes the scheduler). Planning one series twice changes nothing: notice ids are deterministic
and :func:`scheduler.notices.policy.plan_pair` only returns differences, which the notice store
(:mod:`scheduler.notices.store`) applies.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import structlog
from sqlalchemy import Text, cast, select, text, update
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import ChapterWebhookRow, MemberRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain import official_days
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.members import series_followed_by, subscribers_of
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import occurrence_at, occurrences
from scheduler.notices import store
from scheduler.notices.policy import AlikePairs, Cancel, Create, Existing, OccurrenceFacts, Retime
from scheduler.notices.store import NewNotice, Retiming
from scheduler.ops.clock import Clock, utcnow
from scheduler.ops.logs import PER_NOTICE_LINES
from schemas.api import NoticePlan
from schemas.names import Channel, Chapter, NoticeKind, NoticeStatus, OccurrenceStatus, SeriesStatus
from schemas.reasons import Reason, ReasonCode, reason

log = structlog.get_logger(__name__)

PLAN_CHANNEL = "exsched_plan"  # PostgreSQL NOTIFY channel
MEMBER_CHANNELS = frozenset({Channel.EMAIL})
_KINDS = {k.value: k for k in NoticeKind}
_STATUSES = {s.value: s for s in NoticeStatus}
_CHANNELS = {c.value: c for c in Channel}


def request_plan(
    session: Session,
    *,
    series_ids: Iterable[uuid.UUID] = (),
    member_ids: Iterable[uuid.UUID] = (),
    chapters: Iterable[Chapter | str] = (),
    now: datetime | None = None,
) -> None:
    """Ask the scheduler to re-plan these series and members (and every active series of these
    chapters), as part of the caller's transaction."""
    now = now or utcnow()
    series_ids, member_ids = list(series_ids), list(member_ids)
    codes = [str(c) for c in chapters]
    if codes:
        series_ids += session.scalars(
            select(SeriesRow.id).where(
                SeriesRow.chapter.in_(codes), SeriesRow.status == SeriesStatus.ACTIVE.value
            )
        ).all()
    # A request to re-plan is bookkeeping, not a change: ``updated_at`` (what staff and members
    # see as "last changed") is written back as it was, so its ``onupdate`` does not fire.
    if series_ids:
        session.execute(
            update(SeriesRow)
            .where(SeriesRow.id.in_(series_ids))
            .values(plan_requested_at=now, updated_at=SeriesRow.updated_at)
        )
    if member_ids:
        session.execute(
            update(MemberRow)
            .where(MemberRow.id.in_(member_ids))
            .values(plan_requested_at=now, updated_at=MemberRow.updated_at)
        )
    if (series_ids or member_ids) and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": PLAN_CHANNEL})


@dataclass
class PlanReport:
    created: int = 0
    retimed: int = 0
    cancelled: int = 0
    #: re-plans asked for (each may come with notices planned by whoever asked: a seat offered)
    requests: int = 0

    def add(self, other: PlanReport) -> None:
        self.created += other.created
        self.retimed += other.retimed
        self.cancelled += other.cancelled
        self.requests += other.requests

    @property
    def changed(self) -> int:
        return self.created + self.retimed + self.cancelled


class Planner:
    """Applies :func:`~scheduler.notices.policy.plan_pair` to the database, one series at a time,
    one transaction each (members alike asked once: :class:`~scheduler.notices.policy.AlikePairs`)."""

    def __init__(
        self,
        db: Database,
        holidays: HolidayCalendar,
        *,
        horizon: timedelta = timedelta(days=60),
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.holidays = holidays
        self.horizon = horizon
        self.clock = clock

    # --- entry points -------------------------------------------------------------------------

    def plan_all(self) -> PlanReport:
        """Every active series (the rolling horizon moves on)."""
        with self.db.session() as session:
            official_days.refresh(self.holidays, session)
            ids = session.scalars(
                select(SeriesRow.id).where(SeriesRow.status == SeriesStatus.ACTIVE.value)
            ).all()
        report = PlanReport()
        for series_id in ids:
            report.add(self.plan_series(series_id))
        return report

    def plan_requested(self) -> PlanReport:
        """The series and members whose re-plan was requested, then clear the requests."""
        report = PlanReport()
        with self.db.session() as session:
            official_days.refresh(self.holidays, session)  # holidays staff entered: before planning
            series = session.execute(
                select(SeriesRow.id, SeriesRow.plan_requested_at).where(
                    SeriesRow.plan_requested_at.is_not(None)
                )
            ).all()
            members = session.execute(
                select(MemberRow.id, MemberRow.plan_requested_at).where(
                    MemberRow.plan_requested_at.is_not(None)
                )
            ).all()
        for series_id, requested in series:
            report.add(self.plan_series(series_id))
            self._clear(SeriesRow, series_id, requested)
        for member_id, requested in members:
            report.add(self.plan_member(member_id))
            self._clear(MemberRow, member_id, requested)
        report.requests = len(series) + len(members)
        return report

    def _clear(
        self, model: type[SeriesRow] | type[MemberRow], row_id: uuid.UUID, requested: datetime | None
    ) -> None:
        """Clear a request unless a newer one came in while planning."""
        with self.db.session() as session:
            session.execute(
                update(model)
                .where(model.id == row_id, model.plan_requested_at == requested)
                .values(plan_requested_at=None, updated_at=model.updated_at)
            )

    def plan_member(self, member_id: uuid.UUID) -> PlanReport:
        """Every series the member follows or has notices for, for this member only."""
        report = PlanReport()
        with self.db.session() as session:
            member = session.get(MemberRow, member_id)
            if member is None:
                return report
            followed = set(series_followed_by(session, member.id))
            with_notices = store.series_with_open_notices(session, member_id)
        for series_id in sorted(followed | with_notices):
            report.add(self.plan_series(series_id, only_member=member_id))
        return report

    def plan_series(self, series_id: uuid.UUID, *, only_member: uuid.UUID | None = None) -> PlanReport:
        """Make the series' notices right (for one member, or for everyone)."""
        with self.db.session() as session:
            series = session.scalar(
                select(SeriesRow)
                .where(SeriesRow.id == series_id)
                .options(selectinload(SeriesRow.overrides))
                .with_for_update(of=SeriesRow)
            )
            if series is None:
                return PlanReport()
            # Read the clock only once the series is locked: a planner that waited for another
            # must not plan with an earlier "now" than the one whose work it is looking at.
            now = self.clock()
            plan = notice_plan_of(series)
            recipients = self._recipients(session, series, plan, only_member)
            lookback = timedelta(seconds=series.duration_s) + plan.followup_after + timedelta(days=1)
            existing = self._existing(session, series_id, only_member, since=now - lookback)
            facts = self._facts(series, existing, now, lookback, plan)
            by_pair: dict[tuple[str, uuid.UUID], list[Existing]] = defaultdict(list)
            for known in existing:
                by_pair[(known.uid, known.member_id)].append(known.notice)
            creates: list[NewNotice] = []
            retimes: list[Retiming] = []
            cancels: list[tuple[uuid.UUID, Reason]] = []
            alike = AlikePairs()
            for occ in facts.values():
                here = set(recipients) | {r for (uid, r) in by_pair if uid == occ.uid}
                for recipient_id in sorted(here):
                    wanted = recipients.get(recipient_id)
                    theirs = by_pair.get((occ.uid, recipient_id), [])
                    channels = (wanted.channels if wanted else set()) | {n.channel for n in theirs}
                    for channel in sorted(channels):
                        for change in alike.plan_pair(
                            occ,
                            recipient_id,
                            subscribed=wanted is not None and channel in wanted.channels,
                            plan=wanted.plan if wanted else plan,
                            existing=[n for n in theirs if n.channel == channel],
                            now=now,
                            channel=channel,
                            followup=channel != Channel.WEBHOOK,
                        ):
                            if isinstance(change, Create):
                                creates.append(_new_notice(change, series_id, recipient_id, occ, channel))
                            elif isinstance(change, Retime):
                                retimes.append(
                                    Retiming(
                                        change.id, change.due_at, change.sequence, occ.start, change.revive
                                    )
                                )
                            elif isinstance(change, Cancel):
                                cancels.append((change.id, change.reason))
            report = PlanReport(
                created=store.plan(session, creates, now),
                retimed=store.retime(session, retimes, now),
                cancelled=store.withdraw(session, cancels, now),
            )
        _log_changes(series_id, creates, retimes, cancels)
        return report

    # --- queries --------------------------------------------------------------------------------

    def _recipients(
        self, session: Session, series: SeriesRow, plan: NoticePlan, only_member: uuid.UUID | None
    ) -> dict[uuid.UUID, _Recipient]:
        """Who the series' notices go to: subscribed members on their channels, and (when planning
        the whole series) the chapter's chat-group webhooks."""
        found: dict[uuid.UUID, _Recipient] = {}
        if series.status == SeriesStatus.ACTIVE.value:
            # one statement, the channels as written (10,000 members have a handful of spellings)
            query = select(MemberRow.id, cast(MemberRow.channels, Text)).where(
                MemberRow.id.in_(subscribers_of(series))
            )
            if only_member is not None:
                query = query.where(MemberRow.id == only_member)
            usable: dict[str | None, frozenset[Channel]] = {}
            for member_id, written in session.execute(query):
                if written not in usable:
                    named = json.loads(written or "null") or ()
                    usable[written] = frozenset(Channel(c) for c in named) & MEMBER_CHANNELS
                found[member_id] = _Recipient(usable[written], plan)
        if only_member is None and series.status == SeriesStatus.ACTIVE.value:
            for webhook in session.scalars(
                select(ChapterWebhookRow).where(
                    ChapterWebhookRow.chapter == series.chapter, ChapterWebhookRow.enabled.is_(True)
                )
            ):
                reminders = plan.reminders[:1] if "reminder" in (webhook.events or ()) else []
                found[webhook.id] = _Recipient(
                    frozenset({Channel.WEBHOOK}), plan.model_copy(update={"reminders": reminders})
                )
        return found

    def _existing(
        self, session: Session, series_id: uuid.UUID, only_member: uuid.UUID | None, since: datetime
    ) -> list[_Known]:
        """Open notices, and all notices of sessions from ``since`` on (tens of thousands for a
        big session: the enums are looked up in dicts, not called)."""
        # (unpacked by position: reading a Row's fields by name costs more than the rest together)
        return [
            _Known(
                member or webhook,
                uid,
                recurrence_id,
                Existing(
                    ident,
                    _KINDS[kind],
                    slot,
                    sequence,
                    _STATUSES[status],
                    due_at,
                    starts_at,
                    _CHANNELS[channel],
                ),
            )
            for (
                ident,
                member,
                webhook,
                uid,
                kind,
                slot,
                channel,
                sequence,
                status,
                due_at,
                starts_at,
                recurrence_id,
            ) in store.known_for_series(session, series_id, only_member=only_member, since=since)
        ]

    def _facts(
        self,
        series: SeriesRow,
        existing: list[_Known],
        now: datetime,
        lookback: timedelta,
        plan: NoticePlan,
    ) -> dict[str, OccurrenceFacts]:
        """Occurrences in the planning window, and those existing notices refer to."""
        facts: dict[str, OccurrenceFacts] = {}
        if series.status == SeriesStatus.ACTIVE.value:
            ahead = self.horizon + plan.invite_before
            for occ in occurrences(series, self.holidays, now - lookback, now + ahead):
                facts[occ.uid] = _facts_of(occ)
        for known in existing:
            if known.uid in facts:
                continue
            found = occurrence_at(series, known.recurrence_id, self.holidays)
            if found is not None:
                facts[known.uid] = _facts_of(found)
                continue
            same = [k.notice for k in existing if k.uid == known.uid]
            start = max((n.starts_at for n in same if n.starts_at is not None), default=known.recurrence_id)
            facts[known.uid] = OccurrenceFacts(
                uid=known.uid,
                recurrence_id=known.recurrence_id,
                start=start,
                end=start,
                sequence=max(n.sequence for n in same) + 1,
                gone=True,
                reason=reason(ReasonCode.SESSION_GONE),
            )
        return facts


def notice_plan_of(series: SeriesRow) -> NoticePlan:
    """The series' notice offsets as stored."""
    return NoticePlan(
        invite_before=timedelta(seconds=series.invite_before_s),
        reminders=[timedelta(seconds=s) for s in series.reminders_s],
        followup_after=timedelta(seconds=series.followup_after_s),
    )


@dataclass(frozen=True)
class _Recipient:
    """A member or a webhook, the channels it takes notices on, and its notice plan."""

    channels: frozenset[Channel]
    plan: NoticePlan


class _Known(NamedTuple):
    """An existing notice with the keys it is grouped by (a tuple: a big session has 50,000)."""

    member_id: uuid.UUID
    uid: str
    recurrence_id: datetime
    notice: Existing


def _facts_of(occ: Occurrence) -> OccurrenceFacts:
    cancelled = occ.status == OccurrenceStatus.CANCELLED
    return OccurrenceFacts(
        uid=occ.uid,
        recurrence_id=occ.recurrence_id,
        start=occ.start,
        end=occ.end,
        sequence=occ.sequence,
        gone=cancelled,
        reason=reason(ReasonCode.SESSION_CANCELLED) if cancelled else None,
    )


def _new_notice(
    change: Create, series_id: uuid.UUID, recipient_id: uuid.UUID, occ: OccurrenceFacts, channel: Channel
) -> NewNotice:
    group = channel == Channel.WEBHOOK
    return NewNotice(
        id=change.id,
        series_id=series_id,
        member_id=None if group else recipient_id,
        webhook_id=recipient_id if group else None,
        occurrence_uid=occ.uid,
        recurrence_id=occ.recurrence_id,
        kind=change.kind,
        slot=change.slot,
        channel=channel.value,
        sequence=change.sequence,
        due_at=change.due_at,
        starts_at=occ.start,
    )


def _log_changes(
    series_id: uuid.UUID,
    creates: list[NewNotice],
    retimes: list[Retiming],
    cancels: list[tuple[uuid.UUID, Reason]],
) -> None:
    changes = len(creates) + len(retimes) + len(cancels)
    if not changes:
        return
    few = changes <= PER_NOTICE_LINES
    if few or log.is_enabled_for(logging.DEBUG):
        _log_each(log.info if few else log.debug, creates, retimes, cancels)
    log.info(
        "series_planned",
        series_id=str(series_id),
        created=len(creates),
        retimed=len(retimes),
        cancelled=len(cancels),
        **({} if few else {"each_notice": "at DEBUG"}),
    )


def _log_each(
    each: Callable[..., Any],
    creates: list[NewNotice],
    retimes: list[Retiming],
    cancels: list[tuple[uuid.UUID, Reason]],
) -> None:
    for new in creates:
        each(
            "notice_planned",
            notice_id=str(new.id),
            kind=new.kind.value,
            slot=new.slot,
            occurrence_uid=new.occurrence_uid,
            member_id=str(new.member_id or new.webhook_id),
            due_at=new.due_at.isoformat(),
        )
    for retimed in retimes:
        each(
            "notice_retimed",
            notice_id=str(retimed.id),
            due_at=retimed.due_at.isoformat(),
            sequence=retimed.sequence,
        )
    for notice_id, why in cancels:
        each("notice_cancelled", notice_id=str(notice_id), **store.log_fields(why))
