"""What every member-facing page that acts shares: the form token that proves a person loaded
the page before pressing its button, and reading a small urlencoded form.

Mail scanners (Defender Safe Links, gateway sandboxes) GET and HEAD every link of an email; a
page reached from a link therefore only shows what will happen, and its button POSTs a form
token derived from the link (or the member's sign-in) that only this server can make.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TypeVar
from urllib.parse import parse_qs

from fastapi import Request
from pydantic import BaseModel, ValidationError

from scheduler.i18n import Translator

Model = TypeVar("Model", bound=BaseModel)


def form_token(secret: str, bound_to: str) -> str:
    """The form token of a page: only this server can make it, and only a browser that loaded
    the page has it (a scanner that merely opens the link posts nothing)."""
    return hmac.new(secret.encode(), f"link-form.{bound_to}".encode(), hashlib.sha256).hexdigest()


def form_ok(secret: str, bound_to: str, fields: dict[str, list[str]]) -> bool:
    given = (fields.get("csrf") or [""])[0]
    return hmac.compare_digest(given.encode(), form_token(secret, bound_to).encode())


async def read_form(request: Request, limit: int = 16384) -> dict[str, list[str]] | None:
    """The posted urlencoded fields, or None when the body is longer than ``limit`` bytes."""
    body = await request.body()
    if len(body) > limit:
        return None
    return parse_qs(body.decode(errors="replace"), keep_blank_values=True)


def field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


#: pydantic's error types → what the member reads next to the field.
_ERROR_WORDS = {
    "line_break": "form.error.one_line",
    "control_character": "form.error.control",
    "string_too_long": "form.error.too_long",
    "string_too_short": "form.error.required",
    "missing": "form.error.required",
    "email": "form.error.email",
}


def validated(
    model: type[Model], fields: dict[str, list[str]], t: Translator, *, lists: tuple[str, ...] = ()
) -> tuple[Model | None, dict[str, str]]:
    """The form's fields as ``model`` (the form token left out), or the reason per field, in the
    member's language. ``lists`` are fields that take several values (checkboxes)."""
    data: dict[str, object] = {
        name: values if name in lists else values[0]
        for name, values in fields.items()
        if name != "csrf" and name in model.model_fields
    }
    for name in lists:
        data.setdefault(name, [])
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            key = _ERROR_WORDS.get(error["type"], "form.error.invalid")
            limit = (error.get("ctx") or {}).get("max_length", "")
            errors.setdefault(name, t(key, n=limit) if key == "form.error.too_long" else t(key))
        return None, errors
