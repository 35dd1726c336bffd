"""How a member is recognised without a password: links sent to their address, and the cookie
a signed-in browser keeps.

* A **sign-in link** (``member-signin``) names the member and their ``session_epoch``; it is
  either one-time and short (15 minutes: what the sign-in form mails) or reusable for a
  fortnight (the personal link in every email). Opening it shows a page; only its button (a
  POST) signs in, so a mail scanner that opens the link neither signs anyone in nor uses the
  link up.
* The **cookie** (``member-session``) names the member and the epoch and lasts 30 days. Raising
  ``members.session_epoch`` (their address changed, "sign out everywhere") ends every cookie and
  every link issued before.
* A **used link** is remembered (the SHA-256 of its token, in ``used_links``) until it would have
  expired anyway; remembering is one ``INSERT … ON CONFLICT DO NOTHING``, so two presses at once
  use it once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, UsedLinkRow
from scheduler.db.upsert import upsert
from scheduler.domain.tokens import InvalidToken, sign, verify

USED: Table = UsedLinkRow.__table__  # type: ignore[assignment]

SIGNIN_LINK = timedelta(minutes=15)
EMAIL_LINK = timedelta(days=14)
SESSION = timedelta(days=30)


@dataclass(frozen=True)
class Link:
    """A verified link token: its claims, when it expires and whether it works only once."""

    token: str
    claims: dict[str, Any]
    expires: datetime
    once: bool


def signin_link(secret: str, member_id: uuid.UUID, epoch: int, now: datetime, *, once: bool = True) -> str:
    """A token for ``/me/link/{token}``: one-time for 15 minutes, or (``once=False``) the
    personal link of an email, for a fortnight; ``epoch`` is the member's ``session_epoch``."""
    claims = {"m": str(member_id), "e": epoch, "o": int(once), "n": secrets.token_hex(4)}
    return sign(secret, "member-signin", claims, now + (SIGNIN_LINK if once else EMAIL_LINK))


def read_link(secret: str, purpose: str, token: str, now: datetime) -> Link | None:
    """The link's claims if it is genuine, made for ``purpose`` and not expired; None otherwise."""
    try:
        claims = verify(secret, purpose, token, now=now)
        expires = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
    except (InvalidToken, KeyError, ValueError, TypeError):
        return None
    return Link(token, claims, expires, bool(claims.get("o", 1)))


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def was_used(session: Session, link: Link) -> bool:
    return link.once and session.get(UsedLinkRow, _key(link.token)) is not None


def use(session: Session, link: Link, now: datetime) -> bool:
    """Spend a one-time link: True for the one caller that spent it (reusable links: always)."""
    if not link.once:
        return True
    session.execute(delete(USED).where(USED.c.expires_at < now))  # links that expired need no memory
    inserted = session.execute(
        upsert(session, USED)
        .values(key=_key(link.token), used_at=now, expires_at=link.expires)
        .on_conflict_do_nothing(index_elements=[USED.c.key])
    )
    return bool(inserted.rowcount)  # type: ignore[attr-defined]


def member_of(session: Session, claims: dict[str, Any]) -> MemberRow | None:
    """The member the claims name, if they still exist and nothing since ended what was issued."""
    try:
        member = session.get(MemberRow, uuid.UUID(str(claims["m"])))
    except (KeyError, ValueError):
        return None
    if member is None or int(claims.get("e", -1)) != member.session_epoch:
        return None
    return member


def session_cookie(secret: str, member: MemberRow, now: datetime) -> str:
    return sign(secret, "member-session", {"m": str(member.id), "e": member.session_epoch}, now + SESSION)


def signed_in(session: Session, secret: str, cookie: str | None, now: datetime) -> MemberRow | None:
    """The member a browser's cookie names, or None (no cookie, forged, expired, ended)."""
    if not cookie:
        return None
    link = read_link(secret, "member-session", cookie, now)
    return None if link is None else member_of(session, link.claims)


def sign_out_everywhere(member: MemberRow) -> None:
    """Every cookie and link issued to the member so far stops working."""
    member.session_epoch += 1
