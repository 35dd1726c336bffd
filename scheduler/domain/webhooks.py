"""Chapter chat groups: the robots (WeCom, DingTalk, Feishu or a generic signed webhook) that
post a chapter's new sessions, changes, cancellations and one reminder per session to its group.

Admins may manage every chapter's robots, chapter staff their own chapter's. A robot's URL
carries its key, so it is never shown again after it is added: lists name the platform and host.
Adding or removing a robot changes who is owed notices, so callers ask for the chapter to be
re-planned (:func:`scheduler.notices.planner.request_plan`).
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import ChapterWebhookRow
from scheduler.domain.auth import Principal
from scheduler.domain.errors import InvalidInput, NotFound
from schemas.api import WebhookCreate, WebhookOut
from schemas.names import Chapter, RobotFormat
from schemas.reasons import Reason

EVENTS_WITH_REMINDERS = ["new-session", "reminder"]
EVENTS_WITHOUT = ["new-session"]


def check_url(url: str, *, local_ok: bool = False) -> str:
    """An http(s) URL with a host, as the platforms give them; the reason if not. A host that is
    (or names) a loopback, link-local, unspecified or multicast address is refused unless
    ``local_ok`` (``EXSCHED_ROBOT_LOCAL_TARGETS``): a robot URL must not make exsched post to
    itself or to a cloud's metadata service (169.254.169.254)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            "the robot's URL must be an http(s) address, e.g. https://qyapi.weixin.qq.com/…", field="url"
        )
    if not local_ok and (near := local_address(parts.hostname)) is not None:
        raise InvalidInput(
            f"the robot's URL points at {near}, an address on this machine or its local link; "
            "give the address the chat platform gave",
            field="url",
            code="local-target",
        )
    return url.strip()


def local_address(host: str) -> str | None:
    """The loopback, link-local, unspecified or multicast address ``host`` is or resolves to, if
    any (None also when the name does not resolve: that is the send's problem, not a target)."""
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return None
    for text in sorted(found):
        address = ipaddress.ip_address(text.split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None) or address
        if mapped.is_loopback or mapped.is_link_local or mapped.is_unspecified or mapped.is_multicast:
            return text
    return None


def create_webhook(
    session: Session, principal: Principal, chapter: Chapter, data: WebhookCreate, *, local_ok: bool = False
) -> ChapterWebhookRow:
    principal.require_chapter(chapter, "chat robots")
    row = ChapterWebhookRow(
        id=uuid.uuid4(),
        chapter=chapter.value,
        format=data.format.value,
        url=check_url(data.url, local_ok=local_ok),
        secret=data.secret or None,
        events=list(EVENTS_WITH_REMINDERS if data.reminders else EVENTS_WITHOUT),
        enabled=True,
    )
    session.add(row)
    session.flush()
    return row


def list_webhooks(
    session: Session, principal: Principal, chapter: Chapter | None = None
) -> Sequence[ChapterWebhookRow]:
    """The robots of ``chapter`` (all the caller may see, when None)."""
    query = select(ChapterWebhookRow).order_by(ChapterWebhookRow.chapter, ChapterWebhookRow.created_at)
    if chapter is not None:
        principal.require_chapter(chapter, "chat robots")
        query = query.where(ChapterWebhookRow.chapter == chapter.value)
    elif principal.chapter is not None:
        query = query.where(ChapterWebhookRow.chapter == principal.chapter.value)
    return session.scalars(query).all()


def get_webhook(
    session: Session, principal: Principal, webhook_id: uuid.UUID, chapter: Chapter | None = None
) -> ChapterWebhookRow:
    row = session.get(ChapterWebhookRow, webhook_id)
    if row is None or (chapter is not None and row.chapter != chapter.value):
        raise NotFound(f"no chat robot {webhook_id}" + (f" in chapter {chapter.value}" if chapter else ""))
    principal.require_chapter(row.chapter, "chat robots")
    return row


def remove_webhook(session: Session, row: ChapterWebhookRow) -> None:
    """Remove a robot; the notices still owed to it go with it."""
    session.delete(row)
    session.flush()


def host_of(row: ChapterWebhookRow) -> str:
    return urlsplit(row.url).hostname or ""


def webhook_out(row: ChapterWebhookRow) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        chapter=Chapter(row.chapter),
        format=RobotFormat(row.format),
        host=host_of(row),
        signed=bool(row.secret),
        reminders="reminder" in (row.events or ()),
        enabled=row.enabled,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class RobotTest:
    """What became of a test message: the platform's receipt, or why it was not accepted."""

    receipt: str | None = None
    reason: Reason | None = None

    @property
    def sent(self) -> bool:
        return self.reason is None
