"""SMTP relay channel: ``smtp://``, ``smtp+starttls://``, ``smtps://`` with optional credentials.

One connection is kept and reused across messages (a relay is much faster per message on an
open session); it is reopened after any error. Replies are classified as RFC 5321 says: 4xx
and connection trouble are transient, 5xx permanent.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from workers.channels.base import PermanentSendError, TransientSendError

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpChannel:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError(
                f"EXSCHED_SMTP_URL scheme must be one of {', '.join(SCHEMES)}, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ValueError("EXSCHED_SMTP_URL needs a host, e.g. smtp+starttls://user:pass@relay:587")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or SCHEMES[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
        if self.username:
            client.login(self.username, self.password or "")
        return client

    def send(self, message: EmailMessage) -> str:
        with self._lock:
            try:
                if self._client is None:
                    self._client = self._connect()
                refused = self._client.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset()
                codes = [code for code, _ in exc.recipients.values()]
                detail = "; ".join(
                    f"{rcpt}: {code} {msg.decode(errors='replace')}"
                    for rcpt, (code, msg) in exc.recipients.items()
                )
                if all(400 <= code < 500 for code in codes):
                    raise TransientSendError(f"recipient deferred: {detail}") from exc
                raise PermanentSendError(f"recipient refused: {detail}") from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                text = (
                    exc.smtp_error.decode(errors="replace")
                    if isinstance(exc.smtp_error, bytes)
                    else str(exc.smtp_error)
                )
                if 400 <= exc.smtp_code < 500:
                    raise TransientSendError(f"SMTP {exc.smtp_code} {text}") from exc
                raise PermanentSendError(f"SMTP {exc.smtp_code} {text}") from exc
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                self._reset()
                raise TransientSendError(f"SMTP connection problem: {exc!r}") from exc
            if refused:
                raise PermanentSendError(f"recipients refused: {refused}")
            return str(message["Message-ID"])

    def _reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def close(self) -> None:
        with self._lock:
            self._reset()
