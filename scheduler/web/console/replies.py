"""Calendar replies that came back (``exsched serve inbound``): which were applied as members'
answers, and the ones that were not, with the reason — a stranger's reply, a proposal of a new
time, a reply to an older version of a session, mail that was no reply at all. The province
office sees all of them; a chapter's staff the ones about their chapter's sessions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from scheduler.db.models import InboundMailRow, NoticeRow, SeriesRow
from scheduler.web.console.page import OFFICE, PageDep

router = APIRouter(prefix="/console/replies", include_in_schema=False)
SHOWN = 200
#: outcome → how the page says it; reason code → why, in words (literal keys, for the catalogs)
OUTCOMES = {
    "applied": "replies.outcome.applied",
    "unchanged": "replies.outcome.unchanged",
    "unmatched": "replies.outcome.unmatched",
    "not-a-reply": "replies.outcome.not-a-reply",
    "bounced": "replies.outcome.bounced",
}
REASONS = {
    "not-invited": "replies.reason.not-invited",
    "unknown-session": "replies.reason.unknown-session",
    "older-sequence": "replies.reason.older-sequence",
    "older-than-answer": "replies.reason.older-than-answer",
    "counter": "replies.reason.counter",
    "not-a-reply": "replies.reason.not-a-reply",
    "no-calendar": "replies.reason.no-calendar",
    "unreadable-calendar": "replies.reason.unreadable-calendar",
    "no-event": "replies.reason.no-event",
    "no-attendee": "replies.reason.no-attendee",
    "attendee-not-sender": "replies.reason.attendee-not-sender",
    "no-answer": "replies.reason.no-answer",
    "too-large": "replies.reason.too-large",
    # bounces
    "not-a-failure": "replies.reason.not-a-failure",
    "unreadable": "replies.reason.unreadable",
    "unknown-notice": "replies.reason.unknown-notice",
    "not-a-member": "replies.reason.not-a-member",
    "other-address": "replies.reason.other-address",
}


@router.get("", response_class=HTMLResponse)
def replies(page: PageDep, show: str = "problems") -> Response:
    query = select(InboundMailRow).order_by(InboundMailRow.received_at.desc()).limit(SHOWN)
    if show != "all":
        query = query.where(InboundMailRow.outcome.in_(["unmatched", "not-a-reply"]))
    if not page.is_admin:
        theirs = (
            select(NoticeRow.occurrence_uid)
            .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
            .where(SeriesRow.chapter == str(page.staff.chapter))
        )
        query = query.where(InboundMailRow.occurrence_uid.in_(theirs))
    rows = page.session.scalars(query).all()
    uids = {r.occurrence_uid for r in rows if r.occurrence_uid}
    titles = (
        dict(
            page.session.execute(
                select(NoticeRow.occurrence_uid, SeriesRow.title)
                .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
                .where(NoticeRow.occurrence_uid.in_(uids))
                .distinct()
            ).all()
        )
        if uids
        else {}
    )
    return page.render(
        "replies.html.j2",
        rows=[
            {
                "received": page.t.when(r.received_at.astimezone(OFFICE)),
                "sender": r.sender,
                "outcome": page.t(OUTCOMES.get(r.outcome, "replies.outcome.unmatched")),
                "problem": r.outcome in ("unmatched", "not-a-reply"),
                "reason": page.t(REASONS[r.reason]) if r.reason in REASONS else (r.reason or ""),
                "detail": r.detail or "",
                "session": titles.get(r.occurrence_uid or "", ""),
            }
            for r in rows
        ],
        show=show if show == "all" else "problems",
        shown=SHOWN,
    )
