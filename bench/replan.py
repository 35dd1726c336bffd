"""Re-planning at scale: one session with N invited members is moved by an hour; how long until
every member's update (and their re-timed reminders and follow-up) is planned, against a bare
``INSERT … SELECT`` writing the same number of notice rows, in the same run.

    .venv/bin/python -m bench.replan [--members 10000] [--rounds 3] [--profile]

Needs PostgreSQL (``EXSCHED_BENCH_PG``, default the local server); makes its own database and
drops it afterwards. Each round moves the session (as the API does: ``update_occurrence`` and a
plan request in one transaction), then times ``Planner.plan_requested()`` — what the scheduler's
2-second job runs — and the bare statement (rolled back). Rounds alternate; medians are printed.
``--profile`` prints the top of a cProfile of one re-plan.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update

from bench.dispatch import drop_database, make_database
from scheduler.db.models import NoticeRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.series import create_series, occurrences, update_occurrence
from scheduler.notices.planner import Planner, request_plan
from scheduler.ops.logs import configure_logging
from schemas.api import OccurrenceUpdate, SeriesCreate
from schemas.ids import recurrence_stamp
from schemas.names import Role
from tests.support.factories import add_subscribers, local, series_body

HOLIDAYS = ChineseStatutoryCalendar()


def _setup(db: Database, members: int) -> tuple[uuid.UUID, str]:
    """N subscribers, one session in ten days, every invitation already sent."""
    add_subscribers(db, members)
    body = SeriesCreate.model_validate(
        series_body(dtstart=local(datetime.now(UTC) + timedelta(days=10)), rrule=None)
    )  # the default plan: invitation 14 days ahead, reminders a day and two hours before, a follow-up
    with db.session() as session:
        create_series(session, body, Principal(Role.ADMIN), "https://exsched.test")
    Planner(db, HOLIDAYS).plan_all()
    with db.session() as session:
        series = session.scalars(select(SeriesRow)).one()
        session.execute(
            update(NoticeRow)
            .where(NoticeRow.kind == "invitation")
            .values(status="sent", sent_at=datetime.now(UTC), published_at=datetime.now(UTC))
        )
        [occ] = occurrences(series, HOLIDAYS, datetime.now(UTC), datetime.now(UTC) + timedelta(days=30))
        return series.id, recurrence_stamp(occ.recurrence_id)


def _move(db: Database, series_id: uuid.UUID, stamp: str, hours: int) -> None:
    """What ``PATCH …/occurrences/{stamp}`` does: the move and the plan request, one transaction."""
    with db.session() as session:
        row = session.get(SeriesRow, series_id)
        assert row is not None
        [occ] = occurrences(row, HOLIDAYS, datetime.now(UTC), datetime.now(UTC) + timedelta(days=30))
        start = occ.start + timedelta(hours=hours)
        patch = OccurrenceUpdate(start=start, end=start + (occ.end - occ.start))
        update_occurrence(session, row, stamp, patch, Principal(Role.ADMIN), HOLIDAYS)
        request_plan(session, series_ids=[series_id])


def _bare(db: Database, series_id: uuid.UUID, rows: int) -> float:
    """The same number of notice rows written by one INSERT … SELECT (rolled back)."""
    began = time.perf_counter()
    with db.engine.connect() as conn:
        conn.execute(
            text(
                """
                INSERT INTO notices (id, series_id, member_id, occurrence_uid, recurrence_id, kind, slot,
                    channel, sequence, due_at, starts_at, status, attempts, created_at, updated_at)
                SELECT gen_random_uuid(), n.series_id, n.member_id, n.occurrence_uid, n.recurrence_id,
                    'update', n.slot, n.channel, n.sequence + 100, now(), n.starts_at, 'pending', 0,
                    now(), now()
                FROM notices n WHERE n.series_id = :series LIMIT :rows
                """
            ),
            {"series": series_id, "rows": rows},
        )
        conn.rollback()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    # as `exsched serve` logs (INFO, a line per planned notice), written nowhere
    configure_logging("json", "INFO", stream=open(os.devnull, "w"))
    db, name = make_database()
    try:
        series_id, stamp = _setup(db, args.members)
        planner = Planner(db, HOLIDAYS)
        planned, bare, changed = [], [], []
        for n in range(args.rounds):
            _move(db, series_id, stamp, 1 if n % 2 == 0 else -1)
            began = time.perf_counter()
            report = planner.plan_requested()
            planned.append(time.perf_counter() - began)
            changed.append(report.changed)
            bare.append(_bare(db, series_id, report.changed))
        with db.session() as session:
            rows = session.scalar(select(func.count()).select_from(NoticeRow))
        p, b = statistics.median(planned), statistics.median(bare)
        print(f"members {args.members:,}, notice rows {rows:,}, changes per re-plan {changed[0]:,}")
        rounds = ", ".join(f"{x:.2f}" for x in planned)
        print(f"re-plan after the move: {p * 1000:8.0f} ms  (rounds: {rounds} s)")
        print(f"bare INSERT … SELECT:   {b * 1000:8.0f} ms  (same number of rows)")
        print(f"ratio (bare / exsched): {b / p:.2f}")
        if args.profile:
            _move(db, series_id, stamp, 1 if args.rounds % 2 == 0 else -1)
            profile = cProfile.Profile()
            profile.enable()
            planner.plan_requested()
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue())
    finally:
        drop_database(db, name)


if __name__ == "__main__":
    main()
