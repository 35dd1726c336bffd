"""``/api/v1`` and ``/calendars``: JSON for staff and programs, webcal feeds for calendars."""

from __future__ import annotations

from fastapi import FastAPI

from scheduler.web.api.attendees import router as attendees_router
from scheduler.web.api.calendars import feeds_router
from scheduler.web.api.calendars import router as calendars_router
from scheduler.web.api.chapters import router as chapters_router
from scheduler.web.api.members import router as members_router
from scheduler.web.api.notices import router as notices_router
from scheduler.web.api.reports import router as reports_router
from scheduler.web.api.series import router as series_router


def install_api(app: FastAPI) -> None:
    # the polled feeds first: routes are tried in order, and calendar clients ask most often
    for router in (
        feeds_router,
        series_router,
        attendees_router,
        members_router,
        notices_router,
        chapters_router,
        reports_router,
        calendars_router,
    ):
        app.include_router(router)
