"""The staff console at ``/console``: server-rendered pages for the association's staff."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from scheduler.web.console.accounts import router as accounts_router
from scheduler.web.console.bounces import router as bounces_router
from scheduler.web.console.checkin import router as checkin_router
from scheduler.web.console.holidays import router as holidays_router
from scheduler.web.console.home import router as home_router
from scheduler.web.console.joins import router as joins_router
from scheduler.web.console.ledger import router as ledger_router
from scheduler.web.console.members import router as members_router
from scheduler.web.console.outcomes import router as outcomes_router
from scheduler.web.console.page import (
    ConsoleError,
    PasswordChangeRequired,
    SignInRequired,
    error_page,
    error_page_for,
    sign_in_redirect,
)
from scheduler.web.console.replies import router as replies_router
from scheduler.web.console.reports import router as reports_router
from scheduler.web.console.robots import router as robots_router
from scheduler.web.console.series import router as series_router
from scheduler.web.console.signin import router as auth_router

PREFIX = "/console"


def install_console(app: FastAPI) -> None:
    """Mount the console's pages, static files and its HTML error pages on ``app``."""
    app.include_router(auth_router)
    app.include_router(home_router)
    app.include_router(series_router)
    app.include_router(members_router)
    app.include_router(ledger_router)
    app.include_router(robots_router)
    app.include_router(joins_router)
    app.include_router(replies_router)
    app.include_router(bounces_router)
    app.include_router(checkin_router)
    app.include_router(accounts_router)
    app.include_router(outcomes_router)
    app.include_router(reports_router)
    app.include_router(holidays_router)
    app.mount(
        f"{PREFIX}/static", StaticFiles(directory=Path(__file__).parent / "static"), name="console-static"
    )

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(exc)

    @app.exception_handler(PasswordChangeRequired)
    async def _temporary(_: Request, __: PasswordChangeRequired) -> Response:
        return RedirectResponse("/console/password", status_code=303)

    @app.exception_handler(ConsoleError)
    async def _console_error(request: Request, exc: ConsoleError) -> Response:
        return error_page(request, exc.status, exc.message)

    app.state.html_errors = error_page_for
