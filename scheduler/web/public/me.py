"""``/me``: a member's own page, on a phone first, in their language.

What they can do here: answer the sessions they are invited to (and change their mind), take a
session into their calendar, subscribe to public series, their chapter or a kind and leave them,
set their language, time zone, channels, name and company, change their address (confirmed by a
mail to the new one), see and renew their personal feed link, and sign out (here or
everywhere). Every change is a POST carrying a form token bound to the browser's sign-in
cookie; nothing here reaches another member's data: each action names only the signed-in member.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain import checkin, deliverability, seats, throttle
from scheduler.domain import members as people
from scheduler.domain.errors import ExschedError, InvalidInput
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.member_access import (
    member_of,
    read_link,
    sign_out_everywhere,
    signed_in,
    use,
    was_used,
)
from scheduler.domain.recurrence import Occurrence, zone_of
from scheduler.domain.series import cancel_reason_of
from scheduler.domain.tokens import sign
from scheduler.i18n import LOCALES, Translator, translator
from scheduler.notices import answers
from scheduler.notices.audience import attendees, member_agenda, unfollowing
from scheduler.web.deps import HolidaysDep, PostmanDep, ReplanDep, SessionDep, SettingsDep
from scheduler.web.member_mail import compose, send_later
from scheduler.web.public.forms import field, form_ok, form_token, read_form, validated
from scheduler.web.public.member_signin import COOKIE, gone, signed_in_response
from scheduler.web.public.pages import calendar_file, named_session, page, subscription_words
from schemas.api import PreferencesForm, SignInForm
from schemas.ids import recurrence_stamp
from schemas.names import Chapter, Kind, SeriesStatus

log = structlog.get_logger(__name__)
router = APIRouter(tags=["members"])

AHEAD = timedelta(days=60)
ANSWERS = ("accepted", "tentative", "declined")
EMAIL_CHANGE = timedelta(hours=24)
EMAIL_CHANGES = throttle.Window(limit=3, length=timedelta(minutes=15))
#: ``?done=`` after a change → what the page says happened.
DONE = {
    "answer": "member.done.answer",
    "waitlisted": "member.done.waitlisted",
    "subscribed": "member.done.subscribed",
    "unsubscribed": "member.done.unsubscribed",
    "prefs": "member.done.prefs",
    "email-sent": "member.done.email_sent",
    "email": "member.done.email",
    "feed": "member.done.feed",
    "joined": "member.done.joined",
}


def _back(done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/me?done={done}{anchor}", status_code=303)


def _csrf(secret: str, cookie: str) -> str:
    return form_token(secret, f"member.{cookie}")


async def _acting(
    request: Request, session: Session, secret: str
) -> tuple[MemberRow, dict[str, list[str]]] | Response:
    """The signed-in member and their form, or the answer to give instead: to the sign-in page
    without a valid cookie, 403 without this browser's form token."""
    cookie = request.cookies.get(COOKIE, "")
    member = signed_in(session, secret, cookie, datetime.now(UTC))
    if member is None:
        return RedirectResponse("/me/sign-in", status_code=303)
    fields = await read_form(request)
    if fields is None or not form_ok(secret, f"member.{cookie}", fields):
        return page(member.locale, "form_expired.html.j2", 403)
    return member, fields


@router.get("/me", response_class=HTMLResponse)
@router.head("/me", include_in_schema=False)
def member_page(
    request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> Response:
    cookie = request.cookies.get(COOKIE, "")
    member = signed_in(session, settings.secret_key, cookie, datetime.now(UTC))
    if member is None:
        return RedirectResponse("/me/sign-in", status_code=303)
    done = DONE.get(request.query_params.get("done", ""), "")
    return _render(session, settings.secret_key, settings.public_url, holidays, member, cookie, done=done)


def _render(
    session: Session,
    secret: str,
    public_url: str,
    holidays: HolidayCalendar,
    member: MemberRow,
    cookie: str,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    t = translator(member.locale)
    zone = ZoneInfo(member.timezone)
    now = datetime.now(UTC)
    sessions = []
    for item in member_agenda(session, member.id, holidays, now, now + AHEAD):
        occ, row = item.occurrence, item.series
        start, end = occ.start.astimezone(zone), occ.end.astimezone(zone)
        stamp = recurrence_stamp(occ.recurrence_id)
        sessions.append(
            {
                "id": f"s-{row.id.hex[:8]}-{stamp}",
                "series_id": str(row.id),
                "stamp": stamp,
                "title": row.title,
                "when": f"{t.date(start)} {t.clock(start)}–{t.clock(end)}",
                "venue": occ.venue_or(row.venue),
                "chapter": t.chapter(row.chapter),
                "kind": t.kind(row.kind),
                "cancelled": occ.status.value == "cancelled",
                "cancel_reason": cancel_reason_of(row, occ.recurrence_id),
                "answer": item.answer,
                **_seat(session, t, zone, occ.uid, member.id, now),
                "checkin_qr": _code(secret, public_url, member.id, occ) if item.answer == "accepted" else "",
            }
        )
    subs = people.subscriptions_of(session, member)
    titles = _titles(session, [uuid.UUID(s.target) for s in subs if s.target_type == "series"])
    mine = {(s.target_type, s.target) for s in subs}
    followed = {str(i) for i in people.series_followed_by(session, member.id)}  # offered: what is not yet
    public = session.scalars(
        select(SeriesRow)
        .where(SeriesRow.private.is_(False), SeriesRow.status == SeriesStatus.ACTIVE.value)
        .order_by(SeriesRow.chapter, SeriesRow.title)
    ).all()
    https, webcal = people.feed_urls(member.feed_token, public_url)
    values = typed or {
        "name": member.name,
        "company": member.company,
        "locale": member.locale,
        "timezone": member.timezone,
        "channels": list(member.channels or []),
    }
    return page(
        member.locale,
        "me.html.j2",
        status,
        member=member,
        done=t(done) if done else "",
        errors=errors or {},
        values=values,
        sessions=sessions,
        answers=ANSWERS,
        subscriptions=[
            {"id": str(s.id), "words": subscription_words(t, s, titles.get(s.target, s.target))} for s in subs
        ],
        series_options=[
            {"value": f"series:{r.id}", "label": f"{t.chapter(r.chapter)} · {r.title}"}
            for r in public
            if str(r.id) not in followed
        ],
        chapter_options=[
            {"value": f"chapter:{c.value}", "label": t.chapter(c)}
            for c in Chapter
            if ("chapter", c.value) not in mine
        ],
        kind_options=[
            {"value": f"kind:{k.value}", "label": t.kind(k)} for k in Kind if ("kind", k.value) not in mine
        ],
        locales=[(code, t(f"members.locale.{code}")) for code in LOCALES],
        zones=t.zone_choices(str(values.get("timezone") or member.timezone)),
        feed=https,
        feed_qr=checkin.qr_svg(https, 5),
        webcal=webcal,
        csrf=_csrf(secret, cookie),
    )


def _seat(
    session: Session, t: Translator, zone: ZoneInfo, uid: str, member_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """Where the member stands for the session's seats: a place on the waiting list, a seat
    held for them until a time, or the session full (an accept would join the list)."""
    mine = seats.standing(session, uid, member_id, now)
    until = mine.offer_until.astimezone(zone) if mine.offer_until else None
    return {
        "position": mine.position if until is None else None,
        "offer_until": f"{t.date(until)} {t.clock(until)}" if until else "",
    }


def _code(secret: str, public_url: str, member_id: uuid.UUID, occ: Occurrence) -> str:
    """The member's check-in code for a session they hold a seat at, as an inline SVG QR code."""
    return checkin.qr_svg(checkin.code_url(public_url, checkin.code(secret, member_id, occ.uid, occ.end)))


def _titles(session: Session, ids: list[uuid.UUID]) -> dict[str, str]:
    if not ids:
        return {}
    return {
        str(i): title
        for i, title in session.execute(select(SeriesRow.id, SeriesRow.title).where(SeriesRow.id.in_(ids)))
    }


def _invited(
    session: Session, holidays: HolidayCalendar, member: MemberRow, series_text: str, stamp: str
) -> tuple[SeriesRow, Occurrence] | None:
    """The series and occurrence named by a form, if the member is invited to that session."""
    found = named_session(session, holidays, series_text, stamp)
    if found is None or not any(a.member.id == member.id for a in attendees(session, found[0], found[1].uid)):
        return None
    return found


@router.post("/me/answer")
async def answer(
    request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> Response:
    """Accept, decline or say maybe to one session; the latest answer stands. An accept when
    every seat is taken joins the waiting list (the page shows the position)."""
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, fields = acting
    response = field(fields, "response")
    found = _invited(session, holidays, member, field(fields, "series"), field(fields, "occurrence"))
    if found is None or response not in ANSWERS:
        return page(member.locale, "member_refused.html.j2", 404)
    row, occurrence = found
    done = answers.answer(
        session,
        row,
        occurrence,
        member.id,
        response,
        datetime.now(UTC),
        source="member-page",
        user_agent=request.headers.get("user-agent", ""),
    )
    session.commit()
    log.info(
        "rsvp_recorded",
        member_id=str(member.id),
        occurrence_uid=occurrence.uid,
        response=done.standing.response,
        source="member-page",
    )
    return _back("waitlisted" if done.standing.response == "waitlisted" else "answer")


@router.get("/me/sessions/{series_id}/{stamp}.ics")
def session_file(
    series_id: str,
    stamp: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    holidays: HolidaysDep,
) -> Response:
    """ "Add to calendar" on the member page: a session they are invited to (:func:`calendar_file`)."""
    member = signed_in(session, settings.secret_key, request.cookies.get(COOKIE, ""), datetime.now(UTC))
    if member is None:
        return RedirectResponse("/me/sign-in", status_code=303)
    found = _invited(session, holidays, member, series_id, stamp)
    if found is None:
        return page(member.locale, "member_refused.html.j2", 404)
    return calendar_file(*found, settings.public_url, cache="no-store")


@router.post("/me/subscriptions")
async def subscribe(
    request: Request, session: SessionDep, settings: SettingsDep, replan: ReplanDep
) -> Response:
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, fields = acting
    target_type, _, target = field(fields, "target").partition(":")
    try:
        row = people.subscribe_self(session, member, target_type, target)
    except ExschedError:
        session.rollback()
        return page(member.locale, "member_refused.html.j2", 404)
    replan.commit(member_ids=[member.id])
    log.info(
        "subscribed", member_id=str(member.id), target_type=row.target_type, target=row.target, by="member"
    )
    return _back("subscribed")


@router.post("/me/subscriptions/{subscription_id}/end")
async def unsubscribe(
    subscription_id: str, request: Request, session: SessionDep, settings: SettingsDep, replan: ReplanDep
) -> Response:
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, _ = acting
    try:
        with unfollowing(session, member.id, datetime.now(UTC)):
            people.unsubscribe(session, member, uuid.UUID(subscription_id))
    except (ExschedError, ValueError):
        return page(member.locale, "member_refused.html.j2", 404)
    replan.commit(member_ids=[member.id])
    log.info("unsubscribed", member_id=str(member.id), subscription_id=subscription_id, by="member")
    return _back("unsubscribed")


@router.post("/me/preferences")
async def preferences(
    request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep, replan: ReplanDep
) -> Response:
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, fields = acting
    t = translator(member.locale)
    form, errors = validated(PreferencesForm, fields, t, lists=("channels",))
    if form is not None:
        try:
            zone_of(form.timezone)
        except InvalidInput:
            errors = {"timezone": t("form.error.timezone")}
    if form is None or errors:
        typed = {name: (values if name == "channels" else values[0]) for name, values in fields.items()}
        typed.setdefault("channels", [])
        cookie = request.cookies.get(COOKIE, "")
        return _render(
            session,
            settings.secret_key,
            settings.public_url,
            holidays,
            member,
            cookie,
            errors=errors,
            typed={k: typed.get(k, "") for k in ("name", "company", "locale", "timezone", "channels")},
            status=422,
        )
    channels_changed = sorted(member.channels or []) != sorted(set(form.channels))
    member.name, member.company = form.name, form.company
    member.locale, member.timezone = form.locale.value, form.timezone
    member.channels = sorted(set(form.channels))
    replan.commit(member_ids=[member.id] if channels_changed else [])
    log.info("member_preferences_changed", member_id=str(member.id), channels_changed=channels_changed)
    return _back("prefs")


@router.post("/me/feed")
async def new_feed_link(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A new personal feed link; the old one answers 404 from now on."""
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, _ = acting
    member.feed_token = people.new_feed_token()
    session.commit()
    log.info("feed_token_rotated", member_id=str(member.id), by="member")
    return _back("feed", "#feed")


@router.post("/me/sign-out")
async def sign_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, fields = acting
    if field(fields, "everywhere"):
        sign_out_everywhere(member)
        session.commit()
    log.info("member_signed_out", member_id=str(member.id), everywhere=bool(field(fields, "everywhere")))
    response = RedirectResponse("/me/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/me/email")
async def change_email(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    holidays: HolidaysDep,
    postman: PostmanDep,
) -> Response:
    """A new address takes effect once the link mailed to it is used (so nobody can point a
    member's mail somewhere by mistyping, or at someone else's address)."""
    acting = await _acting(request, session, settings.secret_key)
    if isinstance(acting, Response):
        return acting
    member, fields = acting
    t = translator(member.locale)
    form, errors = validated(SignInForm, fields, t)
    if form is not None and form.email == member.email:
        errors = {"email": t("form.error.same_email")}
    if form is None or errors:
        cookie = request.cookies.get(COOKIE, "")
        return _render(
            session,
            settings.secret_key,
            settings.public_url,
            holidays,
            member,
            cookie,
            errors={"new_email": errors.get("email", "")},
            status=422,
        )
    now = datetime.now(UTC)
    taken = throttle.take(session, f"member-email:{member.id}", EMAIL_CHANGES, now)
    session.commit()
    if taken.allowed:
        claims = {"m": str(member.id), "e": member.session_epoch, "a": form.email, "o": 1}
        token = sign(settings.secret_key, "member-email", claims, now + EMAIL_CHANGE)
        m = translator(member.locale)
        mail = partial(
            compose,
            member.locale,
            key=f"email-change:{member.id}:{now.timestamp()}",
            to_name=member.name,
            to_email=form.email,
            subject=m("member.mail.email.subject"),
            paragraphs=[m("member.mail.email.body", email=form.email)],
            action=(m("member.mail.email.button"), f"{settings.public_url}/me/email/{token}"),
            note=m("member.mail.email.note"),
        )
        send_later(background, postman, mail)
    log.info("member_email_change_asked", member_id=str(member.id), sent=taken.allowed)
    return _back("email-sent")


def _email_link(
    session: Session, secret: str, token: str, now: datetime
) -> tuple[MemberRow, str, Any] | None:
    link = read_link(secret, "member-email", token, now)
    if link is None or was_used(session, link):
        return None
    member = member_of(session, link.claims)
    address = str(link.claims.get("a", ""))
    return None if member is None or not address else (member, address, link)


@router.get("/me/email/{token}", response_class=HTMLResponse)
@router.head("/me/email/{token}", include_in_schema=False)
def email_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    found = _email_link(session, settings.secret_key, token, datetime.now(UTC))
    if found is None:
        return gone()
    member, address, _ = found
    csrf = form_token(settings.secret_key, f"email.{token}")
    return page(member.locale, "email_confirm.html.j2", email=address, csrf=csrf)


@router.post("/me/email/{token}")
async def email_confirm(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    now = datetime.now(UTC)
    found = _email_link(session, settings.secret_key, token, now)
    if found is None:
        return gone()
    member, address, link = found
    fields = await read_form(request, limit=4096)
    if fields is None or not form_ok(settings.secret_key, f"email.{token}", fields):
        return page(member.locale, "form_expired.html.j2", 403)
    if session.scalar(select(MemberRow.id).where(MemberRow.email == address, MemberRow.id != member.id)):
        return page(member.locale, "member_refused.html.j2", 409, reason="member.refused.email_taken")
    if not use(session, link, now):
        return gone()
    old = member.email
    member.email = address
    deliverability.clear(member)  # the new address was just shown to work
    sign_out_everywhere(member)  # links and sign-ins sent to the old address end here
    session.commit()
    log.info("member_email_changed", member_id=str(member.id), old_domain=old.rpartition("@")[2])
    response = signed_in_response(member, settings.secret_key, settings.public_url, now)
    response.headers["location"] = "/me?done=email"
    return response
