"""The file outbox: each email as an ``.eml`` file, the embedded default (no SMTP needed)."""

from __future__ import annotations

import os
import threading
from email.message import EmailMessage
from pathlib import Path

from schemas.reasons import ReasonCode, reason
from workers.channels.base import PermanentSendError


class FileOutbox:
    """Writes ``<outbox>/<Message-ID local part>.eml`` atomically (temp file, then rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> str:
        message_id = str(message["Message-ID"] or "").strip("<>")
        if not message_id:
            raise PermanentSendError(reason(ReasonCode.OUTBOX_FAILED, error="the message has no Message-ID"))
        name = message_id.split("@", 1)[0]
        target = self.directory / f"{name}.eml"
        temporary = target.with_suffix(".eml.tmp")
        data = message.as_bytes()
        with self._lock:
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(target)
        return f"file:{target.name}"

    def close(self) -> None:
        return None
