"""Email through an SMTP relay: ``smtp://``, ``smtp+starttls://``, ``smtps://`` with optional credentials.

Connections are kept open and reused across messages (a relay is much faster per message on an
open session), one per concurrent sender up to ``connections``; a connection that saw any error
is dropped and a fresh one opened for the next message. Replies are classified as RFC 5321 says: 4xx
and connection trouble are transient, 5xx permanent.
"""

from __future__ import annotations

import queue
import smtplib
import ssl
import threading
from email.message import Message
from urllib.parse import unquote, urlsplit

from schemas.reasons import ReasonCode, reason
from workers.channels.base import PermanentSendError, TransientSendError
from workers.channels.email import MailChannel

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpChannel(MailChannel):
    def __init__(self, url: str, *, mail_from: str, timeout: float = 30.0, connections: int = 1) -> None:
        super().__init__(mail_from=mail_from)
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
        self._idle: queue.LifoQueue[smtplib.SMTP] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max(1, connections))

    def connect(self) -> smtplib.SMTP:
        """An open session with the relay: TLS as the URL says, logged in (`exsched doctor` checks
        the relay with it and sends nothing)."""
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

    def send(self, message: Message) -> str:
        envelope_from = envelope_sender(message)
        with self._slots:
            try:
                client = self._idle.get_nowait()
            except queue.Empty:
                client = None
            try:
                if client is None:
                    client = self.connect()
                refused = client.send_message(message, from_addr=envelope_from)
            except smtplib.SMTPRecipientsRefused as exc:
                _quit(client)
                codes = [code for code, _ in exc.recipients.values()]
                detail = "; ".join(
                    f"{rcpt}: {code} {msg.decode(errors='replace')}"
                    for rcpt, (code, msg) in exc.recipients.items()
                )
                why = reason(ReasonCode.SMTP_RECIPIENTS, code=max(codes), detail=detail)
                if all(400 <= code < 500 for code in codes):
                    raise TransientSendError(why) from exc
                raise PermanentSendError(why) from exc
            except smtplib.SMTPResponseException as exc:
                _quit(client)
                error = exc.smtp_error
                text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
                why = reason(ReasonCode.SMTP_REPLY, code=exc.smtp_code, text=text)
                if 400 <= exc.smtp_code < 500:
                    raise TransientSendError(why) from exc
                raise PermanentSendError(why) from exc
            except (smtplib.SMTPException, OSError) as exc:
                _quit(client)
                raise TransientSendError(reason(ReasonCode.SMTP_CONNECTION, error=repr(exc))) from exc
            self._idle.put(client)
            if refused:
                detail = "; ".join(f"{rcpt}: {code}" for rcpt, (code, _) in refused.items())
                codes = [code for code, _ in refused.values()]
                raise PermanentSendError(reason(ReasonCode.SMTP_RECIPIENTS, code=max(codes), detail=detail))
            return str(message["Message-ID"])

    def close(self) -> None:
        while True:
            try:
                _quit(self._idle.get_nowait())
            except queue.Empty:
                return


def envelope_sender(message: Message) -> str | None:
    """The ``MAIL FROM`` a composed message asks for (its ``Return-Path``, which is taken out: the
    receiving server writes that header); None: smtplib's default, the From address."""
    value = message["Return-Path"]
    if value is None:
        return None
    del message["Return-Path"]
    return str(value).strip().strip("<>") or None


def _quit(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
