"""Applying a calendar app's reply: the member's answer, through the same path as a link's.

A reply counts only if its UID is a session's and its attendee a member invited to that session
(case-insensitive address). A reply to an older SEQUENCE than the member was last sent is
ignored (it answers what the session was, not what it is); so is one older than the member's
latest answer (the last human action wins, by the reply's DTSTAMP). Applying the same mail twice
changes nothing: the second finds the answer it would record already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.domain.responses import record_rsvp
from scheduler.inbound.replies import Reply
from scheduler.notices import store


@dataclass(frozen=True)
class Applied:
    member_id: str
    occurrence_uid: str
    response: str
    changed: bool  # False: the same answer was there already (a mail read twice)


@dataclass(frozen=True)
class Unmatched:
    """A reply that is not applied, and why: ``unknown-session``, ``not-invited``,
    ``older-sequence``, ``older-than-answer``."""

    reason: str
    detail: str = ""


def apply_reply(session: Session, reply: Reply, now: datetime) -> Applied | Unmatched:
    series_id = session.scalar(
        select(NoticeRow.series_id).where(NoticeRow.occurrence_uid == reply.uid).limit(1)
    )
    series = session.get(SeriesRow, series_id) if series_id is not None else None
    if series is None:
        return Unmatched("unknown-session", reply.uid[:200])
    member = session.scalar(select(MemberRow).where(func.lower(MemberRow.email) == reply.attendee))
    if member is None or member.id not in store.members_told(session, [reply.uid]):
        return Unmatched("not-invited", reply.attendee[:320])
    sent = store.requests_sent(session, reply.uid, member_id=member.id, webhook_id=None)
    latest = max((sequence for _, sequence in sent), default=0)
    if reply.sequence < latest:
        return Unmatched("older-sequence", f"{reply.sequence} < {latest}")
    answered_at = reply.stamp or now
    earlier = session.scalar(
        select(RsvpRow).where(RsvpRow.member_id == member.id, RsvpRow.occurrence_uid == reply.uid)
    )
    if earlier is not None:
        if earlier.response == reply.response and earlier.responded_at == answered_at:
            return Applied(str(member.id), reply.uid, reply.response, changed=False)
        if earlier.responded_at > answered_at:
            return Unmatched("older-than-answer", earlier.responded_at.isoformat())
    record_rsvp(
        session,
        series,
        member.id,
        reply.uid,
        reply.response,
        answered_at,
        source="calendar",
        user_agent=reply.client,
    )
    return Applied(str(member.id), reply.uid, reply.response, changed=True)
