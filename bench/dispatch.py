"""Dispatch throughput through real PostgreSQL and RabbitMQ, against bare pika in the same run.

    .venv/bin/python -m bench.dispatch [--notices 20000] [--rounds 3] [--batch N] [--parallel N]
                                       [--window N] [--profile]

* exsched: ``Dispatcher.drain`` as the scheduler runs it (``--parallel`` batches in flight, each
  one transaction) — claim due rows (FOR UPDATE SKIP LOCKED), build envelopes, publish with
  pipelined confirms, mark the confirmed rows ``published``.
* baseline: the same messages (body, headers, properties) published by a minimal pika
  ``SelectConnection`` publisher with a window of 1,000 unconfirmed messages, timed until the
  last confirm.

Logging is configured as in production (JSON, INFO: a batch bigger than 200 is one line, each
notice at DEBUG), written to ``var/bench-dispatch.log``. ``--profile`` prints the top of a
cProfile of one more run.

Rounds alternate (baseline, exsched, baseline, …) and the medians are compared, because this
machine is shared and noisy. It makes its own PostgreSQL database and RabbitMQ vhost and drops
them afterwards; set EXSCHED_BENCH_POSTGRES_URL / EXSCHED_BENCH_AMQP_URL to point elsewhere.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pika
from pika.spec import Basic, BasicProperties
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.migrate import upgrade
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database, normalize_url
from scheduler.notices.dispatcher import Dispatcher
from scheduler.ops.config import Settings
from scheduler.ops.logs import configure_logging
from schemas.bus import EXCHANGE
from tests.support.factories import insert_due_notices

PG = os.environ.get("EXSCHED_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("EXSCHED_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def cpu_by_pid(marker: bytes) -> dict[str, float]:
    """CPU seconds (user + system) of each process whose command line contains ``marker``."""
    found: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if marker not in handle.read():
                    continue
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return found


def _spent(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU spent by the processes alive at both ends (short-lived helpers are not counted)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


class CpuMeter:
    """CPU seconds spent by this process, PostgreSQL and RabbitMQ (beam) during a block."""

    def __enter__(self) -> CpuMeter:
        self.start = (time.process_time(), cpu_by_pid(b"postgres"), cpu_by_pid(b"beam"))
        return self

    def __exit__(self, *_exc: object) -> None:
        own, postgres, rabbitmq = time.process_time(), cpu_by_pid(b"postgres"), cpu_by_pid(b"beam")
        self.python = own - self.start[0]
        self.postgres = _spent(self.start[1], postgres)
        self.rabbitmq = _spent(self.start[2], rabbitmq)


def make_database() -> tuple[Database, str]:
    name = f"exsched_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(PG), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db = Database(make_url(normalize_url(PG)).set(database=name).render_as_string(hide_password=False))
    upgrade(db)
    return db, name


def drop_database(db: Database, name: str) -> None:
    db.dispose()
    admin = create_engine(normalize_url(PG), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_vhost() -> tuple[str, str]:
    vhost = f"exsched-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    return AMQP.rstrip("/") + "/" + quote(vhost, safe=""), vhost


def reset(db: Database) -> None:
    with db.session() as session:
        session.execute(update(NoticeRow).values(status="pending", attempts=0, lease_until=None))


def purge(url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for queue in ("exsched.invitations", "exsched.reminders", "exsched.followups", "exsched.dead-letters"):
        channel.queue_purge(queue)
    connection.close()


def run_exsched(db: Database, bus: RabbitBus, now: datetime, batch: int, parallel: int) -> tuple[float, int]:
    """What the scheduler's dispatch job does with a backlog: ``Dispatcher.drain``."""
    dispatcher = Dispatcher(db, bus, batch_size=batch, parallel=parallel, clock=lambda: now)
    began = time.perf_counter()
    report = dispatcher.drain()
    return time.perf_counter() - began, report.published


def run_baseline(url: str, bodies: list[tuple[str, bytes, dict]], window: int = 1000) -> tuple[float, int]:
    """A minimal pipelined-confirm publisher: the fastest honest way to put these on the queue."""
    params = pika.URLParameters(url)
    state = {"next": 0, "tag": 0, "outstanding": 0, "confirmed": 0, "began": 0.0, "ended": 0.0}

    def pump(channel: pika.channel.Channel) -> None:
        while state["next"] < len(bodies) and state["outstanding"] < window:
            message_id, body, headers = bodies[state["next"]]
            properties = BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                message_id=message_id,
                headers=headers,
                timestamp=int(time.time()),
            )
            channel.basic_publish(EXCHANGE, "notice.reminder", body, properties, mandatory=True)
            state["next"] += 1
            state["outstanding"] += 1

    def on_confirm(frame: pika.frame.Method) -> None:
        method = frame.method
        count = method.delivery_tag - state["tag"] if method.multiple else 1
        state["tag"] = max(state["tag"], method.delivery_tag)
        state["outstanding"] -= count
        state["confirmed"] += count if isinstance(method, Basic.Ack) else 0
        if state["confirmed"] >= len(bodies):
            state["ended"] = time.perf_counter()
            connection.close()
        else:
            pump(channel_box[0])

    channel_box: list[pika.channel.Channel] = []

    def on_channel(channel: pika.channel.Channel) -> None:
        channel_box.append(channel)
        channel.confirm_delivery(on_confirm, callback=lambda _f: start(channel))

    def start(channel: pika.channel.Channel) -> None:
        state["began"] = time.perf_counter()
        pump(channel)

    connection = pika.SelectConnection(
        params,
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_close_callback=lambda c, _r: c.ioloop.stop(),
    )
    connection.ioloop.start()
    return state["ended"] - state["began"], int(state["confirmed"])


def main() -> None:
    log_path = Path("var/bench-dispatch.log")
    log_path.parent.mkdir(exist_ok=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=Settings().dispatch_batch, help="notices per claim")
    parser.add_argument(
        "--window", type=int, default=Settings().publish_window, help="unconfirmed messages in flight"
    )
    parser.add_argument(
        "--parallel", type=int, default=Settings().dispatch_parallel, help="batches in flight at once"
    )
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--profile", action="store_true", help="then print the top of a cProfile of a run")
    args = parser.parse_args()
    configure_logging("json", args.log_level, stream=log_path.open("a"))

    now = datetime.now(UTC)
    db, db_name = make_database()
    url, vhost = make_vhost()
    bus = RabbitBus(url, window=args.window, name="exsched-bench")
    try:
        bus.declare()
        insert_due_notices(db, args.notices, now)
        with db.session() as session:
            rows = session.execute(NoticeRow.__table__.select()).all()
        dispatcher = Dispatcher(db, bus)
        messages = [dispatcher._message(r) for r in rows]
        bodies = [(m.message_id, m.body, m.headers) for m in messages]
        exsched_rates, baseline_rates = [], []
        cpu: dict[str, list[CpuMeter]] = {"baseline": [], "exsched": []}
        for _ in range(args.rounds):
            purge(url)
            with CpuMeter() as meter:
                seconds, count = run_baseline(url, bodies)
            cpu["baseline"].append(meter)
            assert count == args.notices, f"baseline confirmed {count}"
            baseline_rates.append(count / seconds)
            purge(url)
            reset(db)
            with CpuMeter() as meter:
                seconds, count = run_exsched(db, bus, now, args.batch, args.parallel)
            cpu["exsched"].append(meter)
            assert count == args.notices, f"exsched published {count}"
            exsched_rates.append(count / seconds)
        base, ours = statistics.median(baseline_rates), statistics.median(exsched_rates)
        print(
            f"notices: {args.notices}, rounds: {args.rounds}, batch: {args.batch}, "
            f"parallel: {args.parallel}, window: {args.window}, log: {args.log_level}"
        )
        for label, rate, rates in (
            ("bare pika pipelined confirms", base, baseline_rates),
            ("exsched claim+publish+mark  ", ours, exsched_rates),
        ):
            print(f"{label} : {rate:8.0f} msg/s  (rounds: {', '.join(f'{r:.0f}' for r in rates)})")
        print(f"ratio exsched / baseline     : {ours / base:8.2f}")
        print("CPU µs per message (median)   python  postgres  rabbitmq")
        for label, meters in cpu.items():
            per = [
                statistics.median(getattr(m, part) for m in meters) / args.notices * 1e6
                for part in ("python", "postgres", "rabbitmq")
            ]
            print(f"  {label:27} {per[0]:8.1f} {per[1]:9.1f} {per[2]:9.1f}")
        if args.profile:
            purge(url)
            reset(db)
            profile = cProfile.Profile()
            profile.runcall(run_exsched, db, bus, now, args.batch, args.parallel)
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    finally:
        bus.close()
        drop_database(db, db_name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


if __name__ == "__main__":
    main()
