"""Whether a member's email address can be written to: a hard bounce (the address does not
exist, the mailbox is closed) marks it undeliverable at once; temporary failures (a full
mailbox, a server that is down) count, and :data:`SOFT_LIMIT` of them in a row mark it too. Email
notices to an undeliverable address are skipped with the reason until the address is changed
(by staff, or by the member) or staff clear the mark."""

from __future__ import annotations

from datetime import datetime

from scheduler.db.models import MemberRow

#: Temporary failures in a row that make an address undeliverable.
SOFT_LIMIT = 3


def mark_bounced(member: MemberRow, *, hard: bool, detail: str, now: datetime) -> bool:
    """Record a bounce of the member's address; True when it has just become undeliverable."""
    member.last_bounce_at = now
    member.bounce_detail = detail
    if not hard:
        member.soft_bounces = (member.soft_bounces or 0) + 1
    if member.undeliverable_at is not None:
        return False
    if hard or member.soft_bounces >= SOFT_LIMIT:
        member.undeliverable_at = now
        return True
    return False


def clear(member: MemberRow) -> None:
    """The address was fixed (changed, or confirmed by staff): write to it again."""
    member.undeliverable_at = None
    member.bounce_detail = None
    member.soft_bounces = 0
