"""Resident memory of the scheduler, a worker and the API: on an empty database, and on one with
a history of notices (1,000,000 rows) and 20,000 members, side by side in one run.

    .venv/bin/python -m bench.rss [--members 20000] [--notices 1000000] [--settle 60]

Each round makes its own PostgreSQL database and RabbitMQ vhost (dropped afterwards) and starts
``exsched serve scheduler``, ``exsched serve worker`` and ``exsched serve api`` as separate
processes, as production runs them. The loaded round holds ``--members`` members following
Ningbo, a session in 30 days (its invitations and follow-ups planned by the running scheduler:
a pending row per member and kind) and ``--notices`` sent notices of past sessions written
straight to the table. While the processes settle, the API is asked what members and staff ask
of it (a member's feed, the delivery ledger, the health check) every second; each process's
resident memory (VmRSS) at the end and its peak (VmHWM) are printed, with the loaded round's
ratio to the empty one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, select, text

from bench.dispatch import drop_database, make_database, make_vhost
from scheduler.db.models import MemberRow, NoticeRow
from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import free_port, stop_process

PARTS = ("scheduler", "worker", "api")


def history(db: Database, notices: int) -> None:
    """``notices`` sent reminders of past daily sessions, spread over the members."""
    with db.session() as session:
        members = int(session.scalar(select(func.count()).select_from(MemberRow)) or 0)
        series_id = session.scalar(text("SELECT id FROM series LIMIT 1"))
        days = -(-notices // members)
        session.execute(
            text(
                """
                INSERT INTO notices (id, series_id, member_id, occurrence_uid, recurrence_id, kind, slot,
                                     channel, sequence, due_at, starts_at, status, attempts, message_id,
                                     published_at, sent_at, created_at, updated_at)
                SELECT gen_random_uuid(), :series, m.id, 'past-' || d || '@exsched.bench',
                       now() - make_interval(days => d), 'reminder', 'P1D', 'email', 0,
                       now() - make_interval(days => d + 1), now() - make_interval(days => d), 'sent', 1,
                       '<' || gen_random_uuid() || '@exsched.bench>',
                       now() - make_interval(days => d + 1), now() - make_interval(days => d + 1),
                       now() - make_interval(days => d + 2), now() - make_interval(days => d + 1)
                FROM (SELECT id, row_number() OVER () AS n FROM members) AS m
                CROSS JOIN generate_series(1, :days) AS d
                WHERE (d - 1) * :members + m.n <= :notices
                """
            ),
            {"series": series_id, "days": days, "members": members, "notices": notices},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE notices"))


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def measure(members: int, notices: int, settle: float) -> dict[str, tuple[float, float]]:
    db, db_name = make_database()
    url, vhost = make_vhost()
    work = Path(tempfile.mkdtemp(prefix="exsched-rss-"))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        feed_token = ""
        if members:
            add_subscribers(db, members)
            create_series_in_db(db, datetime.now(UTC) + timedelta(days=30))
            history(db, notices)
            with db.session() as session:
                feed_token = session.scalar(select(MemberRow.feed_token).limit(1)) or ""
        port = free_port()
        env = os.environ | {
            "EXSCHED_DATABASE_URL": db.url,
            "EXSCHED_AMQP_URL": url,
            "EXSCHED_OUTBOX_DIR": str(work / "outbox"),
            "EXSCHED_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "EXSCHED_API_PORT": str(port),
            "EXSCHED_SECRET_KEY": "bench-secret-0123456789",
            "EXSCHED_LOG_LEVEL": "WARNING",
        }
        made = subprocess.run(
            [sys.executable, "-m", "scheduler.cli", "apikey", "create", "--role", "admin", "--name", "bench"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip().splitlines()[-1]
        for part in PARTS:
            log = (work / f"{part}.log").open("ab")
            procs[part] = subprocess.Popen(
                [sys.executable, "-m", "scheduler.cli", "serve", part], env=env, stdout=log, stderr=log
            )
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + settle
        asked = 0
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                client.get("/healthz")
                if feed_token:
                    client.get(f"/calendars/{feed_token}.ics")
                client.get("/api/v1/notices?limit=200", headers={"Authorization": f"Bearer {key}"})
                asked += 1
            except httpx.TransportError:
                continue  # not listening yet
        if not asked:
            raise SystemExit(f"the API never answered; see {work}/api.log")
        if members:
            with db.session() as session:
                rows = int(session.scalar(select(func.count()).select_from(NoticeRow)) or 0)
            print(f"  loaded round: {rows:,} notice rows, {members:,} members", file=sys.stderr)
        return {part: memory(proc.pid) for part, proc in procs.items()}
    finally:
        for proc in procs.values():
            stop_process(proc)  # type: ignore[arg-type]
        drop_database(db, db_name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--notices", type=int, default=1_000_000)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds the processes run")
    args = parser.parse_args()
    empty = measure(0, 0, args.settle)
    loaded = measure(args.members, args.notices, args.settle)
    print(
        f"members: {args.members:,}, notice rows: {args.notices:,} (+ planned), settle: {args.settle:.0f} s"
    )
    print("process      empty RSS / peak MB   loaded RSS / peak MB   ratio (RSS)")
    for part in PARTS:
        (rss0, hwm0), (rss1, hwm1) = empty[part], loaded[part]
        print(
            f"  {part:10} {rss0:8.0f} / {hwm0:5.0f}      {rss1:8.0f} / {hwm1:5.0f}       {rss1 / rss0:6.2f}"
        )


if __name__ == "__main__":
    main()
