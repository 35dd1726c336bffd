"""The series and the session a console page is about, found once for every page that needs
them (404 for what does not exist, 403 for another chapter's)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import SeriesRow
from scheduler.domain import series as catalog
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.web.console.page import ConsoleError, Page
from schemas.ids import parse_recurrence_stamp


def holidays_of(page: Page) -> HolidayCalendar:
    return page.request.app.state.holidays  # type: ignore[no-any-return]


def series_row(page: Page, series_id: uuid.UUID) -> SeriesRow:
    row = page.session.scalar(
        select(SeriesRow).where(SeriesRow.id == series_id).options(selectinload(SeriesRow.overrides))
    )
    if row is None:
        raise ConsoleError(404, page.t("error.not_found"))
    page.require_chapter(row.chapter)
    return row


def occurrence_of(page: Page, row: SeriesRow, stamp: str) -> Occurrence:
    try:
        rid = parse_recurrence_stamp(stamp)
    except ValueError as exc:
        raise ConsoleError(404, page.t("error.not_found")) from exc
    occ = catalog.occurrence_at(row, rid, holidays_of(page))
    if occ is None:
        raise ConsoleError(404, page.t("error.not_found"))
    return occ
