"""Why a notice was skipped, cancelled or failed, or waits to be tried again: a code and its
parameters (an SMTP reply, a sequence number), never a sentence.

The notices table stores ``reason_code`` and ``reason_params``; the console, the API
(``last_error``, in English) and the logs render them through the catalogs' ``reason.<code>``
entries, so rewording a sentence can never lose its translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ReasonCode(StrEnum):
    # the planner: the notice is no longer owed
    SESSION_CANCELLED = "session-cancelled"
    SESSION_GONE = "session-gone"  # the rule or dates changed and the session no longer exists
    UNSUBSCRIBED = "unsubscribed"
    SESSION_ON_AGAIN = "session-on-again"  # a pending cancellation of a session that was restored
    SUPERSEDED = "superseded"  # {sequence}: a newer update replaces this one
    REMINDER_REMOVED = "reminder-removed"
    NEVER_INVITED = "never-invited"
    # the dispatcher
    STARTED = "started"  # {kind, starts_at}: it came due after the session began
    FOLLOWUP_TOO_LATE = "followup-too-late"  # {days}
    DIGEST_TOO_LATE = "digest-too-late"  # {days}: the monthly digest came due that long ago
    NOT_CONFIRMED = "not-confirmed"  # {detail}: the broker did not confirm the publish
    LEASE_EXPIRED = "lease-expired"
    RESTORED = "restored"  # in flight when the backup that was restored was taken
    # the worker, checking the facts before sending
    RECIPIENT_GONE = "recipient-gone"
    NEVER_TOLD = "never-told"
    CANCELLED_BEFORE_SEND = "cancelled-before-send"
    ALREADY_TOLD = "already-told"  # {sequence}
    DECLINED = "declined"
    NOT_ACCEPTED = "not-accepted"
    WAITLISTED = "waitlisted"  # a reminder for a member waiting for a seat
    OFFER_OVER = "offer-over"  # the seat offered was taken up, passed on or given back already
    NOT_WAITLISTED = "not-waitlisted"  # no longer on the waiting list (a seat, or they left it)
    ANSWERED = "answered"  # a reminder to answer, for a member who answered since
    UNDELIVERABLE = "undeliverable"  # {since, detail}: the member's address bounced for good
    # inbound mail
    BOUNCED = "bounced"  # {hard, detail}: the member's mail server refused it after accepting
    RENDER_FAILED = "render-failed"  # {error}
    # channels: what the mail relay or the chat platform answered
    SMTP_REPLY = "smtp-reply"  # {code, text}
    SMTP_RECIPIENTS = "smtp-recipients"  # {code, detail}: the relay refused or deferred recipients
    SMTP_CONNECTION = "smtp-connection"  # {error}
    OUTBOX_FAILED = "outbox-failed"  # {error}
    WEBHOOK_HTTP = "webhook-http"  # {format, status}
    WEBHOOK_UNREACHABLE = "webhook-unreachable"  # {format, error}
    WEBHOOK_ERROR = "webhook-error"  # {format, code, body}: an error code in a 200 answer
    WEBHOOK_LOCAL_TARGET = "webhook-local-target"  # {format, address}: refused, not sent
    # ends and restarts
    GAVE_UP = "gave-up"  # {attempts, last: {code, params}}
    POISON = "poison"  # {detail}: a message no worker can read
    DEAD_LETTERED_LIMIT = "dead-lettered-limit"  # {queue}: delivered too often without an answer
    DEAD_LETTERED_REJECTED = "dead-lettered-rejected"  # {queue}: a worker rejected it
    DEAD_LETTERED = "dead-lettered"  # {queue, why}: RabbitMQ's own word for why
    STAFF_RETRY = "staff-retry"  # {by, at, before: {code, params}}
    RECORDED = "recorded"  # {text}: a reason written before reasons were codes


@dataclass(frozen=True)
class Reason:
    """A reason code with its parameters (JSON-safe values only)."""

    code: ReasonCode
    params: dict[str, Any] = field(default_factory=dict)

    def as_param(self) -> dict[str, Any]:
        """This reason as the parameter of another (``gave-up``'s ``last``)."""
        return {"code": self.code.value, "params": self.params}


def reason(code: ReasonCode, /, **params: Any) -> Reason:
    return Reason(code, params)
