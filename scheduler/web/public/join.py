"""``/join``: anyone may ask to join a chapter; the confirmation mail's button (double opt-in)
makes them a member, or, where the chapter's staff approve newcomers, puts them on its list.

The form answers the same whether or not the address is known, and a second request for the
same address within a few minutes sends nothing more (however often the form is posted); it is
limited per client too. Opening the confirmation link changes nothing: its button does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from scheduler.domain import joining, throttle
from scheduler.domain.member_access import Link, read_link, signin_link, use, was_used
from scheduler.i18n import Translator, translator
from scheduler.web.deps import PostmanDep, ReplanDep, SessionDep, SettingsDep
from scheduler.web.member_mail import compose, send_later
from scheduler.web.public.forms import form_ok, form_token, read_form, validated
from scheduler.web.public.member_signin import chosen_locale, gone, signed_in_response, take_turn
from scheduler.web.public.pages import page
from schemas.api import JoinForm
from schemas.mail import PlainMail
from schemas.names import Chapter

log = structlog.get_logger(__name__)
router = APIRouter(tags=["members"])

#: One confirmation per address per this long, however often the form is posted.
PER_ADDRESS = throttle.Window(limit=1, length=timedelta(minutes=5))
PER_CLIENT = throttle.Window(limit=10, length=timedelta(minutes=15))


#: One joins a city chapter; the province office is the association itself.
JOINABLE = tuple(c for c in Chapter if c is not Chapter.PROVINCE)


def _chapters(t: Translator) -> list[tuple[str, str]]:
    return [(c.value, t.chapter_org(c)) for c in JOINABLE]


@router.get("/join", response_class=HTMLResponse)
@router.head("/join", include_in_schema=False)
def join_index(request: Request) -> HTMLResponse:
    locale = chosen_locale(request)
    return page(locale, "join_index.html.j2", chapters=_chapters(translator(locale)))


def _form_page(
    locale: str, chapter: str, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return page(
        locale,
        "join.html.j2",
        status,
        chapter=chapter,
        chapters=_chapters(translator(locale)),
        values=values,
        errors=errors,
        sent=False,
    )


@router.get("/join/{chapter}", response_class=HTMLResponse)
@router.head("/join/{chapter}", include_in_schema=False)
def join_form(chapter: str, request: Request) -> HTMLResponse:
    if chapter not in {c.value for c in JOINABLE}:
        return join_index(request)
    locale = chosen_locale(request)
    values = {"name": "", "company": "", "email": "", "chapter": chapter, "locale": locale}
    return _form_page(locale, chapter, values, {})


@router.post("/join/{chapter}", response_class=HTMLResponse)
async def join_request(
    chapter: str,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    postman: PostmanDep,
) -> HTMLResponse:
    locale = chosen_locale(request)
    t = translator(locale)
    fields = await read_form(request, limit=8192) or {}
    form, errors = validated(JoinForm, fields, t)
    if form is not None and form.chapter not in JOINABLE:
        form, errors = None, {"chapter": t("form.error.invalid")}
    if form is None:
        typed = {
            k: (fields.get(k) or [""])[0][:400] for k in ("name", "company", "email", "chapter", "locale")
        }
        return _form_page(locale, chapter, typed, errors, 422)
    now = datetime.now(UTC)
    turn = take_turn(session, request, "join", form.email, (PER_CLIENT, PER_ADDRESS), locale, now)
    if turn.refused is not None:
        return turn.refused
    known = joining.member_with(session, form.email)
    if turn.mail:
        member = None if known is None else Known(known.id, known.session_epoch, known.locale, known.name)
        send_later(
            background,
            postman,
            partial(_confirmation, settings.secret_key, settings.public_url, form, member, now),
        )
    else:
        log.info("join_mail_withheld", reason="one per address per 5 minutes")
    log.info("join_asked", chapter=form.chapter.value, sent=turn.mail)
    return page(
        form.locale.value,
        "join.html.j2",
        chapter=form.chapter.value,
        chapters=[],
        values={"email": form.email},
        errors={},
        sent=True,
    )


@dataclass(frozen=True)
class Known:
    """The member an address belongs to, as the mail to them needs it."""

    id: uuid.UUID
    epoch: int
    locale: str
    name: str


def _confirmation(
    secret: str, public_url: str, form: JoinForm, member: Known | None, now: datetime
) -> PlainMail:
    """The mail to the address: confirm joining; or, if it is a member's already, their sign-in
    link (the form said the same either way)."""
    if member is not None:
        token = signin_link(secret, member.id, member.epoch, now)
        k = translator(member.locale)
        return compose(
            member.locale,
            key=f"join-known:{member.id}:{now.timestamp()}",
            to_name=member.name,
            to_email=form.email,
            subject=k("member.mail.known.subject"),
            paragraphs=[k("member.mail.known.body")],
            action=(k("member.mail.signin.button"), f"{public_url}/me/link/{token}"),
            note=k("member.mail.signin.note"),
        )
    m = translator(form.locale.value)
    token = joining.confirmation_token(secret, form, now)
    return compose(
        form.locale.value,
        key=f"join:{form.email}:{now.timestamp()}",
        to_name=form.name,
        to_email=form.email,
        subject=m("member.mail.join.subject", chapter=m.chapter_org(form.chapter)),
        paragraphs=[
            m(
                "member.mail.join.body",
                chapter=m.chapter_org(form.chapter),
                name=form.name,
                company=form.company or "—",
            )
        ],
        action=(m("member.mail.join.button"), f"{public_url}/join/confirm/{token}"),
        note=m("member.mail.join.note"),
    )


def _confirming(session: Session, secret: str, token: str, now: datetime) -> tuple[JoinForm, Link] | None:
    link = read_link(secret, "join", token, now)
    if link is None or was_used(session, link):
        return None
    try:
        return joining.form_of(link.claims), link
    except (KeyError, ValidationError):
        return None


@router.get("/join/confirm/{token}", response_class=HTMLResponse)
@router.head("/join/confirm/{token}", include_in_schema=False)
def confirm_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    found = _confirming(session, settings.secret_key, token, datetime.now(UTC))
    if found is None:
        return gone()
    form, _ = found
    t = translator(form.locale.value)
    return page(
        form.locale.value,
        "join_confirm.html.j2",
        form=form,
        chapter=t.chapter_org(form.chapter),
        approval=joining.needs_approval(session, form.chapter.value),
        csrf=form_token(settings.secret_key, f"join.{token}"),
    )


@router.post("/join/confirm/{token}")
async def confirm(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, replan: ReplanDep
) -> Response:
    now = datetime.now(UTC)
    found = _confirming(session, settings.secret_key, token, now)
    if found is None:
        return gone()
    form, link = found
    fields = await read_form(request, limit=4096)
    if fields is None or not form_ok(settings.secret_key, f"join.{token}", fields):
        return page(form.locale.value, "form_expired.html.j2", 403)
    if not use(session, link, now):
        return gone()
    t = translator(form.locale.value)
    if joining.member_with(session, form.email) is not None:
        session.commit()
        return page(form.locale.value, "join_done.html.j2", message=t("member.join.already"))
    if joining.needs_approval(session, form.chapter.value):
        row = joining.ask_approval(session, form)
        session.commit()
        log.info("join_waiting", chapter=row.chapter, request_id=str(row.id))
        return page(
            form.locale.value,
            "join_done.html.j2",
            message=t("member.join.waiting", chapter=t.chapter_org(form.chapter)),
        )
    member = joining.admit(session, form)
    replan.commit(member_ids=[member.id])
    log.info("member_joined", member_id=str(member.id), chapter=member.chapter)
    response = signed_in_response(member, settings.secret_key, settings.public_url, now)
    response.headers["location"] = "/me?done=joined"
    return response
