"""What notices one member is owed for one occurrence: a pure function of the facts.

:func:`plan_pair` compares what should exist (from the occurrence, the series' notice plan and
whether the member is subscribed) with the notices that do exist, and returns the changes. It
never touches a notice that is in flight (``published``/``sending``) or finished; those only
count as what the member has already been told. The planner (:mod:`scheduler.notices.planner`) applies
the changes to the database.

Rules, for one (occurrence, member):

* active (occurrence not cancelled, member subscribed):
  - an invitation at ``start - invite_before``, or now if that has passed and the session has
    not started; a pending one is re-timed when the session moves;
  - if the member was told an older SEQUENCE (or was told of a cancellation), an ``update``
    with the current SEQUENCE, due now; stale pending updates and cancellations are dropped;
  - a reminder per offset at ``start - offset`` while that is still ahead; a follow-up at
    ``end + followup_after`` for members who were (or are being) invited; offsets removed
    from the plan cancel their pending reminders;
* not active: every pending notice is cancelled with the reason; if the occurrence itself
  was cancelled (or no longer exists) and the member had been told of it, a ``cancellation``
  with a higher SEQUENCE is due now, while the session is still ahead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.durations import format_duration
from schemas.ids import notice_id
from schemas.names import Channel, NoticeKind, NoticeStatus

TOLD = frozenset({NoticeStatus.PUBLISHED, NoticeStatus.SENDING, NoticeStatus.SENT})
CALENDAR_KINDS = frozenset({NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.CANCELLATION})


@dataclass(frozen=True)
class NoticePlan:
    """A series' notice offsets."""

    invite_before: timedelta
    reminders: tuple[timedelta, ...]
    followup_after: timedelta


@dataclass(frozen=True)
class OccurrenceFacts:
    """What the planner needs of an occurrence. ``gone``: cancelled, or no longer exists."""

    uid: str
    recurrence_id: datetime
    start: datetime
    end: datetime
    sequence: int
    gone: bool
    reason: str = ""


@dataclass(frozen=True)
class Existing:
    """A notice row as the planner sees it."""

    id: uuid.UUID
    kind: NoticeKind
    slot: str
    sequence: int
    status: NoticeStatus
    due_at: datetime
    starts_at: datetime | None = None
    channel: Channel = Channel.EMAIL


@dataclass(frozen=True)
class Create:
    id: uuid.UUID
    kind: NoticeKind
    slot: str
    sequence: int
    due_at: datetime


@dataclass(frozen=True)
class Retime:
    """Set a pending (or, with ``revive``, a cancelled) notice's time and sequence."""

    id: uuid.UUID
    due_at: datetime
    sequence: int
    revive: bool = False


@dataclass(frozen=True)
class Cancel:
    id: uuid.UUID
    reason: str


Change = Create | Retime | Cancel


def plan_pair(
    occ: OccurrenceFacts,
    member_id: uuid.UUID,
    *,
    subscribed: bool,
    plan: NoticePlan,
    existing: Sequence[Existing],
    now: datetime,
    channel: Channel = Channel.EMAIL,
    followup: bool = True,
) -> list[Change]:
    """The changes that make (``occ``, ``member_id``)'s notices right at ``now``.

    ``member_id`` is whoever receives the notices: a member, or a chapter's webhook (which gets
    no follow-up, ``followup=False``).
    """
    changes: list[Change] = []
    told = [n for n in existing if n.kind in CALENDAR_KINDS and n.status in TOLD]
    last_told = max(told, key=lambda n: (n.sequence, n.kind == NoticeKind.CANCELLATION), default=None)
    by_key = {(n.kind, n.slot, n.sequence if n.kind in _PER_SEQUENCE else 0): n for n in existing}

    def ident(kind: NoticeKind, slot: str = "", sequence: int = 0) -> uuid.UUID:
        return notice_id(occ.uid, member_id, kind.value, channel.value, sequence, slot)

    def want(
        kind: NoticeKind, due: datetime, *, slot: str = "", sequence: int = 0, keep_if_past: bool = False
    ) -> None:
        """Make sure one pending notice of this identity is due at ``due``.

        A time already past creates nothing unless ``keep_if_past`` (then it is due now); a
        pending notice already due stays as it is, for the dispatcher's lateness policy.
        """
        current = by_key.get((kind, slot, sequence))
        overdue = due <= now
        if overdue and keep_if_past:
            due = now
        if current is None:
            if not overdue or keep_if_past:
                changes.append(Create(ident(kind, slot, sequence), kind, slot, occ.sequence, due))
        elif current.status == NoticeStatus.PENDING:
            if overdue and current.due_at <= now:
                due = current.due_at
            if (current.due_at, current.sequence, current.starts_at) != (due, occ.sequence, occ.start):
                changes.append(Retime(current.id, due, occ.sequence))
        elif current.status == NoticeStatus.CANCELLED and (not overdue or keep_if_past):
            changes.append(Retime(current.id, due, occ.sequence, revive=True))

    def drop(notice: Existing, reason: str) -> None:
        if notice.status == NoticeStatus.PENDING:
            changes.append(Cancel(notice.id, reason))

    if occ.gone or not subscribed:
        reason = occ.reason if occ.gone else "the member is no longer subscribed"
        for notice in existing:
            if notice.kind != NoticeKind.CANCELLATION:
                drop(notice, reason)
        if (
            occ.gone
            and last_told is not None
            and last_told.kind != NoticeKind.CANCELLATION
            and occ.start > now
        ):
            sequence = max(occ.sequence, last_told.sequence + 1)
            want(NoticeKind.CANCELLATION, now, sequence=sequence, keep_if_past=True)
        return changes

    started = occ.start <= now
    for notice in existing:
        if notice.kind == NoticeKind.CANCELLATION:
            drop(notice, "the session is on again")
        elif notice.kind == NoticeKind.UPDATE and notice.sequence < occ.sequence:
            drop(notice, f"superseded by sequence {occ.sequence}")
        elif notice.kind == NoticeKind.REMINDER and notice.slot not in {
            format_duration(r) for r in plan.reminders
        }:
            drop(notice, "this reminder was removed from the series' notice plan")

    if last_told is None:
        want(NoticeKind.INVITATION, max(occ.start - plan.invite_before, now), keep_if_past=not started)
    elif last_told.kind == NoticeKind.CANCELLATION or last_told.sequence < occ.sequence:
        want(NoticeKind.UPDATE, now, sequence=occ.sequence, keep_if_past=not started)
    for offset in plan.reminders:
        want(NoticeKind.REMINDER, occ.start - offset, slot=format_duration(offset))
    invited = (
        last_told is not None
        or any(isinstance(c, Create | Retime) and c.id == ident(NoticeKind.INVITATION) for c in changes)
        or any(n.kind == NoticeKind.INVITATION and n.status == NoticeStatus.PENDING for n in existing)
    )
    if invited and followup:
        want(NoticeKind.FOLLOWUP, occ.end + plan.followup_after)
    else:
        for notice in existing:
            if notice.kind == NoticeKind.FOLLOWUP:
                drop(notice, "the member was never invited to this session")
    return changes


#: Kinds of which each SEQUENCE is a notice of its own; the others are re-timed in place.
_PER_SEQUENCE = frozenset({NoticeKind.UPDATE, NoticeKind.CANCELLATION})
