"""Series and their occurrences: create, change, cancel, expand.

Every change is checked as a whole (the new timing must be valid as a unit) and raises the
SEQUENCE where calendar clients need it to: a series' own SEQUENCE when anything shown in its
events changes, an occurrence's when that occurrence alone is moved, cancelled or edited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.db.models import OccurrenceOverrideRow, SeriesRow
from scheduler.domain.auth import Principal
from scheduler.domain.errors import Conflict, InvalidInput, NotFound, RecurrenceError
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import (
    MAX_INSTANT,
    MIN_INSTANT,
    Occurrence,
    Override,
    Timing,
    exists_locally,
    expand,
    make_timing,
    require_in_range,
    to_local,
    zone_of,
)
from scheduler.domain.rules import parse_rule
from schemas.api import NoticePlan, OccurrenceOut, OccurrenceUpdate, SeriesCreate, SeriesOut, SeriesUpdate
from schemas.ids import parse_recurrence_stamp
from schemas.names import (
    Chapter,
    Kind,
    OccurrenceStatus,
    SeriesStatus,
    SkipHolidays,
)

#: Fields whose change alters the events calendars show, and so raises the series' SEQUENCE.
CALENDAR_FIELDS = frozenset(
    {
        "kind",
        "title",
        "description",
        "chapter",
        "venue",
        "timezone",
        "dtstart",
        "duration",
        "rrule",
        "exdates",
        "rdates",
        "skip_holidays",
        "organizer_name",
        "organizer_email",
    }
)


def series_uid(series_id: uuid.UUID, public_url: str) -> str:
    """A globally unique calendar UID, fixed at creation (later URL changes keep it)."""
    host = urlsplit(public_url).hostname or "exsched.invalid"
    return f"{series_id}@{host}"


def timing_of(row: SeriesRow) -> Timing:
    """The stored timing, trusted (it was checked when written)."""
    zone = zone_of(row.timezone)
    return Timing(
        dtstart=row.dtstart,
        timezone=row.timezone,
        duration=timedelta(seconds=row.duration_s),
        rule=parse_rule(row.rrule, zone) if row.rrule else None,
        exdates=tuple(datetime.fromisoformat(d) for d in row.exdates),
        rdates=tuple(datetime.fromisoformat(d) for d in row.rdates),
        skip_holidays=SkipHolidays(row.skip_holidays),
    )


def _checked_timing(values: dict[str, Any]) -> Timing:
    return make_timing(
        dtstart=values["dtstart"],
        timezone=values["timezone"],
        duration=values["duration"],
        rrule=values.get("rrule"),
        exdates=values.get("exdates") or (),
        rdates=values.get("rdates") or (),
        skip_holidays=values.get("skip_holidays") or "none",
    )


def _apply(row: SeriesRow, values: dict[str, Any], timing: Timing) -> None:
    for name in (
        "kind",
        "title",
        "description",
        "chapter",
        "venue",
        "capacity",
        "organizer_name",
        "organizer_email",
        "private",
    ):
        if name in values:
            setattr(row, name, values[name])
    row.timezone = timing.timezone
    row.dtstart = timing.dtstart
    row.duration_s = int(timing.duration.total_seconds())
    row.rrule = timing.rule.text if timing.rule else None
    row.exdates = [d.isoformat() for d in timing.exdates]
    row.rdates = [d.isoformat() for d in timing.rdates]
    row.skip_holidays = timing.skip_holidays.value
    if "offer_hold" in values:
        hold = values["offer_hold"]
        row.offer_hold_s = int(hold.total_seconds()) if hold is not None else None
    if "notices" in values:
        plan = NoticePlan.model_validate(values["notices"])
        row.invite_before_s = int(plan.invite_before.total_seconds())
        row.reminders_s = [int(r.total_seconds()) for r in plan.reminders]
        row.followup_after_s = int(plan.followup_after.total_seconds())


def create_series(session: Session, data: SeriesCreate, principal: Principal, public_url: str) -> SeriesRow:
    principal.require_chapter(data.chapter, "series")
    values = data.model_dump()
    values["notices"] = data.notices
    timing = _checked_timing(values)
    series_id = uuid.uuid4()
    row = SeriesRow(
        private=False,
        id=series_id,
        uid=series_uid(series_id, public_url),
        status=SeriesStatus.ACTIVE.value,
        sequence=0,
    )
    _apply(row, values, timing)
    session.add(row)
    session.flush()
    return row


def get_series(session: Session, series_id: uuid.UUID, caller: Principal | None = None) -> SeriesRow:
    """The series, if ``caller`` may read it (None: no key was presented).

    A private series is readable only by the province office and its own chapter's staff; to
    anyone else it is exactly as missing as a series that never existed.
    """
    row = session.get(SeriesRow, series_id)
    if row is None or not readable(row, caller):
        raise NotFound(f"no series with id {series_id}")
    return row


def readable(row: SeriesRow, caller: Principal | None) -> bool:
    return not row.private or (caller is not None and caller.may_touch(row.chapter))


def list_series(
    session: Session,
    *,
    caller: Principal | None = None,
    chapter: Chapter | None = None,
    kind: Kind | None = None,
    include_cancelled: bool = False,
) -> Sequence[SeriesRow]:
    """Series ``caller`` may read (private ones only for their own chapter's staff and admins)."""
    query = select(SeriesRow).order_by(SeriesRow.chapter, SeriesRow.dtstart, SeriesRow.id)
    if caller is None:
        query = query.where(SeriesRow.private.is_(False))
    elif caller.chapter is not None:
        query = query.where(or_(SeriesRow.private.is_(False), SeriesRow.chapter == caller.chapter.value))
    if chapter is not None:
        query = query.where(SeriesRow.chapter == chapter.value)
    if kind is not None:
        query = query.where(SeriesRow.kind == kind.value)
    if not include_cancelled:
        query = query.where(SeriesRow.status == SeriesStatus.ACTIVE.value)
    return session.scalars(query).all()


def update_series(session: Session, row: SeriesRow, patch: SeriesUpdate, principal: Principal) -> SeriesRow:
    principal.require_chapter(row.chapter, "series")
    _require_active(row)
    changes = patch.model_dump(exclude_unset=True)
    if "chapter" in changes:
        principal.require_chapter(changes["chapter"], "series")
    current = series_out(row).model_dump()
    current.update(changes)
    if patch.notices is not None:
        current["notices"] = patch.notices
    timing = _checked_timing(current)
    before = _calendar_view(row)
    _apply(row, current, timing)
    if _calendar_view(row) != before:
        row.sequence += 1
    session.flush()
    return row


def _calendar_view(row: SeriesRow) -> tuple[Any, ...]:
    return (*(getattr(row, name) for name in sorted(CALENDAR_FIELDS - {"duration"})), row.duration_s)


def cancel_series(
    session: Session, row: SeriesRow, principal: Principal, now: datetime, *, reason: str | None = None
) -> SeriesRow:
    """Cancel from ``now`` on: past sessions stay as they were, later ones become cancelled;
    ``reason`` is what members read in their cancellation."""
    principal.require_chapter(row.chapter, "series")
    if row.status != SeriesStatus.CANCELLED.value:
        row.status = SeriesStatus.CANCELLED.value
        row.cancelled_at = now
        row.cancel_reason = reason or None
        row.sequence += 1
        session.flush()
    return row


def cancel_reason_of(row: SeriesRow, recurrence_id: datetime) -> str:
    """Why a session is off, as staff told members: the session's own reason, else the
    series' ("" when none was given, or the session is not cancelled)."""
    override = next((o for o in row.overrides if o.recurrence_id == recurrence_id), None)
    if override is not None and override.cancelled and override.cancel_reason:
        return override.cancel_reason
    return row.cancel_reason or "" if row.status == SeriesStatus.CANCELLED.value else ""


def _require_active(row: SeriesRow) -> None:
    if row.status == SeriesStatus.CANCELLED.value:
        raise Conflict(f"series {row.id} is cancelled; create a new series instead")


def ready_to_expand(row: SeriesRow) -> SeriesRow:
    """``row`` with everything expanding it reads loaded (its overrides), so the caller can end
    its transaction and give the connection back before the CPU work."""
    overrides_of(row)
    return row


def overrides_of(row: SeriesRow) -> list[Override]:
    return [
        Override(
            recurrence_id=o.recurrence_id,
            start=o.start,
            end=o.end,
            cancelled=o.cancelled,
            venue=o.venue,
            agenda=o.agenda,
            sequence=o.sequence,
        )
        for o in row.overrides
    ]


def occurrences(
    row: SeriesRow,
    holidays: HolidayCalendar,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Occurrence]:
    """The series' occurrences with actual start in [start, end); naive bounds are local.

    Needs ``row.overrides`` loaded (see :func:`ready_to_expand`)."""
    timing = timing_of(row)
    window = None
    if start is not None or end is not None:
        zone = timing.zone
        low = _window_bound(start, zone, MIN_INSTANT)
        high = _window_bound(end, zone, MAX_INSTANT)
        if end is None and not timing.bounded:
            raise RecurrenceError("this series has no end: give both start and end", field="end")
        window = (low, high)
    return expand(
        timing,
        series_uid=row.uid,
        sequence=row.sequence,
        overrides=overrides_of(row),
        holidays=holidays,
        window=window,
        cancelled_from=row.cancelled_at,
    )


#: How far :func:`upcoming` looks for a series' next session past its window: a year, then ten.
FAR = (timedelta(days=366), timedelta(days=3653))


def upcoming(row: SeriesRow, holidays: HolidayCalendar, now: datetime, ahead: timedelta) -> list[Occurrence]:
    """The sessions starting in ``[now, now + ahead)``; when there are none, the next one however
    far it is (a series that meets twice a year, or starts next spring, still has a next session
    to show). Empty only when the series has no session left in ten years."""
    found = occurrences(row, holidays, now, now + ahead)
    if found:
        return found
    for reach in FAR:
        later = occurrences(row, holidays, now + ahead, now + reach)
        if later:
            return later[:1]
    return []


def _window_bound(value: datetime | None, zone: Any, default: datetime) -> datetime:
    """A window edge as an aware instant; missing or beyond what is ever expanded → ``default``."""
    if value is None or not MIN_INSTANT.year < value.year < MAX_INSTANT.year:
        return default
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def update_occurrence(
    session: Session,
    row: SeriesRow,
    recurrence_text: str,
    patch: OccurrenceUpdate,
    principal: Principal,
    holidays: HolidayCalendar,
) -> Occurrence:
    """Move, cancel, restore or annotate one occurrence; raises its SEQUENCE if anything changed."""
    principal.require_chapter(row.chapter, "series")
    _require_active(row)
    try:
        rid = parse_recurrence_stamp(recurrence_text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="recurrence_id") from exc
    timing = timing_of(row)
    zone = timing.zone
    local = to_local(rid, zone)
    if not timing.is_rule_instance(local) or local in timing.exdates:
        raise NotFound(f"series {row.id} has no occurrence {recurrence_text}")

    override = next((o for o in row.overrides if o.recurrence_id == rid), None)
    if override is None:
        override = OccurrenceOverrideRow(recurrence_id=rid, cancelled=False, sequence=0)
        row.overrides.append(override)
    before = (override.start, override.end, override.cancelled, override.venue, override.agenda)
    fields = patch.model_fields_set
    if "start" in fields:
        override.start = _instant(patch.start, zone, "start") if patch.start else None
    if "end" in fields:
        override.end = _instant(patch.end, zone, "end") if patch.end else None
    if "status" in fields and patch.status is not None:
        override.cancelled = patch.status == "cancelled"
        # the reason goes with the cancelling (a restore clears it; a reason alone is no change)
        override.cancel_reason = (patch.reason or override.cancel_reason) if override.cancelled else None
    if "venue" in fields:
        override.venue = patch.venue
    if "agenda" in fields:
        override.agenda = patch.agenda
    if "capacity" in fields:  # seats are not a calendar fact: the SEQUENCE stays
        override.capacity = patch.capacity
    actual_start = override.start or local.replace(tzinfo=zone)
    if override.end is not None and override.end <= actual_start:
        raise InvalidInput("end must be after the occurrence's start", field="end")
    if (override.start, override.end, override.cancelled, override.venue, override.agenda) != before:
        override.sequence += 1
    session.flush()
    found = occurrence_at(row, rid, holidays)
    if found is None:
        raise NotFound(
            f"occurrence {recurrence_text} is not part of series {row.id} (dropped for a holiday?)"
        )
    return found


def _instant(value: datetime, zone: Any, field: str) -> datetime:
    require_in_range(value, field)
    if value.tzinfo is None:
        if not exists_locally(value, zone):
            raise InvalidInput(
                f"{value:%Y-%m-%dT%H:%M} does not exist in {zone.key} (DST gap)", field=field, code="dst-gap"
            )
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(microsecond=0)


def occurrence_at(row: SeriesRow, rid: datetime, holidays: HolidayCalendar) -> Occurrence | None:
    """The occurrence with this ``recurrence_id`` as it stands now; None if the series has none
    (never had, or no longer has: rule changed, EXDATE added, dropped for a holiday)."""
    timing = timing_of(row)
    local = to_local(rid, timing.zone)
    if not timing.is_rule_instance(local) or local in timing.exdates:
        return None
    overrides = overrides_of(row)
    override = next((o for o in overrides if o.recurrence_id == rid), None)
    low = min(rid, override.start) if override and override.start else rid
    high = max(rid, override.start) if override and override.start else rid
    found = expand(
        timing,
        series_uid=row.uid,
        sequence=row.sequence,
        overrides=overrides,
        holidays=holidays,
        window=(low - timedelta(days=20), high + timedelta(days=20)),
        cancelled_from=row.cancelled_at,
    )
    return next((occ for occ in found if occ.recurrence_id == rid), None)


def series_out(row: SeriesRow) -> SeriesOut:
    return SeriesOut(
        id=row.id,
        uid=row.uid,
        status=SeriesStatus(row.status),
        sequence=row.sequence,
        kind=Kind(row.kind),
        title=row.title,
        description=row.description,
        chapter=Chapter(row.chapter),
        venue=row.venue,
        timezone=row.timezone,
        dtstart=row.dtstart,
        duration=timedelta(seconds=row.duration_s),
        rrule=row.rrule,
        exdates=[datetime.fromisoformat(d) for d in row.exdates],
        rdates=[datetime.fromisoformat(d) for d in row.rdates],
        skip_holidays=row.skip_holidays,  # type: ignore[arg-type]
        capacity=row.capacity,
        offer_hold=timedelta(seconds=row.offer_hold_s) if row.offer_hold_s else None,
        organizer_name=row.organizer_name,
        organizer_email=row.organizer_email,
        notices=NoticePlan(
            invite_before=timedelta(seconds=row.invite_before_s),
            reminders=[timedelta(seconds=s) for s in row.reminders_s],
            followup_after=timedelta(seconds=row.followup_after_s),
        ),
        private=row.private,
        cancel_reason=row.cancel_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def occurrence_out(occ: Occurrence, row: SeriesRow) -> OccurrenceOut:
    return OccurrenceOut(
        recurrence_id=occ.recurrence_id,
        uid=occ.uid,
        start=occ.start,
        end=occ.end,
        status=occ.status,
        sequence=occ.sequence,
        provisional=occ.provisional,
        holiday=occ.holiday,
        venue=occ.venue_or(row.venue),
        agenda=occ.agenda,
        capacity=capacity_of(row, occ.recurrence_id),
        cancel_reason=cancel_reason_of(row, occ.recurrence_id) or None
        if occ.status == OccurrenceStatus.CANCELLED
        else None,
    )


def capacity_of(row: SeriesRow, recurrence_id: datetime) -> int | None:
    """A session's seats: its own number if staff gave it one, else the series' (None: no limit)."""
    override = next((o for o in row.overrides if o.recurrence_id == recurrence_id), None)
    return override.capacity if override is not None and override.capacity is not None else row.capacity
