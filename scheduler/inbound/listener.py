"""``exsched serve inbound``'s mail listener: LMTP (what an MTA's transport delivers to, e.g.
Postfix ``transport_maps``: ``sessions+reply@assoc.example lmtp:inet:127.0.0.1:2525``) or SMTP,
on ``EXSCHED_INBOUND_LISTEN``. Every mail is accepted (250) once it is taken in — a reply that
does not match is kept for staff, not bounced back — and mail larger than the limit is refused
(552) before it is read."""

from __future__ import annotations

from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.inbound.intake import take_in
from scheduler.inbound.replies import MAX_BYTES
from scheduler.ops.clock import utcnow

log = structlog.get_logger(__name__)


class Intake:
    """The aiosmtpd handler: each mail's bytes to :func:`take_in`."""

    def __init__(self, db: Database, holidays: HolidayCalendar) -> None:
        self.db = db
        self.holidays = holidays

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, take_in, self.db, raw, utcnow(), self.holidays, list(envelope.rcpt_tos)
            )
        except Exception:  # the database away: let the sending MTA try again later
            log.exception("inbound_mail_failed")
            return "451 4.3.0 Try again later"
        return "250 2.0.0 OK"


class Listener(Controller):
    """LMTP or SMTP on ``host:port``, in a thread of its own."""

    def __init__(
        self, db: Database, holidays: HolidayCalendar, host: str, port: int, *, lmtp: bool = True
    ) -> None:
        super().__init__(Intake(db, holidays), hostname=host, port=port)
        self.lmtp = lmtp

    def factory(self) -> SMTP:
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, data_size_limit=MAX_BYTES, enable_SMTPUTF8=True)


def listen_address(value: str) -> tuple[str, int]:
    """``127.0.0.1:2525`` → (host, port); a clear error for anything else."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"EXSCHED_INBOUND_LISTEN must be host:port, e.g. 127.0.0.1:2525 (got {value!r})")
    return host.strip("[]"), int(port)
