"""The notice policy, pure functions of the facts: what one recipient is owed for one occurrence
(:func:`plan_pair`), when a due notice is too late to send (:func:`lateness`), and when a notice
in a worker's hands must not be sent after all (:func:`reason_not_to_send`).

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

from scheduler.notices.store import CALENDAR_KINDS, TOLD_OR_TELLING
from schemas.api import NoticePlan
from schemas.durations import format_duration
from schemas.ids import notice_id
from schemas.names import Channel, NoticeKind, NoticeStatus
from schemas.reasons import Reason, ReasonCode, reason


@dataclass(frozen=True)
class OccurrenceFacts:
    """What the planner needs of an occurrence. ``gone``: cancelled, or no longer exists."""

    uid: str
    recurrence_id: datetime
    start: datetime
    end: datetime
    sequence: int
    gone: bool
    reason: Reason | None = None


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
    #: the SEQUENCE in the notice's identity (0 for kinds re-timed in place; see ``_PER_SEQUENCE``)
    id_sequence: int = 0


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
    reason: Reason


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
    told = [n for n in existing if n.kind in CALENDAR_KINDS and n.status in TOLD_OR_TELLING]
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
                changes.append(Create(ident(kind, slot, sequence), kind, slot, occ.sequence, due, sequence))
        elif current.status == NoticeStatus.PENDING:
            if overdue and current.due_at <= now:
                due = current.due_at
            if (current.due_at, current.sequence, current.starts_at) != (due, occ.sequence, occ.start):
                changes.append(Retime(current.id, due, occ.sequence))
        elif current.status == NoticeStatus.CANCELLED and (not overdue or keep_if_past):
            changes.append(Retime(current.id, due, occ.sequence, revive=True))

    def drop(notice: Existing, why: Reason) -> None:
        if notice.status == NoticeStatus.PENDING:
            changes.append(Cancel(notice.id, why))

    if occ.gone or not subscribed:
        gone_why = occ.reason or reason(ReasonCode.SESSION_CANCELLED)
        why = gone_why if occ.gone else reason(ReasonCode.UNSUBSCRIBED)
        for notice in existing:
            if notice.kind != NoticeKind.CANCELLATION:
                drop(notice, why)
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
    planned_slots = {format_duration(r) for r in plan.reminders}
    for notice in existing:
        if notice.kind == NoticeKind.CANCELLATION:
            drop(notice, reason(ReasonCode.SESSION_ON_AGAIN))
        elif notice.kind == NoticeKind.UPDATE and notice.sequence < occ.sequence:
            drop(notice, reason(ReasonCode.SUPERSEDED, sequence=occ.sequence))
        elif notice.kind == NoticeKind.REMINDER and notice.slot not in planned_slots:
            drop(notice, reason(ReasonCode.REMINDER_REMOVED))

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
                drop(notice, reason(ReasonCode.NEVER_INVITED))
    return changes


class AlikePairs:
    """:func:`plan_pair` for many recipients of one session, worked out once per *shape*.

    A session moved for 10,000 members asks the same question 10,000 times: members with the
    same notices (kinds, slots, sequences, statuses, times; only the ids differ) on the same
    channel, equally subscribed, under the same plan, are owed the same changes. The first such
    recipient's answer is kept and given to the others with their own ids: an existing notice's
    by its place in the sorted list, a new one's made from its identity as :func:`plan_pair`
    makes it. The result is what :func:`plan_pair` returns for each (``tests/unit/test_planning``
    compares them over mixed populations); only the work is shared. One per planning pass: the
    occurrence and the plan are told apart by identity, so they must outlive it.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[object, ...], tuple[dict[uuid.UUID, int], list[Change]]] = {}

    def plan_pair(
        self,
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
        mine = sorted(existing, key=_shape)
        key = (id(occ), subscribed, id(plan), now, channel, followup, *map(_shape, mine))
        known = self._known.get(key)
        if known is None:
            changes = plan_pair(
                occ,
                member_id,
                subscribed=subscribed,
                plan=plan,
                existing=mine,
                now=now,
                channel=channel,
                followup=followup,
            )
            self._known[key] = ({n.id: i for i, n in enumerate(mine)}, changes)
            return changes
        place, changes = known
        theirs: list[Change] = []
        for change in changes:
            if isinstance(change, Create):
                ident = notice_id(
                    occ.uid, member_id, change.kind.value, channel.value, change.id_sequence, change.slot
                )
                theirs.append(
                    Create(
                        ident, change.kind, change.slot, change.sequence, change.due_at, change.id_sequence
                    )
                )
            elif isinstance(change, Retime):
                theirs.append(
                    Retime(mine[place[change.id]].id, change.due_at, change.sequence, change.revive)
                )
            else:
                theirs.append(Cancel(mine[place[change.id]].id, change.reason))
        return theirs


def _shape(n: Existing) -> tuple[object, ...]:
    """Everything :func:`plan_pair` reads of a notice but its id, in an order that sorts."""
    return (
        n.kind.value,
        n.slot,
        n.sequence,
        n.status.value,
        n.channel.value,
        n.due_at,
        n.starts_at is None,
        n.starts_at or n.due_at,
    )


#: Kinds of which each SEQUENCE is a notice of its own; the others are re-timed in place.
_PER_SEQUENCE = frozenset({NoticeKind.UPDATE, NoticeKind.CANCELLATION})


#: Kinds that only make sense before the session starts.
BEFORE_START = frozenset(
    {
        NoticeKind.INVITATION,
        NoticeKind.UPDATE,
        NoticeKind.REMINDER,
        NoticeKind.CANCELLATION,
        NoticeKind.OFFER,
        NoticeKind.WAITLISTED,
        NoticeKind.MESSAGE,
        NoticeKind.NUDGE,
    }
)
#: How late a follow-up may still go out (after downtime, say).
FOLLOWUP_GRACE = timedelta(days=3)
#: How late a monthly digest may still go out: in the month's first week it is still news.
DIGEST_GRACE = timedelta(days=5)


def lateness(
    kind: NoticeKind,
    *,
    starts_at: datetime | None,
    due_at: datetime,
    now: datetime,
    followup_grace: timedelta = FOLLOWUP_GRACE,
) -> Reason | None:
    """Why a due notice no longer makes sense (the system was down, a change came late), or None."""
    if kind in BEFORE_START and starts_at is not None and starts_at <= now:
        return reason(ReasonCode.STARTED, kind=kind.value, starts_at=f"{starts_at:%Y-%m-%d %H:%M}Z")
    if kind == NoticeKind.FOLLOWUP and now - due_at > followup_grace:
        return reason(ReasonCode.FOLLOWUP_TOO_LATE, days=followup_grace.days)
    if kind == NoticeKind.DIGEST and now - due_at > DIGEST_GRACE:
        return reason(ReasonCode.DIGEST_TOO_LATE, days=DIGEST_GRACE.days)
    return None


def reason_not_to_send(
    kind: NoticeKind,
    *,
    sequence: int,
    session_gone: bool,
    told: Sequence[tuple[NoticeKind, int]],
    group: bool,
    answer: str | None = None,
    anyone_accepted: bool = False,
    following: bool = True,
    offered: bool = False,
    undeliverable: Reason | None = None,
) -> tuple[NoticeStatus, Reason] | None:
    """Whether a notice a worker holds must not go out after all, judged on the current facts.

    ``told``: the calendar notices this recipient was sent for the occurrence (kind, SEQUENCE);
    ``group``: the recipient is a chapter's chat group (no answers, no follow-ups);
    ``answer``: the member's RSVP (``accepted``, ``declined``…), ``anyone_accepted``: whether
    any member accepted; ``following``: the member still follows the series (one who has
    unsubscribed since gets nothing more of it but a cancellation of a session they were told
    of); ``offered``: a seat is held for them now (``answer`` is ``waitlisted``, and without an
    offer they are waiting for one); ``undeliverable``: the recipient's email address bounced for
    good (why), for an email notice. Returns the status to end in and why, or None to send.
    """
    cancelled = NoticeStatus.CANCELLED
    if kind in (NoticeKind.BOUNCE, NoticeKind.ALERT):  # to a group, about staff's work: whatever the session
        return None
    if undeliverable is not None:
        return NoticeStatus.SKIPPED, undeliverable
    if kind == NoticeKind.CANCELLATION:
        if not told:
            return cancelled, reason(ReasonCode.NEVER_TOLD)
    elif session_gone:
        return cancelled, reason(ReasonCode.CANCELLED_BEFORE_SEND)
    elif not group and not following:
        return cancelled, reason(ReasonCode.UNSUBSCRIBED)
    if kind == NoticeKind.UPDATE and told and max(seq for _, seq in told) >= sequence:
        return cancelled, reason(ReasonCode.ALREADY_TOLD, sequence=max(seq for _, seq in told))
    if group:
        return None
    if kind in (NoticeKind.REMINDER, NoticeKind.MESSAGE) and answer == "declined":
        return NoticeStatus.SKIPPED, reason(ReasonCode.DECLINED)
    if kind == NoticeKind.NUDGE and answer not in (None, "needs-action"):
        return NoticeStatus.SKIPPED, reason(ReasonCode.ANSWERED)
    waiting = answer == "waitlisted" and not offered
    if kind == NoticeKind.REMINDER and waiting:
        return NoticeStatus.SKIPPED, reason(ReasonCode.WAITLISTED)
    if kind == NoticeKind.OFFER and not offered:
        return cancelled, reason(ReasonCode.OFFER_OVER)
    if kind == NoticeKind.WAITLISTED and not waiting:
        return cancelled, reason(ReasonCode.NOT_WAITLISTED)
    if kind == NoticeKind.FOLLOWUP:
        if anyone_accepted and answer != "accepted":
            return NoticeStatus.SKIPPED, reason(ReasonCode.NOT_ACCEPTED)
        if not anyone_accepted and not told:
            return NoticeStatus.SKIPPED, reason(ReasonCode.NEVER_INVITED)
    return None
