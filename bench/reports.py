"""How long a report over three years of every chapter takes on PostgreSQL, against the bare scan
it cannot avoid.

    .venv/bin/python -m bench.reports [--members 20000] [--invited 300] [--rounds 5]

Seeds a fresh PostgreSQL database (``EXSCHED_BENCH_PG``, default the local server): 8 chapters,
3 monthly series each over the last three years (864 sessions), ``--members`` members, and per
session ``--invited`` invitations sent (every 50th bounced), a third of them accepted, a
quarter of those checked in, a tenth reporting after it. Then, alternating in one process, times
``scheduler.domain.reports.report`` (per chapter, per series, per month) and the baseline: one
bare ``SELECT occurrence_uid, count(*) FROM notices GROUP BY 1`` (the scan any report must
make). Prints the median of each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from scheduler.db.migrate import upgrade
from scheduler.db.models import FollowupResponseRow, MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.db.session import Database, normalize_url
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.reports import report
from scheduler.domain.series import create_series, occurrences
from schemas.api import SeriesCreate
from schemas.names import Chapter, Role

CHAPTERS = [c.value for c in Chapter]
CHUNK = 20000


def _database(server: str) -> tuple[Database, Any, str]:
    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    name = f"exsched_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(server)).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    return db, admin, name


def _bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        with db.session() as session:
            session.execute(insert(table), rows[i : i + CHUNK])


def _report_row(docking: bool, k: int, now: datetime) -> dict[str, Any]:
    """A follow-up report: firms talked to, an intention now and then, a contract more rarely."""
    return dict(
        kind="docking-outcome" if docking else "feedback",
        text="",
        contacts=k % 5 if docking else None,
        intention=docking and k % 4 == 0,
        contract=docking and k % 8 == 0,
        value_wan=Decimal("12.5") if docking and k % 8 == 0 else None,
        rating=None if docking else 1 + k % 5,
        created_at=now,
    )


def seed(db: Database, members: int, invited: int) -> tuple[datetime, datetime]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    start = (now - timedelta(days=3 * 365)).replace(hour=6, minute=0, second=0, microsecond=0)
    people: dict[str, list[uuid.UUID]] = {c: [] for c in CHAPTERS}
    rows = []
    for i in range(members):
        chapter = CHAPTERS[i % len(CHAPTERS)]
        member_id = uuid.uuid4()
        people[chapter].append(member_id)
        rows.append(
            dict(
                id=member_id,
                name=f"会员{i}",
                email=f"m{i}@firm{i % 997}.example",
                company=f"企业{i % 4000}",
                chapter=chapter,
                locale="zh-CN",
                timezone="Asia/Shanghai",
                feed_token=uuid.uuid4().hex,
                channels=["email"],
            )
        )
    _bulk(db, MemberRow.__table__, rows)
    notices: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    holidays = ChineseStatutoryCalendar()
    for chapter in CHAPTERS:
        for n, kind in enumerate(("project-docking", "project-docking", "tech-exchange")):
            body = SeriesCreate.model_validate({
                "kind": kind, "title": f"{chapter} 系列 {n}", "chapter": chapter, "timezone": "Asia/Shanghai",
                "dtstart": (start + timedelta(days=n * 7)).replace(tzinfo=None).isoformat(),
                "duration": "PT2H", "rrule": "FREQ=MONTHLY;COUNT=36", "organizer_name": "秘书处",
                "organizer_email": "office@assoc.example",
            })  # fmt: skip
            with db.session() as session:
                row = create_series(session, body, Principal(role=Role.ADMIN), "https://bench.example")
                series_id = row.id
            with db.session() as session:
                made = session.get(SeriesRow, series_id)
                assert made is not None
                sessions = occurrences(made, holidays, start - timedelta(days=1), now + timedelta(days=400))
            for occ in sessions:
                chosen = rng.sample(people[chapter], min(invited, len(people[chapter])))
                docking = kind == "project-docking"
                for k, member_id in enumerate(chosen):
                    at = dict(series_id=series_id, member_id=member_id, occurrence_uid=occ.uid)
                    notices.append(
                        at
                        | dict(
                            id=uuid.uuid4(),
                            recurrence_id=occ.recurrence_id,
                            kind="invitation",
                            slot="",
                            channel="email",
                            sequence=0,
                            due_at=occ.start,
                            status="bounced" if k % 50 == 0 else "sent",
                        )
                    )
                    if k % 3 == 0:
                        came = now if k % 12 == 0 else None
                        answers.append(
                            at | dict(response="accepted", responded_at=occ.start, checked_in_at=came)
                        )
                    if k % 10 == 0:
                        reports.append(at | _report_row(docking, k, now))
    _bulk(db, NoticeRow.__table__, notices)
    _bulk(db, RsvpRow.__table__, answers)
    _bulk(db, FollowupResponseRow.__table__, reports)
    with db.session() as session:
        session.execute(text("ANALYZE"))
    print(f"seeded: {members} members, {len(notices)} invitations, {len(answers)} answers, ", end="")
    print(f"{len(reports)} reports")
    return start, now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--invited", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = os.environ.get("EXSCHED_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    db, admin, name = _database(server)
    try:
        start, now = seed(db, args.members, args.invited)
        holidays = ChineseStatutoryCalendar()
        times: dict[str, list[float]] = {"baseline": [], "chapter": [], "series": [], "month": []}
        for _ in range(args.rounds):
            with db.session() as session:
                began = time.perf_counter()
                session.execute(text("SELECT occurrence_uid, count(*) FROM notices GROUP BY 1")).all()
                times["baseline"].append(time.perf_counter() - began)
            for group in ("chapter", "series", "month"):
                with db.session() as session:
                    began = time.perf_counter()
                    made = report(session, holidays, chapters=CHAPTERS, start=start, end=now, now=now,
                                  group_by=group)  # type: ignore[arg-type]  # fmt: skip
                    times[group].append(time.perf_counter() - began)
        base = statistics.median(times["baseline"])
        print(
            f"sessions in the report: {made.total.held + made.total.cancelled}, invited {made.total.invited}"
        )
        print(f"baseline (one GROUP BY over notices): {base * 1000:7.0f} ms")
        for group in ("chapter", "series", "month"):
            median = statistics.median(times[group])
            print(f"report per {group:<8}: {median * 1000:7.0f} ms   ratio {median / base:5.2f}")
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
