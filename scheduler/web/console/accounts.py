"""Staff accounts in the console. The province office adds an account (a chapter's staff, or one
of its own), disables and enables it, and gives it a new temporary password, which is shown
once, to hand over, and must be replaced at the next sign-in. Everyone replaces their own
password at ``/console/password``. The command line (``exsched staff …``) does the same."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from scheduler.db.models import StaffRow
from scheduler.domain import staff as accounts
from scheduler.domain import throttle
from scheduler.domain.errors import Conflict, InvalidInput
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import (
    OFFICE,
    ConsoleError,
    Page,
    PageDep,
    PostDep,
    start_session,
    trusted_browser,
)
from schemas.names import Chapter, Role

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
#: Chapters a chapter-staff account may belong to (the province office's staff are admins).
STAFF_CHAPTERS = [c.value for c in Chapter if c is not Chapter.PROVINCE]
#: Wrong current passwords a signed-in session may type before it must wait.
CHANGE_TRIES = accounts.ACCOUNT
FIELDS = ("username", "display_name", "role", "chapter", "email")


def _require_admin(page: Page) -> None:
    if not page.is_admin:
        raise ConsoleError(403, page.t("accounts.admin_only"))


def _account(page: Page, account_id: uuid.UUID) -> StaffRow:
    _require_admin(page)
    row = page.session.get(StaffRow, account_id)
    if row is None:
        raise ConsoleError(404, page.t("error.not_found"))
    return row


def _accounts_page(
    page: Page,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    handed: tuple[StaffRow, str] | None = None,
    status: int = 200,
) -> Response:
    rows = page.session.scalars(
        select(StaffRow).order_by(StaffRow.role, StaffRow.chapter, StaffRow.username)
    ).all()
    return page.render(
        "accounts.html.j2",
        status=status,
        accounts=[_shown(page, row) for row in rows],
        chapters=STAFF_CHAPTERS,
        values=values
        or {"username": "", "display_name": "", "role": Role.CHAPTER.value, "chapter": "", "email": ""},
        errors=errors or {},
        handed=handed,
    )


def _shown(page: Page, row: StaffRow) -> dict[str, Any]:
    last = row.last_login_at
    if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=UTC)
    return {
        "row": row,
        "me": row.id == page.staff.id,
        "last": page.t.short_when(last.astimezone(OFFICE)) if last else "",
    }


@router.get("/accounts", response_class=HTMLResponse)
def accounts_list(page: PageDep) -> Response:
    _require_admin(page)
    return _accounts_page(page)


@router.post("/accounts", response_class=HTMLResponse)
def add_account(page: PostDep) -> Response:
    _require_admin(page)
    values = {name: str(page.form.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    if values["role"] not in (Role.ADMIN.value, Role.CHAPTER.value):
        errors["role"] = page.t("err.choice")
    elif values["role"] == Role.CHAPTER.value and values["chapter"] not in STAFF_CHAPTERS:
        errors["chapter"] = page.t("accounts.err.chapter")
    name = values["display_name"]
    if not name:
        errors["display_name"] = page.t("err.required")
    elif len(name) > 200:
        errors["display_name"] = page.t("err.too_long", n=200)
    elif not name.isprintable():
        errors["display_name"] = page.t("err.control_character")
    if errors:
        return _accounts_page(page, values=values, errors=errors, status=422)
    password = accounts.temporary_password()
    try:
        row = accounts.create_staff(
            page.session,
            username=values["username"],
            password=password,
            role=values["role"],
            chapter=values["chapter"] if values["role"] == Role.CHAPTER.value else None,
            display_name=values["display_name"],
        )
    except Conflict:
        page.session.rollback()
        return _accounts_page(
            page, values=values, errors={"username": page.t("accounts.err.taken")}, status=422
        )
    except InvalidInput:
        page.session.rollback()
        return _accounts_page(
            page, values=values, errors={"username": page.t("accounts.err.username")}, status=422
        )
    try:
        accounts.set_email(row, values["email"])
    except InvalidInput:
        page.session.rollback()
        return _accounts_page(page, values=values, errors={"email": page.t("err.email")}, status=422)
    row.must_change_password = True
    page.session.commit()
    log.info(
        "staff_created", username=row.username, role=row.role, chapter=row.chapter, by=page.staff.username
    )
    return _accounts_page(page, handed=(row, password))


@router.post("/accounts/{account_id}/disable", response_class=HTMLResponse)
def disable_account(account_id: uuid.UUID, page: PostDep) -> Response:
    row = _account(page, account_id)
    if row.id == page.staff.id:
        raise ConsoleError(409, page.t("accounts.not_yourself"))
    accounts.disable(row, utcnow())
    page.session.commit()
    log.info("staff_disabled", username=row.username, by=page.staff.username)
    return page.redirect("/console/accounts", "accounts.disabled_done")


@router.post("/accounts/{account_id}/enable", response_class=HTMLResponse)
def enable_account(account_id: uuid.UUID, page: PostDep) -> Response:
    row = _account(page, account_id)
    accounts.enable(page.session, row)
    page.session.commit()
    log.info("staff_enabled", username=row.username, by=page.staff.username)
    return page.redirect("/console/accounts", "accounts.enabled_done")


@router.post("/accounts/{account_id}/reset", response_class=HTMLResponse)
def reset_account(account_id: uuid.UUID, page: PostDep) -> Response:
    """A new temporary password: the old one stops working and every session of the account ends."""
    row = _account(page, account_id)
    if row.id == page.staff.id:
        raise ConsoleError(409, page.t("accounts.not_yourself"))
    password = accounts.give_temporary_password(page.session, row)
    page.session.commit()
    log.info("staff_password_reset", username=row.username, by=page.staff.username)
    return _accounts_page(page, handed=(row, password))


def _password_page(
    page: Page, errors: dict[str, str] | None = None, status: int = 200, email: str | None = None
) -> Response:
    shown = page.staff.email or "" if email is None else email
    return page.render("password.html.j2", status=status, errors=errors or {}, email=shown)


@router.get("/password", response_class=HTMLResponse)
def password_form(page: PageDep) -> Response:
    return _password_page(page)


@router.post("/account/email", response_class=HTMLResponse)
def change_email(page: PostDep) -> Response:
    """One's own address for the monthly digest (empty: no digest)."""
    typed = str(page.form.get("email") or "")
    try:
        accounts.set_email(page.staff, typed)
    except InvalidInput:
        page.session.rollback()
        return _password_page(page, {"email": page.t("err.email")}, 422, email=typed)
    page.session.commit()
    log.info("staff_email_changed", username=page.staff.username, digest=page.staff.email is not None)
    done = "account.email_saved" if page.staff.email else "account.email_cleared"
    return page.redirect("/console/password", done)


@router.post("/password", response_class=HTMLResponse)
def change_password(page: PostDep) -> Response:
    """Sync on purpose: checking and hashing a password take tens of milliseconds each."""
    current, new, again = (str(page.form.get(name) or "") for name in ("current", "new", "again"))
    errors: dict[str, str] = {}
    if len(new) < accounts.MIN_PASSWORD:
        errors["new"] = page.t("password.too_short", count=accounts.MIN_PASSWORD)
    elif len(new) > accounts.MAX_PASSWORD:
        errors["new"] = page.t("password.too_long", count=accounts.MAX_PASSWORD)
    elif new != again:
        errors["again"] = page.t("password.mismatch")
    if errors:
        return _password_page(page, errors, 422)
    now = utcnow()
    key = f"password-change:{page.staff.id}"
    tried = throttle.take(page.session, key, CHANGE_TRIES, now)
    page.session.commit()  # counted before the password is checked, so parallel tries cannot race
    if not tried.allowed:
        until = f"{tried.opens_at.astimezone(OFFICE):%H:%M}"
        return _password_page(page, {"current": page.t("password.locked", until=until)}, 429)
    try:
        accounts.change_own_password(page.session, page.staff, current, new)
    except InvalidInput as exc:
        page.session.rollback()
        reason = "password.wrong" if exc.field == "current" else "password.same"
        return _password_page(page, {str(exc.field): page.t(reason)}, 422)
    throttle.clear(page.session, key)
    staff = page.staff
    page.session.commit()
    log.info("staff_password_changed", username=staff.username)
    response = page.redirect("/console/home", "password.changed")
    signed = accounts.SignedIn(
        staff_id=staff.id,
        username=staff.username,
        session_epoch=staff.session_epoch,
        device=trusted_browser(page.request, page.settings, staff.username) or secrets.token_urlsafe(18),
    )
    start_session(response, signed, page.settings, now)  # the old session ended with the old password
    return response
