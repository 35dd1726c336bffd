"""Where a notice leaves the system: email (an SMTP relay or the file outbox) and chapter chat
groups. :func:`make_channels` is the registry the worker runtime picks from, by each notice's
``channel``."""

from __future__ import annotations

from scheduler.ops.config import Settings
from workers.channels.base import Channel, PermanentSendError, TransientSendError
from workers.channels.chat import ChatGroupChannel
from workers.channels.email import MailChannel
from workers.channels.outbox import FileOutbox
from workers.channels.smtp import SmtpChannel

__all__ = [
    "Channel",
    "PermanentSendError",
    "TransientSendError",
    "mail_channel",
    "make_channels",
]


def mail_channel(settings: Settings) -> MailChannel:
    """SMTP when ``EXSCHED_SMTP_URL`` is set (a connection per parallel send), else the file outbox."""
    if settings.smtp_url:
        return SmtpChannel(
            settings.smtp_url, mail_from=settings.mail_from, connections=settings.worker_concurrency
        )
    return FileOutbox(settings.outbox_dir, mail_from=settings.mail_from)


def make_channels(settings: Settings, *, mail: MailChannel | None = None) -> dict[str, Channel]:
    """Every channel a notice can go out on, by the name the notices table stores."""
    channels: list[Channel] = [
        mail or mail_channel(settings),
        ChatGroupChannel(local_ok=settings.robot_local_targets),
    ]
    return {channel.name: channel for channel in channels}
