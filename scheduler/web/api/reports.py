"""``/api/v1/reports``: the figures of the console's reports page as JSON, for the association's
own spreadsheets and dashboards (staff keys; a chapter key sees its chapter only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from scheduler.domain import reports
from scheduler.domain.errors import InvalidInput
from scheduler.web.deps import CHECK_KEY, HolidaysDep, SessionDep, StaffDep
from schemas.api import ErrorOut, ReportFigures, ReportOut, ReportRow
from schemas.names import Chapter, Kind

router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=CHECK_KEY)
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (401, 403, 422)}
#: The longest period one request covers.
MOST_DAYS = 3700


def figures_out(f: reports.Figures) -> ReportFigures:
    return ReportFigures(
        held=f.held, cancelled=f.cancelled, moved=f.moved, invited=f.invited, accepted=f.accepted,
        waitlisted=f.waitlisted, attended=f.attended, no_show_rate=f.no_show_rate, emails=f.emails,
        bounced=f.bounced, bounce_rate=f.bounce_rate, followups_sent=f.followups_sent, reports=f.reports,
        followup_rate=f.followup_rate, contacts=f.contacts, intentions=f.intentions, contracts=f.contracts,
        value_wan=f.value_wan, rating=f.rating,
    )  # fmt: skip


@router.get("/reports", response_model=ReportOut, response_model_by_alias=True, responses=_ERRORS)
def get_report(
    session: SessionDep,
    staff: StaffDep,
    holidays: HolidaysDep,
    first: Annotated[date, Query(alias="from", description="first day, e.g. 2026-01-01")],
    last: Annotated[date, Query(alias="to", description="last day, included")],
    chapter: Chapter | None = None,
    kind: Kind | None = None,
    group_by: Literal["chapter", "series", "month"] = "chapter",
) -> ReportOut:
    """Sessions held, cancelled, moved; invited, accepted, waitlisted, attended; no-show, bounce
    and follow-up rates; docking contacts, intentions, contracts and their value; the mean rating
    — per chapter, series or month, for the sessions starting in [from, to]."""
    if not (date(1970, 1, 1) <= first and last <= date(2200, 12, 31)):
        raise InvalidInput("'from' and 'to' must lie between 1970-01-01 and 2200-12-31", field="from")
    if last < first or (last - first).days > MOST_DAYS:
        raise InvalidInput(f"'to' must be on or after 'from', at most {MOST_DAYS} days later", field="to")
    if chapter is not None:
        staff.require_chapter(chapter.value, "the reports")
    chapters = [chapter.value] if chapter else [c.value for c in Chapter if staff.may_touch(c.value)]
    start = datetime.combine(first, time(), reports.OFFICE)
    end = datetime.combine(last + timedelta(days=1), time(), reports.OFFICE)
    made = reports.report(
        session, holidays, chapters=chapters, start=start, end=end, now=datetime.now(UTC),
        kind=kind.value if kind else None, group_by=group_by,
    )  # fmt: skip
    return ReportOut(
        **{"from": first},
        to=last,
        kind=kind,
        group_by=group_by,
        rows=[
            ReportRow(key=r.key, label=r.label, chapter=r.chapter or None, figures=figures_out(r.figures))
            for r in made.rows
        ],
        total=figures_out(made.total),
    )
