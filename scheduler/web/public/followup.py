"""``/followup/{token}``: the questions after a session, on a page in the member's language made
for a phone. After a project-docking session: how many firms they talked to and which (picked
from those who came, or typed), whether an intention to cooperate or a contract came of it, its
rough value in 万元, a note; after a tech exchange: a 1–5 rating, what was useful, the topic they
want next, a note. The page shows their earlier answer to correct, until 30 days after the
session; then it shows what they said. Opening the link changes nothing (mail scanners): the
page's button posts a form token only this server makes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain import responses
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import occurrence_at
from scheduler.i18n import translator
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from scheduler.web.outcome_form import other_firms, read_answer, values_of
from scheduler.web.public.forms import form_ok, form_token, read_form
from scheduler.web.public.links import claims_of
from scheduler.web.public.member_signin import gone
from scheduler.web.public.pages import page
from schemas.ids import recurrence_of_uid

log = structlog.get_logger(__name__)
router = APIRouter(tags=["member links"])
#: The longest form: the notes at their longest, in 4-byte characters, percent-encoded.
MOST_BYTES = 12 * (responses.MAX_TEXT + 2000) + 16384


@dataclass(frozen=True)
class Target:
    member: MemberRow
    series: SeriesRow
    occurrence: Occurrence
    uid: str


def _target(session: Session, secret: str, holidays: HolidayCalendar, token: str) -> Target | None:
    """Who the link is for and the session it asks about, if the link is genuine and both exist."""
    claims = claims_of(secret, "followup", token)
    if claims is None:
        return None
    member = session.get(MemberRow, uuid.UUID(claims["m"]))
    series = session.get(SeriesRow, uuid.UUID(claims["s"]))
    try:
        rid = recurrence_of_uid(str(claims["o"]))
    except ValueError:
        return None
    occurrence = occurrence_at(series, rid, holidays) if series is not None else None
    if member is None or series is None or occurrence is None:
        return None
    return Target(member, series, occurrence, str(claims["o"]))


def _render(
    target: Target,
    secret: str,
    token: str,
    session: Session,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    done: bool = False,
    status: int = 200,
) -> HTMLResponse:
    member, series = target.member, target.series
    t = translator(member.locale)
    start = target.occurrence.start.astimezone(ZoneInfo(member.timezone))
    met = responses.firms_met(session, target.uid, member.id)
    return page(
        member.locale,
        "followup.html.j2",
        status,
        title=series.title,
        when=f"{t.date(start)} {t.clock(start)}",
        docking=series.kind == "project-docking",
        met=met,
        other_firms=other_firms(values, met),
        values=values,
        errors=errors or {},
        done=done,
        open=responses.correctable(target.occurrence.end, datetime.now(UTC)),
        csrf=form_token(secret, token),
    )


@router.get("/followup/{token}", response_class=HTMLResponse)
@router.head("/followup/{token}", include_in_schema=False)
def followup_form(
    token: str, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> HTMLResponse:
    target = _target(session, settings.secret_key, holidays, token)
    if target is None:
        return gone()
    earlier = responses.followup_of(session, target.member.id, target.uid)
    return _render(target, settings.secret_key, token, session, values=values_of(earlier))


@router.post("/followup/{token}", response_class=HTMLResponse)
async def followup_submit(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> HTMLResponse:
    target = _target(session, settings.secret_key, holidays, token)
    if target is None:
        return gone()
    t = translator(target.member.locale)
    fields = await read_form(request, MOST_BYTES)
    if fields is None:
        return page(target.member.locale, "followup_refused.html.j2", 413, reason=t("followup.too_long"))
    if not form_ok(settings.secret_key, token, fields):
        return page(target.member.locale, "followup_refused.html.j2", 403, reason=t("followup.expired_form"))
    now = datetime.now(UTC)
    if not responses.correctable(target.occurrence.end, now):
        return page(target.member.locale, "followup_refused.html.j2", 409, reason=t("followup.closed"))
    answer, errors, typed = read_answer(target.series, fields, t)
    if answer is None:
        return _render(target, settings.secret_key, token, session, values=typed, errors=errors, status=422)
    responses.record_followup(session, target.series, target.member.id, target.uid, answer, now)
    session.commit()
    log.info("followup_recorded", member_id=str(target.member.id), occurrence_uid=target.uid)
    earlier = responses.followup_of(session, target.member.id, target.uid)
    return _render(target, settings.secret_key, token, session, values=values_of(earlier), done=True)
