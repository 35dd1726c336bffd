"""The web application: the API, the console and the public pages on one FastAPI app, built
from explicit settings and a database (no globals)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from scheduler.calendars.changes import FeedChanges
from scheduler.calendars.feeds import FeedService
from scheduler.db.session import Database
from scheduler.domain import official_days
from scheduler.domain.holidays import ChineseStatutoryCalendar, HolidayCalendar
from scheduler.notices import store
from scheduler.ops.config import Settings
from scheduler.ops.metrics import NoticeCollector, broker_ready, database_ready
from scheduler.web.api import install_api
from scheduler.web.console import install_console
from scheduler.web.deps import Postman, RobotTester
from scheduler.web.errors import install_error_handlers
from scheduler.web.public import install_public

#: No legitimate request comes near this (a series with 1,000 exdates is about 30 KB).
MAX_BODY_BYTES = 1024 * 1024
#: How often the holidays entered in the console are looked for (seconds).
HOLIDAYS_EVERY = 5.0
log = structlog.get_logger(__name__)


def create_app(
    settings: Settings,
    db: Database | None = None,
    holidays: HolidayCalendar | None = None,
    plan_signal: Callable[[], None] | None = None,
    robot_tester: RobotTester | None = None,
    postman: Postman | None = None,
) -> FastAPI:
    """The API over ``db`` (default: ``settings.database_url``), already migrated.

    ``plan_signal`` is called after a change that needs re-planning has been committed; in
    ``serve all`` it wakes the in-process planner (separate processes rely on ``NOTIFY``).
    ``robot_tester`` posts a test message to a chapter's chat robot (the workers' chat channel:
    the command line passes it in); without it, the test button answers 503. ``postman`` sends
    the plain emails members ask for (sign-in links, confirmations) through the workers' mail
    channel; without it, those are logged and not sent.
    """
    db = db or Database(settings.database_url)
    # On PostgreSQL, a feed polled again is answered from memory until a write is heard (NOTIFY);
    # the listener runs while the app is served (its lifespan), not in an app a test just calls.
    changes = FeedChanges(db.url) if db.dialect == "postgresql" else None

    stopping = threading.Event()

    def keep_holidays() -> None:
        """The holidays entered in the console (by this process or another): looked at every few
        seconds while the app is served."""
        while not stopping.is_set():
            try:
                with db.session() as session:
                    official_days.refresh(app.state.holidays, session)
            except Exception as exc:  # the database away: the next turn tries again
                log.warning("holidays_refresh_failed", error=str(exc))
            stopping.wait(HOLIDAYS_EVERY)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if changes is not None:
            changes.start()
            changes.watch(db.engine)
        stopping.clear()
        refresher = threading.Thread(target=keep_holidays, name="exsched-holidays", daemon=True)
        refresher.start()
        try:
            yield
        finally:
            stopping.set()
            refresher.join(timeout=5)
            if changes is not None:
                changes.unwatch(db.engine)
                changes.stop()

    app = FastAPI(
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        title="exsched",
        version="0.1.0",
        description="Recurring project-docking and tech-exchange sessions: series, members, "
        "subscriptions. Staff authenticate with `Authorization: Bearer <key>` "
        "(create one with `exsched apikey create`).",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.holidays = holidays or ChineseStatutoryCalendar()
    app.state.plan_signal = plan_signal
    app.state.robot_tester = robot_tester
    app.state.postman = postman
    app.state.feeds = FeedService(
        app.state.holidays,
        settings.public_url,
        past=timedelta(days=settings.feed_past_days),
        ahead=timedelta(days=settings.feed_ahead_days),
        max_bytes=settings.feed_cache_mb * 1024 * 1024,
        changes=changes,
    )
    install_error_handlers(app)
    install_api(app)
    install_public(app)
    install_console(app)

    scraped = CollectorRegistry()
    scraped.register(NoticeCollector(store.counter(app.state.db)))

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The database answers and, when one is configured, the broker accepts a connection."""
        problems = [p for p in (database_ready(app.state.db.engine), broker_ready(settings.amqp_url)) if p]
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY) + generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)

    return app
