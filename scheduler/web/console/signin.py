"""Signing in and out, and the language switch."""

from __future__ import annotations

import hmac
from typing import Annotated
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from scheduler.domain.staff import (
    AccountLocked,
    Attempt,
    ClientThrottled,
    HashingBusy,
    SignInFailed,
    normal_name,
    sign_in,
)
from scheduler.i18n import LOCALES
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import (
    CSRF_COOKIE,
    LANG_COOKIE,
    PAGE_HEADERS,
    PostDep,
    check_origin,
    csrf_nonce,
    csrf_token,
    end_session,
    render_template,
    safe_next,
    set_csrf_cookie,
    staff_of,
    start_session,
    translator_for,
    trusted_browser,
)
from scheduler.web.deps import get_session

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("")
@router.get("/")
def console_root() -> RedirectResponse:
    return RedirectResponse("/console/home", status_code=303)


def _login_page(
    request: Request, status: int = 200, error: str | None = None, username: str = ""
) -> Response:
    settings = request.app.state.settings
    nonce, new = csrf_nonce(request)
    t = translator_for(request)
    html = render_template(
        request,
        t,
        "login.html.j2",
        page=None,
        csrf=csrf_token(settings.secret_key, nonce),
        error=error,
        username=username,
        next=safe_next(request.query_params.get("next")),
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if new:
        set_csrf_cookie(response, nonce, settings)
    return response


@router.get("/login")
def login_form(request: Request, session: SessionDep) -> Response:
    if staff_of(request, session, request.app.state.settings) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Sync on purpose: Argon2 takes tens of milliseconds and runs in the thread pool."""
    settings = request.app.state.settings
    t = translator_for(request)
    check_origin(request, t)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf, csrf_token(settings.secret_key, nonce)):
        return _login_page(request, 403, t("error.csrf"))
    username = username.strip()
    if not username or not password:
        return _login_page(request, 422, t("login.required"), username)
    attempt = Attempt(
        username=username,
        password=password,
        client=request.client.host if request.client else "unknown",
        device=trusted_browser(request, settings, normal_name(username)),
    )
    try:
        staff = sign_in(request.app.state.db, attempt, utcnow())
    except (AccountLocked, ClientThrottled) as exc:
        until = f"{exc.until.astimezone(ZoneInfo('Asia/Shanghai')):%H:%M}"
        which = "login.locked" if isinstance(exc, AccountLocked) else "login.throttled"
        log.warning("console_sign_in_refused", username=username, client=attempt.client, why=which)
        return _login_page(request, 429, t(which, until=until), username)
    except SignInFailed:
        log.warning("console_sign_in_failed", username=username, client=attempt.client)
        return _login_page(request, 401, t("login.failed"), username)
    except HashingBusy:
        log.warning("console_sign_in_busy", username=username, client=attempt.client)
        busy = _login_page(request, 503, t("login.busy"), username)
        busy.headers["Retry-After"] = "5"
        return busy
    response = RedirectResponse(safe_next(next_path), status_code=303)
    start_session(response, staff, settings, utcnow())
    log.info("console_signed_in", username=staff.username, trusted_browser=attempt.device is not None)
    return response


@router.post("/logout")
def logout(page: PostDep) -> Response:
    """Sign out, for real: the account's epoch moves on, so no copy of the cookie works again
    (it also signs the account out on its other browsers)."""
    page.staff.session_epoch += 1
    page.session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    end_session(response)
    log.info("console_signed_out", username=page.staff.username)
    return response


@router.get("/lang/{locale}")
def switch_language(locale: str, request: Request) -> Response:
    """Remember the language in a cookie and go back (a preference, not a change of data)."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", path="/")
    return response
