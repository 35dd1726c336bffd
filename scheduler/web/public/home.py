"""``/``: a read-only page of upcoming sessions per chapter with their calendar feed links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import PackageLoader
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import SeriesRow
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.series import occurrences
from scheduler.i18n import Templates, translator
from scheduler.web.deps import HolidaysDep, SessionDep, SettingsDep
from schemas.names import Chapter, Kind, OccurrenceStatus, SeriesStatus

router = APIRouter(include_in_schema=False)
TEMPLATES = Templates(PackageLoader("scheduler.web.public", "templates"), trim=False)
#: The sessions page speaks the association's language.
LOCALE = "zh-CN"
AHEAD = timedelta(days=60)


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
            upcoming = occurrences(row, holidays, now, now + AHEAD)
        except RecurrenceError:
            continue
        for occ in upcoming:
            start = occ.start.astimezone(ZoneInfo(row.timezone))
            by_chapter[Chapter(row.chapter)].append(
                {
                    "start": start,
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
    webcal = "webcal://" + base.split("://", 1)[1]
    chapters = [
        {
            "code": chapter.value,
            "name": t.chapter(chapter),
            "sessions": sorted(by_chapter[chapter], key=lambda s: s["start"])[:12],  # type: ignore[arg-type,return-value]
            "feed": f"{base}/calendars/chapters/{chapter.value}.ics",
            "webcal": f"{webcal}/calendars/chapters/{chapter.value}.ics",
        }
        for chapter in Chapter
    ]
    kinds = [{"name": t.kind(kind), "webcal": f"{webcal}/calendars/kinds/{kind.value}.ics"} for kind in Kind]
    html = (
        TEMPLATES.get(LOCALE)
        .get_template("home.html.j2")
        .render(
            chapters=chapters,
            kinds=kinds,
            all_feed=f"{webcal}/calendars/all.ics",
            updated=now.astimezone(ZoneInfo("Asia/Shanghai")),
        )
    )
    return HTMLResponse(html)
