"""The notice store on SQLite and PostgreSQL: each operation moves only notices in its source
statuses, so a late or repeated caller changes nothing, and reasons are stored as codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.notices import store
from schemas.names import NoticeStatus
from schemas.reasons import ReasonCode, reason
from tests.support.factories import insert_due_notices

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def one_notice(db: Database) -> NoticeRow:
    insert_due_notices(db, 1, NOW)
    with db.session() as session:
        return session.scalars(select(NoticeRow)).one()


def status(db: Database, notice: NoticeRow) -> NoticeRow:
    with db.session() as session:
        found = session.get(NoticeRow, notice.id)
        assert found is not None
        return found


def test_a_notice_goes_from_due_to_sent_and_a_second_hand_changes_nothing(db: Database) -> None:
    notice = one_notice(db)
    with db.session() as session:
        [claimed] = store.publish_due(session, NOW, limit=10, lease=timedelta(minutes=10))
    assert claimed.id == notice.id and claimed.attempts == 1
    with db.session() as session:
        assert store.take(session, notice.id, NOW, timedelta(minutes=5), holder="w1")
        assert not store.take(session, notice.id, NOW, timedelta(minutes=5), holder="w2")  # another worker
    with db.session() as session:
        assert store.deliver(session, notice.id, NOW, message_id="<m@x>", sequence=0)
        assert not store.deliver(session, notice.id, NOW, message_id="<m@x>", sequence=0)
        why = reason(ReasonCode.CANCELLED_BEFORE_SEND)
        assert not store.settle(session, notice.id, NoticeStatus.CANCELLED, why, NOW)
        assert not store.fail(session, notice.id, reason(ReasonCode.POISON, detail="x"), NOW)
    row = status(db, notice)
    assert (row.status, row.message_id, row.reason_code) == ("sent", "<m@x>", None)


def test_a_deferred_send_waits_its_backoff_and_gives_up_with_the_last_reason(db: Database) -> None:
    notice = one_notice(db)
    deferred = reason(ReasonCode.SMTP_REPLY, code=451, text="try later")
    for attempt in (1, 2):
        with db.session() as session:
            store.publish_due(session, NOW + timedelta(days=attempt), limit=1, lease=timedelta(minutes=1))
            assert store.take(session, notice.id, NOW, timedelta(minutes=1), holder="w1")
            outcome = store.defer(session, notice.id, deferred, NOW, max_attempts=2)
        row = status(db, notice)
        if attempt == 1:
            assert outcome.status == NoticeStatus.PENDING and row.status == "pending"
            assert NOW + store.RETRY_BASE / 2 <= row.due_at <= NOW + store.RETRY_BASE
            assert (row.reason_code, row.reason_params) == ("smtp-reply", {"code": 451, "text": "try later"})
    assert outcome.status == NoticeStatus.FAILED and row.status == "failed" and row.reason_code == "gave-up"
    assert row.reason_params == {"attempts": 2, "last": {"code": "smtp-reply", "params": deferred.params}}
    assert store.describe(outcome.reason) == "gave up after 2 attempts; last: SMTP 451 try later"


def test_only_a_failed_notice_can_be_retried_by_staff(db: Database) -> None:
    notice = one_notice(db)
    with db.session() as session:
        assert not store.staff_retry(session, notice.id, "wang.li", NOW)  # pending, not failed
        assert store.fail(session, notice.id, reason(ReasonCode.POISON, detail="bad body"), NOW)
        assert store.staff_retry(session, notice.id, "wang.li", NOW)
    row = status(db, notice)
    assert (row.status, row.attempts, row.due_at, row.reason_code) == ("pending", 0, NOW, "staff-retry")
    assert row.reason_params["before"] == {"code": "poison", "params": {"detail": "bad body"}}


def test_a_settled_notice_cannot_be_called_sent() -> None:
    with pytest.raises(ValueError, match="cannot settle as sent"):
        store.settle(None, None, NoticeStatus.SENT, reason(ReasonCode.DECLINED), NOW)  # type: ignore[arg-type]


def test_expired_leases_come_back_pending_with_their_reason(db: Database) -> None:
    notice = one_notice(db)
    with db.session() as session:
        store.publish_due(session, NOW, limit=1, lease=timedelta(seconds=30))
    with db.session() as session:
        assert store.reap_expired_leases(session, NOW + timedelta(seconds=10)) == []
        assert store.reap_expired_leases(session, NOW + timedelta(seconds=31)) == [notice.id]
    row = status(db, notice)
    assert (row.status, row.reason_code, row.lease_until) == ("pending", "lease-expired", None)


def test_only_the_holder_renews_and_a_renewed_lease_is_not_reaped(db: Database) -> None:
    lease = timedelta(seconds=30)
    insert_due_notices(db, 1, NOW)
    with db.session() as session:
        [notice] = session.scalars(select(NoticeRow)).all()
        store.publish_due(session, NOW, limit=10, lease=timedelta(minutes=10))
        assert store.take(session, notice.id, NOW, lease, holder="host:1:aaaa")
        seen = store.sending_leases(session)[notice.id]
        assert store.renew(session, [notice.id], "host:2:bbbb", NOW + timedelta(seconds=10), lease) == 0
        assert store.renew(session, [notice.id], "host:1:aaaa", NOW + timedelta(seconds=10), lease) == 1
        # seen before the renewal: the reaper's compare-and-set misses, the holder keeps it
        assert store.reap_silent(session, [(notice.id, seen)], NOW + timedelta(hours=1)) == []
        assert store.reap_expired_leases(session, NOW + timedelta(hours=1)) == []  # published only
        now_seen = store.sending_leases(session)[notice.id]
        assert store.reap_silent(session, [(notice.id, now_seen)], NOW + timedelta(hours=1)) == [notice.id]
    row = status(db, notice)
    assert (row.status, row.holder, row.reason_code) == ("pending", None, "lease-expired")
