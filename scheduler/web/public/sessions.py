"""``/sessions/{series}/{stamp}``: one public session as a page anyone may open and share — when
(start–end in words, with its zone), where (with a map link), the agenda, a calendar file to add
it, and the way in (join the chapter, or sign in to answer). A private series' sessions have no
public page: they get the same 404 as a link that never existed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from scheduler.db.models import SeriesRow
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import cancel_reason_of
from scheduler.i18n import translator
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from scheduler.web.public.member_signin import chosen_locale, gone
from scheduler.web.public.pages import calendar_file, named_session, page
from schemas.ids import recurrence_stamp
from schemas.names import OccurrenceStatus

router = APIRouter(tags=["public sessions"])


def session_path(series_id: uuid.UUID, recurrence_id: datetime) -> str:
    """Where a session's public page is (the sessions page links each row to it)."""
    return f"/sessions/{series_id}/{recurrence_stamp(recurrence_id)}"


def map_link(template: str, venue: str) -> str:
    """A map search for the venue, from the configured template ({venue} is filled in, quoted)."""
    return template.replace("{venue}", quote(venue, safe="")) if venue.strip() and template else ""


def _public(
    session: Session, holidays: HolidayCalendar, series_text: str, stamp: str
) -> tuple[SeriesRow, Occurrence] | None:
    """The public series and its session these path parts name; None for anything else."""
    found = named_session(session, holidays, series_text, stamp)
    return found if found is not None and not found[0].private else None


@router.get("/sessions/{series_id}/{stamp}.ics")
@router.head("/sessions/{series_id}/{stamp}.ics", include_in_schema=False)
def session_calendar(
    series_id: str, stamp: str, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep
) -> Response:
    """ "Add to calendar": the session as a calendar file (METHOD:PUBLISH) with the invitation's
    UID, so a member who is invited later sees one event, updated, not two."""
    found = _public(session, holidays, series_id, stamp)
    if found is None:
        return gone()
    return calendar_file(*found, settings.public_url, cache="no-cache")


@router.get("/sessions/{series_id}/{stamp}", response_class=HTMLResponse)
@router.head("/sessions/{series_id}/{stamp}", include_in_schema=False)
def session_page(
    series_id: str,
    stamp: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    holidays: HolidaysDep,
) -> HTMLResponse:
    found = _public(session, holidays, series_id, stamp)
    if found is None:
        return gone()
    row, occ = found
    locale = chosen_locale(request)
    t = translator(locale)
    zone = ZoneInfo(row.timezone)
    start, end = occ.start.astimezone(zone), occ.end.astimezone(zone)
    venue = occ.venue_or(row.venue)
    cancelled = occ.status == OccurrenceStatus.CANCELLED
    return page(
        locale,
        "session.html.j2",
        title=row.title,
        kind=t.kind(row.kind),
        chapter=row.chapter,
        chapter_name=t.chapter_org(row.chapter),
        date=t.long_date(start.date()),
        time=f"{t.clock(start)}–{t.clock(end)}",
        zone=t.zone_at(row.timezone, start),
        venue=venue,
        map=map_link(settings.map_search_url, venue),
        agenda=occ.agenda or "",
        description=row.description,
        cancelled=cancelled,
        reason=cancel_reason_of(row, occ.recurrence_id) if cancelled else "",
        holiday=t.holiday(occ.holiday) if occ.holiday else "",
        moved=occ.status == OccurrenceStatus.MOVED,
        provisional=occ.provisional,
        over=occ.end < datetime.now(UTC),
        ics=f"{session_path(row.id, occ.recurrence_id)}.ics",
        other_language="en" if locale == "zh-CN" else "zh-CN",
    )
