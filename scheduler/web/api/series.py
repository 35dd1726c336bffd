"""``/api/v1/series``: recurring sessions and their occurrences.

Reading is open (the same facts go into public calendar feeds); writing needs a staff key,
and a chapter key writes only its own chapter's series.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Response, status

from scheduler.domain import series as catalog
from scheduler.notices import answers
from scheduler.web.deps import (
    CHECK_KEY,
    CallerDep,
    HolidaysDep,
    ReplanDep,
    SessionDep,
    SettingsDep,
    StaffDep,
    release,
)
from schemas.api import (
    ErrorOut,
    OccurrenceOut,
    OccurrenceUpdate,
    SeriesCancel,
    SeriesCreate,
    SeriesOut,
    SeriesUpdate,
)
from schemas.names import Chapter, Kind

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/series", tags=["series"], dependencies=CHECK_KEY)
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422)
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SeriesOut, responses=_ERRORS)
def create_series(
    body: SeriesCreate,
    session: SessionDep,
    staff: StaffDep,
    settings: SettingsDep,
    replan: ReplanDep,
    response: Response,
) -> SeriesOut:
    row = catalog.create_series(session, body, staff, settings.public_url)
    replan.commit(series_ids=[row.id])
    log.info("series_created", series_id=str(row.id), chapter=row.chapter, rrule=row.rrule)
    response.headers["Location"] = f"/api/v1/series/{row.id}"
    return catalog.series_out(row)


@router.get("", response_model=list[SeriesOut], responses=_ERRORS)
def list_series(
    session: SessionDep,
    caller: CallerDep,
    chapter: Chapter | None = None,
    kind: Kind | None = None,
    include_cancelled: bool = False,
) -> list[SeriesOut]:
    """Series anyone may read, and the private ones of the caller's chapter (all, for an admin key)."""
    rows = catalog.list_series(
        session, caller=caller, chapter=chapter, kind=kind, include_cancelled=include_cancelled
    )
    return [catalog.series_out(r) for r in rows]


@router.get("/{series_id}", response_model=SeriesOut, responses=_ERRORS)
def get_series(series_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> SeriesOut:
    return catalog.series_out(catalog.get_series(session, series_id, caller))


@router.patch("/{series_id}", response_model=SeriesOut, responses=_ERRORS)
def update_series(
    series_id: uuid.UUID,
    body: SeriesUpdate,
    session: SessionDep,
    staff: StaffDep,
    holidays: HolidaysDep,
    replan: ReplanDep,
) -> SeriesOut:
    row = catalog.update_series(session, catalog.get_series(session, series_id, staff), body, staff)
    answers.settle_series(session, row, holidays, datetime.now(UTC))
    replan.commit(series_ids=[row.id])
    log.info("series_updated", series_id=str(row.id), sequence=row.sequence)
    return catalog.series_out(row)


@router.delete("/{series_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def cancel_series(
    series_id: uuid.UUID,
    query: Annotated[SeriesCancel, Query()],
    session: SessionDep,
    staff: StaffDep,
    replan: ReplanDep,
) -> Response:
    """Cancel the series from now on; it stays readable with ``status: cancelled``. ``reason``
    (optional) is what members read in their cancellation."""
    row = catalog.cancel_series(
        session, catalog.get_series(session, series_id, staff), staff, datetime.now(UTC), reason=query.reason
    )
    replan.commit(series_ids=[row.id])
    log.info("series_cancelled", series_id=str(row.id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{series_id}/occurrences", response_model=list[OccurrenceOut], responses=_ERRORS)
def list_occurrences(
    series_id: uuid.UUID,
    session: SessionDep,
    holidays: HolidaysDep,
    caller: CallerDep,
    start: Annotated[datetime | None, Query(description="from (inclusive); no offset = series' zone")] = None,
    end: Annotated[datetime | None, Query(description="until (exclusive); needed if endless")] = None,
) -> list[OccurrenceOut]:
    row = catalog.ready_to_expand(catalog.get_series(session, series_id, caller))
    release(session)
    return [catalog.occurrence_out(o, row) for o in catalog.occurrences(row, holidays, start, end)]


@router.patch("/{series_id}/occurrences/{recurrence_id}", response_model=OccurrenceOut, responses=_ERRORS)
def update_occurrence(
    series_id: uuid.UUID,
    recurrence_id: str,
    body: OccurrenceUpdate,
    session: SessionDep,
    staff: StaffDep,
    holidays: HolidaysDep,
    replan: ReplanDep,
) -> OccurrenceOut:
    row = catalog.get_series(session, series_id, staff)
    occ = catalog.update_occurrence(session, row, recurrence_id, body, staff, holidays)
    answers.settle(session, row, occ, datetime.now(UTC))
    replan.commit(series_ids=[row.id])
    log.info(
        "occurrence_updated",
        series_id=str(row.id),
        occurrence_uid=occ.uid,
        status=occ.status.value,
        sequence=occ.sequence,
    )
    return catalog.occurrence_out(occ, row)
