"""Email into the file outbox: each message an ``.eml`` file, the embedded default (no SMTP)."""

from __future__ import annotations

import os
import threading
from email.message import Message
from pathlib import Path

from schemas.reasons import ReasonCode, reason
from workers.channels.base import PermanentSendError, TransientSendError
from workers.channels.email import MailChannel


class FileOutbox(MailChannel):
    """Writes ``<outbox>/<Message-ID local part>.eml`` atomically (temp file, then rename)."""

    def __init__(self, directory: Path, *, mail_from: str) -> None:
        super().__init__(mail_from=mail_from)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def send(self, message: Message) -> str:
        message_id = str(message["Message-ID"] or "").strip("<>")
        if not message_id:
            raise PermanentSendError(reason(ReasonCode.OUTBOX_FAILED, error="the message has no Message-ID"))
        name = message_id.split("@", 1)[0]
        target = self.directory / f"{name}.eml"
        temporary = target.with_suffix(".eml.tmp")
        data = message.as_bytes()
        try:
            with self._lock:
                with temporary.open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                temporary.replace(target)
        except OSError as exc:  # a full disk, a folder taken away: worth another try later
            raise TransientSendError(reason(ReasonCode.OUTBOX_FAILED, error=str(exc))) from exc
        return f"file:{target.name}"
