"""``/api/v1/chapters``: the province office and the seven city chapters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from scheduler.i18n import translator
from schemas.names import Chapter

router = APIRouter(prefix="/api/v1/chapters", tags=["chapters"])


@router.get("")
def chapters() -> list[dict[str, Any]]:
    zh, en = translator("zh-CN"), translator("en")
    return [{"code": c.value, "name_zh": zh.chapter(c), "name_en": en.chapter(c)} for c in Chapter]
