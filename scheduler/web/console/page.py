"""The console's request plumbing: who is signed in, CSRF, language, rendering, error pages.

* The session is a cookie signed with ``EXSCHED_SECRET_KEY`` (:mod:`scheduler.domain.tokens`) that
  holds the staff id and the account's ``session_epoch``: a new password or a disabled account
  ends every session at once. HttpOnly, SameSite=Lax, Secure when the public URL is https.
* CSRF: every form carries a token that is an HMAC of the browser's session cookie (the
  sign-in form, before there is a session, one of a random nonce in its own HttpOnly cookie);
  a POST without the matching token, or whose ``Origin`` names another site, is refused before
  anything is read or written. A token is good for one session only: signing out, or in
  again, makes every earlier page's forms stale.
* A browser that signed in gets a second, long-lived cookie naming the account (path
  ``/console/login`` only): it lets that browser sign in to that account while the account's
  name is locked against guessing from elsewhere (:mod:`scheduler.domain.staff`).
* Pages are sent with a Content-Security-Policy that allows only the console's own scripts and
  styles, and are never framed or cached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import PackageLoader
from sqlalchemy.orm import Session

from scheduler.db.models import StaffRow
from scheduler.domain.auth import Principal
from scheduler.domain.staff import SignedIn, principal_of
from scheduler.domain.tokens import InvalidToken, sign, verify
from scheduler.i18n import DEFAULT_LOCALE, LOCALES, Templates, Translator, translator
from scheduler.ops.config import Settings
from scheduler.web.console.failures import Explained, explain
from scheduler.web.deps import commit_and_replan, get_session
from schemas.names import Chapter, Role

SESSION_COOKIE = "exsched_console"
CSRF_COOKIE = "exsched_csrf"
LANG_COOKIE = "exsched_lang"
DEVICE_COOKIE = "exsched_device"
SESSION_TTL = timedelta(hours=12)
DEVICE_TTL = timedelta(days=180)
_PURPOSE = "console-session"
_DEVICE = "console-device"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

TEMPLATES = Templates(PackageLoader("scheduler.web.console", "templates"))


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page, then back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """The account signed in with a temporary password: it sets its own before anything else."""


#: What an account with a temporary password may still reach.
_WHILE_TEMPORARY = frozenset({"/console/password", "/console/logout"})


class ConsoleError(Exception):
    """An error page with a message already in the reader's language."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def translator_for(request: Request) -> Translator:
    locale = request.cookies.get(LANG_COOKIE, DEFAULT_LOCALE)
    return translator(locale if locale in LOCALES else DEFAULT_LOCALE)


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def csrf_token(secret: str, binding: str) -> str:
    """The form token of a browser: an HMAC of its session cookie once signed in, and before
    that (the sign-in form only) of a random nonce in its own cookie."""
    return hmac.new(secret.encode(), f"console-csrf.{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The browser's pre-sign-in CSRF nonce, and whether it is new (and must be set as a cookie)."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if len(nonce) == 43 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce, False
    return secrets.token_urlsafe(32), True


def set_csrf_cookie(response: Response, nonce: str, settings: Settings) -> None:
    response.set_cookie(
        CSRF_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(settings), path="/console"
    )


def start_session(response: Response, staff: SignedIn, settings: Settings, now: datetime) -> None:
    """The session cookie, and the trusted-browser cookie that lets this browser sign in to
    this account while the account's name is locked against guessing."""
    token = sign(
        settings.secret_key,
        _PURPOSE,
        {"sid": str(staff.staff_id), "epoch": staff.session_epoch},
        now + SESSION_TTL,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/console",
    )
    device = sign(settings.secret_key, _DEVICE, {"u": staff.username, "d": staff.device}, now + DEVICE_TTL)
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=int(DEVICE_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(settings),
        path="/console/login",
    )
    response.delete_cookie(CSRF_COOKIE, path="/console")


def _signed_cookie(request: Request, settings: Settings, name: str, purpose: str) -> dict[str, Any] | None:
    """What a cookie signed by this console says, if it is there, genuine and unexpired."""
    token = request.cookies.get(name)
    if not token:
        return None
    try:
        return verify(settings.secret_key, purpose, token)
    except InvalidToken:
        return None


def trusted_browser(request: Request, settings: Settings, username: str) -> str | None:
    """The id of this browser's trusted-browser cookie, if it has a genuine one for ``username``."""
    payload = _signed_cookie(request, settings, DEVICE_COOKIE, _DEVICE) or {}
    device = payload.get("d")
    return device if payload.get("u") == username and isinstance(device, str) and device else None


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")
    response.delete_cookie(CSRF_COOKIE, path="/console")


def staff_of(request: Request, session: Session, settings: Settings) -> StaffRow | None:
    """The signed-in account, if the cookie is genuine, unexpired and still current."""
    payload = _signed_cookie(request, settings, SESSION_COOKIE, _PURPOSE)
    if payload is None:
        return None
    try:
        staff = session.get(StaffRow, uuid.UUID(str(payload["sid"])))
    except (KeyError, ValueError):
        return None
    if staff is None or staff.disabled_at is not None or staff.session_epoch != payload.get("epoch"):
        return None
    return staff


def safe_next(value: str | None) -> str:
    """Only a path inside the console (no scheme, no host): never an open redirect."""
    if not value:
        return "/console/home"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or "\\" in value:
        return "/console/home"
    return value


#: The office's own time: what the console's "today" and its times of events are in.
OFFICE = ZoneInfo("Asia/Shanghai")


@dataclass
class Page:
    """One console request: the staff member, their authority, language and CSRF token."""

    request: Request
    session: Session
    settings: Settings
    staff: StaffRow
    t: Translator
    csrf: str
    form: Any = None

    @property
    def principal(self) -> Principal:
        return principal_of(self.staff)

    @property
    def chapters(self) -> list[str]:
        """The chapters this account sees: every one for the province office, else its own."""
        return [c.value for c in Chapter] if self.is_admin else [str(self.staff.chapter)]

    @property
    def is_admin(self) -> bool:
        return self.staff.role == Role.ADMIN.value

    def require_chapter(self, chapter: str) -> None:
        """403 page unless this staff member may see and change ``chapter``'s things."""
        if not self.principal.may_touch(chapter):
            raise ConsoleError(403, self.t("error.other_chapter", chapter=self.t.chapter(chapter)))

    def commit_and_replan(
        self,
        *,
        series_ids: Sequence[uuid.UUID] = (),
        member_ids: Sequence[uuid.UUID] = (),
        chapters: Sequence[str] = (),
    ) -> None:
        """Commit the change and have the planner look at what it touches right away."""
        commit_and_replan(
            self.request, self.session, series_ids=series_ids, member_ids=member_ids, chapters=chapters
        )

    def failure(self, notice: Any) -> Explained | None:
        """A notice's failure (or the transient one it waits on) in plain words, with what to do."""
        return explain(self.t, notice.reason_code, notice.reason_params) if notice.reason_code else None

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = render_template(self.request, self.t, template, page=self, csrf=self.csrf, **context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def redirect(self, url: str, done: str | None = None) -> RedirectResponse:
        """303 to a page of the console, which then shows the ``done`` message."""
        if done is not None:
            url += ("&" if "?" in url else "?") + "done=" + quote(done)
        return RedirectResponse(url, status_code=303)


def render_template(request: Request, t: Translator, template: str, **context: Any) -> str:
    done = request.query_params.get("done")
    return (
        TEMPLATES.get(t.locale)
        .get_template(template)
        .render(
            t=t,
            request=request,
            done=t(done) if done in _DONE else None,
            path=request.url.path,
            query=urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "done"]),
            **context,
        )
    )


#: Messages a redirect may ask the next page to show (anything else in ``done=`` is ignored).
_DONE = frozenset(
    {
        "account.email_saved",
        "account.email_cleared",
        "joins.rule_saved",
        "joins.approved",
        "joins.rejected",
        "series.created",
        "occ.capacity_done",
        "bounces.cleared",
        "occ.moved_up_done",
        "series.updated",
        "series.cancelled_done",
        "occ.moved_done",
        "occ.cancelled_done",
        "occ.restored_done",
        "occ.details_done",
        "occ.message_done",
        "occ.nudged_done",
        "occ.message.nobody",
        "ledger.retried_member_changed",
        "ledger.retried_unchanged",
        "members.added",
        "members.updated",
        "members.deleted",
        "members.subscribed",
        "members.unsubscribed",
        "robots.added",
        "robots.tested",
        "robots.removed",
        "accounts.disabled_done",
        "accounts.enabled_done",
        "password.changed",
        "outcome.recorded_done",
    }
)


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def current_page(request: Request, session: Annotated[Session, Depends(get_session)]) -> Page:
    settings = _settings(request)
    staff = staff_of(request, session, settings)
    if staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/console/home")
    if staff.must_change_password and request.url.path not in _WHILE_TEMPORARY:
        raise PasswordChangeRequired()
    return Page(
        request=request,
        session=session,
        settings=settings,
        staff=staff,
        t=translator_for(request),
        csrf=csrf_token(settings.secret_key, "session." + request.cookies[SESSION_COOKIE]),
    )


async def posted_page(request: Request, page: Annotated[Page, Depends(current_page)]) -> Page:
    """A signed-in POST whose CSRF token and origin check out; the form is on ``page.form``."""
    check_origin(request, page.t)
    form = await request.form()
    given = form.get("csrf")
    if not isinstance(given, str) or not hmac.compare_digest(given, page.csrf):
        raise ConsoleError(403, page.t("error.csrf"))
    page.form = form
    return page


def check_origin(request: Request, t: Translator) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ConsoleError(403, t("error.csrf"))


PageDep = Annotated[Page, Depends(current_page)]
PostDep = Annotated[Page, Depends(posted_page)]


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    t = translator_for(request)
    html = render_template(request, t, "error.html.j2", status=status, message=message, page=None, csrf="")
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def error_page_for(request: Request, status: int, message: str) -> HTMLResponse | None:
    """The console's page for an error raised outside its own handlers (an unknown path, a
    malformed id), or None when the request is not the console's."""
    path = request.url.path
    if not (path == "/console" or path.startswith("/console/")):
        return None
    t = translator_for(request)
    known = {403: "error.forbidden", 404: "error.not_found"}
    if status in known:
        message = t(known[status])
    elif status == 422:
        message = t("err.invalid", reason=message)
    return error_page(request, status, message)


def sign_in_redirect(exc: SignInRequired) -> RedirectResponse:
    return RedirectResponse(f"/console/login?next={quote(safe_next(exc.next_path))}", status_code=303)
