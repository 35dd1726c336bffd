"""The channel seam: send one email, say whether a failure is worth retrying."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from schemas.reasons import Reason


class SendError(Exception):
    """A send that did not go through, with the reason code the notice will carry."""

    def __init__(self, why: Reason) -> None:
        super().__init__(f"{why.code.value} {why.params}")
        self.reason = why


class TransientSendError(SendError):
    """Try again later: SMTP 4xx, connection refused, timeouts."""


class PermanentSendError(SendError):
    """Never going to work: SMTP 5xx, an address the relay refuses."""


class Channel(Protocol):
    """Delivers rendered emails. ``send`` returns the channel's id for what it accepted."""

    def send(self, message: EmailMessage) -> str:
        """Hand ``message`` over; raise one of the errors above when it was not accepted."""
        ...

    def close(self) -> None: ...
