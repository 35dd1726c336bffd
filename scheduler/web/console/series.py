"""Series pages: the list per chapter and kind, create/edit with a live preview, one series,
and one occurrence (move, cancel, agenda and venue, with who will hear of it)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from scheduler.db.models import NoticeRow, SeriesRow
from scheduler.domain import responses, seats
from scheduler.domain import series as catalog
from scheduler.domain.errors import ExschedError, RecurrenceError
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.members import subscriber_ids
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.seats import OFFER_HOLD, place_of
from scheduler.i18n import Translator
from scheduler.notices import answers, messages
from scheduler.notices.audience import (
    audience,
    followup_counts,
    member_names,
    rsvp_counts,
    told_of_series,
)
from scheduler.ops.clock import utcnow
from scheduler.web.console import attendance
from scheduler.web.console.forms import (
    TIMING_FIELDS,
    Checked,
    SeriesForm,
    format_offset,
    read_date,
    read_int,
    read_series_form,
    read_time,
    validation_messages,
)
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from scheduler.web.console.preview import preview_sessions
from scheduler.web.console.rule_form import WEEKDAY_CODES, from_rrule, rule_words, zone_words
from scheduler.web.console.sessions import holidays_of, occurrence_of, series_row
from scheduler.web.outcome_form import summary
from schemas.api import OccurrenceUpdate, SeriesCancel, SeriesUpdate
from schemas.ids import recurrence_stamp
from schemas.names import Chapter, Kind, SeriesStatus

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/series", include_in_schema=False)
UPCOMING = (timedelta(days=400), timedelta(days=4 * 366))
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _upcoming(row: SeriesRow, holidays: HolidayCalendar, now: datetime, n: int) -> list[Occurrence]:
    """The next ``n`` sessions from now (or from the first one, for a series not begun yet)."""
    first = row.dtstart.replace(tzinfo=ZoneInfo(row.timezone)) - timedelta(days=1)
    start = max(now, first)
    found: list[Occurrence] = []
    for ahead in UPCOMING:  # a near window first; a quarterly series needs years for ten sessions
        try:
            found = [o for o in catalog.occurrences(row, holidays, start, start + ahead) if o.start >= now]
        except RecurrenceError:
            return found
        if len(found) >= n:
            break
    return found[:n]


@router.get("", response_class=HTMLResponse)
def series_list(page: PageDep, chapter: str = "", kind: str = "", q: str = "") -> Response:
    chapters = [c.value for c in Chapter] if page.is_admin else [str(page.staff.chapter)]
    if chapter and chapter not in chapters:
        if chapter in {c.value for c in Chapter}:
            page.require_chapter(chapter)
        chapter = ""
    query = select(SeriesRow).options(selectinload(SeriesRow.overrides)).order_by(SeriesRow.title)
    query = query.where(SeriesRow.chapter.in_([chapter] if chapter else chapters))
    q = q.strip()[:200]
    if q:
        like = f"%{q}%"
        query = query.where(or_(SeriesRow.title.ilike(like), SeriesRow.venue.ilike(like)))
    if kind in {k.value for k in Kind}:
        query = query.where(SeriesRow.kind == kind)
    else:
        kind = ""
    now = utcnow()
    holidays = holidays_of(page)
    groups: dict[str, list[dict[str, Any]]] = {c: [] for c in chapters}
    for row in page.session.scalars(query):
        active = row.status == SeriesStatus.ACTIVE.value
        groups[row.chapter].append(
            {
                "row": row,
                "active": active,
                "next": _upcoming(row, holidays, now, 3) if active else [],
                "zone": ZoneInfo(row.timezone),
            }
        )
    for items in groups.values():
        items.sort(key=lambda item: (not item["active"], item["row"].title))
    return page.render(
        "series_list.html.j2",
        groups=[(c, groups[c]) for c in chapters if not chapter or c == chapter],
        chapters=chapters,
        organizers={c: default_organizer(page.t, c) for c in chapters},
        kinds=[k.value for k in Kind],
        chapter=chapter,
        kind=kind,
        q=q,
    )


# --- create / edit ---------------------------------------------------------------------------


def _defaults(page: Page) -> dict[str, Any]:
    tomorrow = (utcnow().astimezone(SHANGHAI) + timedelta(days=1)).date()
    return {
        "title": "",
        "kind": Kind.PROJECT_DOCKING.value,
        "chapter": page.staff.chapter or Chapter.PROVINCE.value,
        "description": "",
        "venue": "",
        "capacity": "",
        "organizer_name": default_organizer(page.t, page.staff.chapter or Chapter.PROVINCE.value),
        "organizer_email": "",
        "private": False,
        "date": tomorrow.isoformat(),
        "time": "14:00",
        "duration": "120",
        "timezone": "Asia/Shanghai",
        "repeat": "monthly_nth",
        "interval": "1",
        "weekdays": [WEEKDAY_CODES[tomorrow.weekday()]],
        "nth": "2",
        "weekday": WEEKDAY_CODES[tomorrow.weekday()],
        "monthday": str(tomorrow.day),
        "ends": "never",
        "until": "",
        "count": "",
        "custom": "",
        "skip_holidays": "cn-statutory-shift",
        "invite_days": "14",
        "reminder_hours": "24, 2",
        "followup_hours": "24",
    }


def _values_of(row: SeriesRow) -> dict[str, Any]:
    zone = ZoneInfo(row.timezone)
    rule = from_rrule(row.rrule, zone)
    return {
        "title": row.title,
        "kind": row.kind,
        "chapter": row.chapter,
        "description": row.description,
        "venue": row.venue,
        "capacity": "" if row.capacity is None else str(row.capacity),
        "organizer_name": row.organizer_name,
        "organizer_email": row.organizer_email,
        "private": row.private,
        "date": row.dtstart.date().isoformat(),
        "time": f"{row.dtstart:%H:%M}",
        "duration": format_offset(row.duration_s, "min"),
        "timezone": row.timezone,
        "repeat": rule.repeat,
        "interval": str(rule.interval),
        "weekdays": list(rule.weekdays)
        if rule.repeat == "weekly"
        else [WEEKDAY_CODES[row.dtstart.weekday()]],
        "nth": str(rule.nth),
        "weekday": rule.weekday if rule.repeat == "monthly_nth" else WEEKDAY_CODES[row.dtstart.weekday()],
        "monthday": str(rule.monthday if rule.repeat == "monthly_day" else row.dtstart.day),
        "ends": rule.ends,
        "until": rule.until.isoformat() if rule.until else "",
        "count": str(rule.count or ""),
        "custom": rule.custom if rule.repeat == "custom" else (row.rrule or ""),
        "skip_holidays": row.skip_holidays,
        "invite_days": format_offset(row.invite_before_s, "d"),
        "reminder_hours": ", ".join(format_offset(s, "h") for s in row.reminders_s),
        "followup_hours": format_offset(row.followup_after_s, "h"),
    }


def _preview_context(page: Page, checked: SeriesForm | None) -> dict[str, Any]:
    if checked is None or checked.timing is None:
        return {"preview": None, "rrule": None, "preview_ok": checked is None}
    timing = checked.timing
    rrule = timing.rule.text if timing.rule else None
    return {
        "preview": preview_sessions(timing, holidays_of(page), utcnow()),
        "length": timing.duration,
        "rrule": rrule,
        "rule_words": rule_words(page.t, rrule, timing.zone),
        "preview_ok": True,
    }


def default_organizer(t: Translator, chapter: str) -> str:
    """Who organizes a new series of ``chapter`` unless staff say otherwise: 绍兴分会 秘书处."""
    return t("series.default_organizer", org=t.chapter_org(chapter))


def _version(row: SeriesRow) -> str:
    """What the edit form showed of a series, as a short hash: a changed one means someone else
    saved the series meanwhile."""
    shown = json.dumps(_values_of(row), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()[:20]


def _form_page(
    page: Page,
    values: dict[str, Any],
    checked: SeriesForm | None,
    *,
    row: SeriesRow | None,
    status: int = 200,
    conflict: bool = False,
) -> Response:
    chapters = [c.value for c in Chapter] if page.is_admin else [str(page.staff.chapter)]
    return page.render(
        "series_form.html.j2",
        told=told_of_series(page.session, row.id, utcnow()) if row is not None else 0,
        version=_version(row) if row is not None else "",
        conflict=conflict,
        status=status,
        values=values,
        errors=checked.errors if checked else {},
        row=row,
        chapters=chapters,
        organizers={c: default_organizer(page.t, c) for c in chapters},
        kinds=[k.value for k in Kind],
        weekday_codes=WEEKDAY_CODES,
        **_preview_context(page, checked),
    )


@router.get("/new", response_class=HTMLResponse)
def new_series_form(page: PageDep) -> Response:
    values = _defaults(page)
    return _form_page(page, values, _unsubmitted(page, values), row=None)


@router.post("/new", response_class=HTMLResponse)
def create_series(page: PostDep) -> Response:
    checked = read_series_form(page.form, page.t, page.principal)
    if page.form.get("action") != "save":
        return _previewed(page, checked, row=None)
    if checked.payload is None:
        return _form_page(page, checked.values, checked, row=None, status=422)
    try:
        row = catalog.create_series(page.session, checked.payload, page.principal, page.settings.public_url)
    except ExschedError as exc:
        checked.fail(_field_of(exc), page.t("err.invalid", reason=exc.message))
        return _form_page(page, checked.values, checked, row=None, status=422)
    page.commit_and_replan(series_ids=[row.id])
    log.info(
        "series_created", series_id=str(row.id), chapter=row.chapter, rrule=row.rrule, by=page.staff.username
    )
    return page.redirect(f"/console/series/{row.id}", "series.created")


@router.post("/preview", response_class=HTMLResponse)
def preview(page: PostDep) -> Response:
    """The preview block alone, for the form's live update (the form works without it)."""
    checked = read_series_form(page.form, page.t, page.principal)
    problems = [v for k, v in checked.errors.items() if k in TIMING_FIELDS]
    return page.render("_preview.html.j2", problems=problems, **_preview_context(page, checked))


@router.get("/{series_id}/edit", response_class=HTMLResponse)
def edit_series_form(series_id: uuid.UUID, page: PageDep) -> Response:
    row = series_row(page, series_id)
    values = _values_of(row)
    return _form_page(page, values, _unsubmitted(page, values), row=row)


@router.post("/{series_id}/edit", response_class=HTMLResponse)
def update_series(series_id: uuid.UUID, page: PostDep) -> Response:
    row = series_row(page, series_id)
    checked = read_series_form(page.form, page.t, page.principal)
    if page.form.get("action") != "save":
        return _previewed(page, checked, row=row)
    if checked.payload is None:
        return _form_page(page, checked.values, checked, row=row, status=422)
    if page.form.get("version") != _version(row):
        # Someone saved the series since this form was opened: show it again (with the new
        # version) rather than overwrite their change unseen; a second save overwrites knowingly.
        return _form_page(page, checked.values, checked, row=row, status=409, conflict=True)
    patch = SeriesUpdate.model_validate(checked.payload.model_dump(exclude={"exdates", "rdates"}))
    try:
        catalog.update_series(page.session, row, patch, page.principal)
        answers.settle_series(page.session, row, holidays_of(page), utcnow())
    except ExschedError as exc:
        page.session.rollback()
        checked.fail(_field_of(exc), page.t("err.invalid", reason=exc.message))
        return _form_page(page, checked.values, checked, row=row, status=422)
    page.commit_and_replan(series_ids=[row.id])
    log.info("series_updated", series_id=str(row.id), sequence=row.sequence, by=page.staff.username)
    return page.redirect(f"/console/series/{row.id}", "series.updated")


@router.post("/{series_id}/cancel", response_class=HTMLResponse)
def cancel_series(series_id: uuid.UUID, page: PostDep) -> Response:
    row = series_row(page, series_id)
    typed = str(page.form.get("reason") or "").strip()
    try:
        why = SeriesCancel(reason=typed or None).reason
    except ValidationError as exc:
        errors = validation_messages(page.t, exc, {"reason": "reason"})
        return _series_page(page, row, errors=errors, reason=typed, status=422)
    try:
        catalog.cancel_series(page.session, row, page.principal, utcnow(), reason=why)
    except ExschedError as exc:
        raise ConsoleError(exc.status, page.t("err.invalid", reason=exc.message)) from exc
    page.commit_and_replan(series_ids=[row.id])
    log.info("series_cancelled", series_id=str(row.id), by=page.staff.username)
    return page.redirect(f"/console/series/{row.id}", "series.cancelled_done")


def _previewed(page: Page, checked: SeriesForm, row: SeriesRow | None) -> Response:
    """The form again with its preview; only problems with the timing are pointed out yet."""
    checked.errors = {k: v for k, v in checked.errors.items() if k in TIMING_FIELDS}
    return _form_page(page, checked.values, checked, row=row, status=200 if checked.ok else 422)


def _unsubmitted(page: Page, values: dict[str, Any]) -> SeriesForm:
    """A form as first shown: its preview, but no complaints about fields not yet filled in."""
    checked = read_series_form(_FormValues(values), page.t, page.principal)
    checked.errors.clear()
    return checked


def _field_of(exc: ExschedError) -> str:
    return {"dtstart": "date", "rrule": "repeat", "timezone": "timezone"}.get(exc.field or "", "title")


class _FormValues:
    """Form-like access to a dict of values (to check a pre-filled form like a submitted one)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key, default)
        return "on" if value is True else ("" if value is False else value)

    def getlist(self, key: str) -> list[Any]:
        value = self.values.get(key, [])
        return list(value) if isinstance(value, list) else [value]


# --- one series, one occurrence ---------------------------------------------------------------


@router.get("/{series_id}", response_class=HTMLResponse)
def series_detail(series_id: uuid.UUID, page: PageDep) -> Response:
    return _series_page(page, series_row(page, series_id))


def _series_page(
    page: Page, row: SeriesRow, *, errors: dict[str, str] | None = None, reason: str = "", status: int = 200
) -> Response:
    now = utcnow()
    holidays = holidays_of(page)
    recent = _recent(row, holidays, now)
    upcoming = _upcoming(row, holidays, now, 10)
    sessions = recent + upcoming
    uids = [o.uid for o in sessions]
    zone = ZoneInfo(row.timezone)
    public = page.settings.public_url
    return page.render(
        "series_detail.html.j2",
        status=status,
        errors=errors or {},
        reason=reason,
        row=row,
        zone=zone,
        sessions=sessions,
        now=now,
        stamp=recurrence_stamp,
        rsvps=rsvp_counts(page.session, uids),
        followup_counts=followup_counts(page.session, uids),
        rule=from_rrule(row.rrule, zone),
        rule_words=rule_words(page.t, row.rrule, zone),
        zone_words=zone_words(page.t, row.timezone),
        starts=page.t.clock(row.dtstart),
        ends=page.t.clock(row.dtstart + timedelta(seconds=row.duration_s)),
        notices_words=page.t(
            "series.notices_words",
            invite=page.t.span(row.invite_before_s),
            reminders=page.t("rule.list_sep").join(page.t.span(s) for s in row.reminders_s)
            or page.t("series.no_reminders"),
            followup=page.t.span(row.followup_after_s),
        ),
        hold=page.t.span(row.offer_hold_s or int(OFFER_HOLD.total_seconds())),
        subscribers=len(subscriber_ids(page.session, row)),
        feed="webcal://" + public.split("://", 1)[1] + f"/calendars/series/{row.id}.ics",
    )


def _recent(row: SeriesRow, holidays: HolidayCalendar, now: datetime) -> list[Occurrence]:
    try:
        return catalog.occurrences(row, holidays, now - timedelta(days=60), now)[-3:]
    except RecurrenceError:
        return []


def _occurrence_page(
    page: Page, row: SeriesRow, occ: Occurrence, *, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    zone = ZoneInfo(row.timezone)
    start = occ.start.astimezone(zone)
    notices = page.session.scalars(
        select(NoticeRow)
        .where(NoticeRow.occurrence_uid == occ.uid)
        .order_by(NoticeRow.due_at, NoticeRow.kind)
        .limit(500)
    ).all()
    return page.render(
        "occurrence.html.j2",
        status=status,
        row=row,
        occ=occ,
        zone=zone,
        start=start,
        stamp=recurrence_stamp(occ.recurrence_id),
        started=occ.start <= utcnow(),
        audience=audience(page.session, row, occ.uid),
        rsvps=rsvp_counts(page.session, [occ.uid])[occ.uid],
        outcomes=[(o, summary(page.t, o)) for o in responses.outcomes(page.session, occ.uid)],
        notices=notices,
        titles={},
        session_column=False,
        zones={row.id: zone},
        members=member_names(page.session, (n.member_id for n in notices)),
        seats=_seats_view(page, row, occ),
        people=attendance.answers_view(page, row, occ),
        sent=attendance.sent_view(page, row, occ),
        reach=messages.reach(page.session, occ, utcnow()),
        form_key=uuid.uuid4().hex,
        zone_name=zone_words(page.t, row.timezone),
        errors=errors or {},
        values={
            "date": start.date().isoformat(),
            "time": f"{start:%H:%M}",
            "venue": occ.venue_or(row.venue),
            "agenda": occ.agenda or "",
            "capacity": "" if (own := _own_capacity(row, occ)) is None else str(own),
            "reason": "",
            "body": "",
            "audience": "invited",
        }
        | (values or {}),  # what the form sent back, over the session's own
        cancel_reason=catalog.cancel_reason_of(row, occ.recurrence_id),
    )


def _own_capacity(row: SeriesRow, occ: Occurrence) -> int | None:
    override = next((o for o in row.overrides if o.recurrence_id == occ.recurrence_id), None)
    return override.capacity if override is not None else None


def _seats_view(page: Page, row: SeriesRow, occ: Occurrence) -> dict[str, Any]:
    """The session's seats: how many are taken, who holds one, and the waiting list in order."""
    now = utcnow()
    place = place_of(row, occ)
    standing = seats.standings(page.session, occ.uid, now)
    people = member_names(page.session, standing)
    zone = ZoneInfo(row.timezone)
    waiting = sorted(
        (
            (s.position or 0, people[m], s.offer_until)
            for m, s in standing.items()
            if s.position and m in people
        ),
        key=lambda item: item[0],
    )
    return {
        "count": seats.seats(page.session, place, now),
        "series_capacity": row.capacity,
        "holding": sorted(
            (people[m] for m, s in standing.items() if s.response == "accepted" and m in people),
            key=lambda m: m.name,
        ),
        "waiting": [
            {"position": p, "member": m, "until": page.t.when(u.astimezone(zone)) if u else ""}
            for p, m, u in waiting
        ],
    }


@router.get("/{series_id}/occurrences/{stamp}", response_class=HTMLResponse)
def occurrence_detail(series_id: uuid.UUID, stamp: str, page: PageDep) -> Response:
    row = series_row(page, series_id)
    return _occurrence_page(page, row, occurrence_of(page, row, stamp))


@router.post("/{series_id}/occurrences/{stamp}", response_class=HTMLResponse)
def change_occurrence(series_id: uuid.UUID, stamp: str, page: PostDep) -> Response:
    row = series_row(page, series_id)
    occ = occurrence_of(page, row, stamp)
    t = page.t
    action = str(page.form.get("action") or "")
    fields = ("date", "time", "venue", "agenda", "capacity", "reason")
    values = {name: str(page.form.get(name) or "").strip() for name in fields}
    posted = {name: value for name, value in values.items() if name in page.form}  # shown back
    errors: dict[str, str] = {}
    if occ.start <= utcnow():
        raise ConsoleError(409, t("occ.past"))
    if action == "first":
        return _to_head_of_list(page, row, occ, stamp)
    if action in ("message", "nudge"):
        done, errors = attendance.send_from_form(page, row, occ, action)
        if errors:
            page.session.rollback()
            typed = {
                "body": str(page.form.get("body") or ""),
                "audience": str(page.form.get("audience") or ""),
            }
            return _occurrence_page(page, row, occ, errors=errors, values=posted | typed, status=422)
        page.commit_and_replan(series_ids=[row.id])
        return page.redirect(f"/console/series/{row.id}/occurrences/{stamp}", done)
    if action == "move":
        patch, errors = _move_patch(page, row, occ, values)
        done = "occ.moved_done"
    elif action == "cancel":
        try:  # the reason, if staff give one, is sent to members with the cancellation
            patch = OccurrenceUpdate(status="cancelled", reason=values["reason"] or None)
        except ValidationError as exc:
            patch, errors = None, validation_messages(t, exc, {"reason": "reason"})
        done = "occ.cancelled_done"
    elif action == "restore":
        patch, done = OccurrenceUpdate(status="scheduled"), "occ.restored_done"
    elif action == "details":
        if len(values["venue"]) > 300:
            errors["venue"] = t("err.too_long", n=300)
        if len(values["agenda"]) > 20000:
            errors["agenda"] = t("err.too_long", n=20000)
        # the series' venue typed back means "as the series" (a later change of it applies here too);
        # an empty one means this session's venue is not known yet
        venue = None if values["venue"] == row.venue else values["venue"]
        try:
            patch = None if errors else OccurrenceUpdate(venue=venue, agenda=values["agenda"] or None)
        except ValidationError as exc:
            patch, errors = None, validation_messages(t, exc, {"venue": "venue", "agenda": "agenda"})
        done = "occ.details_done"
    elif action == "capacity":
        c = Checked(values=dict(values))
        capacity = read_int(c, t, "capacity", 1, 100000, optional=True)
        errors = c.errors
        patch, done = (None if errors else OccurrenceUpdate(capacity=capacity)), "occ.capacity_done"
    else:
        raise ConsoleError(400, t("err.choice"))
    if errors or patch is None:
        return _occurrence_page(page, row, occ, errors=errors, values=posted, status=422)
    try:
        changed = catalog.update_occurrence(
            page.session, row, stamp, patch, page.principal, holidays_of(page)
        )
        answers.settle(page.session, row, changed, utcnow())
    except ExschedError as exc:
        page.session.rollback()
        field = "time" if exc.field in ("start", "end") else "_form"
        reason = t("err.dst_gap") if exc.code == "dst-gap" else t("err.invalid", reason=exc.message)
        return _occurrence_page(page, row, occ, errors={field: reason}, values=posted, status=422)
    page.commit_and_replan(series_ids=[row.id])
    log.info(
        "occurrence_updated",
        series_id=str(row.id),
        occurrence_uid=changed.uid,
        action=action,
        status=changed.status.value,
        by=page.staff.username,
    )
    return page.redirect(f"/console/series/{row.id}/occurrences/{stamp}", done)


def _to_head_of_list(page: Page, row: SeriesRow, occ: Occurrence, stamp: str) -> Response:
    """Staff move a waitlisted member to the head of the waiting list."""
    try:
        member_id = uuid.UUID(str(page.form.get("member") or ""))
        seats.move_to(page.session, place_of(row, occ), member_id, 1, utcnow())
    except ValueError as exc:
        raise ConsoleError(409, page.t("occ.not_waiting")) from exc
    page.session.commit()
    log.info("waitlist_moved", occurrence_uid=occ.uid, member_id=str(member_id), by=page.staff.username)
    return page.redirect(f"/console/series/{row.id}/occurrences/{stamp}", "occ.moved_up_done")


def _move_patch(
    page: Page, row: SeriesRow, occ: Occurrence, values: dict[str, str]
) -> tuple[OccurrenceUpdate | None, dict[str, str]]:
    c = Checked(values=dict(values))
    day = read_date(c, page.t, "date")
    at = read_time(c, page.t, "time")
    if day is None or at is None:
        return None, c.errors
    start = datetime.combine(day, at)
    if start.replace(tzinfo=ZoneInfo(row.timezone)) <= utcnow():
        return None, {"date": page.t("occ.past")}
    length = occ.end - occ.start
    return OccurrenceUpdate(start=start, end=start + length), {}
