"""Applying what came back: a calendar app's reply (the member's answer, through the same path
as a link's), or a bounce (the notice ``bounced``, the member's address counted).

A reply counts only if its UID is a session's and its attendee a member invited to that session
(case-insensitive address). A reply to an older SEQUENCE than the member was last sent is
ignored (it answers what the session was, not what it is); so is one older than the member's
latest answer (the last human action wins, by the reply's DTSTAMP). Applying the same mail twice
changes nothing: the second finds the answer it would record already there. An accept when every
seat is taken joins the waiting list, as from any other way of answering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import ChapterWebhookRow, MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.domain import deliverability
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.series import occurrence_at
from scheduler.inbound.bounces import Bounce
from scheduler.inbound.replies import Reply
from scheduler.notices import store
from scheduler.notices.answers import answer
from schemas.ids import notice_id, recurrence_of_uid
from schemas.names import Channel, NoticeKind
from schemas.reasons import ReasonCode, reason


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


def apply_reply(
    session: Session, reply: Reply, now: datetime, holidays: HolidayCalendar
) -> Applied | Unmatched:
    series_id = session.scalar(
        select(NoticeRow.series_id).where(NoticeRow.occurrence_uid == reply.uid).limit(1)
    )
    series = session.get(SeriesRow, series_id) if series_id is not None else None
    try:
        occurrence = occurrence_at(series, recurrence_of_uid(reply.uid), holidays) if series else None
    except ValueError:
        occurrence = None
    if series is None or occurrence is None:
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
        # an accept may have been put on the waiting list: that is the answer it gave
        same = earlier.response == reply.response or (earlier.response, reply.response) == (
            "waitlisted",
            "accepted",
        )
        if same and earlier.responded_at == answered_at:
            return Applied(str(member.id), reply.uid, earlier.response, changed=False)
        if earlier.responded_at > answered_at:
            return Unmatched("older-than-answer", earlier.responded_at.isoformat())
    done = answer(
        session,
        series,
        occurrence,
        member.id,
        reply.response,
        now,
        source="calendar",
        user_agent=reply.client,
        answered_at=answered_at,
    )
    return Applied(str(member.id), reply.uid, done.standing.response, changed=True)


@dataclass(frozen=True)
class Bounced:
    member_id: str
    occurrence_uid: str
    hard: bool
    undeliverable: bool  # the address has just become undeliverable (the chapter's group is told)
    changed: bool  # False: this notice had bounced already (the same bounce read twice)


def apply_bounce(session: Session, bounce: Bounce, now: datetime) -> Bounced | Unmatched:
    """A bounce for a notice the association sent a member: the notice is ``bounced`` with what the
    server said, and the member's address counts one bounce more (undeliverable when it is for
    good, or after too many temporary ones), and if it just became undeliverable the chapter's
    chat groups are told. A bounce that names an address other than the member's (a mail
    forwarded on, and refused there) is kept for staff, not counted."""
    notice = session.get(NoticeRow, bounce.notice_id)
    if notice is None:
        return Unmatched("unknown-notice", str(bounce.notice_id))
    member = session.get(MemberRow, notice.member_id) if notice.member_id else None
    if member is None:
        return Unmatched("not-a-member", str(bounce.notice_id))
    if bounce.recipients and member.email.lower() not in bounce.recipients:
        return Unmatched("other-address", ", ".join(sorted(bounce.recipients))[:320])
    why = reason(ReasonCode.BOUNCED, hard=bounce.hard, detail=bounce.detail)
    if not store.bounce(session, notice.id, why, now):
        return Bounced(str(member.id), notice.occurrence_uid, bounce.hard, undeliverable=False, changed=False)
    newly = deliverability.mark_bounced(member, hard=bounce.hard, detail=bounce.detail, now=now)
    if newly:
        _tell_chapter(session, notice, member, now)
    return Bounced(str(member.id), notice.occurrence_uid, bounce.hard, undeliverable=newly, changed=True)


def _tell_chapter(session: Session, notice: NoticeRow, member: MemberRow, now: datetime) -> None:
    """A ``bounce`` notice to each of the chapter's chat groups, due now; the dispatcher sends it
    like any other. Its slot names the member; its id, the member and the moment their address
    became undeliverable (so a later bounce, after a fix, is told again)."""
    groups = session.scalars(
        select(ChapterWebhookRow.id).where(
            ChapterWebhookRow.chapter == member.chapter, ChapterWebhookRow.enabled.is_(True)
        )
    ).all()
    slot, moment = member.id.hex, int(now.timestamp())
    store.plan(
        session,
        [
            store.NewNotice(
                id=notice_id(
                    notice.occurrence_uid, group, NoticeKind.BOUNCE.value, Channel.WEBHOOK.value, moment, slot
                ),
                series_id=notice.series_id,
                member_id=None,
                webhook_id=group,
                occurrence_uid=notice.occurrence_uid,
                recurrence_id=notice.recurrence_id,
                kind=NoticeKind.BOUNCE,
                slot=slot,
                channel=Channel.WEBHOOK.value,
                sequence=0,
                due_at=now,
                starts_at=notice.starts_at or notice.recurrence_id,
            )
            for group in groups
        ],
        now,
    )
