"""``/``: a read-only page of upcoming sessions per chapter, each linking to its own page, with
the calendar feeds to subscribe to: a webcal link (calendar apps), the same feed as an https
link, and a QR code of it (WeChat, DingTalk and Feishu do not open ``webcal://``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import PackageLoader
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import SeriesRow
from scheduler.domain.checkin import qr_svg
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.members import webcal_of
from scheduler.domain.series import upcoming
from scheduler.i18n import Templates, translator
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from scheduler.web.public.sessions import session_path
from schemas.names import Chapter, Kind, OccurrenceStatus, SeriesStatus

router = APIRouter(include_in_schema=False)
TEMPLATES = Templates(PackageLoader("scheduler.web.public", "templates"), trim=False)
#: The sessions page speaks the association's language.
LOCALE = "zh-CN"
#: Every session this far ahead is listed; past it, each series' next session however far.
AHEAD = timedelta(days=60)
#: Sessions listed per chapter (each series' next one always among them).
PER_CHAPTER = 12


def _feed(name: str, base: str, path: str) -> dict[str, str]:
    """One feed three ways: webcal (opens a calendar app), https (to copy), a QR of the https link."""
    https = f"{base}{path}"
    return {"name": name, "https": https, "webcal": webcal_of(https), "qr": qr_svg(https, 4)}


def _listed(sessions: list[dict[str, object]]) -> list[dict[str, object]]:
    """The first :data:`PER_CHAPTER` by time, keeping each series' next session in the list."""
    ordered = sorted(sessions, key=lambda s: s["start"])  # type: ignore[arg-type,return-value]
    first_of: dict[object, int] = {}
    for s in ordered:
        first_of.setdefault(s["series"], id(s))
    firsts = set(first_of.values())
    room = max(0, PER_CHAPTER - len(firsts))
    rest = [s for s in ordered if id(s) not in firsts][:room]
    keep = firsts | {id(s) for s in rest}
    return [s for s in ordered if id(s) in keep]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, settings: SettingsDep, holidays: HolidaysDep) -> HTMLResponse:
    now = datetime.now(UTC)
    t = translator(LOCALE)
    rows = session.scalars(
        select(SeriesRow)
        .where(SeriesRow.private.is_(False), SeriesRow.status == SeriesStatus.ACTIVE.value)
        .options(selectinload(SeriesRow.overrides))
    ).all()
    by_chapter: dict[Chapter, list[dict[str, object]]] = {chapter: [] for chapter in Chapter}
    for row in rows:
        try:
            coming = upcoming(row, holidays, now, AHEAD)
        except RecurrenceError:
            continue
        for occ in coming:
            start = occ.start.astimezone(ZoneInfo(row.timezone))
            by_chapter[Chapter(row.chapter)].append(
                {
                    "start": start,
                    "series": row.id,
                    "href": session_path(row.id, occ.recurrence_id),
                    "later": occ.start - now > AHEAD,
                    "when": t.short_when(start),
                    "title": row.title,
                    "kind": t.kind(row.kind),
                    "venue": occ.venue_or(row.venue),
                    "cancelled": occ.status == OccurrenceStatus.CANCELLED,
                    "moved": occ.status == OccurrenceStatus.MOVED or occ.holiday is not None,
                    "provisional": occ.provisional,
                }
            )
    base = settings.public_url
    chapters = [
        {
            "code": chapter.value,
            "name": t.chapter(chapter),
            "sessions": _listed(by_chapter[chapter]),
            "feed": _feed(
                t("home.chapter_feed", chapter=t.chapter(chapter)),
                base,
                f"/calendars/chapters/{chapter.value}.ics",
            ),
        }
        for chapter in Chapter
    ]
    feeds = [_feed(t("home.all"), base, "/calendars/all.ics")] + [
        _feed(t.kind(kind), base, f"/calendars/kinds/{kind.value}.ics") for kind in Kind
    ]
    html = (
        TEMPLATES.get(LOCALE)
        .get_template("home.html.j2")
        .render(
            chapters=chapters,
            feeds=feeds,
            updated=now.astimezone(ZoneInfo("Asia/Shanghai")),
        )
    )
    return HTMLResponse(html)
