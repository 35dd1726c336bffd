"""``/console/series/{id}/occurrences/{stamp}/outcomes``: what the members of a past session
reported, and staff recording a report for a member who gave it by phone (``source`` staff,
with who entered it). The member's own later correction, within 30 days, replaces it. And the
session's people as a file: ``…/attendees.xlsx`` or ``.csv``."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from scheduler.db.models import SeriesRow
from scheduler.domain import responses
from scheduler.domain.recurrence import Occurrence
from scheduler.exports import sheets
from scheduler.notices.audience import attendees
from scheduler.ops.clock import utcnow
from scheduler.web.console import attendance, spreadsheets
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from scheduler.web.console.sessions import occurrence_of, series_row
from scheduler.web.outcome_form import other_firms, read_answer, summary, values_of
from schemas.ids import recurrence_stamp

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/series", include_in_schema=False)
PATH = "/{series_id}/occurrences/{stamp}/outcomes"


def _page(
    page: Page,
    row: SeriesRow,
    occ: Occurrence,
    *,
    member: str = "",
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    reported = responses.outcomes(page.session, occ.uid)
    people = [a.member for a in attendees(page.session, row, occ.uid)]
    met = sorted({p.company for p in people if p.company})
    values = values or {"firms": []}
    return page.render(
        "outcomes.html.j2",
        status=status,
        row=row,
        occ=occ,
        stamp=recurrence_stamp(occ.recurrence_id),
        reported=[(o, summary(page.t, o)) for o in reported],
        people=people,
        member=member,
        met=met,
        other_firms=other_firms(values, met),
        docking=row.kind == "project-docking",
        started=occ.start <= utcnow(),
        values=values,
        errors=errors or {},
    )


@router.get(PATH, response_class=HTMLResponse)
def outcomes_page(series_id: uuid.UUID, stamp: str, page: PageDep) -> Response:
    row = series_row(page, series_id)
    occ = occurrence_of(page, row, stamp)
    chosen = page.request.query_params.get("member", "")
    values: dict[str, object] | None = None
    if chosen:
        try:
            values = values_of(responses.followup_of(page.session, uuid.UUID(chosen), occ.uid))
        except ValueError:
            chosen = ""
    return _page(page, row, occ, member=chosen, values=values)


@router.post(PATH, response_class=HTMLResponse)
def record_outcome(series_id: uuid.UUID, stamp: str, page: PostDep) -> Response:
    row = series_row(page, series_id)
    occ = occurrence_of(page, row, stamp)
    if occ.start > utcnow():
        raise ConsoleError(409, page.t("outcome.not_yet"))
    chosen = str(page.form.get("member") or "")
    invited = {str(a.member.id): a.member for a in attendees(page.session, row, occ.uid)}
    fields = {name: [str(v) for v in page.form.getlist(name)] for name in page.form if name != "csrf"}
    answer, errors, typed = read_answer(row, fields, page.t)
    if chosen not in invited:
        errors["member"] = page.t("outcome.choose_member")
    if answer is None or errors:
        return _page(page, row, occ, member=chosen, values=typed, errors=errors, status=422)
    member = invited[chosen]
    responses.record_followup(
        page.session, row, member.id, occ.uid, answer, utcnow(), recorded_by=page.staff.username
    )
    page.session.commit()
    log.info("followup_recorded", member_id=chosen, occurrence_uid=occ.uid, by=page.staff.username)
    return page.redirect(f"/console/series/{row.id}/occurrences/{stamp}/outcomes", "outcome.recorded_done")


@router.get("/{series_id}/occurrences/{stamp}/attendees.{suffix}")
def attendee_file(series_id: uuid.UUID, stamp: str, suffix: str, page: PageDep) -> Response:
    """Who was invited and what they answered, as .xlsx or .csv (for the sign-in sheet, the venue)."""
    if suffix not in ("xlsx", "csv"):
        raise ConsoleError(404, page.t("error.not_found"))
    row = series_row(page, series_id)
    occ = occurrence_of(page, row, stamp)
    head, body = attendance.attendee_table(page, row, occ)
    name = f"attendees-{stamp}.{suffix}"
    if suffix == "csv":
        return spreadsheets.download(sheets.csv_text(head, body), name)
    book = sheets.xlsx(page.t("attendees.sheet"), head, body, {5: "0"})
    return spreadsheets.download(book, name)
