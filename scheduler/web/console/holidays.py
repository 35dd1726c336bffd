"""节假日安排: the years whose official holidays exsched knows, and, for the province office, a
form to enter a year from the State Council's notice when the installed data lags. Saving moves
the sessions that now fall on a day off (or drops them, as each series says), raises their
SEQUENCE and re-plans, so members who were told the provisional date get an update."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from scheduler.db.models import HolidayYearRow
from scheduler.domain import official_days
from scheduler.domain.errors import InvalidInput
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import OFFICE, ConsoleError, Page, PageDep, PostDep

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/holidays", include_in_schema=False)
#: Date fields offered for the weekend days worked (调休上班); the notice has 2–6 in a year.
WORKDAY_FIELDS = 8


def _calendar(page: Page) -> ChineseStatutoryCalendar:
    calendar = page.request.app.state.holidays
    if not isinstance(calendar, ChineseStatutoryCalendar):
        raise ConsoleError(503, page.t("holidays.unavailable"))
    return calendar


def _year_asked(page: Page, text: str | None) -> int | None:
    if not text:
        return None
    this_year = utcnow().astimezone(OFFICE).year
    if not text.isdigit() or not this_year <= int(text) <= this_year + 1:
        raise ConsoleError(404, page.t("error.not_found"))
    return int(text)


def _editable(calendar: ChineseStatutoryCalendar, year: int) -> bool:
    """A year staff may enter: one the installed data lacks, or one entered before."""
    return year not in calendar.installed_years() or year in calendar.entered_years()


def _years(page: Page, calendar: ChineseStatutoryCalendar) -> list[dict[str, Any]]:
    """This year and the next: where exsched's knowledge of each comes from."""
    official_days.refresh(calendar, page.session)
    rows = {row.year: row for row in page.session.scalars(select(HolidayYearRow))}
    this_year = utcnow().astimezone(OFFICE).year
    shown = []
    for year in (this_year, this_year + 1):
        row = rows.get(year)
        if row is not None:
            when = page.t.short_when(row.entered_at.astimezone(OFFICE))
            source = page.t("holidays.source.entered", who=row.entered_by, when=when)
        elif year in calendar.installed_years():
            source = page.t("holidays.source.installed")
        else:
            source = page.t("holidays.source.missing")
        known = row is not None or year in calendar.installed_years()
        shown.append(
            {
                "year": year,
                "source": source,
                "known": known,
                "entered": row is not None,
                "editable": _editable(calendar, year),
            }
        )
    return shown


def _values(calendar: ChineseStatutoryCalendar, year: int) -> dict[str, Any]:
    """The form filled with what is known of ``year`` (entered or installed), else empty."""
    breaks: dict[str, list[date]] = {}
    workdays: list[str] = []
    day = date(year, 1, 1)
    while day.year == year:
        info = calendar.day(day)
        if info.known and info.holiday:
            if info.workday:
                workdays.append(day.isoformat())
            else:
                breaks.setdefault(info.holiday, []).append(day)
        day = date.fromordinal(day.toordinal() + 1)
    values: dict[str, Any] = {}
    for name in official_days.BREAKS:
        days = breaks.get(name, [])
        values[name] = (days[0].isoformat(), days[-1].isoformat()) if days else ("", "")
    values["workdays"] = (workdays + [""] * WORKDAY_FIELDS)[:WORKDAY_FIELDS]
    return values


def _page(
    page: Page,
    calendar: ChineseStatutoryCalendar,
    year: int | None,
    *,
    values: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    moved, dropped = (page.request.query_params.get(k, "") for k in ("moved", "dropped"))
    return page.render(
        "holidays.html.j2",
        status=status,
        years=_years(page, calendar),
        year=year,
        breaks=official_days.BREAKS,
        joinable=official_days.MAY_JOIN,
        values=values if values is not None else (_values(calendar, year) if year else {}),
        error=error,
        result=(int(moved), int(dropped)) if moved.isdigit() and dropped.isdigit() else None,
        editable=year is not None and page.is_admin and _editable(calendar, year),
    )


@router.get("", response_class=HTMLResponse)
def holidays(page: PageDep, year: str | None = None) -> Response:
    calendar = _calendar(page)
    return _page(page, calendar, _year_asked(page, year))


@router.post("", response_class=HTMLResponse)
def enter_year(page: PostDep) -> Response:
    if not page.is_admin:
        raise ConsoleError(403, page.t("holidays.admin_only"))
    calendar = _calendar(page)
    year = _year_asked(page, str(page.form.get("year") or ""))
    if year is None:
        raise ConsoleError(404, page.t("error.not_found"))
    official_days.refresh(calendar, page.session)
    if not _editable(calendar, year):
        raise ConsoleError(409, page.t("holidays.installed_already", year=year))
    form = page.form
    breaks = {
        name: (str(form.get(f"{name}.first") or ""), str(form.get(f"{name}.last") or ""))
        for name in official_days.BREAKS
    }
    workdays = [str(v) for v in form.getlist("workday")]
    values: dict[str, Any] = dict(breaks)
    values["workdays"] = (workdays + [""] * WORKDAY_FIELDS)[:WORKDAY_FIELDS]
    try:
        entry = official_days.read_entry(year, breaks, workdays)
    except InvalidInput as exc:
        field = exc.field or "workdays"
        where = page.t.holiday(field) if field in official_days.BREAKS else page.t("holidays.workdays")
        message = page.t(f"holidays.err.{exc.code}", where=where)
        return _page(page, calendar, year, values=values, error=(field, message), status=422)
    moves = official_days.enter_year(page.session, calendar, entry, by=page.staff.username, now=utcnow())
    page.commit_and_replan(series_ids=moves.series_ids)
    log.info(
        "holidays_entered",
        year=year,
        by=page.staff.username,
        moved=moves.moved,
        dropped=moves.dropped,
        series=len(moves.series_ids),
    )
    return page.redirect(f"/console/holidays?year={year}&moved={moves.moved}&dropped={moves.dropped}")
