"""The channel seam: anything that delivers a notice to a person or a group.

A channel turns a :class:`~workers.letters.Letter` (what one notice says, to whom) into what it
sends (``compose``), hands that over (``send``), and says what a failure means: a
:class:`TransientSendError` is tried again later with backoff, a :class:`PermanentSendError`
fails the notice; both carry the reason code the notice keeps. Each channel has its own mapping
from what its server answered to those two. The worker runtime picks the channel by the notice's
``channel`` column and never branches on what kind of channel it is, so a new channel (an SMS
gateway, a WeCom app message to one member) is one new module registered in
:func:`workers.channels.make_channels`.
"""

from __future__ import annotations

from typing import Any, Protocol

from schemas.reasons import Reason


class SendError(Exception):
    """A send that did not go through, with the reason code the notice will carry."""

    def __init__(self, why: Reason) -> None:
        super().__init__(f"{why.code.value} {why.params}")
        self.reason = why


class TransientSendError(SendError):
    """Try again later: SMTP 4xx, connection refused, timeouts, HTTP 429 and 5xx, rate limits."""


class PermanentSendError(SendError):
    """Never going to work: SMTP 5xx, an address the relay refuses, a robot that rejects the post."""


class Channel(Protocol):
    """Delivers notices on one channel (the ``notices.channel`` value it serves is ``name``)."""

    name: str

    def compose(self, letter: Any) -> Any:
        """What this channel sends for ``letter`` (an email, a robot post); pure, no I/O."""
        ...

    def send(self, outgoing: Any) -> str:
        """Hand it over; the channel's id for what it accepted, or one of the errors above."""
        ...

    def close(self) -> None:
        """Let go of connections kept open between sends."""
        ...
