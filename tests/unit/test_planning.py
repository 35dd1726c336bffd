"""plan_pair: what one member is owed for one occurrence, and idempotence."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheduler.notices.policy import AlikePairs, Cancel, Create, Existing, OccurrenceFacts, Retime, plan_pair
from schemas.api import NoticePlan
from schemas.names import NoticeKind, NoticeStatus
from schemas.reasons import ReasonCode, reason

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
MEMBER = uuid.UUID("11111111-1111-1111-1111-111111111111")
PLAN = NoticePlan(
    invite_before=timedelta(days=14),
    reminders=[timedelta(days=1), timedelta(hours=2)],
    followup_after=timedelta(days=1),
)
K = NoticeKind


def occ(start: datetime = START, sequence: int = 0, gone: bool = False) -> OccurrenceFacts:
    return OccurrenceFacts(
        uid="s1-20261220T060000Z@x",
        recurrence_id=START,
        start=start,
        end=start + timedelta(hours=2),
        sequence=sequence,
        gone=gone,
        reason=reason(ReasonCode.SESSION_CANCELLED) if gone else None,
    )


def apply(existing: list[Existing], changes: list, facts: OccurrenceFacts) -> list[Existing]:
    """What the database would hold after the planner applied ``changes``."""
    rows = {n.id: n for n in existing}
    for change in changes:
        if isinstance(change, Create):
            rows[change.id] = Existing(
                change.id,
                change.kind,
                change.slot,
                change.sequence,
                NoticeStatus.PENDING,
                change.due_at,
                facts.start,
            )
        elif isinstance(change, Retime):
            rows[change.id] = replace(
                rows[change.id],
                due_at=change.due_at,
                sequence=change.sequence,
                status=NoticeStatus.PENDING,
                starts_at=facts.start,
            )
        else:
            rows[change.id] = replace(rows[change.id], status=NoticeStatus.CANCELLED)
    return list(rows.values())


def plan(
    facts: OccurrenceFacts, existing: list[Existing], now: datetime = NOW, subscribed: bool = True
) -> list:
    return plan_pair(facts, MEMBER, subscribed=subscribed, plan=PLAN, existing=existing, now=now)


def mark(existing: list[Existing], kind: NoticeKind, status: NoticeStatus) -> list[Existing]:
    return [replace(n, status=status) if n.kind == kind else n for n in existing]


def kinds(
    rows: list[Existing], status: NoticeStatus = NoticeStatus.PENDING
) -> list[tuple[str, str, datetime]]:
    return sorted((n.kind.value, n.slot, n.due_at) for n in rows if n.status == status)


def test_new_subscriber_gets_invitation_reminders_and_followup() -> None:
    facts = occ()
    rows = apply([], plan(facts, []), facts)
    assert kinds(rows) == [
        ("followup", "", START + timedelta(hours=2, days=1)),
        ("invitation", "", START - timedelta(days=14)),
        ("reminder", "P1D", START - timedelta(days=1)),
        ("reminder", "PT2H", START - timedelta(hours=2)),
    ]


def test_planning_twice_changes_nothing() -> None:
    facts = occ()
    rows = apply([], plan(facts, []), facts)
    assert plan(facts, rows) == []
    assert plan(facts, rows, now=NOW + timedelta(hours=3)) == []


def test_ids_are_deterministic() -> None:
    assert [c.id for c in plan(occ(), [])] == [c.id for c in plan(occ(), [])]


def test_late_subscriber_is_invited_now_and_past_reminders_are_not_created() -> None:
    late = START - timedelta(hours=5)
    rows = apply([], plan(occ(), [], now=late), occ())
    assert kinds(rows) == [
        ("followup", "", START + timedelta(hours=2, days=1)),
        ("invitation", "", late),
        ("reminder", "PT2H", START - timedelta(hours=2)),
    ]


def test_nothing_new_once_the_session_started() -> None:
    assert plan(occ(), [], now=START + timedelta(minutes=1)) == []


def test_moving_a_session_before_invitations_retimes_everything() -> None:
    rows = apply([], plan(occ(), []), occ())
    moved = occ(start=START + timedelta(days=3), sequence=1)
    changes = plan(moved, rows)
    assert all(isinstance(c, Retime) for c in changes) and len(changes) == 4
    rows = apply(rows, changes, moved)
    assert ("invitation", "", moved.start - timedelta(days=14)) in kinds(rows)
    assert not any(n.kind == K.UPDATE for n in rows)


def test_moving_a_session_after_the_invitation_was_sent_owes_an_update() -> None:
    rows = mark(apply([], plan(occ(), []), occ()), K.INVITATION, NoticeStatus.SENT)
    moved = occ(start=START + timedelta(days=3), sequence=1)
    rows = apply(rows, plan(moved, rows), moved)
    [update] = [n for n in rows if n.kind == K.UPDATE]
    assert (update.sequence, update.due_at, update.status) == (1, NOW, NoticeStatus.PENDING)
    moved_again = occ(start=START + timedelta(days=4), sequence=2)
    changes = plan(moved_again, rows)
    assert Cancel(update.id, reason(ReasonCode.SUPERSEDED, sequence=2)) in changes
    assert any(isinstance(c, Create) and c.kind == K.UPDATE and c.sequence == 2 for c in changes)


def test_cancelling_cancels_pending_and_tells_those_already_invited() -> None:
    rows = mark(apply([], plan(occ(), []), occ()), K.INVITATION, NoticeStatus.SENT)
    cancelled = occ(sequence=1, gone=True)
    changes = plan(cancelled, rows)
    assert {c.reason.code for c in changes if isinstance(c, Cancel)} == {ReasonCode.SESSION_CANCELLED}
    assert len([c for c in changes if isinstance(c, Cancel)]) == 3
    [cancel] = [c for c in changes if isinstance(c, Create)]
    assert (cancel.kind, cancel.sequence, cancel.due_at) == (K.CANCELLATION, 1, NOW)
    rows = apply(rows, changes, cancelled)
    assert plan(cancelled, rows) == []


def test_cancelling_before_anyone_was_told_sends_nothing() -> None:
    rows = apply([], plan(occ(), []), occ())
    changes = plan(occ(sequence=1, gone=True), rows)
    assert changes and all(isinstance(c, Cancel) for c in changes)


def test_a_vanished_session_gets_a_cancellation_above_the_last_sequence_told() -> None:
    rows = mark(apply([], plan(occ(sequence=3), []), occ(sequence=3)), K.INVITATION, NoticeStatus.SENT)
    gone = replace(occ(sequence=4, gone=True), reason=reason(ReasonCode.SESSION_GONE))
    [cancel] = [c for c in plan(gone, rows) if isinstance(c, Create)]
    assert cancel.kind == K.CANCELLATION and cancel.sequence == 4


def test_restoring_a_cancelled_session_re_invites_with_a_higher_sequence() -> None:
    rows = mark(apply([], plan(occ(), []), occ()), K.INVITATION, NoticeStatus.SENT)
    rows = apply(rows, plan(occ(sequence=1, gone=True), rows), occ(sequence=1, gone=True))
    rows = mark(rows, K.CANCELLATION, NoticeStatus.SENT)
    restored = occ(sequence=2)
    rows = apply(rows, plan(restored, rows), restored)
    [update] = [n for n in rows if n.kind == K.UPDATE]
    assert (update.sequence, update.status) == (2, NoticeStatus.PENDING)
    assert len([n for n in rows if n.kind == K.REMINDER and n.status == NoticeStatus.PENDING]) == 2


def test_unsubscribing_cancels_pending_notices_with_the_reason() -> None:
    rows = apply([], plan(occ(), []), occ())
    changes = plan(occ(), rows, subscribed=False)
    assert {c.reason.code for c in changes} == {ReasonCode.UNSUBSCRIBED} and len(changes) == 4
    rows = apply(rows, changes, occ())
    resubscribed = apply(rows, plan(occ(), rows), occ())
    assert len(kinds(resubscribed)) == 4


def test_a_reminder_removed_from_the_plan_is_cancelled() -> None:
    rows = apply([], plan(occ(), []), occ())
    fewer = PLAN.model_copy(update={"reminders": [timedelta(days=1)]})
    changes = plan_pair(occ(), MEMBER, subscribed=True, plan=fewer, existing=rows, now=NOW)
    assert [c.reason for c in changes if isinstance(c, Cancel)] == [reason(ReasonCode.REMINDER_REMOVED)]


def test_notices_in_flight_are_never_touched() -> None:
    rows = mark(apply([], plan(occ(), []), occ()), K.REMINDER, NoticeStatus.PUBLISHED)
    changes = plan(occ(start=START + timedelta(days=1), sequence=1), rows)
    touched = {c.id for c in changes if not isinstance(c, Create)}
    assert not touched & {n.id for n in rows if n.status == NoticeStatus.PUBLISHED}


def test_a_late_reminder_is_left_for_the_dispatcher_to_judge() -> None:
    rows = apply([], plan(occ(), []), occ())
    after_due = START - timedelta(hours=1)  # the PT2H reminder is an hour overdue
    assert not [c for c in plan(occ(), rows, now=after_due) if isinstance(c, Cancel)]


def test_follow_up_only_for_members_who_were_invited() -> None:
    after_start = START + timedelta(minutes=5)
    assert plan(occ(), [], now=after_start) == []  # subscribed too late: no invitation, no follow-up


# --- AlikePairs: the same answers, worked out once per shape -----------------------------------


def _population(
    rng: random.Random, facts: OccurrenceFacts, size: int
) -> list[tuple[uuid.UUID, list[Existing]]]:
    """Members with notices drawn from what a real session's members hold: nothing yet, a pending
    or sent invitation, sent updates of older SEQUENCEs, withdrawn updates, a cancellation they
    were told, reminders pending at the old times or on a slot no longer planned, a follow-up."""
    old = START - timedelta(hours=1)
    shapes = [
        [],
        [(K.INVITATION, "", 0, NoticeStatus.PENDING, old - timedelta(days=14))],
        [
            (K.INVITATION, "", 0, NoticeStatus.SENT, old - timedelta(days=14)),
            (K.REMINDER, "P1D", 0, NoticeStatus.PENDING, old - timedelta(days=1)),
            (K.REMINDER, "PT2H", 0, NoticeStatus.PENDING, old - timedelta(hours=2)),
            (K.FOLLOWUP, "", 0, NoticeStatus.PENDING, old + timedelta(days=1, hours=2)),
        ],
        [
            (K.INVITATION, "", 0, NoticeStatus.SENT, old - timedelta(days=14)),
            (K.UPDATE, "", 1, NoticeStatus.SENT, NOW - timedelta(days=1)),
            (K.UPDATE, "", 2, NoticeStatus.CANCELLED, NOW - timedelta(hours=1)),
            (K.REMINDER, "PT30M", 0, NoticeStatus.PENDING, old - timedelta(minutes=30)),
        ],
        [
            (K.INVITATION, "", 0, NoticeStatus.SENT, old - timedelta(days=14)),
            (K.CANCELLATION, "", 1, NoticeStatus.SENT, NOW - timedelta(days=1)),
        ],
        [
            (K.INVITATION, "", 0, NoticeStatus.SENT, old - timedelta(days=14)),
            (K.UPDATE, "", facts.sequence, NoticeStatus.CANCELLED, NOW - timedelta(hours=3)),
            (K.FOLLOWUP, "", 0, NoticeStatus.CANCELLED, old + timedelta(days=1, hours=2)),
        ],
    ]
    members = []
    for _ in range(size):
        member = uuid.UUID(int=rng.getrandbits(128))
        notices = [
            Existing(uuid.UUID(int=rng.getrandbits(128)), kind, slot, seq, status, due, old)
            for kind, slot, seq, status, due in rng.choice(shapes)
        ]
        rng.shuffle(notices)  # as a query returns them: in no particular order
        members.append((member, notices))
    return members


def test_alike_pairs_answer_each_member_as_plan_pair_would() -> None:
    rng = random.Random(18)
    for facts in (
        occ(sequence=3),
        occ(start=START + timedelta(hours=1), sequence=3),
        occ(sequence=3, gone=True),
    ):
        alike = AlikePairs()
        population = _population(rng, facts, 300)
        for n, (member, notices) in enumerate(population):
            subscribed = n % 7 != 0
            expected = plan_pair(facts, member, subscribed=subscribed, plan=PLAN, existing=notices, now=NOW)
            got = alike.plan_pair(facts, member, subscribed=subscribed, plan=PLAN, existing=notices, now=NOW)
            assert sorted(map(repr, got)) == sorted(map(repr, expected)), (facts, notices)
        # and the work was shared: six shapes, subscribed or not, asked once each
        assert len(alike._known) <= 12


def test_alike_pairs_make_each_members_new_notices_their_own() -> None:
    alike = AlikePairs()
    first, second = uuid.uuid4(), uuid.uuid4()
    ours = [
        alike.plan_pair(occ(), m, subscribed=True, plan=PLAN, existing=[], now=NOW) for m in (first, second)
    ]
    ids = [{c.id for c in changes} for changes in ours]
    assert len(ids[0]) == len(ids[1]) == 4 and not ids[0] & ids[1]
    assert ids[1] == {
        c.id for c in plan_pair(occ(), second, subscribed=True, plan=PLAN, existing=[], now=NOW)
    }
