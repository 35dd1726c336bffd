"""Signing a member in without a password: ``/me/sign-in`` mails a one-time link valid 15
minutes; ``/me/link/{token}`` (that link, or the personal link in every email) shows a page whose
button signs in. Opening a link changes nothing and does not use it up (mail scanners open every
link); an unknown, expired or used link gets the same page.

The form answers the same whether or not the address belongs to a member, and takes as long (the
mail goes out after the answer). It is limited per address (a few links per quarter hour, the
rest silently not sent) and per client (a page saying when to try again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow
from scheduler.domain import throttle
from scheduler.domain.member_access import member_of, read_link, session_cookie, signin_link, use, was_used
from scheduler.i18n import LOCALES, translator
from scheduler.web.deps import PostmanDep, SessionDep, SettingsDep
from scheduler.web.member_mail import compose, send_later
from scheduler.web.public.forms import form_ok, form_token, read_form, validated
from scheduler.web.public.pages import page
from schemas.api import SignInForm

log = structlog.get_logger(__name__)
router = APIRouter(tags=["members"])

COOKIE = "exsched_member"
PER_ADDRESS = throttle.Window(limit=3, length=timedelta(minutes=15))
PER_CLIENT = throttle.Window(limit=20, length=timedelta(minutes=15))


def chosen_locale(request: Request) -> str:
    """The language of a page for someone not signed in: ``?lang=``, else the browser's first
    language we have, else Chinese."""
    asked = request.query_params.get("lang", "")
    if asked in LOCALES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return "zh-CN"


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Turn:
    """A form's attempt counted: the 429 page if the client is over its limit, and whether the
    address may be mailed now (over its own limit the mail is silently not sent)."""

    refused: HTMLResponse | None
    mail: bool


def take_turn(
    session: Session,
    request: Request,
    form: str,
    address: str,
    limits: tuple[throttle.Window, throttle.Window],
    locale: str,
    now: datetime,
) -> Turn:
    """Count one post of ``form`` for the client and for the address (``limits``: per client, per
    address), committed before any work, as :mod:`scheduler.domain.throttle` says."""
    per_client, per_address = limits
    throttle.forget_ended(session, now)
    client = throttle.take(session, f"{form}:client:{client_of(request)}", per_client, now)
    mailed = throttle.take(session, f"{form}:address:{address}", per_address, now)
    session.commit()
    if client.allowed:
        return Turn(None, mailed.allowed)
    log.warning("member_form_throttled", form=form, client=client_of(request))
    until = translator(locale).clock(client.opens_at.astimezone(ZoneInfo("Asia/Shanghai")))
    return Turn(page(locale, "too_many.html.j2", 429, until=until), False)


def gone() -> HTMLResponse:
    """The one page for every link that does not work (unknown, forged, expired, used)."""
    return page("zh-CN", "link_gone.html.j2", 404, en=translator("en"))


@router.get("/me/sign-in", response_class=HTMLResponse)
@router.head("/me/sign-in", include_in_schema=False)
def signin_form(request: Request) -> HTMLResponse:
    return page(chosen_locale(request), "signin.html.j2", email="", errors={}, sent=False)


@router.post("/me/sign-in", response_class=HTMLResponse)
async def signin_request(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    postman: PostmanDep,
) -> HTMLResponse:
    locale = chosen_locale(request)
    t = translator(locale)
    fields = await read_form(request, limit=4096) or {}
    form, errors = validated(SignInForm, fields, t)
    if form is None:
        typed = (fields.get("email") or [""])[0][:320]
        return page(locale, "signin.html.j2", 422, email=typed, errors=errors, sent=False)
    now = datetime.now(UTC)
    turn = take_turn(session, request, "member-signin", form.email, (PER_CLIENT, PER_ADDRESS), locale, now)
    if turn.refused is not None:
        return turn.refused
    member = session.scalar(select(MemberRow).where(MemberRow.email == form.email))
    if member is not None and turn.mail:
        token = signin_link(settings.secret_key, member.id, member.session_epoch, now)
        url = f"{settings.public_url}/me/link/{token}"
        m = translator(member.locale)
        mail = partial(
            compose,
            member.locale,
            key=f"signin:{member.id}:{now.timestamp()}",
            to_name=member.name,
            to_email=member.email,
            subject=m("member.mail.signin.subject"),
            paragraphs=[m("member.mail.signin.body")],
            action=(m("member.mail.signin.button"), url),
            note=m("member.mail.signin.note"),
        )
        send_later(background, postman, mail)
    elif member is not None:
        log.info("member_sign_in_link_withheld", member_id=str(member.id), reason="per-address limit")
    return page(locale, "signin.html.j2", email=form.email, errors={}, sent=True)


def _link(session: Session, secret: str, token: str, now: datetime) -> MemberRow | None:
    link = read_link(secret, "member-signin", token, now)
    if link is None or was_used(session, link):
        return None
    return member_of(session, link.claims)


@router.get("/me/link/{token}", response_class=HTMLResponse)
@router.head("/me/link/{token}", include_in_schema=False)
def link_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Who the link signs in, and the button that does it."""
    member = _link(session, settings.secret_key, token, datetime.now(UTC))
    if member is None:
        return gone()
    return page(
        member.locale,
        "signin_confirm.html.j2",
        name=member.name,
        csrf=form_token(settings.secret_key, f"signin.{token}"),
    )


@router.post("/me/link/{token}")
async def link_signin(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    now = datetime.now(UTC)
    link = read_link(settings.secret_key, "member-signin", token, now)
    member = member_of(session, link.claims) if link is not None else None
    if link is None or member is None or was_used(session, link):
        return gone()
    fields = await read_form(request, limit=4096)
    if fields is None or not form_ok(settings.secret_key, f"signin.{token}", fields):
        return page(member.locale, "form_expired.html.j2", 403)
    if not use(session, link, now):
        return gone()
    session.commit()
    log.info("member_signed_in", member_id=str(member.id), once=link.once)
    return signed_in_response(member, settings.secret_key, settings.public_url, now)


def signed_in_response(member: MemberRow, secret: str, public_url: str, now: datetime) -> Response:
    """To the member page, with the cookie that keeps the browser signed in."""
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie(
        COOKIE,
        session_cookie(secret, member, now),
        max_age=30 * 86400,
        httponly=True,
        samesite="lax",
        secure=public_url.startswith("https://"),
        path="/",
    )
    return response
