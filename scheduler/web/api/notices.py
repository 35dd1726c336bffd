"""``/api/v1/notices``: the delivery ledger (staff keys; a chapter key sees its chapter's)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_, select

from scheduler.db.models import NoticeRow, SeriesRow
from scheduler.notices import store
from scheduler.web.deps import CHECK_KEY, SessionDep, StaffDep
from schemas.api import ErrorOut, NoticeOut, ReasonOut
from schemas.names import NoticeKind, NoticeStatus

router = APIRouter(prefix="/api/v1/notices", tags=["notices"], dependencies=CHECK_KEY)


@router.get("", response_model=list[NoticeOut], responses={c: {"model": ErrorOut} for c in (401, 403, 422)})
def list_notices(
    session: SessionDep,
    staff: StaffDep,
    member_id: uuid.UUID | None = None,
    series_id: uuid.UUID | None = None,
    status: NoticeStatus | None = None,
    kind: NoticeKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[NoticeOut]:
    """Notices by due time, oldest first, filtered as asked."""
    query = select(NoticeRow).order_by(NoticeRow.due_at, NoticeRow.id)
    if staff.chapter is not None:  # a chapter's sessions' notices, and its monthly digests
        query = query.outerjoin(SeriesRow, SeriesRow.id == NoticeRow.series_id).where(
            or_(SeriesRow.chapter == staff.chapter.value, NoticeRow.chapter == staff.chapter.value)
        )
    if member_id is not None:
        query = query.where(NoticeRow.member_id == member_id)
    if series_id is not None:
        query = query.where(NoticeRow.series_id == series_id)
    if status is not None:
        query = query.where(NoticeRow.status == status.value)
    if kind is not None:
        query = query.where(NoticeRow.kind == kind.value)
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    return [notice_out(row) for row in rows]


def notice_out(row: NoticeRow) -> NoticeOut:
    why = store.reason_of(row.reason_code, row.reason_params)
    return NoticeOut.model_validate(
        {
            **{name: getattr(row, name) for name in NoticeOut.model_fields if hasattr(row, name)},
            "reason": ReasonOut(code=why.code.value, params=why.params) if why else None,
            "last_error": store.describe(why) or None,
        }
    )
