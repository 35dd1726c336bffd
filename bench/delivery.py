"""End-to-end delivery: invitations per second from due row to SMTP server, against bare smtplib.

    .venv/bin/python -m bench.delivery [--members 2000] [--concurrency 4] [--smtp-delay 0.05] [--profile]

* exsched: N invitations due now (planned for N subscribers) → dispatcher (PostgreSQL claim,
  RabbitMQ publish with confirms) → worker threads (claim, render zh-CN text + HTML + iMIP
  calendar, SMTP send, record ``sent``) → an aiosmtpd server on loopback; timed until the
  server has accepted all N.
* baseline: the same N emails, built and written to bytes beforehand, sent over one
  ``smtplib`` connection to the same server in the same run (until 2026-12-03 the baseline
  wrote each message to bytes inside its timer, so it also paid for the ``email`` package's
  serialization of exsched's own messages: a faster builder made the baseline faster too).

``--smtp-delay`` makes the server take that long per message, like a real relay does; then
the worker's parallel sends matter. It also splits the worker's time per notice into its steps
(claim, decide + render, send, record). Makes its own PostgreSQL database and RabbitMQ vhost
and drops them afterwards. ``--profile`` runs the worker with one thread and prints the top of a
cProfile of its handler calls (the rate is then not the one to quote).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import smtplib
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.dispatch import CpuMeter, drop_database, make_database, make_vhost
from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.models import NoticeRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices.dispatcher import Dispatcher
from scheduler.notices.planner import Planner
from scheduler.ops.config import Settings
from scheduler.ops.logs import configure_logging
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.smtp import SmtpSink
from workers.channels import make_channels
from workers.consumers import WorkerService
from workers.runtime import NoticeHandler

STEPS = ("claim", "decide+render", "send", "record")


class StepClock:
    """Wall time per worker step, summed over threads."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.lock = threading.Lock()

    def wrap(self, step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.total[step] += time.perf_counter() - began

        return timed


def profiled(profile: cProfile.Profile, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with ``profile`` enabled around each call (one thread at a time)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        profile.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            profile.disable()

    return run


def sent_count(db: Any) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count()).select_from(NoticeRow).where(NoticeRow.status == "sent")) or 0
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--smtp-delay", type=float, default=0.0, help="seconds the SMTP server takes per message"
    )
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the handler")
    args = parser.parse_args()
    if args.profile:
        args.concurrency = 1  # one Profile, enabled on the one handler thread
    log_path = Path("var/bench-delivery.log")
    log_path.parent.mkdir(exist_ok=True)
    configure_logging("json", "INFO", stream=log_path.open("a"))

    db, db_name = make_database()
    url, vhost = make_vhost()
    sink = SmtpSink()
    sink.delay = args.smtp_delay
    bus = RabbitBus(url, name="exsched-bench")
    settings = Settings(
        database_url=db.url,
        amqp_url=url,
        smtp_url=sink.url,
        worker_concurrency=args.concurrency,
        public_url="https://exsched.bench",
        secret_key="bench-secret-0123456789",
    )
    holidays = ChineseStatutoryCalendar()
    try:
        bus.declare()
        add_subscribers(db, args.members)
        create_series_in_db(db, datetime.now(UTC) + timedelta(hours=3))
        Planner(db, holidays).plan_requested()

        # Baseline messages: the very emails exsched would send, rendered and written to bytes up
        # front (so the baseline is the SMTP conversation alone, whatever builds the messages).
        renderer = NoticeHandler(settings, db, make_channels(settings), holidays)
        with db.session() as session:
            ids = session.scalars(select(NoticeRow.id).where(NoticeRow.kind == "invitation")).all()
            prebuilt = [renderer._decide(session, notice_id, datetime.now(UTC)) for notice_id in ids]
        composed = [plan.channel.compose(plan.letter) for plan in prebuilt]  # type: ignore[union-attr]
        messages = [(str(m["From"]), str(m["To"]), m.as_bytes()) for m in composed]
        with CpuMeter() as base_cpu:
            began = time.perf_counter()
            client = smtplib.SMTP("127.0.0.1", sink.port)
            for sender, to, raw in messages:
                client.sendmail(sender, [to], raw)
            client.quit()
            baseline = time.perf_counter() - began
        assert len(sink.received()) == len(messages)
        sink.messages.clear()

        steps = StepClock()
        # the worker's own engine, as `exsched serve worker` makes it (no ping before each transaction)
        worker_db = Database(db.url, pre_ping=False)
        workers = WorkerService(settings, worker_db, bus, holidays, roles=["invitations"])
        for handler in workers.handlers:
            mail = handler.channels["email"]
            handler._decide = steps.wrap("decide+render", handler._decide)  # type: ignore[method-assign]
            mail.compose = steps.wrap("decide+render", mail.compose)  # type: ignore[method-assign]
            mail.send = steps.wrap("send", mail.send)  # type: ignore[method-assign]
            handler._record_sent = steps.wrap("record", handler._record_sent)  # type: ignore[method-assign]
            handler._claim = steps.wrap("claim", handler._claim)  # type: ignore[method-assign]
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            for handler in workers.handlers:
                handler._handle = profiled(profile, handler._handle)  # type: ignore[method-assign]
        dispatcher = Dispatcher(db, bus, batch_size=settings.dispatch_batch)
        with CpuMeter() as ours_cpu:
            began = time.perf_counter()
            workers.start()
            published_at = None
            while len(sink.received()) < args.members:
                if published_at is None and not dispatcher.dispatch_once().claimed:
                    published_at = time.perf_counter() - began
                time.sleep(0.005)
            ours = time.perf_counter() - began
        deadline = time.monotonic() + 30
        while sent_count(db) < args.members and time.monotonic() < deadline:
            time.sleep(0.05)
        workers.stop()
        worker_db.dispose()
        assert sent_count(db) == args.members, "every invitation recorded as sent"

        rate_base, rate_ours = args.members / baseline, args.members / ours
        print(
            f"invitations: {args.members}, concurrency: {args.concurrency}, SMTP delay: {args.smtp_delay} s"
        )
        print(f"bare smtplib, one connection, pre-built : {rate_base:8.0f} emails/s")
        print(
            f"exsched due row -> SMTP accepted        : {rate_ours:8.0f} emails/s"
            f"  (all published after {published_at or ours:.2f} s of {ours:.2f} s)"
        )
        print(f"ratio exsched / baseline                : {rate_ours / rate_base:8.2f}")
        print("worker wall time per invitation, ms (summed over threads):")
        for step in STEPS:
            print(f"  {step:14} {steps.total[step] / args.members * 1e3:7.2f}")
        print("CPU µs per email          python  postgres  rabbitmq")
        for label, meter in (("baseline", base_cpu), ("exsched", ours_cpu)):
            per = [getattr(meter, part) / args.members * 1e6 for part in ("python", "postgres", "rabbitmq")]
            print(f"  {label:22} {per[0]:8.0f} {per[1]:9.0f} {per[2]:9.0f}")
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(35)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    finally:
        bus.close()
        sink.stop()
        drop_database(db, db_name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


if __name__ == "__main__":
    main()
