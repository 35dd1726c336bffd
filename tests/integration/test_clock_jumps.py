"""The clock jumping an hour forward and back under a running scheduler and worker (SQLite and
PostgreSQL, the in-process bus, a real SMTP server): nothing sent twice, nothing sent before its
due time by the clock of the moment, nothing lost.

The whole system reads one injected clock, as it reads the host's clock in production; the
scheduler's jobs are timed by delays on their own clock, so a jump moves what is due, not how
long the scheduler sleeps.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.bus.memory import InProcessBus
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series
from scheduler.notices import jobs
from scheduler.notices.jobs import SchedulerService
from scheduler.notices.planner import request_plan
from scheduler.ops.config import Settings
from schemas.api import SeriesCreate
from schemas.names import Role
from tests.support.api import series_body
from tests.support.clock import Clock
from tests.support.factories import add_subscribers
from tests.support.processes import local, message_ids, wait_until
from tests.support.smtp import SmtpSink
from workers.consumers import WorkerService

MEMBERS = 5


@pytest.fixture
def running(
    db: Database, settings: Settings, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Clock, Database, SmtpSink]]:
    monkeypatch.setattr(jobs, "IDLE_CHECK", timedelta(seconds=1))  # look for due notices every second
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    add_subscribers(db, MEMBERS)
    body = series_body(
        dtstart=local(clock.now + timedelta(hours=3)),
        rrule=None,
        notices={"invite_before": "P1D", "reminders": ["PT2H", "PT30M"], "followup_after": "PT1H"},
    )
    with db.session() as session:
        row = create_series(
            session, SeriesCreate.model_validate(body), Principal(Role.ADMIN), "https://x.test"
        )
        request_plan(session, series_ids=[row.id])
    settings = Settings(**(settings.model_dump() | {"smtp_url": smtp_sink.url}))
    bus = InProcessBus()
    holidays = ChineseStatutoryCalendar()
    scheduler = SchedulerService(settings, db, bus, holidays, clock=clock, listen=False)
    workers = WorkerService(settings, db, bus, holidays, clock=clock)
    scheduler.start()
    workers.start()
    try:
        yield clock, db, smtp_sink
    finally:
        workers.stop()
        scheduler.stop()


def sent(db: Database, kind: str, slot: str | None = None) -> list[NoticeRow]:
    with db.session() as session:
        query = select(NoticeRow).where(NoticeRow.kind == kind, NoticeRow.status == "sent")
        if slot is not None:
            query = query.where(NoticeRow.slot == slot)
        return list(session.scalars(query))


def test_a_clock_jumping_forward_and_back_sends_each_notice_once_and_none_early(
    running: tuple[Clock, Database, SmtpSink],
) -> None:
    clock, db, sink = running
    start = clock.now
    wait_until(lambda: len(sent(db, "invitation")) == MEMBERS, 30, "the invitations")
    assert sent(db, "reminder") == []
    clock.advance(hours=1)  # the two-hours-before reminders are due now
    wait_until(lambda: len(sent(db, "reminder", "PT2H")) == MEMBERS, 30, "the reminders due after the jump")
    clock.advance(hours=-1)  # back: nothing sent is sent again, nothing more is due
    time.sleep(4)
    assert len(sent(db, "reminder")) == MEMBERS
    clock.now = start + timedelta(hours=2, minutes=31)  # the thirty-minutes-before reminders
    wait_until(lambda: len(sent(db, "reminder", "PT30M")) == MEMBERS, 30, "the last reminders")
    clock.advance(hours=-2)
    time.sleep(4)
    with db.session() as session:
        notices = list(session.scalars(select(NoticeRow).where(NoticeRow.kind != "followup")))
    assert {(n.kind, n.status) for n in notices} == {("invitation", "sent"), ("reminder", "sent")}
    assert len(notices) == 3 * MEMBERS
    assert all(n.sent_at is not None and n.sent_at >= n.due_at for n in notices), "sent before it was due"
    ids = message_ids(sink)
    assert len(ids) == 3 * MEMBERS and max(Counter(ids).values()) == 1, "sent twice"
