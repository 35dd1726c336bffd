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
from scheduler.web.deps import HolidaysDep, ReplanDep, SessionDep, SettingsDep, StaffDep
from schemas.api import ErrorOut, OccurrenceOut, OccurrenceUpdate, SeriesCreate, SeriesOut, SeriesUpdate
from schemas.names import Chapter, Kind

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/series", tags=["series"])
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
    replan.series(row.id)
    replan.commit()
    log.info("series_created", series_id=str(row.id), chapter=row.chapter, rrule=row.rrule)
    response.headers["Location"] = f"/api/v1/series/{row.id}"
    return catalog.series_out(row)


@router.get("", response_model=list[SeriesOut], responses=_ERRORS)
def list_series(
    session: SessionDep,
    chapter: Chapter | None = None,
    kind: Kind | None = None,
    include_cancelled: bool = False,
) -> list[SeriesOut]:
    rows = catalog.list_series(session, chapter=chapter, kind=kind, include_cancelled=include_cancelled)
    return [catalog.series_out(r) for r in rows]


@router.get("/{series_id}", response_model=SeriesOut, responses=_ERRORS)
def get_series(series_id: uuid.UUID, session: SessionDep) -> SeriesOut:
    return catalog.series_out(catalog.get_series(session, series_id))


@router.patch("/{series_id}", response_model=SeriesOut, responses=_ERRORS)
def update_series(
    series_id: uuid.UUID, body: SeriesUpdate, session: SessionDep, staff: StaffDep, replan: ReplanDep
) -> SeriesOut:
    row = catalog.update_series(session, catalog.get_series(session, series_id), body, staff)
    replan.series(row.id)
    replan.commit()
    log.info("series_updated", series_id=str(row.id), sequence=row.sequence)
    return catalog.series_out(row)


@router.delete("/{series_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def cancel_series(series_id: uuid.UUID, session: SessionDep, staff: StaffDep, replan: ReplanDep) -> Response:
    """Cancel the series from now on; it stays readable with ``status: cancelled``."""
    row = catalog.cancel_series(session, catalog.get_series(session, series_id), staff, datetime.now(UTC))
    replan.series(row.id)
    replan.commit()
    log.info("series_cancelled", series_id=str(row.id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{series_id}/occurrences", response_model=list[OccurrenceOut], responses=_ERRORS)
def list_occurrences(
    series_id: uuid.UUID,
    session: SessionDep,
    holidays: HolidaysDep,
    start: Annotated[datetime | None, Query(description="from (inclusive); no offset = series' zone")] = None,
    end: Annotated[datetime | None, Query(description="until (exclusive); needed if endless")] = None,
) -> list[OccurrenceOut]:
    row = catalog.get_series(session, series_id)
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
    row = catalog.get_series(session, series_id)
    occ = catalog.update_occurrence(session, row, recurrence_id, body, staff, holidays)
    replan.series(row.id)
    replan.commit()
    log.info(
        "occurrence_updated",
        series_id=str(row.id),
        occurrence_uid=occ.uid,
        status=occ.status.value,
        sequence=occ.sequence,
    )
    return catalog.occurrence_out(occ, row)
