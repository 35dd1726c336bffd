"""Where a rendered notice leaves the system: an SMTP relay or the file outbox."""

from workers.channels.base import Channel, PermanentSendError, TransientSendError

__all__ = ["Channel", "PermanentSendError", "TransientSendError"]
