"""The notice store: every change of a notice's status happens here, and nowhere else.

A notice is one row per (occurrence, recipient, kind, slot, channel, sequence), with a
deterministic id (docs/architecture.md, principle 1). Its life, and who moves it along::

    plan ──▶ pending ──publish──▶ published ──take──▶ sending ──deliver──▶ sent
              ▲ │ ▲                 │  │                │ │ │
   retime ────┘ │ └──unconfirmed────┘  │                │ │ └──settle──▶ cancelled | skipped | failed
                │ └──lease_expired─────┴────────────────┘ │
                │ └──defer (a transient failure)──────────┤
                │                                         └──give_up──▶ failed
                └──withdraw──▶ cancelled ──revive──▶ pending
    published ──skip_late──▶ skipped            failed ──staff_retry──▶ pending
    pending | published | sending ──fail──▶ failed   (a poison or dead-lettered message)
    sending ──renew──▶ sending   (the holder's heartbeat extends its lease)

:data:`TRANSITIONS` writes the same graph down as data; every operation below updates only rows
in one of its source statuses (``WHERE status IN (…)``), so a late or duplicate caller changes
nothing. A skipped, cancelled or failed notice — and one waiting for another try — carries a
reason code with its parameters (:mod:`schemas.reasons`), never a sentence.

Every operation takes the caller's :class:`~sqlalchemy.orm.Session`: the planner applies a
series' changes in the transaction that locks the series, and the dispatcher keeps its claim
open until the broker has confirmed. One backoff policy times every retry
(:func:`scheduler.ops.backoff.compute_backoff`, :data:`RETRY_BASE` doubling to :data:`RETRY_CAP`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CursorResult,
    DateTime,
    Row,
    Table,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.db.types import UTCDateTime
from scheduler.i18n import translator
from scheduler.ops.backoff import compute_backoff
from scheduler.ops.clock import utcnow
from schemas.names import NoticeKind, NoticeStatus
from schemas.reasons import Reason, ReasonCode, reason

NOTICES: Table = NoticeRow.__table__  # type: ignore[assignment]
S = NoticeStatus

#: Notice retries (an unconfirmed publish, a deferred send): 15 s doubling, at most an hour.
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(hours=1)

#: What a member or a group has been told: a calendar notice that was sent.
TOLD = frozenset({S.SENT})
#: Told, or being told right now (published or sending): what the planner must not tell again.
TOLD_OR_TELLING = frozenset({S.PUBLISHED, S.SENDING, S.SENT})
#: Not finished: the planner still owns pending rows, the bus and the workers the others.
OPEN = frozenset({S.PENDING, S.PUBLISHED, S.SENDING})
FINAL = frozenset({S.SENT, S.CANCELLED, S.SKIPPED, S.FAILED, S.BOUNCED})
CALENDAR_KINDS = frozenset(
    {NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.CANCELLATION, NoticeKind.OFFER}
)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[NoticeStatus]
    targets: frozenset[NoticeStatus]
    by: str
    meaning: str


def _t(sources: set[NoticeStatus], targets: set[NoticeStatus], by: str, meaning: str) -> Transition:
    return Transition(frozenset(sources), frozenset(targets), by, meaning)


TRANSITIONS: dict[str, Transition] = {
    "plan": _t(set(), {S.PENDING}, "planner", "a notice newly owed"),
    "retime": _t({S.PENDING}, {S.PENDING}, "planner", "the session moved or the plan changed"),
    "revive": _t({S.CANCELLED}, {S.PENDING}, "planner", "owed again (re-subscribed, session restored)"),
    "withdraw": _t({S.PENDING}, {S.CANCELLED}, "planner", "no longer owed"),
    "publish": _t({S.PENDING}, {S.PUBLISHED}, "dispatcher", "due: on the bus, with a lease"),
    "skip_late": _t({S.PUBLISHED}, {S.SKIPPED}, "dispatcher", "due, but too late to make sense"),
    "unconfirmed": _t({S.PUBLISHED}, {S.PENDING}, "dispatcher", "the broker did not confirm it"),
    "lease_expired": _t(
        {S.PUBLISHED, S.SENDING},
        {S.PENDING},
        "reaper",
        "no worker took it in time, or its holder fell silent",
    ),
    "take": _t({S.PUBLISHED, S.PENDING}, {S.SENDING}, "worker", "claimed for sending (pending: if due)"),
    "renew": _t(
        {S.SENDING}, {S.SENDING}, "worker", "still sending: its holder's heartbeat extends the lease"
    ),
    "deliver": _t({S.SENDING}, {S.SENT}, "worker", "the channel accepted it"),
    "settle": _t({S.SENDING}, {S.CANCELLED, S.SKIPPED, S.FAILED}, "worker", "not sent, for a reason"),
    "defer": _t({S.SENDING}, {S.PENDING}, "worker", "a transient failure: again later"),
    "give_up": _t({S.SENDING}, {S.FAILED}, "worker", "a transient failure once too often"),
    "fail": _t({S.PENDING, S.PUBLISHED, S.SENDING}, {S.FAILED}, "worker", "a poison or dead letter"),
    "staff_retry": _t({S.FAILED}, {S.PENDING}, "staff", "send again, due now, attempts afresh"),
    "bounce": _t({S.SENT}, {S.BOUNCED}, "inbound", "the member's mail server refused it after all"),
    "restored": _t(
        {S.PUBLISHED, S.SENDING},
        {S.PENDING},
        "restore",
        "in flight when the backup was taken: owed again in the restored database",
    ),
}


def _from(name: str) -> ColumnElement[bool]:
    """``status`` is one of the transition's sources (plain comparisons: fine for executemany)."""
    return or_(*(NOTICES.c.status == status.value for status in sorted(TRANSITIONS[name].sources)))


#: A notice no longer in a worker's hands: no lease, no holder.
_RELEASED: dict[str, Any] = {"lease_until": None, "holder": None}


def _reason_values(why: Reason | None) -> dict[str, Any]:
    return {"reason_code": why.code.value if why else None, "reason_params": why.params if why else None}


def retry_delay(attempts: int) -> timedelta:
    """How long a notice waits after its ``attempts``-th try failed (1 for the first)."""
    seconds = compute_backoff(attempts - 1, base=RETRY_BASE.total_seconds(), cap=RETRY_CAP.total_seconds())
    return timedelta(seconds=seconds)


def reason_of(code: str | None, params: dict[str, Any] | None) -> Reason | None:
    """A stored reason (a code this version does not know is shown as recorded)."""
    if not code:
        return None
    if code not in ReasonCode.__members__.values():
        return reason(ReasonCode.RECORDED, text=code)
    return Reason(ReasonCode(code), params or {})


def describe(why: Reason | None) -> str:
    """A reason in English, for logs and for the API's ``last_error``."""
    return translator("en").reason(why.code.value, why.params) if why else ""


def log_fields(why: Reason | None) -> dict[str, Any]:
    """What a log line says of a reason: its code, its parameters and the English sentence."""
    if why is None:
        return {}
    return {"reason": why.code.value, "reason_params": why.params, "reason_text": describe(why)}


# --- the planner ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewNotice:
    """A notice the planner found owed and not yet in the table."""

    id: uuid.UUID
    series_id: uuid.UUID | None  # None for a digest
    member_id: uuid.UUID | None
    webhook_id: uuid.UUID | None
    occurrence_uid: str
    recurrence_id: datetime
    kind: NoticeKind
    slot: str
    channel: str
    sequence: int
    due_at: datetime
    starts_at: datetime
    staff_id: uuid.UUID | None = None
    chapter: str | None = None


@dataclass(frozen=True)
class Retiming:
    """A pending notice's new due time and sequence; ``revive`` brings a cancelled one back."""

    id: uuid.UUID
    due_at: datetime
    sequence: int
    starts_at: datetime
    revive: bool = False


def plan(session: Session, notices: Sequence[NewNotice], now: datetime) -> int:
    """Insert newly owed notices as ``pending``; one that exists already (same id) is left alone.

    On PostgreSQL the notices that differ only in their recipient (a session's updates for its
    10,000 members) go as one ``INSERT … SELECT FROM unnest(ids, recipients)``: a statement per
    kind of change, not a round trip per member."""
    if not notices:
        return 0
    if _postgres(session):
        for shared, group in _grouped(notices).items():
            values = dict(zip(_SHARED, shared, strict=True))
            per_recipient = {f"{name}s": [getattr(n, name) for n in group] for name in _PER_RECIPIENT}
            session.execute(_PG_PLAN, values | per_recipient | {"kind": values["kind"].value, "now": now})
        return len(notices)
    rows = [
        {
            **{name: getattr(n, name) for name in NewNotice.__dataclass_fields__},
            "kind": n.kind.value,
            "status": S.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for n in notices
    ]
    session.execute(sqlite.insert(NOTICES).on_conflict_do_nothing(index_elements=["id"]), rows)
    return len(rows)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _read(session: Session, columns: Iterable[Any]) -> list[Any]:
    """Columns to read. On PostgreSQL the instants come as psycopg hands them (aware, UTC) without
    :class:`~scheduler.db.types.UTCDateTime`'s per-value conversion: the dispatcher and the
    planner read tens of thousands at a time."""
    if not _postgres(session):
        return list(columns)
    return [
        type_coerce(c, DateTime(timezone=True)).label(c.name) if isinstance(c.type, UTCDateTime) else c
        for c in columns
    ]


#: What tells apart notices planned together: the notice and its recipient.
_PER_RECIPIENT = ("id", "member_id", "webhook_id", "staff_id")
#: What they may share (the session, kind, slot, sequence, due time…).
_SHARED = tuple(name for name in NewNotice.__dataclass_fields__ if name not in _PER_RECIPIENT)


def _grouped(notices: Sequence[NewNotice]) -> dict[tuple[Any, ...], list[NewNotice]]:
    """The notices by what they share."""
    groups: dict[tuple[Any, ...], list[NewNotice]] = {}
    for n in notices:
        groups.setdefault(tuple(getattr(n, name) for name in _SHARED), []).append(n)
    return groups


_PG_PLAN = text(
    """
    INSERT INTO notices (id, member_id, webhook_id, staff_id, series_id, occurrence_uid, recurrence_id,
        kind, slot, channel, sequence, due_at, starts_at, chapter, status, attempts, created_at, updated_at)
    SELECT v.id, v.member_id, v.webhook_id, v.staff_id, :series_id, :occurrence_uid, :recurrence_id,
        :kind, :slot, :channel, :sequence, :due_at, :starts_at, :chapter, 'pending', 0, :now, :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:member_ids AS uuid[]), CAST(:webhook_ids AS uuid[]),
                CAST(:staff_ids AS uuid[])) AS v(id, member_id, webhook_id, staff_id)
    ON CONFLICT (id) DO NOTHING
    """
)
#: How many notices one statement changes by id (SQLite allows 32,766 parameters).
CHUNK = 5000


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    return (ids[at : at + CHUNK] for at in range(0, len(ids), CHUNK))


def _among(session: Session, ids: Sequence[uuid.UUID]) -> Iterable[ColumnElement[bool]]:
    """``id`` is one of ``ids``: on PostgreSQL one array parameter (``= ANY``) however many; on
    SQLite an ``IN`` list per :data:`CHUNK` of them."""
    if _postgres(session):
        return [NOTICES.c.id == any_(cast(list(ids), ARRAY(Uuid())))]
    return [NOTICES.c.id.in_(chunk) for chunk in _chunks(ids)]


def retime(session: Session, changes: Sequence[Retiming], now: datetime) -> int:
    """``retime`` a pending notice, or ``revive`` a cancelled one, to a new due time and sequence:
    one statement for each new (due time, sequence, start) — a moved session's reminders for all
    its members are one."""
    if not changes:
        return 0
    groups: dict[tuple[datetime, int, datetime, bool], list[uuid.UUID]] = {}
    for c in changes:
        groups.setdefault((c.due_at, c.sequence, c.starts_at, c.revive), []).append(c.id)
    for (due, sequence, starts, revive), ids in groups.items():
        for among in _among(session, ids):
            session.execute(
                update(NOTICES)
                .where(among, _from("revive" if revive else "retime"))
                .values(
                    due_at=due,
                    sequence=sequence,
                    starts_at=starts,
                    status=S.PENDING.value,
                    reason_code=None,
                    reason_params=None,
                    updated_at=now,
                )
            )
    return len(changes)


def withdraw(session: Session, items: Sequence[tuple[uuid.UUID, Reason]], now: datetime) -> int:
    """Pending notices that are no longer owed become ``cancelled``, each with its reason (one
    statement per reason)."""
    if not items:
        return 0
    groups: dict[str, tuple[Reason, list[uuid.UUID]]] = {}
    for notice_id, why in items:
        key = f"{why.code.value}|{sorted(why.params.items())!r}"
        groups.setdefault(key, (why, []))[1].append(notice_id)
    for why, ids in groups.values():
        for among in _among(session, ids):
            session.execute(
                update(NOTICES)
                .where(among, _from("withdraw"))
                .values(
                    status=S.CANCELLED.value,
                    reason_code=why.code.value,
                    reason_params=why.params,
                    updated_at=now,
                )
            )
    return len(items)


def withdraw_unfollowed(
    session: Session, member_id: uuid.UUID, series_ids: Sequence[uuid.UUID], now: datetime
) -> int:
    """A member's pending notices of series they no longer follow become ``cancelled``
    (``unsubscribed``) at once, not at the planner's next look: a reminder due in a minute must
    not go out after the member said stop. A cancellation of a session they were told of still
    goes (their calendar must not keep a session that is off)."""
    if not series_ids:
        return 0
    ids = session.scalars(
        select(NOTICES.c.id).where(
            NOTICES.c.member_id == member_id,
            NOTICES.c.series_id.in_(list(series_ids)),
            NOTICES.c.status == S.PENDING.value,
            NOTICES.c.kind != NoticeKind.CANCELLATION.value,
        )
    ).all()
    return withdraw(session, [(i, reason(ReasonCode.UNSUBSCRIBED)) for i in ids], now)


# --- the dispatcher ------------------------------------------------------------------------------

#: What a claim reads: enough to judge lateness and build the envelope, nothing more.
CLAIMED = tuple(
    NOTICES.c[name]
    for name in (
        "id",
        "series_id",
        "member_id",
        "webhook_id",
        "staff_id",
        "occurrence_uid",
        "recurrence_id",
        "kind",
        "slot",
        "channel",
        "sequence",
        "due_at",
        "starts_at",
        "attempts",
    )
)


def publish_due(session: Session, now: datetime, *, limit: int, lease: timedelta) -> list[Row[Any]]:
    """Claim up to ``limit`` due notices and mark them ``published`` (leased) in one statement.

    ``FOR UPDATE SKIP LOCKED`` lets any number of dispatchers share the work on PostgreSQL; the
    caller keeps the transaction open until the broker has confirmed, so nobody sees
    ``published`` before then, and a crash rolls the claim back.
    """
    due = (
        select(NOTICES.c.id)
        .where(NOTICES.c.status == S.PENDING.value, NOTICES.c.due_at <= now)
        .order_by(NOTICES.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.execute(
        update(NOTICES)
        .where(NOTICES.c.id.in_(due), _from("publish"))
        .values(
            status=S.PUBLISHED.value,
            lease_until=now + lease,
            published_at=now,
            attempts=NOTICES.c.attempts + 1,
            reason_code=None,
            reason_params=None,
            updated_at=now,
        )
        .returning(*_read(session, CLAIMED))
    ).all()
    return sorted(claimed, key=lambda row: row.due_at)


_SKIP_LATE = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("_id"), _from("skip_late"))
    .values(
        status=S.SKIPPED.value,
        attempts=NOTICES.c.attempts - 1,  # claimed, but never tried
        lease_until=None,
        published_at=None,
        reason_code=bindparam("_code"),
        reason_params=bindparam("_params"),
        updated_at=bindparam("_now"),
    )
)


def skip_late(session: Session, items: Sequence[tuple[uuid.UUID, Reason]], now: datetime) -> None:
    """Claimed notices that came due too late to make sense become ``skipped`` (not an attempt)."""
    if items:
        params = [{"_id": i, "_code": r.code.value, "_params": r.params, "_now": now} for i, r in items]
        session.execute(_SKIP_LATE, params)


_UNCONFIRMED = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("_id"), _from("unconfirmed"))
    .values(
        status=S.PENDING.value,
        lease_until=None,
        published_at=None,
        reason_code=bindparam("_code"),
        reason_params=bindparam("_params"),
        due_at=bindparam("_due"),
        updated_at=bindparam("_now"),
    )
)


def unconfirmed(session: Session, items: Sequence[tuple[Row[Any], Reason]], now: datetime) -> None:
    """Claimed notices the broker did not confirm go back to ``pending``, due after a backoff."""
    if items:
        params = [
            {
                "_id": row.id,
                "_code": r.code.value,
                "_params": r.params,
                "_due": now + retry_delay(row.attempts),
                "_now": now,
            }
            for row, r in items
        ]
        session.execute(_UNCONFIRMED, params)


def reap_expired_leases(session: Session, now: datetime) -> list[uuid.UUID]:
    """Published notices whose lease ran out with no worker taking them: ``pending`` again."""
    why = reason(ReasonCode.LEASE_EXPIRED)
    return list(
        session.scalars(
            update(NOTICES)
            .where(NOTICES.c.status == S.PUBLISHED.value, NOTICES.c.lease_until < now)
            .values(status=S.PENDING.value, **_RELEASED, updated_at=now, **_reason_values(why))
            .returning(NOTICES.c.id)
        )
    )


def restored(session: Session, now: datetime) -> list[uuid.UUID]:
    """After a backup is restored, nothing is in a worker's hands: what was published or being
    sent when the copy was taken is ``pending`` again, due as it was (``exsched db restore``)."""
    why = reason(ReasonCode.RESTORED)
    return list(
        session.scalars(
            update(NOTICES)
            .where(_from("restored"))
            .values(status=S.PENDING.value, **_RELEASED, updated_at=now, **_reason_values(why))
            .returning(NOTICES.c.id)
        )
    )


def sending_leases(session: Session) -> dict[uuid.UUID, datetime | None]:
    """Every notice being sent, with its lease as it stands (a live holder keeps changing it)."""
    rows = session.execute(
        select(NOTICES.c.id, NOTICES.c.lease_until).where(NOTICES.c.status == S.SENDING.value)
    )
    return {row.id: row.lease_until for row in rows}


def reap_silent(
    session: Session, silent: Sequence[tuple[uuid.UUID, datetime | None]], now: datetime
) -> list[uuid.UUID]:
    """Notices whose holder stopped renewing: ``pending`` again — each only if its lease is still
    the one seen unchanged (a renewal in between keeps it with its holder)."""
    why = reason(ReasonCode.LEASE_EXPIRED)
    reaped = []
    for notice_id, seen in silent:
        same = NOTICES.c.lease_until.is_(None) if seen is None else NOTICES.c.lease_until == seen
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(NOTICES)
            .where(NOTICES.c.id == notice_id, NOTICES.c.status == S.SENDING.value, same)
            .values(status=S.PENDING.value, **_RELEASED, updated_at=now, **_reason_values(why))
        )
        if result.rowcount:
            reaped.append(notice_id)
    return reaped


# --- the workers ---------------------------------------------------------------------------------


def take(session: Session, notice_id: uuid.UUID, now: datetime, lease: timedelta, *, holder: str) -> bool:
    """Claim a notice for sending (``sending``, leased to ``holder``); False if it is not ours to
    send: finished, held by another worker, or pending and not due (a stale message)."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(
            NOTICES.c.id == notice_id,
            (NOTICES.c.status == S.PUBLISHED.value)
            | ((NOTICES.c.status == S.PENDING.value) & (NOTICES.c.due_at <= now)),
        )
        .values(status=S.SENDING.value, lease_until=now + lease, holder=holder, updated_at=now)
    )
    return bool(result.rowcount)


def renew(
    session: Session, notice_ids: Iterable[uuid.UUID], holder: str, now: datetime, lease: timedelta
) -> int:
    """Extend the leases of notices ``holder`` is still sending (its heartbeat): a holder that
    died stops renewing, and its notices are pending again within one lease."""
    ids = list(notice_ids)
    if not ids:
        return 0
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id.in_(ids), _from("renew"), NOTICES.c.holder == holder)
        .values(lease_until=now + lease)
    )
    return int(result.rowcount)


def holder_of(session: Session, notice_id: uuid.UUID) -> tuple[NoticeStatus, str | None] | None:
    """The notice's status and, while it is being sent, who holds it."""
    found = session.execute(
        select(NOTICES.c.status, NOTICES.c.holder).where(NOTICES.c.id == notice_id)
    ).first()
    return (NoticeStatus(found.status), found.holder) if found else None


def deliver(
    session: Session,
    notice_id: uuid.UUID,
    now: datetime,
    *,
    message_id: str,
    sequence: int,
    told: dict[str, Any] | None = None,
) -> bool:
    """The channel accepted the notice: ``sent``, with the channel's id, the SEQUENCE it told
    and what it stated of the session (``told``: a later update says what changed since)."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, _from("deliver"))
        .values(
            status=S.SENT.value,
            sent_at=now,
            message_id=message_id,
            sequence=sequence,
            told=told,
            **_RELEASED,
            reason_code=None,
            reason_params=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


def settle(session: Session, notice_id: uuid.UUID, status: NoticeStatus, why: Reason, now: datetime) -> bool:
    """A notice in hand that will not be sent: ``cancelled``, ``skipped`` or ``failed``, with why."""
    if status not in TRANSITIONS["settle"].targets:
        raise ValueError(f"a notice in hand cannot settle as {status.value}")
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, _from("settle"))
        .values(status=status.value, **_RELEASED, updated_at=now, **_reason_values(why))
    )
    return bool(result.rowcount)


def bounce(session: Session, notice_id: uuid.UUID, why: Reason, now: datetime) -> bool:
    """A bounce came back for a sent notice: ``bounced``, with what the refusing server said."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, _from("bounce"))
        .values(status=S.BOUNCED.value, updated_at=now, **_reason_values(why))
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class Deferral:
    """What became of a notice whose send failed for now."""

    status: NoticeStatus  # pending (tried again at ``due_at``) or failed (gave up)
    reason: Reason
    due_at: datetime | None


def defer(
    session: Session, notice_id: uuid.UUID, why: Reason, now: datetime, *, max_attempts: int
) -> Deferral:
    """A transient failure: ``pending`` again after a backoff, or ``failed`` once the notice has
    been tried ``max_attempts`` times (the reason then says how often, and what happened last)."""
    attempts = session.scalar(select(NOTICES.c.attempts).where(NOTICES.c.id == notice_id)) or 0
    values: dict[str, Any] = {**_RELEASED, "updated_at": now}
    if attempts >= max_attempts:
        outcome = Deferral(S.FAILED, reason(ReasonCode.GAVE_UP, attempts=attempts, last=why.as_param()), None)
        source = _from("give_up")
    else:
        outcome = Deferral(S.PENDING, why, now + retry_delay(attempts))
        values["due_at"] = outcome.due_at
        source = _from("defer")
    session.execute(
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, source)
        .values(status=outcome.status.value, **values, **_reason_values(outcome.reason))
    )
    return outcome


def fail(session: Session, notice_id: uuid.UUID, why: Reason, now: datetime) -> bool:
    """A notice that is not finished yet becomes ``failed`` (a poison or dead-lettered message);
    False if it had already finished or does not exist."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, _from("fail"))
        .values(status=S.FAILED.value, **_RELEASED, updated_at=now, **_reason_values(why))
    )
    return bool(result.rowcount)


# --- staff -----------------------------------------------------------------------------------------


def staff_retry(session: Session, notice_id: uuid.UUID, by: str, now: datetime) -> bool:
    """Send a failed notice again: ``pending``, due now, attempts counted afresh; the reason says
    who asked and what the failure was. False if the notice is not (or no longer) failed."""
    before = session.execute(
        select(NOTICES.c.reason_code, NOTICES.c.reason_params).where(NOTICES.c.id == notice_id)
    ).first()
    earlier = {"code": before.reason_code, "params": before.reason_params or {}} if before else None
    why = reason(ReasonCode.STAFF_RETRY, by=by, at=f"{now:%Y-%m-%d %H:%M} UTC", before=earlier)
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(NOTICES)
        .where(NOTICES.c.id == notice_id, _from("staff_retry"))
        .values(
            status=S.PENDING.value,
            due_at=now,
            attempts=0,
            lease_until=None,
            updated_at=now,
            **_reason_values(why),
        )
    )
    return bool(result.rowcount)


# --- reading -----------------------------------------------------------------------------------------


def status_of(session: Session, notice_id: uuid.UUID) -> NoticeStatus | None:
    found = session.scalar(select(NOTICES.c.status).where(NOTICES.c.id == notice_id))
    return NoticeStatus(found) if found else None


def next_due(session: Session) -> datetime | None:
    """When the earliest pending notice is due (None if there is none)."""
    value: datetime | None = session.scalar(
        select(func.min(NoticeRow.due_at)).where(NoticeRow.status == S.PENDING.value)
    )
    return value


def counts_by_kind_and_status(session: Session) -> list[tuple[str, str, int]]:
    """How many notices of each kind are in each status (``exsched_notices`` when scraped)."""
    rows = session.execute(
        select(NOTICES.c.kind, NOTICES.c.status, func.count()).group_by(NOTICES.c.kind, NOTICES.c.status)
    )
    return [(kind, status, int(n)) for kind, status, n in rows]


def series_with_open_notices(session: Session, member_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(NOTICES.c.series_id)
            .where(NOTICES.c.member_id == member_id, NOTICES.c.status.in_([s.value for s in OPEN]))
            .distinct()
        )
    )


KNOWN_COLUMNS = (
    "id",
    "member_id",
    "webhook_id",
    "occurrence_uid",
    "kind",
    "slot",
    "channel",
    "sequence",
    "status",
    "due_at",
    "starts_at",
    "recurrence_id",
)


def known_for_series(
    session: Session, series_id: uuid.UUID, *, only_member: uuid.UUID | None, since: datetime
) -> list[Any]:
    """What the planner compares against: a series' open notices, and all notices of its sessions
    from ``since`` on (those it may still have to correct). Rows of :data:`KNOWN_COLUMNS`, in
    that order (the planner unpacks them by position)."""
    query = select(*_read(session, [NOTICES.c[name] for name in KNOWN_COLUMNS])).where(
        NOTICES.c.series_id == series_id,
        or_(
            NOTICES.c.status.in_([s.value for s in OPEN]),
            NOTICES.c.starts_at >= since,
            NOTICES.c.starts_at.is_(None),
        ),
    )
    if only_member is not None:
        query = query.where(NOTICES.c.member_id == only_member)
    return list(session.execute(query).all())  # (all at once: a third faster)


def requests_sent(
    session: Session, occurrence_uid: str, *, member_id: uuid.UUID | None, webhook_id: uuid.UUID | None
) -> list[tuple[NoticeKind, int]]:
    """The invitations and updates (iTIP REQUESTs) a recipient was sent for one occurrence, as
    (kind, SEQUENCE) pairs: what the recipient's calendar holds of it."""
    recipient = NOTICES.c.member_id == member_id if member_id else NOTICES.c.webhook_id == webhook_id
    rows = session.execute(
        select(NOTICES.c.kind, NOTICES.c.sequence).where(
            recipient,
            NOTICES.c.occurrence_uid == occurrence_uid,
            NOTICES.c.kind.in_([NoticeKind.INVITATION.value, NoticeKind.UPDATE.value]),
            NOTICES.c.status.in_([s.value for s in TOLD]),
        )
    )
    return [(NoticeKind(kind), sequence) for kind, sequence in rows]


def last_told(
    session: Session, occurrence_uid: str, *, member_id: uuid.UUID | None, webhook_id: uuid.UUID | None
) -> tuple[NoticeKind, dict[str, Any] | None] | None:
    """The last notice a recipient was sent of one occurrence that stated it (an invitation,
    update, offer, reminder or cancellation): its kind and what it said (None for one sent
    before notices kept that); None if they were sent none."""
    recipient = NOTICES.c.member_id == member_id if member_id else NOTICES.c.webhook_id == webhook_id
    row = session.execute(
        select(NOTICES.c.kind, NOTICES.c.told)
        .where(
            recipient,
            NOTICES.c.occurrence_uid == occurrence_uid,
            NOTICES.c.kind.in_([k.value for k in (*CALENDAR_KINDS, NoticeKind.REMINDER)]),
            NOTICES.c.status.in_([s.value for s in TOLD]),
        )
        .order_by(NOTICES.c.sent_at.desc(), NOTICES.c.sequence.desc())
        .limit(1)
    ).first()
    return None if row is None else (NoticeKind(row.kind), row.told)


def members_told(session: Session, occurrence_uids: Iterable[str]) -> set[uuid.UUID]:
    """Members who were told, or are being told, of any of these occurrences."""
    uids = list(occurrence_uids)
    if not uids:
        return set()
    return set(
        session.scalars(
            select(NOTICES.c.member_id).where(
                NOTICES.c.occurrence_uid.in_(uids),
                NOTICES.c.member_id.is_not(None),
                NOTICES.c.kind.in_([k.value for k in CALENDAR_KINDS]),
                NOTICES.c.status.in_([s.value for s in TOLD_OR_TELLING]),
            )
        )
    )


def oldest_open(session: Session, now: datetime) -> list[tuple[str, float]]:
    """How long the oldest open notice of each status has waited, in seconds (0: none waits):
    ``pending`` past its due time (the dispatcher is not publishing), ``published`` since it
    was published (no worker takes it), ``sending`` past its lease (its worker stopped
    renewing it). Three index-sized reads (``exsched_notices_oldest_seconds`` when scraped)."""
    since = {
        S.PENDING: NOTICES.c.due_at,
        S.PUBLISHED: NOTICES.c.published_at,
        S.SENDING: NOTICES.c.lease_until,
    }
    found = []
    for status, column in since.items():
        oldest = session.scalar(select(func.min(column)).where(NOTICES.c.status == status.value))
        waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        found.append((status.value, waited))
    return found


def counter(
    db: Database,
) -> Callable[[], tuple[list[tuple[str, str, int]], list[tuple[str, float]]]]:
    """:func:`counts_by_kind_and_status` and :func:`oldest_open` in a session of their own, for
    the metrics collector."""

    def counts() -> tuple[list[tuple[str, str, int]], list[tuple[str, float]]]:
        with db.session() as session:
            return counts_by_kind_and_status(session), oldest_open(session, utcnow())

    return counts
