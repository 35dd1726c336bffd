"""Pages members reach from email links: RSVP, and the follow-up form after a session.

The links carry signed tokens (:mod:`scheduler.domain.tokens`) that expire with the session (RSVP) or
60 days after it (follow-up); an unknown, forged or expired token gets the same 404 page, so a
link reveals nothing about other members.
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
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, RsvpRow, SeriesRow
from scheduler.domain.responses import MAX_TEXT, followup_of, record_followup
from scheduler.domain.tokens import InvalidToken, verify
from scheduler.i18n import translator
from scheduler.web.deps import SessionDep, SettingsDep

log = structlog.get_logger(__name__)
router = APIRouter(tags=["member links"], include_in_schema=True)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{escape(title)}</title></head>'
        f'<body style="font-family: sans-serif; max-width: 560px; margin: 2em auto;">{body}</body></html>'
    )
    return HTMLResponse(html, status_code=status)


#: These pages are for members of either language, and say everything in both.
BOTH = (translator("zh-CN"), translator("en"))


def _title(key: str) -> str:
    return " / ".join(t(key) for t in BOTH)


def _paragraphs(key: str) -> str:
    return "".join(f"<p>{escape(t(key))}</p>" for t in BOTH)


_GONE = _page(_title("links.invalid.title"), _paragraphs("links.invalid"), 404)


def _claims(secret: str, purpose: str, token: str) -> dict[str, Any] | None:
    try:
        claims = verify(secret, purpose, token)
        uuid.UUID(claims["m"]), uuid.UUID(claims["s"])
        return claims
    except (InvalidToken, KeyError, ValueError):
        return None


@router.get("/rsvp/{token}", response_class=HTMLResponse)
def rsvp(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Record the member's answer (accept / decline) to one session."""
    claims = _claims(settings.secret_key, "rsvp", token)
    if claims is None or claims.get("r") not in ("accepted", "declined"):
        return _GONE
    member = session.get(MemberRow, uuid.UUID(claims["m"]))
    series = session.get(SeriesRow, uuid.UUID(claims["s"]))
    if member is None or series is None:
        return _GONE
    row = session.scalar(
        select(RsvpRow).where(RsvpRow.occurrence_uid == claims["o"], RsvpRow.member_id == member.id)
    )
    if row is None:
        row = RsvpRow(series_id=series.id, member_id=member.id, occurrence_uid=claims["o"])
        session.add(row)
    row.response = claims["r"]
    row.responded_at = datetime.now(UTC)
    session.commit()
    log.info("rsvp_recorded", member_id=str(member.id), occurrence_uid=claims["o"], response=claims["r"])
    text = _paragraphs(f"links.rsvp.{claims['r']}")
    return _page(series.title, f"<h1>{escape(series.title)}</h1>{text}")


@router.get("/followup/{token}", response_class=HTMLResponse)
def followup_form(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The follow-up form: docking outcomes, or feedback after a tech exchange."""
    found = _followup_target(session, settings.secret_key, token)
    if found is None:
        return _GONE
    claims, series = found
    docking = series.kind == "project-docking"
    prompt = "<br>".join(
        escape(t("links.followup.docking" if docking else "links.followup.feedback")) for t in BOTH
    )
    earlier = followup_of(session, uuid.UUID(claims["m"]), claims["o"])
    form = (
        f'<h1>{escape(series.title)}</h1><form method="post"><p>{prompt}</p>'
        f'<textarea name="text" rows="8" cols="60" maxlength="{MAX_TEXT}" required>'
        f"{escape(earlier)}</textarea>"
        f'<p><button type="submit">{escape(_title("links.followup.send"))}</button></p></form>'
    )
    return _page(series.title, form)


def _followup_target(session: Session, secret: str, token: str) -> tuple[dict[str, Any], SeriesRow] | None:
    """The link's claims and series, if the link is genuine and its series and member still exist."""
    claims = _claims(secret, "followup", token)
    if claims is None or session.get(MemberRow, uuid.UUID(claims["m"])) is None:
        return None
    series = session.get(SeriesRow, uuid.UUID(claims["s"]))
    return None if series is None else (claims, series)


@router.post("/followup/{token}", response_class=HTMLResponse)
async def followup_submit(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    found = _followup_target(session, settings.secret_key, token)
    if found is None:
        return _GONE
    claims, series = found
    body = await request.body()
    if len(body) > 4 * MAX_TEXT:
        return _page(_title("links.too_long.title"), _paragraphs("links.too_long"), 413)
    text = (parse_qs(body.decode(errors="replace")).get("text") or [""])[0].strip()
    if not text:
        return _page(_title("links.empty.title"), _paragraphs("links.empty"), 422)
    record_followup(session, series, uuid.UUID(claims["m"]), claims["o"], text, datetime.now(UTC))
    session.commit()
    log.info("followup_recorded", member_id=claims["m"], occurrence_uid=claims["o"])
    return _page(series.title, _paragraphs("links.received"))
