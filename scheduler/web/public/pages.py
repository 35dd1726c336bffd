"""Rendering the pages members open, in the member's language (the shared catalogs)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import PackageLoader
from sqlalchemy.orm import Session

from scheduler.calendars.facts import event_facts
from scheduler.calendars.ics import publish
from scheduler.db.models import SeriesRow, SubscriptionRow
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import occurrence_at
from scheduler.i18n import Templates, Translator
from schemas.ids import parse_recurrence_stamp, recurrence_stamp

TEMPLATES = Templates(PackageLoader("scheduler.web.public", "templates"), trim=False)


def page(locale: str, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered in ``locale``; such pages are never cached (they carry form tokens)."""
    html = TEMPLATES.get(locale).get_template(template).render(**values)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def subscription_words(t: Translator, row: SubscriptionRow, title: str) -> str:
    """One subscription in words: «title», the Ningbo chapter's sessions, every tech exchange."""
    if row.target_type == "series":
        return t("unsub.what.series", title=title)
    if row.target_type == "chapter":
        return t("unsub.what.chapter", chapter=t.chapter_org(row.target))
    return t("unsub.what.kind", kind=t.kind(row.target))


def named_session(
    session: Session, holidays: HolidayCalendar, series_text: str, stamp: str
) -> tuple[SeriesRow, Occurrence] | None:
    """The series and its session that a URL's two parts name (a series id, a recurrence stamp);
    None when either is malformed or names nothing that exists now."""
    try:
        row = session.get(SeriesRow, uuid.UUID(series_text))
        rid = parse_recurrence_stamp(stamp)
    except ValueError:
        return None
    occurrence = occurrence_at(row, rid, holidays) if row is not None else None
    return (row, occurrence) if row is not None and occurrence is not None else None


def calendar_file(row: SeriesRow, occurrence: Occurrence, public_url: str, cache: str) -> Response:
    """ "Add to calendar": one session as a calendar file (METHOD:PUBLISH) with the invitation's
    UID, so a calendar that has it, or gets the invitation later, keeps one event, updated."""
    body = publish(
        [(event_facts(row, occurrence, public_url), row.updated_at, None)],
        name=row.title,
        timezone=row.timezone,
        refresh=timedelta(days=1),
    )
    name = recurrence_stamp(occurrence.recurrence_id)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.ics"', "Cache-Control": cache},
    )
