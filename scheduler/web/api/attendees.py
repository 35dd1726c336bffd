"""``/api/v1/series/{id}/occurrences/{recurrence_id}/attendees``: who is invited to one session
and what they answered (``waitlisted`` with a ``position`` when every seat was taken); staff may
set an answer (a phone call, a word at the door) or move someone up the waiting list.

Attendees are personal data: only staff keys read them, and a chapter key only for its own
chapter's sessions. The same holds for what they reported after it (``…/outcomes``) and for
staff's words to them (``…/messages``: a message, or a reminder to answer).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from scheduler.db.models import SeriesRow, SessionMessageRow
from scheduler.domain import responses, seats
from scheduler.domain import series as catalog
from scheduler.domain.auth import Principal
from scheduler.domain.errors import Conflict, InvalidInput, NotFound
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.seats import Standing, place_of
from scheduler.notices import answers, messages
from scheduler.notices.audience import Attendee, attendees
from scheduler.web.deps import CHECK_KEY, HolidaysDep, ReplanDep, SessionDep, StaffDep
from schemas.api import (
    AttendeeOut,
    AttendeeUpdate,
    ErrorOut,
    OutcomeOut,
    SessionMessageCreate,
    SessionMessageOut,
)
from schemas.ids import parse_recurrence_stamp
from schemas.names import NoticeKind

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/series", tags=["attendees"], dependencies=CHECK_KEY)
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 422)
}
PATH = "/{series_id}/occurrences/{recurrence_id}/attendees"
MESSAGES = "/{series_id}/occurrences/{recurrence_id}/messages"


def _session_of(
    session: Session, series_id: uuid.UUID, recurrence_id: str, staff: Principal, holidays: HolidayCalendar
) -> tuple[SeriesRow, Occurrence]:
    """The series (the caller's chapter's) and the occurrence's UID; 404 if it has no such session."""
    row = catalog.get_series(session, series_id, staff)
    staff.require_chapter(row.chapter, "the attendees of sessions")
    try:
        rid = parse_recurrence_stamp(recurrence_id)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="recurrence_id") from exc
    occurrence = catalog.occurrence_at(row, rid, holidays)
    if occurrence is None:
        raise NotFound(f"series {series_id} has no session at {recurrence_id}")
    return row, occurrence


def _out(found: Attendee, standing: Standing | None) -> AttendeeOut:
    member, answer = found.member, found.answer
    return AttendeeOut(
        member_id=member.id,
        name=member.name,
        email=member.email,
        company=member.company,
        chapter=member.chapter,  # type: ignore[arg-type]
        response=answer.response if answer else "needs-action",  # type: ignore[arg-type]
        responded_at=answer.responded_at if answer else None,
        source=answer.source if answer else None,  # type: ignore[arg-type]
        position=standing.position if standing else None,
        offer_until=standing.offer_until if standing else None,
        checked_in_at=answer.checked_in_at if answer else None,
    )


def _all(session: Session, row: SeriesRow, uid: str) -> list[AttendeeOut]:
    standing = seats.standings(session, uid, datetime.now(UTC))
    return [_out(a, standing.get(a.member.id)) for a in attendees(session, row, uid)]


@router.get(PATH, response_model=list[AttendeeOut], responses=_ERRORS)
def list_attendees(
    series_id: uuid.UUID, recurrence_id: str, session: SessionDep, staff: StaffDep, holidays: HolidaysDep
) -> list[AttendeeOut]:
    row, occurrence = _session_of(session, series_id, recurrence_id, staff, holidays)
    return _all(session, row, occurrence.uid)


@router.put(PATH + "/{member_id}", response_model=AttendeeOut, responses=_ERRORS)
def set_response(
    series_id: uuid.UUID,
    recurrence_id: str,
    member_id: uuid.UUID,
    body: AttendeeUpdate,
    session: SessionDep,
    staff: StaffDep,
    holidays: HolidaysDep,
) -> AttendeeOut:
    """Set one invited member's answer, as staff (``source: staff``; the latest answer stands,
    whoever gave it, and an accept when every seat is taken joins the waiting list), or move a
    waitlisted member to ``position`` on the list."""
    row, occurrence = _session_of(session, series_id, recurrence_id, staff, holidays)
    uid, now = occurrence.uid, datetime.now(UTC)
    if not any(a.member.id == member_id for a in attendees(session, row, uid)):
        raise NotFound(f"member {member_id} is not invited to this session", field="member_id")
    if body.position is not None:
        try:
            seats.move_to(session, place_of(row, occurrence), member_id, body.position, now)
        except ValueError as exc:
            raise InvalidInput(f"member {member_id} is {exc}", field="position") from exc
    elif body.response == "needs-action":
        answers.forget(session, row, occurrence, member_id, now)
    elif body.response is not None:
        answers.answer(session, row, occurrence, member_id, body.response, now, source="staff")
    session.commit()
    log.info(
        "attendee_answer_set",
        series_id=str(row.id),
        occurrence_uid=uid,
        member_id=str(member_id),
        response=body.response,
        position=body.position,
        key_id=staff.key_id,
    )
    [found] = [a for a in _all(session, row, uid) if a.member_id == member_id]
    return found


@router.get(
    "/{series_id}/occurrences/{recurrence_id}/outcomes",
    response_model=list[OutcomeOut],
    responses=_ERRORS,
    tags=["outcomes"],
)
def list_outcomes(
    series_id: uuid.UUID, recurrence_id: str, session: SessionDep, staff: StaffDep, holidays: HolidaysDep
) -> list[OutcomeOut]:
    """What the members of one session reported after it (docking outcomes or feedback), with
    who entered it (``source``: the member, or ``staff`` from a phone call, ``recorded_by``)."""
    _, occurrence = _session_of(session, series_id, recurrence_id, staff, holidays)
    return responses.outcomes(session, occurrence.uid)


def _message_out(row: SessionMessageRow) -> SessionMessageOut:
    return SessionMessageOut(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        audience=row.audience,  # type: ignore[arg-type]
        body=row.body,
        recipients=row.recipients,
        sent_by=row.sent_by,
        created_at=row.created_at,
    )


@router.get(MESSAGES, response_model=list[SessionMessageOut], responses=_ERRORS, tags=["messages"])
def list_messages(
    series_id: uuid.UUID, recurrence_id: str, session: SessionDep, staff: StaffDep, holidays: HolidaysDep
) -> list[SessionMessageOut]:
    """What staff sent about one session (messages and reminders to answer), newest first."""
    _, occurrence = _session_of(session, series_id, recurrence_id, staff, holidays)
    return [_message_out(row) for row in messages.sent_for(session, occurrence.uid)]


@router.post(
    MESSAGES,
    status_code=status.HTTP_201_CREATED,
    response_model=SessionMessageOut,
    responses=_ERRORS | {409: {"model": ErrorOut}},
    tags=["messages"],
)
def send_message(
    series_id: uuid.UUID,
    recurrence_id: str,
    body: SessionMessageCreate,
    response: Response,
    session: SessionDep,
    staff: StaffDep,
    holidays: HolidaysDep,
    replan: ReplanDep,
) -> SessionMessageOut:
    """Send staff's words to a session's members, or remind those who have not answered: one
    email notice per member, due now, in the ledger like any other. The same ``key`` again
    answers 200 with the message already sent and sends nothing more."""
    row, occurrence = _session_of(session, series_id, recurrence_id, staff, holidays)
    now = datetime.now(UTC)
    if occurrence.start <= now:
        raise Conflict("the session has started: messages and reminders go to sessions still to come")
    sent = messages.send(
        session,
        row,
        occurrence,
        kind=NoticeKind(body.kind),
        audience="unanswered" if body.kind == "nudge" else body.audience,
        body=body.body.strip(),
        by=staff.key_id or staff.role.value,
        key=body.key or uuid.uuid4(),
        now=now,
    )
    replan.commit(series_ids=[row.id])
    if not sent.fresh:
        response.status_code = status.HTTP_200_OK
    return _message_out(sent.message)
