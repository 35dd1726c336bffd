"""What every member-facing page that acts shares: the form token that proves a person loaded
the page before pressing its button, and reading a small urlencoded form.

Mail scanners (Defender Safe Links, gateway sandboxes) GET and HEAD every link of an email; a
page reached from a link therefore only shows what will happen, and its button POSTs a form
token derived from the link (or the member's sign-in) that only this server can make.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from fastapi import Request

from scheduler.web.validation import field, validated


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


__all__ = ["field", "form_ok", "form_token", "read_form", "validated"]
