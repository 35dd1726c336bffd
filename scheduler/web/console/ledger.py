"""The delivery ledger (notices by status, with reasons, and retry of a failed one) and the page
of calendar feed links."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import ColumnElement, and_, func, or_, select

from scheduler.db.models import NoticeRow, SeriesRow, StaffRow
from scheduler.domain.checkin import qr_svg
from scheduler.domain.members import webcal_of
from scheduler.domain.reports import OFFICE, month_start, next_month
from scheduler.notices import store
from scheduler.notices.audience import followup_counts, member_names, rsvp_counts
from scheduler.ops.clock import utcnow
from scheduler.web.console.failures import changed_since
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from schemas.ids import recurrence_stamp
from schemas.names import Chapter, Kind, NoticeKind, NoticeStatus

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
SHOWN = 200


@router.get("/ledger", response_class=HTMLResponse)
def ledger(
    page: PageDep, status: str = "", kind: str = "", series: str = "", chapter: str = "", month: str = ""
) -> Response:
    chapters = page.chapters
    if chapter not in chapters:
        chapter = ""
    scope = select(NoticeRow.id).outerjoin(SeriesRow, SeriesRow.id == NoticeRow.series_id)
    scope = scope.where(_visible(page, [chapter] if chapter else chapters, everyone=not chapter))
    series_id = _uuid(series)
    if series_id is not None:
        scope = scope.where(NoticeRow.series_id == series_id)
    if kind in {k.value for k in NoticeKind}:
        scope = scope.where(NoticeRow.kind == kind)
    else:
        kind = ""
    first = month_start(month)
    if first is not None:  # the notices of the sessions starting that month (Beijing time)
        low, high = first.astimezone(UTC), next_month(first).astimezone(UTC)
        starts = func.coalesce(NoticeRow.starts_at, NoticeRow.recurrence_id)
        scope = scope.where(starts >= low, starts < high)
    else:
        month = ""
    counts: dict[str, int] = {
        state: count
        for state, count in page.session.execute(
            select(NoticeRow.status, func.count()).where(NoticeRow.id.in_(scope)).group_by(NoticeRow.status)
        )
    }
    if status in {s.value for s in NoticeStatus}:
        scope = scope.where(NoticeRow.status == status)
    else:
        status = ""
    rows = page.session.execute(
        select(NoticeRow, SeriesRow.title, SeriesRow.timezone)
        .outerjoin(SeriesRow, SeriesRow.id == NoticeRow.series_id)
        .where(NoticeRow.id.in_(scope))
        .order_by(NoticeRow.due_at.desc(), NoticeRow.id)
        .limit(SHOWN)
    ).all()
    visible_series = page.session.execute(
        select(SeriesRow.id, SeriesRow.title).where(SeriesRow.chapter.in_(chapters)).order_by(SeriesRow.title)
    ).all()
    return page.render(
        "ledger.html.j2",
        per_session=_per_session(page, series_id, chapters) if series_id else [],
        notices=[r[0] for r in rows],
        titles={r[0].series_id: r[1] for r in rows if r[0].series_id},
        session_column=bool(rows),
        zones={r[0].series_id: ZoneInfo(r[2]) for r in rows if r[0].series_id},
        office=OFFICE,
        staff_names=_staff_names(page, (r[0].staff_id for r in rows)),
        members=member_names(page.session, (r[0].member_id for r in rows)),
        counts=counts,
        statuses=[s.value for s in NoticeStatus],
        kinds=[k.value for k in NoticeKind],
        chapters=chapters,
        series_options=visible_series,
        filters={
            "status": status,
            "kind": kind,
            "series": str(series_id or ""),
            "chapter": chapter,
            "month": month,
        },
        stamp=recurrence_stamp,
        shown=SHOWN,
    )


def _visible(page: Page, chapters: list[str], *, everyone: bool) -> ColumnElement[bool]:
    """The notices of these chapters' sessions, and their monthly digests (the province office
    also sees the whole association's, unless it asked for one chapter)."""
    digest = NoticeRow.series_id.is_(None)
    shown = or_(SeriesRow.chapter.in_(chapters), and_(digest, NoticeRow.chapter.in_(chapters)))
    if page.is_admin and everyone:
        shown = or_(shown, and_(digest, NoticeRow.chapter.is_(None)))
    return shown


def _staff_names(page: Page, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = page.session.execute(
        select(StaffRow.id, StaffRow.display_name, StaffRow.username).where(StaffRow.id.in_(wanted))
    )
    return {staff_id: name or username for staff_id, name, username in found}


def _per_session(page: Page, series_id: uuid.UUID, chapters: list[str]) -> list[dict[str, Any]]:
    """For one series: each session that has notices, with invitations sent, replies, follow-ups."""
    series = page.session.get(SeriesRow, series_id)
    if series is None or series.chapter not in chapters:
        return []
    sessions = page.session.execute(
        select(
            NoticeRow.occurrence_uid,
            NoticeRow.recurrence_id,
            func.max(NoticeRow.starts_at),
            func.count().filter(
                NoticeRow.kind == NoticeKind.INVITATION.value, NoticeRow.status == NoticeStatus.SENT.value
            ),
        )
        .where(NoticeRow.series_id == series_id)
        .group_by(NoticeRow.occurrence_uid, NoticeRow.recurrence_id)
        .order_by(NoticeRow.recurrence_id.desc())
        .limit(24)
    ).all()
    uids = [row[0] for row in sessions]
    replies = rsvp_counts(page.session, uids)
    outcomes = followup_counts(page.session, uids)
    zone = ZoneInfo(series.timezone)
    return [
        {
            "start": (starts or rid).astimezone(zone),
            "stamp": recurrence_stamp(rid),
            "series_id": series_id,
            "invited": invited,
            "replies": replies[uid],
            "followups": outcomes.get(uid, 0),
        }
        for uid, rid, starts, invited in sessions
    ]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.post("/ledger/{notice_id}/retry", response_class=HTMLResponse)
def retry(notice_id: uuid.UUID, page: PostDep) -> Response:
    """Send a failed notice again: back to ``pending``, due now, with a fresh count of attempts.

    The planner then checks it against the current facts like any pending notice (a notice for
    a session that is over is skipped by the dispatcher's lateness rule, not sent late).
    """
    found = page.session.execute(
        select(NoticeRow, SeriesRow.chapter)
        .outerjoin(SeriesRow, SeriesRow.id == NoticeRow.series_id)
        .where(NoticeRow.id == notice_id)
    ).first()
    if found is None:
        raise ConsoleError(404, page.t("error.not_found"))
    notice, of_series = found
    chapter: str | None = of_series or notice.chapter  # a digest's: its chapter, or None (all)
    if chapter is None and not page.is_admin:
        raise ConsoleError(404, page.t("error.not_found"))
    if chapter is not None:
        page.require_chapter(chapter)
    since = changed_since(page.session, notice)  # judged before the retry touches the row
    series_id = notice.series_id
    if not store.staff_retry(page.session, notice_id, page.staff.username, utcnow()):
        raise ConsoleError(409, page.t("ledger.not_failed"))
    page.commit_and_replan(series_ids=[series_id] if series_id else [])
    log.info("notice_retry_requested", notice_id=str(notice_id), by=page.staff.username)
    back = page.form.get("back")
    target = back if isinstance(back, str) and back.startswith("/console/ledger") else "/console/ledger"
    return page.redirect(target, since)


@router.get("/feeds", response_class=HTMLResponse)
def feeds(page: PageDep) -> Response:
    base = page.settings.public_url

    def link(path: str) -> dict[str, Any]:
        https = f"{base}{path}"
        return {"webcal": webcal_of(https), "https": https, "qr": qr_svg(https, 4)}

    chapters = [(c.value, link(f"/calendars/chapters/{c.value}.ics")) for c in Chapter]
    kinds = [(k.value, link(f"/calendars/kinds/{k.value}.ics")) for k in Kind]
    return page.render("feeds.html.j2", all_link=link("/calendars/all.ics"), chapters=chapters, kinds=kinds)
