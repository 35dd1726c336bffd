"""Chat-group robots: chapter staff add their group's robot (WeCom, DingTalk, Feishu or a generic
webhook), send it a test message, and remove it; the province office sees every chapter's."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from scheduler.domain import webhooks
from scheduler.domain.errors import ExschedError
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from schemas.api import WebhookCreate
from schemas.names import Chapter, RobotFormat

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/robots", include_in_schema=False)
FIELDS = ("chapter", "format", "url", "secret")


def _robots_page(
    page: Page,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    tested: tuple[uuid.UUID, str] | None = None,
    status: int = 200,
) -> Response:
    chapters = page.chapters
    rows = webhooks.list_webhooks(page.session, page.principal)
    return page.render(
        "robots.html.j2",
        status=status,
        robots=[webhooks.webhook_out(row) for row in rows],
        chapters=chapters,
        formats=[f.value for f in RobotFormat],
        values=values
        or {
            "chapter": chapters[0],
            "format": RobotFormat.WECOM.value,
            "url": "",
            "secret": "",
            "reminders": True,
        },
        errors=errors or {},
        tested=tested,
    )


@router.get("", response_class=HTMLResponse)
def robots(page: PageDep) -> Response:
    return _robots_page(page)


@router.post("", response_class=HTMLResponse)
def add_robot(page: PostDep) -> Response:
    values: dict[str, Any] = {name: str(page.form.get(name) or "").strip() for name in FIELDS}
    values["reminders"] = page.form.get("reminders") == "on"
    errors: dict[str, str] = {}
    if values["chapter"] not in page.chapters:
        errors["chapter"] = page.t("err.choice")
    try:
        body = WebhookCreate(
            format=values["format"],
            url=values["url"],
            secret=values["secret"] or None,
            reminders=values["reminders"],
        )
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "url"
            errors.setdefault(name, page.t("err.choice") if name == "format" else page.t("err.url"))
    if errors:
        return _robots_page(page, values=values, errors=errors, status=422)
    try:
        row = webhooks.create_webhook(
            page.session,
            page.principal,
            Chapter(values["chapter"]),
            body,
            local_ok=page.settings.robot_local_targets,
        )
    except ExschedError as exc:
        page.session.rollback()
        field = exc.field if exc.field in FIELDS else "url"
        message = page.t("err.url") if exc.field == "url" else page.t("err.invalid", reason=exc.message)
        return _robots_page(page, values=values, errors={field: message}, status=422)
    page.commit_and_replan(chapters=[row.chapter])
    log.info(
        "webhook_added",
        webhook_id=str(row.id),
        chapter=row.chapter,
        format=row.format,
        by=page.staff.username,
    )
    return page.redirect("/console/robots", "robots.added")


def _robot(page: Page, webhook_id: uuid.UUID) -> Any:
    try:
        return webhooks.get_webhook(page.session, page.principal, webhook_id)
    except ExschedError as exc:
        if exc.status == 404:
            raise ConsoleError(404, page.t("error.not_found")) from exc
        raise ConsoleError(403, page.t("error.forbidden")) from exc


@router.post("/{webhook_id}/test", response_class=HTMLResponse)
def test_robot(webhook_id: uuid.UUID, page: PostDep) -> Response:
    """Post a test message now and say what the platform answered."""
    row = _robot(page, webhook_id)
    tester = page.request.app.state.robot_tester
    if tester is None:
        raise ConsoleError(503, page.t("robots.no_tester"))
    result = tester(row)
    log.info("webhook_tested", webhook_id=str(webhook_id), sent=result.sent, by=page.staff.username)
    if result.sent:
        return page.redirect("/console/robots", "robots.tested")
    why = result.reason
    message = page.t("robots.test_failed", reason=page.t.reason(why.code.value, why.params) if why else "")
    return _robots_page(page, tested=(row.id, message), status=502)


@router.post("/{webhook_id}/delete", response_class=HTMLResponse)
def remove_robot(webhook_id: uuid.UUID, page: PostDep) -> Response:
    row = _robot(page, webhook_id)
    chapter = row.chapter
    webhooks.remove_webhook(page.session, row)
    page.commit_and_replan(chapters=[chapter])
    log.info("webhook_removed", webhook_id=str(webhook_id), chapter=chapter, by=page.staff.username)
    return page.redirect("/console/robots", "robots.removed")
