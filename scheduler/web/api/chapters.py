"""``/api/v1/chapters``: the province office and the seven city chapters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from schemas.names import CHAPTER_NAMES

router = APIRouter(prefix="/api/v1/chapters", tags=["chapters"])


@router.get("")
def chapters() -> list[dict[str, Any]]:
    return [{"code": c.value, "name_zh": zh, "name_en": en} for c, (zh, en) in CHAPTER_NAMES.items()]
