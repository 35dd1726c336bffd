"""``/c/{token}``: a member's check-in code, as a page (what the QR code in their email holds:
opened on their own phone, it shows the code again, large, for the door). Opening it changes
nothing; an unknown or expired code gets the same page as any other dead link."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from scheduler.db.models import MemberRow, RsvpRow, SeriesRow
from scheduler.domain import checkin
from scheduler.domain.series import occurrence_at
from scheduler.i18n import translator
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from scheduler.web.public.member_signin import gone
from scheduler.web.public.pages import page
from schemas.ids import recurrence_of_uid

router = APIRouter(tags=["member links"])


@router.get("/c/{token}", response_class=HTMLResponse)
@router.head("/c/{token}", include_in_schema=False)
def code_page(token: str, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep) -> HTMLResponse:
    found = checkin.read_code(settings.secret_key, token)
    member = session.get(MemberRow, found[0]) if found else None
    answer = (
        session.scalar(
            select(RsvpRow).where(RsvpRow.member_id == member.id, RsvpRow.occurrence_uid == found[1])
        )
        if member is not None and found is not None
        else None
    )
    series = session.get(SeriesRow, answer.series_id) if answer is not None else None
    occurrence = occurrence_at(series, recurrence_of_uid(found[1]), holidays) if series and found else None
    if member is None or series is None or occurrence is None:
        return gone()
    t = translator(member.locale)
    start = occurrence.start.astimezone(ZoneInfo(member.timezone))
    return page(
        member.locale,
        "checkin_code.html.j2",
        member=member,
        title=series.title,
        when=f"{t.date(start)} {t.clock(start)}",
        venue=occurrence.venue_or(series.venue),
        qr=checkin.qr_svg(checkin.code_url(settings.public_url, token), scale=7),
    )
