"""Pages members reach from email links: RSVP (the follow-up form is :mod:`.followup`).

The links carry signed tokens (:mod:`scheduler.domain.tokens`) that expire with the session (RSVP) or
60 days after it (follow-up); an unknown, forged or expired token gets the same 404 page, so a
link reveals nothing about other members. Opening a link changes nothing: it shows a page that
says what will happen, and a button on it does it with a POST carrying a form token only this
server can make — mail scanners, which open every link of an email, answer nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain.seats import Standing
from scheduler.domain.series import occurrence_at
from scheduler.domain.tokens import InvalidToken, verify
from scheduler.i18n import translator
from scheduler.notices.answers import answer
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from scheduler.web.public.forms import form_ok, form_token
from scheduler.web.public.member_signin import gone
from schemas.ids import recurrence_of_uid

log = structlog.get_logger(__name__)
router = APIRouter(tags=["member links"], include_in_schema=True)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:560px;margin:1.5em auto;padding:0 16px;"
        "line-height:1.55}h1{font-size:1.5em;line-height:1.3}button{font-size:1.05em;"
        "min-height:44px;padding:.6em 1.4em;border-radius:6px;border:1px solid #1d4ed8;"
        "background:#2563eb;color:#fff}textarea{width:100%;box-sizing:border-box;font-size:1em}"
        f"</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


#: These pages are for members of either language, and say everything in both.
BOTH = (translator("zh-CN"), translator("en"))


def _title(key: str) -> str:
    return " / ".join(t(key) for t in BOTH)


def _paragraphs(key: str, **params: Any) -> str:
    return "".join(f"<p>{escape(t(key, **params))}</p>" for t in BOTH)


def claims_of(secret: str, purpose: str, token: str) -> dict[str, Any] | None:
    try:
        claims = verify(secret, purpose, token)
        uuid.UUID(claims["m"]), uuid.UUID(claims["s"])
        return claims
    except (InvalidToken, KeyError, ValueError):
        return None


def _confirm_form(secret: str, link: str, label_key: str) -> str:
    return (
        f'<form method="post"><input type="hidden" name="csrf" value="{form_token(secret, link)}">'
        f'<p><button type="submit">{escape(_title(label_key))}</button></p></form>'
    )


_CONFIRM = {"accepted": "links.rsvp.confirm.accepted", "declined": "links.rsvp.confirm.declined"}


def _rsvp_target(
    session: Session, secret: str, token: str
) -> tuple[dict[str, Any], MemberRow, SeriesRow] | None:
    claims = claims_of(secret, "rsvp", token)
    if claims is None or claims.get("r") not in ("accepted", "declined"):
        return None
    member = session.get(MemberRow, uuid.UUID(claims["m"]))
    series = session.get(SeriesRow, uuid.UUID(claims["s"]))
    return None if member is None or series is None else (claims, member, series)


@router.get("/rsvp/{token}", response_class=HTMLResponse)
@router.head("/rsvp/{token}", include_in_schema=False)
def rsvp_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """What the link will answer, and the button that answers it: opening the link (as mail
    scanners do, for every link of an email) changes nothing."""
    found = _rsvp_target(session, settings.secret_key, token)
    if found is None:
        return gone()
    claims, _, series = found
    what = _CONFIRM[claims["r"]]
    form = _confirm_form(settings.secret_key, token, "links.rsvp.button")
    body = f"<h1>{escape(series.title)}</h1>{_paragraphs(what)}{form}{_paragraphs('links.rsvp.why')}"
    return _page(series.title, body)


@router.post("/rsvp/{token}", response_class=HTMLResponse)
async def rsvp_answer(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> HTMLResponse:
    """Record the answer the link carries (accept or decline), as the member confirmed it. The
    latest answer stands; it keeps when, how and from which user agent it came. An accept when
    every seat is taken puts the member on the waiting list, and the page says where."""
    found = _rsvp_target(session, settings.secret_key, token)
    if found is None:
        return gone()
    claims, member, series = found
    fields = parse_qs((await request.body())[:4096].decode(errors="replace"))
    if not form_ok(settings.secret_key, token, fields):
        return _page(_title("links.expired_form.title"), _paragraphs("links.expired_form"), 403)
    try:
        occurrence = occurrence_at(series, recurrence_of_uid(claims["o"]), holidays)
    except ValueError:
        occurrence = None
    if occurrence is None:
        return gone()
    done = answer(
        session,
        series,
        occurrence,
        member.id,
        claims["r"],
        datetime.now(UTC),
        source="link",
        user_agent=request.headers.get("user-agent", ""),
    )
    session.commit()
    log.info(
        "rsvp_recorded", member_id=str(member.id), occurrence_uid=claims["o"], response=done.standing.response
    )
    return _page(series.title, f"<h1>{escape(series.title)}</h1>{_answered(done.standing)}")


def _answered(standing: Standing) -> str:
    if standing.position is not None:
        return _paragraphs("links.rsvp.waitlisted", position=standing.position)
    return _paragraphs(f"links.rsvp.{standing.response}")
