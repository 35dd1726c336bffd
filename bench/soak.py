"""Soak: a steady stream of invitations for a long while, through real processes; memory of every
process at the start and the end, and how late the notices went out.

    .venv/bin/python -m bench.soak [--minutes 30] [--members 50] [--every 10] [--workers 1]

A wave of ``--members`` invitations comes due every ``--every`` seconds for ``--minutes``
(50 every 10 s: 5 a second, 9,000 in half an hour), each wave a session of its own. One
``exsched serve scheduler`` and ``--workers`` ``exsched serve worker`` processes on PostgreSQL
and RabbitMQ send them to an aiosmtpd server on loopback answering in ``--smtp-delay`` seconds.
Printed: the resident memory (VmRSS) of each process one minute in and at the end, its peak
(VmHWM), and the lateness (sent − due) percentiles. Not part of ``make test``; makes its own
PostgreSQL database and RabbitMQ vhost and drops them afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.dispatch import drop_database, make_database, make_vhost
from scheduler.db.models import NoticeRow
from scheduler.domain.auth import Principal
from scheduler.domain.series import create_series
from scheduler.notices.planner import request_plan
from schemas.api import SeriesCreate
from schemas.names import Role
from tests.support.api import series_body
from tests.support.factories import add_subscribers
from tests.support.processes import local
from tests.support.smtp import SmtpSink


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--every", type=int, default=10, help="seconds between waves")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--smtp-delay", type=float, default=0.02)
    args = parser.parse_args()

    db, db_name = make_database()
    amqp_url, vhost = make_vhost()
    sink = SmtpSink()
    sink.delay = args.smtp_delay
    workdir = Path(tempfile.mkdtemp(prefix="exsched-soak-"))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        began = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
        session_at = began + timedelta(minutes=args.minutes) + timedelta(hours=1)
        waves = int(args.minutes * 60 // args.every)
        add_subscribers(db, args.members)
        with db.session() as session:
            for wave in range(waves):
                due = began + timedelta(seconds=wave * args.every)
                body = series_body(
                    title=f"soak {wave}",
                    dtstart=local(session_at),
                    rrule=None,
                    notices={
                        "invite_before": f"PT{int((session_at - due).total_seconds())}S",
                        "reminders": [],
                        "followup_after": "P1D",
                    },
                )
                row = create_series(
                    session, SeriesCreate.model_validate(body), Principal(Role.ADMIN), "https://x"
                )
                request_plan(session, series_ids=[row.id])
        env = dict(
            os.environ,
            EXSCHED_DATABASE_URL=db.url,
            EXSCHED_AMQP_URL=amqp_url,
            EXSCHED_SMTP_URL=sink.url,
            EXSCHED_LOG_FORMAT="json",
            EXSCHED_LOG_LEVEL="WARNING",
            EXSCHED_WORKER_CONCURRENCY=str(args.concurrency),
            EXSCHED_PUBLIC_URL="https://exsched.soak",
        )
        parts = ["scheduler"] + [f"worker-{i}" for i in range(args.workers)]
        for part in parts:
            log = (workdir / f"{part}.log").open("ab")
            command = [sys.executable, "-m", "scheduler.cli", "serve", part.split("-")[0]]
            processes[part] = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        print(
            f"soak: {waves} waves of {args.members} invitations every {args.every} s "
            f"for {args.minutes:g} min "
            f"({waves * args.members} in all), {args.workers} worker(s) × {args.concurrency}, "
            f"SMTP {args.smtp_delay * 1000:.0f} ms; logs in {workdir}",
            flush=True,
        )
        while datetime.now(UTC) < began + timedelta(minutes=1):
            time.sleep(1)
        at_start = {part: memory(proc.pid) for part, proc in processes.items()}
        end = began + timedelta(seconds=waves * args.every) + timedelta(seconds=60)
        while datetime.now(UTC) < end:
            time.sleep(30)
            with db.session() as session:
                sent = session.scalar(select(func.count()).where(NoticeRow.status == "sent"))
            rss = ", ".join(f"{p} {memory(proc.pid)[0]:.0f} MB" for p, proc in processes.items())
            print(f"  {datetime.now(UTC):%H:%M:%S} sent {sent}; {rss}", flush=True)
        at_end = {part: memory(proc.pid) for part, proc in processes.items()}
        with db.session() as session:
            rows = session.execute(
                select(NoticeRow.status, NoticeRow.due_at, NoticeRow.sent_at).where(
                    NoticeRow.kind == "invitation"
                )
            ).all()
        late = [(r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at is not None]
        unsent = [r.status for r in rows if r.sent_at is None]
        print(f"\nsent {len(late)} of {len(rows)} invitations; not sent: {len(unsent)} {sorted(set(unsent))}")
        print(
            "lateness (sent − due), s: "
            + ", ".join(f"p{int(q * 100)} {percentile(late, q):.2f}" for q in (0.5, 0.9, 0.99))
            + f", max {max(late):.2f}, mean {statistics.fmean(late):.2f}"
        )
        print("process      RSS at 1 min   RSS at the end   peak (VmHWM)")
        for part in processes:
            (rss_start, _), (rss_end, peak) = at_start[part], at_end[part]
            print(f"{part:<12} {rss_start:>9.0f} MB {rss_end:>13.0f} MB {peak:>11.0f} MB")
    finally:
        for proc in processes.values():
            proc.terminate()
        for proc in processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        sink.stop()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)
        drop_database(db, db_name)


if __name__ == "__main__":
    main()
