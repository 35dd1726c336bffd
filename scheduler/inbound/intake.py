"""Taking in one mail that came back: read it, apply the answer it carries if it matches, and
keep a row saying what became of it (``inbound_mail``), so staff can see the replies that were not
applied and why. A mail delivered twice (same bytes) is read once. Nothing here ever answers a
mail (no auto-reply can start a loop)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parseaddr

import structlog
from sqlalchemy.exc import IntegrityError

from scheduler.db.models import InboundMailRow
from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.inbound.apply import Applied, apply_reply
from scheduler.inbound.replies import MAX_BYTES, NotAReply, read_reply

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Intake:
    outcome: str  # applied | unchanged | unmatched | not-a-reply | duplicate
    reason: str | None = None


def take_in(db: Database, raw: bytes, now: datetime, holidays: HolidayCalendar) -> Intake:
    key = hashlib.sha256(raw).hexdigest()
    headers = BytesHeaderParser().parsebytes(raw[:65536]) if len(raw) <= MAX_BYTES else None
    message_id = str(headers.get("Message-ID", ""))[:255] if headers else ""
    sender = parseaddr(str(headers.get("From", "")))[1][:320] if headers else ""
    with db.session() as session:
        if session.get(InboundMailRow, key) is not None:
            log.info("inbound_duplicate", message_id=message_id)
            return Intake("duplicate")
        reply = read_reply(raw)
        uid = None
        if isinstance(reply, NotAReply):
            outcome, reason, detail = "not-a-reply", reply.reason, reply.detail
        else:
            uid = reply.uid[:255]
            result = apply_reply(session, reply, now, holidays)
            if isinstance(result, Applied):
                outcome = "applied" if result.changed else "unchanged"
                reason, detail = None, result.response
            else:
                outcome, reason, detail = "unmatched", result.reason, result.detail
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
            return Intake("duplicate")
    log.info("inbound_mail", outcome=outcome, reason=reason, message_id=message_id, occurrence_uid=uid)
    return Intake(outcome, reason)
