"""The FastAPI application, built from explicit settings and a database (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from scheduler.api.errors import install_error_handlers
from scheduler.api.routes_feeds import router as feeds_router
from scheduler.api.routes_home import router as home_router
from scheduler.api.routes_members import router as members_router
from scheduler.api.routes_notices import router as notices_router
from scheduler.api.routes_responses import router as responses_router
from scheduler.api.routes_series import router as series_router
from scheduler.config import Settings
from scheduler.console import install_console
from scheduler.db.session import Database
from scheduler.feeds import FeedService
from scheduler.holidays import ChineseStatutoryCalendar, HolidayCalendar
from scheduler.metrics import NoticeCollector, broker_ready, database_ready
from schemas.names import CHAPTER_NAMES

#: No legitimate request comes near this (a series with 1,000 exdates is about 30 KB).
MAX_BODY_BYTES = 1024 * 1024


def create_app(
    settings: Settings,
    db: Database | None = None,
    holidays: HolidayCalendar | None = None,
    plan_signal: Callable[[], None] | None = None,
) -> FastAPI:
    """The API over ``db`` (default: ``settings.database_url``), already migrated.

    ``plan_signal`` is called after a change that needs re-planning has been committed; in
    ``serve all`` it wakes the in-process planner (separate processes rely on ``NOTIFY``).
    """
    app = FastAPI(
        max_body_size=MAX_BODY_BYTES,
        title="exsched",
        version="0.1.0",
        description="Recurring project-docking and tech-exchange sessions: series, members, "
        "subscriptions. Staff authenticate with `Authorization: Bearer <key>` "
        "(create one with `exsched apikey create`).",
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.holidays = holidays or ChineseStatutoryCalendar()
    app.state.plan_signal = plan_signal
    app.state.feeds = FeedService(
        app.state.holidays,
        settings.public_url,
        past=timedelta(days=settings.feed_past_days),
        ahead=timedelta(days=settings.feed_ahead_days),
    )
    install_error_handlers(app)
    app.include_router(series_router)
    app.include_router(members_router)
    app.include_router(notices_router)
    app.include_router(responses_router)
    app.include_router(feeds_router)
    app.include_router(home_router)
    install_console(app)

    @app.get("/api/v1/chapters", tags=["chapters"])
    def chapters() -> list[dict[str, Any]]:
        return [{"code": c.value, "name_zh": zh, "name_en": en} for c, (zh, en) in CHAPTER_NAMES.items()]

    scraped = CollectorRegistry()
    scraped.register(NoticeCollector(app.state.db))

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The database answers and, when one is configured, the broker accepts a connection."""
        problems = [p for p in (database_ready(app.state.db), broker_ready(settings.amqp_url)) if p]
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY) + generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)

    return app
