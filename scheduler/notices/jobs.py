"""The scheduler service: APScheduler as the clock, the notices table as the record.

Jobs, all in APScheduler's in-memory store (nothing pickled, nothing to lose on a crash):

* ``dispatch`` — runs when the earliest pending notice comes due (it reschedules itself after
  every run from ``min(due_at)``, and is woken at once when the planner adds earlier work),
  with a 30-second safety net;
* ``plan-requested`` — re-plans the series and members the API flagged; woken at once by
  PostgreSQL ``NOTIFY`` (or in-process in ``serve all``), otherwise every 2 seconds;
* ``plan-horizon`` — every series, every 10 minutes, so new sessions come into view;
* ``reap-leases`` — every 30 seconds, publishes again what no worker answered for;
* ``holidays`` — daily, re-plans series that follow the statutory holiday calendar;
* ``digests`` — every 10 minutes, plans the month's digests when their day is near
  (:func:`scheduler.notices.digests.plan`);
* ``offers`` — every minute, passes on the seats offered to the waiting list and not taken up in
  time (:func:`scheduler.notices.answers.pass_on_lapsed_offers`).

Every job may run late or twice without harm: each one reads what it needs from the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from scheduler.bus.base import Bus
from scheduler.db.listen import Listener
from scheduler.db.models import SeriesRow
from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.notices import digests
from scheduler.notices.answers import pass_on_lapsed_offers
from scheduler.notices.dispatcher import Dispatcher
from scheduler.notices.planner import PLAN_CHANNEL, Planner, request_plan
from scheduler.ops.config import Settings
from schemas.names import SeriesStatus, SkipHolidays

log = structlog.get_logger(__name__)

IDLE_CHECK = timedelta(seconds=30)


class SchedulerService:
    """Planner and dispatcher on an APScheduler clock; ``start()``, then ``stop()``."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        bus: Bus,
        holidays: HolidayCalendar,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        listen: bool = True,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.holidays = holidays
        self.planner = Planner(db, holidays, horizon=timedelta(days=settings.horizon_days), clock=clock)
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.send_lease = timedelta(seconds=settings.send_lease_seconds)
        self.dispatcher = Dispatcher(
            db,
            bus,
            batch_size=settings.dispatch_batch,
            parallel=settings.dispatch_parallel,
            lease=timedelta(seconds=settings.lease_seconds),
            send_lease=timedelta(seconds=settings.send_lease_seconds),
            clock=clock,
        )
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._lock = threading.Lock()
        self._dispatching = False
        self._woken = False
        self._listener = (
            plan_listener(db.url, self.wake_planner) if listen and db.dialect == "postgresql" else None
        )

    def start(self) -> None:
        self.bus.declare()
        now = datetime.now(UTC)  # APScheduler's own time: jobs are timed by delays, see _reschedule
        self.scheduler.add_job(
            self._dispatch, "interval", id="dispatch", seconds=IDLE_CHECK.total_seconds(), next_run_time=now
        )
        self.scheduler.add_job(
            _guarded("plan-requested", self._plan_requested),
            "interval",
            id="plan-requested",
            seconds=2,
            next_run_time=now,
        )
        self.scheduler.add_job(
            _guarded("plan-horizon", self._plan_horizon),
            "interval",
            id="plan-horizon",
            minutes=10,
            next_run_time=now,
        )
        reap_every = max(1.0, min(30.0, self.lease.total_seconds() / 2, self.send_lease.total_seconds() / 6))
        self.scheduler.add_job(
            _guarded("reap-leases", self._reap), "interval", id="reap-leases", seconds=reap_every
        )
        self.scheduler.add_job(_guarded("holidays", self._holidays), "interval", id="holidays", hours=24)
        self.scheduler.add_job(_guarded("offers", self._offers), "interval", id="offers", minutes=1)
        self.scheduler.add_job(
            _guarded("digests", self._digests), "interval", id="digests", minutes=10, next_run_time=now
        )
        self.scheduler.start()
        if self._listener is not None:
            self._listener.start()
        log.info("scheduler_started", bus=type(self.bus).__name__, database=self.db.dialect)

    def stop(self) -> None:
        """Finish the running jobs (an in-flight batch is confirmed or rolled back), then stop."""
        if self._listener is not None:
            self._listener.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("scheduler_stopped")

    # --- wake-ups -----------------------------------------------------------------------------

    def wake_dispatch(self) -> None:
        with self._lock:
            if self._dispatching:
                self._woken = True
                return
        self._reschedule("dispatch", self.clock())

    def wake_planner(self) -> None:
        self._reschedule("plan-requested", self.clock())

    def _reschedule(self, job_id: str, at: datetime) -> None:
        """Run a job when our clock reaches ``at``: after that delay by APScheduler's own clock (the
        same clock in production; an injected or jumping one moves due times, not the wait)."""
        delay = max((at - self.clock()).total_seconds(), 0.0)
        if self.scheduler.running:
            try:
                self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC) + timedelta(seconds=delay))
            except LookupError:  # shutting down
                pass

    # --- jobs ------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        with self._lock:
            self._dispatching, self._woken = True, False
        at = self.clock() + IDLE_CHECK
        try:
            self.dispatcher.drain()
            due = self.dispatcher.next_due()
            if due is not None:
                at = min(at, max(due, self.clock()))
        except OperationalError as exc:  # the database is away (a restart, a failover): expected
            log.warning("database_unavailable", job="dispatch", error=str(exc.orig), next="again in 5 s")
            at = self.clock() + timedelta(seconds=5)
        except Exception:
            log.exception("dispatch_failed")
            at = self.clock() + timedelta(seconds=5)
        finally:
            with self._lock:
                self._dispatching = False
                if self._woken:
                    at = self.clock()
                self._reschedule("dispatch", at)

    def _plan_requested(self) -> None:
        report = self.planner.plan_requested()
        if report.changed or report.requests:
            self.wake_dispatch()

    def _offers(self) -> None:
        with self.db.session() as session:
            told = pass_on_lapsed_offers(session, self.holidays, self.clock())
        if told:
            log.info("offers_passed_on", told=told)
            self.wake_dispatch()

    def _digests(self) -> None:
        with self.db.session() as session:
            planned = digests.plan(session, self.holidays, self.clock())
        if planned:
            self.wake_dispatch()

    def _plan_horizon(self) -> None:
        report = self.planner.plan_all()
        log.info(
            "horizon_planned", created=report.created, retimed=report.retimed, cancelled=report.cancelled
        )
        if report.changed:
            self.wake_dispatch()

    def _reap(self) -> None:
        if self.dispatcher.reap_leases():
            self.wake_dispatch()

    def _holidays(self) -> None:
        """Holiday data changes when a new year's calendar is installed: re-plan what depends on it."""
        with self.db.session() as session:
            ids = session.scalars(
                select(SeriesRow.id).where(
                    SeriesRow.status == SeriesStatus.ACTIVE.value,
                    SeriesRow.skip_holidays != SkipHolidays.NONE.value,
                )
            ).all()
            request_plan(session, series_ids=ids, now=self.clock())
        self.wake_planner()


def _guarded(name: str, job: Callable[[], None]) -> Callable[[], None]:
    """``job``, with the database being away logged as one warning line (the job runs again at
    its next turn) instead of APScheduler's traceback."""

    def run() -> None:
        try:
            job()
        except OperationalError as exc:
            log.warning("database_unavailable", job=name, error=str(exc.orig), next="again at its next turn")

    return run


def plan_listener(url: str, on_notify: Callable[[], None]) -> Listener:
    """``LISTEN exsched_plan`` on its own PostgreSQL connection; calls back on every ``NOTIFY``."""
    return Listener(url, PLAN_CHANNEL, on_notify, name="exsched-plan-listener")
