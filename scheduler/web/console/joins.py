"""Requests to join: per chapter, whether newcomers wait for staff approval; the confirmed
requests waiting, with approve (the member is made, following the chapter, and welcomed by
mail) and reject (the request is dropped, no mail)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial

import structlog
from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from scheduler.db.models import ChapterRow, JoinRequestRow
from scheduler.domain import joining
from scheduler.domain.errors import ExschedError
from scheduler.domain.member_access import signin_link
from scheduler.i18n import translator
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from scheduler.web.member_mail import compose, send_later
from schemas.names import Chapter

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/joins", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def joins(page: PageDep) -> Response:
    chapters = page.chapters
    rules = {
        row.code: row.join_approval
        for row in page.session.scalars(select(ChapterRow).where(ChapterRow.code.in_(chapters)))
    }
    return page.render(
        "joins.html.j2",
        requests=joining.waiting(page.session, page.principal),
        rules=[(code, rules.get(code, False)) for code in chapters],
    )


@router.post("/rules/{chapter}", response_class=HTMLResponse)
def set_rule(chapter: str, page: PostDep) -> Response:
    if chapter not in {c.value for c in Chapter}:
        raise ConsoleError(404, page.t("error.not_found"))
    page.require_chapter(chapter)
    on = page.form.get("approval") == "on"
    joining.set_approval(page.session, Chapter(chapter), on, page.principal)
    page.session.commit()
    log.info("join_rule_set", chapter=chapter, approval=on, by=page.staff.username)
    return page.redirect("/console/joins", "joins.rule_saved")


def _request(page: Page, request_id: uuid.UUID) -> JoinRequestRow:
    try:
        return joining.get_request(page.session, request_id, page.principal)
    except ExschedError as exc:
        raise ConsoleError(
            exc.status, page.t("error.not_found" if exc.status == 404 else "error.forbidden")
        ) from exc


@router.post("/{request_id}/approve", response_class=HTMLResponse)
def approve(request_id: uuid.UUID, page: PostDep, background: BackgroundTasks) -> Response:
    row = _request(page, request_id)
    try:
        member = joining.approve(page.session, row, page.principal)
    except ExschedError as exc:  # the address became a member's meanwhile
        page.session.rollback()
        raise ConsoleError(409, page.t("err.invalid", reason=exc.message)) from exc
    page.commit_and_replan(member_ids=[member.id])
    log.info("join_approved", member_id=str(member.id), chapter=member.chapter, by=page.staff.username)
    settings = page.settings
    now = datetime.now(UTC)
    token = signin_link(settings.secret_key, member.id, member.session_epoch, now, once=False)
    m = translator(member.locale)
    mail = partial(
        compose,
        member.locale,
        key=f"welcome:{member.id}",
        to_name=member.name,
        to_email=member.email,
        subject=m("member.mail.welcome.subject", chapter=m.chapter_org(member.chapter)),
        paragraphs=[m("member.mail.welcome.body")],
        action=(m("mail.member_page"), f"{settings.public_url}/me/link/{token}"),
        note=m("member.channel.note"),
    )
    send_later(background, page.request.app.state.postman, mail)
    return page.redirect("/console/joins", "joins.approved")


@router.post("/{request_id}/reject", response_class=HTMLResponse)
def reject(request_id: uuid.UUID, page: PostDep) -> Response:
    row = _request(page, request_id)
    chapter = row.chapter
    joining.reject(page.session, row)
    page.session.commit()
    log.info("join_rejected", request_id=str(request_id), chapter=chapter, by=page.staff.username)
    return page.redirect("/console/joins", "joins.rejected")
