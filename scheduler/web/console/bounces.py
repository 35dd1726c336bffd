"""Members whose email bounces, per chapter: the addresses that no longer take mail (email
notices to them are skipped until fixed) and the ones with temporary failures counting up, with
what the refusing server said. Staff fix an address on the member's page (a new address sends
again), or clear the mark here when the member says the old one works again."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select

from scheduler.db.models import MemberRow
from scheduler.domain import deliverability
from scheduler.web.console.page import OFFICE, ConsoleError, PageDep, PostDep
from schemas.names import Chapter

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/bounces", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def bounces(page: PageDep) -> Response:
    query = (
        select(MemberRow)
        .where(or_(MemberRow.undeliverable_at.is_not(None), MemberRow.soft_bounces > 0))
        .order_by(MemberRow.chapter, MemberRow.undeliverable_at.is_(None), MemberRow.name)
    )
    if not page.is_admin:
        query = query.where(MemberRow.chapter == str(page.staff.chapter))
    chapters: dict[str, list[dict[str, object]]] = {}
    for member in page.session.scalars(query):
        since = member.undeliverable_at or member.last_bounce_at
        chapters.setdefault(member.chapter, []).append(
            {
                "id": str(member.id),
                "name": member.name,
                "company": member.company,
                "email": member.email,
                "stopped": member.undeliverable_at is not None,
                "since": page.t.when(since.astimezone(OFFICE)) if since else "",
                "soft": member.soft_bounces,
                "detail": member.bounce_detail or "",
            }
        )
    order = [c.value for c in Chapter]
    return page.render(
        "bounces.html.j2",
        chapters=sorted(chapters.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99),
        soft_limit=deliverability.SOFT_LIMIT,
    )


@router.post("/{member_id}/clear", response_class=HTMLResponse)
def clear(member_id: uuid.UUID, page: PostDep) -> Response:
    """The member says the address works again: write to it again (a new bounce marks it anew)."""
    member = page.session.get(MemberRow, member_id)
    if member is None:
        raise ConsoleError(404, page.t("error.not_found"))
    page.require_chapter(member.chapter)
    deliverability.clear(member)
    page.session.commit()
    log.info("bounces_cleared", member_id=str(member.id), by=page.staff.username)
    return page.redirect("/console/bounces", "bounces.cleared")
