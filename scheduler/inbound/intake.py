"""Taking in one mail that came back: read it, apply the answer (or the bounce) it carries if it
matches, and keep a row saying what became of it (``inbound_mail``), so staff can see the mail
that was not applied and why. A mail delivered twice (same bytes) is read once. Nothing here
ever answers a mail (no auto-reply can start a loop)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parseaddr

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.db.models import InboundMailRow
from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.inbound.apply import Applied, Unmatched, apply_bounce, apply_reply
from scheduler.inbound.bounces import NotABounce, addressed_notice, read_bounce
from scheduler.inbound.replies import MAX_BYTES, NotAReply, read_reply
from scheduler.ops.metrics import INBOUND_MAIL

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Intake:
    outcome: str  # one of scheduler.ops.metrics.INBOUND_OUTCOMES
    reason: str | None = None


def take_in(
    db: Database, raw: bytes, now: datetime, holidays: HolidayCalendar, recipients: Sequence[str] = ()
) -> Intake:
    """Read one mail: a bounce when it came to a notice's bounce address (``recipients``: the
    SMTP/LMTP envelope's, if known), else a calendar reply."""
    key = hashlib.sha256(raw).hexdigest()
    headers = BytesHeaderParser().parsebytes(raw[:65536]) if len(raw) <= MAX_BYTES else None
    message_id = str(headers.get("Message-ID", ""))[:255] if headers else ""
    sender = parseaddr(str(headers.get("From", "")))[1][:320] if headers else ""
    with db.session() as session:
        if session.get(InboundMailRow, key) is not None:
            log.info("inbound_duplicate", message_id=message_id)
            INBOUND_MAIL.labels("duplicate").inc()
            return Intake("duplicate")
        if addressed_notice(raw, recipients) is not None:
            outcome, reason, detail, uid = _bounce(session, raw, recipients, now)
        else:
            outcome, reason, detail, uid = _reply(session, raw, now, holidays)
        session.add(
            InboundMailRow(
                key=key,
                received_at=now,
                message_id=message_id or None,
                sender=sender,
                size=len(raw),
                outcome=outcome,
                reason=reason,
                detail=(detail or None) and detail[:500],
                occurrence_uid=uid,
            )
        )
        try:
            session.flush()
        except IntegrityError:  # the same mail taken in at the same moment by another connection
            session.rollback()
            INBOUND_MAIL.labels("duplicate").inc()
            return Intake("duplicate")
    log.info("inbound_mail", outcome=outcome, reason=reason, message_id=message_id, occurrence_uid=uid)
    INBOUND_MAIL.labels(outcome).inc()
    return Intake(outcome, reason)


_Outcome = tuple[str, str | None, str | None, str | None]  # outcome, reason, detail, occurrence UID


def _reply(session: Session, raw: bytes, now: datetime, holidays: HolidayCalendar) -> _Outcome:
    reply = read_reply(raw)
    if isinstance(reply, NotAReply):
        return "not-a-reply", reply.reason, reply.detail, None
    result = apply_reply(session, reply, now, holidays)
    if isinstance(result, Applied):
        return ("applied" if result.changed else "unchanged"), None, result.response, reply.uid[:255]
    return "unmatched", result.reason, result.detail, reply.uid[:255]


def _bounce(session: Session, raw: bytes, recipients: Sequence[str], now: datetime) -> _Outcome:
    bounce = read_bounce(raw, recipients)
    if isinstance(bounce, NotABounce):
        return "not-a-reply", bounce.reason, bounce.detail, None
    result = apply_bounce(session, bounce, now)
    if isinstance(result, Unmatched):
        return "unmatched", result.reason, result.detail, None
    detail = f"{'hard' if bounce.hard else 'soft'}: {bounce.detail}"
    return ("bounced" if result.changed else "unchanged"), None, detail, result.occurrence_uid[:255]
