"""The bus contract: topology names and the versioned notice envelope.

One place knows the names (docs/architecture.md, "Bus topology"); the RabbitMQ adapter, the in-process bus,
the deploy definitions and the workers all read them from here.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.names import Channel, NoticeKind

EXCHANGE = "exsched.notices"  # topic, durable
DEAD_EXCHANGE = "exsched.dead"  # fanout, durable
DEAD_QUEUE = "exsched.dead-letters"
SCHEMA_HEADER = "x-exsched-schema"
TRACE_HEADER = "x-exsched-trace-id"
#: Deliveries of one message before RabbitMQ dead-letters it (quorum queue ``x-delivery-limit``).
DELIVERY_LIMIT = 5
ENVELOPE_VERSION = 1

#: Worker roles, each with its own quorum queue, and the notice kinds routed to it. Invitations,
#: updates, cancellations, the seat notices (offers, waiting list) and staff's messages about a
#: session share a queue: they are all messages about the same events. The monthly digest goes
#: with the follow-ups: both look back, and neither is in a hurry.
ROLES: dict[str, tuple[NoticeKind, ...]] = {
    "invitations": (
        NoticeKind.INVITATION,
        NoticeKind.UPDATE,
        NoticeKind.CANCELLATION,
        NoticeKind.OFFER,
        NoticeKind.WAITLISTED,
        NoticeKind.BOUNCE,
        NoticeKind.MESSAGE,
        NoticeKind.NUDGE,
        NoticeKind.ALERT,
    ),
    "reminders": (NoticeKind.REMINDER,),
    "followups": (NoticeKind.FOLLOWUP, NoticeKind.DIGEST),
}


def routing_key(kind: NoticeKind | str) -> str:
    return f"notice.{NoticeKind(kind).value}"


def queue_name(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown worker role {role!r}; one of {', '.join(ROLES)}")
    return f"exsched.{role}"


def role_of(kind: NoticeKind | str) -> str:
    return next(role for role, kinds in ROLES.items() if NoticeKind(kind) in kinds)


def bindings() -> list[tuple[str, str]]:
    """(queue, routing key) pairs to bind on :data:`EXCHANGE`."""
    return [(queue_name(role), routing_key(kind)) for role, kinds in ROLES.items() for kind in kinds]


class NoticeEnvelope(BaseModel):
    """What travels on the bus: a pointer to a notice row, not its content.

    The database is the source of truth (docs/architecture.md, principle 1): a worker loads the notice, the
    occurrence and the member by these ids and renders what is current. ``sequence`` is the
    calendar SEQUENCE the notice was planned with, so a stale message can be recognised.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    notice_id: uuid.UUID
    kind: NoticeKind
    channel: Channel
    series_id: uuid.UUID | None = None  # None only for a digest (it belongs to no session)
    member_id: uuid.UUID | None = None  # exactly one of member_id, webhook_id and staff_id
    webhook_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    occurrence_uid: str
    recurrence_id: datetime
    sequence: int
    slot: str = ""
    due_at: datetime
    attempt: int
    trace_id: str


def _instant(value: datetime) -> str:
    """An instant as the envelope writes it (pydantic's form: ``Z`` for UTC)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def envelope_json(
    *,
    notice_id: uuid.UUID,
    kind: str,
    channel: str,
    series_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    webhook_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    occurrence_uid: str,
    recurrence_id: datetime,
    sequence: int,
    slot: str,
    due_at: datetime,
    attempt: int,
    trace_id: str,
) -> bytes:
    """The body of a :class:`NoticeEnvelope`, written straight from a claimed notice's values —
    what ``NoticeEnvelope(...).model_dump_json()`` writes, without building and validating a
    model for every notice (the dispatcher publishes thousands a second; the values come from the
    notices table, whose constraints already hold them to the contract; the worker validates)."""
    return json.dumps(
        {
            "version": ENVELOPE_VERSION,
            "notice_id": str(notice_id),
            "kind": kind,
            "channel": channel,
            "series_id": _id(series_id),
            "member_id": _id(member_id),
            "webhook_id": _id(webhook_id),
            "staff_id": _id(staff_id),
            "occurrence_uid": occurrence_uid,
            "recurrence_id": _instant(recurrence_id),
            "sequence": sequence,
            "slot": slot,
            "due_at": _instant(due_at),
            "attempt": attempt,
            "trace_id": trace_id,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
