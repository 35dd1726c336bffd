"""Staff API keys: created by the CLI, stored as SHA-256 hashes, checked per request.

A key is 256 random bits, so a plain SHA-256 is enough to make a leaked table useless (a slow
KDF protects low-entropy passwords, not random keys) and keeps the per-request check cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import ApiKeyRow
from scheduler.domain.errors import Forbidden, InvalidInput, Unauthorized
from schemas.names import Chapter, Role

KEY_PREFIX = "exs_"
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an admin (every chapter) or one chapter's staff."""

    role: Role
    chapter: Chapter | None = None
    key_id: str | None = None

    def may_touch(self, chapter: str) -> bool:
        return self.role is Role.ADMIN or self.chapter == chapter

    def require_chapter(self, chapter: str, what: str = "this") -> None:
        if not self.may_touch(chapter):
            raise Forbidden(
                f"this key belongs to chapter '{self.chapter}' and may not touch {what} of "
                f"chapter '{chapter}'"
            )


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session, *, role: Role | str, chapter: Chapter | str | None = None, name: str = ""
) -> tuple[ApiKeyRow, str]:
    """Store a new key and return it with its secret (shown once, never stored)."""
    role = Role(role)
    if role is Role.CHAPTER and chapter is None:
        raise InvalidInput("a chapter key needs --chapter (e.g. --chapter ningbo)", field="chapter")
    if role is Role.ADMIN and chapter is not None:
        raise InvalidInput("an admin key covers every chapter; drop --chapter", field="chapter")
    try:
        chapter_code = Chapter(chapter).value if chapter is not None else None
    except ValueError as exc:
        choices = ", ".join(c.value for c in Chapter)
        raise InvalidInput(f"unknown chapter {chapter!r}; one of {choices}", field="chapter") from exc
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        name=name,
        role=role.value,
        chapter=chapter_code,
        prefix=secret[: len(KEY_PREFIX) + 8],
        key_hash=hash_key(secret),
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, authorization: str | None, *, now: datetime | None = None) -> Principal:
    """The caller behind an ``Authorization: Bearer <key>`` header, or :class:`Unauthorized`."""
    if not authorization:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("malformed Authorization header: expected 'Bearer <key>'")
    digest = hash_key(secret.strip())
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        raise Unauthorized("invalid or revoked API key")
    now = now or datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
    return Principal(
        role=Role(row.role),
        chapter=Chapter(row.chapter) if row.chapter else None,
        key_id=str(row.id),
    )
