"""Why a notice failed, said so staff can act on it: what happened in plain words and what to
do, with the server's own answer (a status code, an English sentence) kept under "technical
detail"; and, for a retry, whether anything changed since the failure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, NoticeRow
from scheduler.i18n import Translator

#: Platform error codes in a robot's answer, by what they mean (WeCom, DingTalk, Feishu docs).
_ROBOT_CODES = {
    "93000": "bad-url",  # WeCom: invalid webhook url
    "300001": "bad-url",  # DingTalk: token is not exist
    "310000": "security",  # DingTalk: keywords not in content, sign mismatch, ip not allowed
    "19021": "security",  # Feishu: sign match fail or timestamp is not within one hour
    "19022": "security",  # Feishu: ip not allowed
    "19024": "security",  # Feishu: key words not found
    "45009": "too-often",  # WeCom
    "130101": "too-often",  # DingTalk
    "9499": "bad-request",  # Feishu: bad request
}


#: Every kind of failure this module names (``failure.<case>`` and ``failure.<case>.todo``).
CASES = (
    "no-such-mailbox",
    "mailbox-full",
    "refused-as-spam",
    "mail-later",
    "mail-server-down",
    "outbox",
    "undeliverable",
    "robot-refused",
    "robot-security",
    "robot-gone",
    "robot-too-often",
    "platform-down",
    "platform-unreachable",
    "robot-local",
    "internal",
)


@dataclass(frozen=True)
class Explained:
    """A failure in the reader's words: what happened, what to do, and the raw reason."""

    what: str
    todo: str
    detail: str


def explain(t: Translator, code: str | None, params: Mapping[str, Any] | None) -> Explained | None:
    """The plain words for a failure's reason, or None for a reason that is plain already."""
    values = dict(params or {})
    if code == "gave-up" and isinstance(values.get("last"), Mapping):
        last = values["last"]
        found = explain(t, last.get("code"), last.get("params"))
        if found is not None:
            return Explained(found.what, found.todo, t.reason(code, params))
    case = _case(code, values)
    if case is None:
        return None
    return Explained(t(f"failure.{case}"), t(f"failure.{case}.todo"), t.reason(code, params))


def _case(code: str | None, params: dict[str, Any]) -> str | None:
    if code in ("smtp-reply", "smtp-recipients"):
        status = str(params.get("code", ""))
        text = str(params.get("text", params.get("detail", ""))).lower()
        if status in ("552", "452") or "full" in text or "quota" in text:
            return "mailbox-full"
        if status == "554" or "spam" in text or "policy" in text or "blocked" in text:
            return "refused-as-spam"
        if status.startswith("4"):
            return "mail-later"
        return "no-such-mailbox"
    if code == "smtp-connection":
        return "mail-server-down"
    if code == "outbox-failed":
        return "outbox"
    if code == "undeliverable":
        return "undeliverable"
    if code == "webhook-http":
        status = str(params.get("status", ""))
        if status in ("401", "403"):
            return "robot-security"
        if status == "404":
            return "robot-gone"
        if status == "429":
            return "robot-too-often"
        if status.startswith("5"):
            return "platform-down"
        return "robot-refused"
    if code == "webhook-error":
        meaning = _ROBOT_CODES.get(str(params.get("code", "")), "bad-request")
        return {
            "bad-url": "robot-gone",
            "security": "robot-security",
            "too-often": "robot-too-often",
        }.get(meaning, "robot-refused")
    if code == "webhook-unreachable":
        return "platform-unreachable"
    if code == "webhook-local-target":
        return "robot-local"
    if code in ("poison", "render-failed", "dead-lettered", "dead-lettered-limit", "dead-lettered-rejected"):
        return "internal"
    return None


def changed_since(session: Session, notice: NoticeRow) -> str:
    """For a retry: the done-message key saying whether what the notice goes to changed since it
    failed (a member's address or details), or that nothing did."""
    failed_at = notice.updated_at
    if notice.member_id is not None:
        member = session.get(MemberRow, notice.member_id)
        if member is not None and member.updated_at > failed_at:
            return "ledger.retried_member_changed"
    return "ledger.retried_unchanged"
