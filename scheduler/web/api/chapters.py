"""``/api/v1/chapters``: the province office and the seven city chapters, and each chapter's chat
group robots (admin keys: every chapter; chapter keys: their own)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from scheduler.domain import webhooks
from scheduler.domain.errors import Unavailable
from scheduler.i18n import translator
from scheduler.notices import store
from scheduler.web.deps import CHECK_KEY, ReplanDep, SessionDep, SettingsDep, StaffDep, TesterDep
from schemas.api import ErrorOut, ReasonOut, WebhookCreate, WebhookOut, WebhookTestOut
from schemas.names import Chapter

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/chapters", tags=["chapters"], dependencies=CHECK_KEY)
_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (401, 403, 404, 422)}


@router.get("")
def chapters() -> list[dict[str, Any]]:
    zh, en = translator("zh-CN"), translator("en")
    return [{"code": c.value, "name_zh": zh.chapter(c), "name_en": en.chapter(c)} for c in Chapter]


@router.get("/{chapter}/webhooks", response_model=list[WebhookOut], responses=_ERRORS)
def list_webhooks(chapter: Chapter, session: SessionDep, staff: StaffDep) -> list[WebhookOut]:
    """The chapter's chat-group robots (their URLs and secrets are never shown again)."""
    return [webhooks.webhook_out(row) for row in webhooks.list_webhooks(session, staff, chapter)]


@router.post(
    "/{chapter}/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookOut, responses=_ERRORS
)
def add_webhook(
    chapter: Chapter,
    body: WebhookCreate,
    session: SessionDep,
    staff: StaffDep,
    replan: ReplanDep,
    settings: SettingsDep,
) -> WebhookOut:
    """Post the chapter's new sessions, changes and cancellations (and reminders) to a chat group."""
    row = webhooks.create_webhook(session, staff, chapter, body, local_ok=settings.robot_local_targets)
    out = webhooks.webhook_out(row)
    replan.commit(chapters=[chapter])
    log.info("webhook_added", webhook_id=str(row.id), chapter=chapter.value, format=row.format)
    return out


@router.delete("/{chapter}/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def remove_webhook(
    chapter: Chapter, webhook_id: uuid.UUID, session: SessionDep, staff: StaffDep, replan: ReplanDep
) -> Response:
    """Remove a robot; what was still owed to its group is dropped with it."""
    webhooks.remove_webhook(session, webhooks.get_webhook(session, staff, webhook_id, chapter))
    replan.commit(chapters=[chapter])
    log.info("webhook_removed", webhook_id=str(webhook_id), chapter=chapter.value)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{chapter}/webhooks/{webhook_id}/test",
    response_model=WebhookTestOut,
    responses={**_ERRORS, 502: {"model": WebhookTestOut}, 503: {"model": ErrorOut}},
)
def test_webhook(
    chapter: Chapter, webhook_id: uuid.UUID, session: SessionDep, staff: StaffDep, tester: TesterDep
) -> Any:
    """Post a test message to the group now: 200 when the robot took it, 502 with its reason if not."""
    row = webhooks.get_webhook(session, staff, webhook_id, chapter)
    if tester is None:
        raise Unavailable("this process was started without the chat channel; use `exsched serve api`")
    result = tester(row)
    log.info(
        "webhook_tested", webhook_id=str(webhook_id), sent=result.sent, **store.log_fields(result.reason)
    )
    if result.sent:
        return WebhookTestOut(sent=True, receipt=result.receipt)
    why = result.reason
    assert why is not None
    answer = WebhookTestOut(
        sent=False,
        reason=ReasonOut(code=why.code.value, params=why.params),
        detail=store.describe(why),
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=502)
