"""Mail out and mail back: the SMTP relay accepts exsched's envelope sender (asked without sending
anything: MAIL FROM and RCPT TO, then RSET), the reply and bounce addresses are set and the
inbound process answers; with ``--mail-loop``, a test mail to each address must come back
through the relay and the MTA to ``serve inbound``."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from sqlalchemy import func, select

from scheduler.db.models import InboundMailRow
from scheduler.db.session import Database
from scheduler.doctor.findings import Finding, fail, first_line, ok, warn, without_password
from scheduler.inbound.listener import listen_address
from scheduler.ops.config import Settings
from schemas.mail import verp
from workers.channels.smtp import SmtpChannel

ROUTING_FIX = (
    "route the address to `exsched serve inbound` in your MTA (deploy/README.md, "
    "'Routing replies and bounces to exsched'), or read it by IMAP (EXSCHED_INBOUND_IMAP_URL)"
)


def envelope_sender(settings: Settings) -> str:
    """The MAIL FROM a worker uses: a notice's VERP bounce address, or the From address."""
    return verp(settings.bounce_address, uuid.UUID(int=0)) or parseaddr(settings.mail_from)[1]


def smtp(settings: Settings) -> Finding:
    if not settings.smtp_url:
        return warn(
            "smtp",
            f"EXSCHED_SMTP_URL is not set: emails are written as files to {settings.outbox_dir}, not sent",
            "set EXSCHED_SMTP_URL=smtp+starttls://user:password@relay:587 (or smtps://…:465)",
        )
    shown = without_password(settings.smtp_url)
    sender, from_address = envelope_sender(settings), parseaddr(settings.mail_from)[1]
    try:
        channel = SmtpChannel(settings.smtp_url, mail_from=settings.mail_from, timeout=10)
    except ValueError as exc:
        return fail("smtp", str(exc), "correct EXSCHED_SMTP_URL")
    try:
        client = channel.connect()
    except smtplib.SMTPAuthenticationError as exc:
        return fail(
            "smtp",
            f"{shown}: the relay refused the user name or password ({exc.smtp_code})",
            "check the user and password in EXSCHED_SMTP_URL",
        )
    except smtplib.SMTPNotSupportedError:
        return fail(
            "smtp",
            f"{shown}: the relay does not offer STARTTLS",
            "use smtps:// (port 465) if it speaks TLS from the start, or ask for STARTTLS",
        )
    except ssl.SSLError as exc:
        return fail(
            "smtp", f"{shown}: TLS failed: {first_line(exc)}", "check the host name and its certificate"
        )
    except (OSError, smtplib.SMTPException) as exc:
        return fail(
            "smtp",
            f"{shown}: no SMTP server answers ({first_line(exc)})",
            "check the host and port in EXSCHED_SMTP_URL and that this machine may reach it",
        )
    try:
        client.ehlo_or_helo_if_needed()
        code, answer = client.mail(sender)
        if code != 250:
            return fail(
                "smtp",
                f"the relay refuses {sender} as the sender: {code} {answer.decode(errors='replace')}",
                "let exsched's relay account send as that address's domain (EXSCHED_BOUNCE_ADDRESS, "
                "EXSCHED_MAIL_FROM)",
            )
        code, answer = client.rcpt(from_address)
        if code not in (250, 251):
            return fail(
                "smtp",
                f"the relay refuses mail to {from_address}: {code} {answer.decode(errors='replace')}",
                "let exsched's relay account send mail (check its rights at the relay)",
            )
        client.rset()
    except (OSError, smtplib.SMTPException) as exc:
        return fail("smtp", f"{shown}: {first_line(exc)}", "check the relay's log")
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    tls = {"smtps": "TLS", "smtp+starttls": "STARTTLS"}.get(channel.scheme, "no TLS")
    login = f"as {channel.username}" if channel.username else "without a login"
    return ok("smtp", f"{shown} ({tls}, {login}) accepts {sender} as the sender; nothing was sent")


def inbound(settings: Settings, db: Database | None, *, looping: bool = False) -> list[Finding]:
    """The addresses set, the listener answering, and (unless a mail loop follows, which says
    more) when mail was last taken in."""
    found: list[Finding] = []
    for name, value, meant in (
        ("EXSCHED_REPLY_ADDRESS", settings.reply_address, "calendar apps' replies go to the organizer"),
        ("EXSCHED_BOUNCE_ADDRESS", settings.bounce_address, "bounces go to the From address"),
    ):
        if not value:
            found.append(
                warn(
                    "inbound",
                    f"{name} is not set: {meant}, and exsched never sees them",
                    f"set {name} to an address of yours and {ROUTING_FIX}",
                )
            )
    if settings.inbound_listen:
        found.append(_listening(settings.inbound_listen, settings.inbound_protocol))
    elif not settings.inbound_imap_url:
        found.append(
            warn(
                "inbound",
                "neither EXSCHED_INBOUND_LISTEN nor EXSCHED_INBOUND_IMAP_URL is set here",
                "the machine that runs `exsched serve inbound` needs one of them",
            )
        )
    if db is not None and not looping:
        with db.session() as session:
            last = session.scalar(select(func.max(InboundMailRow.received_at)))
        if last is None:
            found.append(warn("inbound", "no mail has been taken in yet", "run `exsched doctor --mail-loop`"))
        else:
            ago = datetime.now(UTC) - last
            found.append(ok("inbound", f"the last mail was taken in {_ago(ago)} ago"))
    return found


def _listening(listen: str, protocol: str) -> Finding:
    try:
        host, port = listen_address(listen)
    except ValueError as exc:
        return fail("inbound", str(exc), "correct EXSCHED_INBOUND_LISTEN (host:port)")
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (where to knock, not to bind)
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            greeting = sock.recv(512).decode(errors="replace").strip()
    except OSError as exc:
        return fail(
            "inbound",
            f"nothing answers on {host}:{port} ({first_line(exc)})",
            "start `exsched serve inbound` (the MTA delivers replies and bounces to it there)",
        )
    if not greeting.startswith("220"):
        return fail(
            "inbound", f"{host}:{port} answered {greeting[:80]!r}, not an SMTP/LMTP greeting", ROUTING_FIX
        )
    return ok("inbound", f"`serve inbound` answers on {host}:{port} ({protocol.upper()})")


def mail_loop(
    settings: Settings,
    db: Database | None,
    *,
    wait: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Finding]:
    """A test mail through the relay to the reply address and to a bounce address; each must be
    taken in by ``serve inbound`` within ``wait`` seconds."""
    if db is None or not settings.smtp_url:
        return [fail("mail loop", "needs the database and EXSCHED_SMTP_URL", "fix those first")]
    targets = [a for a in (settings.reply_address, verp(settings.bounce_address, uuid.UUID(int=0))) if a]
    if not targets:
        return [fail("mail loop", "no reply or bounce address to send to", "set EXSCHED_REPLY_ADDRESS")]
    channel = SmtpChannel(settings.smtp_url, mail_from=settings.mail_from, timeout=30)
    sent: dict[str, tuple[str, datetime]] = {}
    for address in targets:
        message = EmailMessage()
        message["From"], message["To"] = settings.mail_from, address
        message["Subject"] = "exsched doctor: routing test (not a reply; safe to ignore)"
        message["Message-ID"] = make_msgid("doctor")
        message.set_content(
            "exsched doctor checks that mail to this address reaches `exsched serve inbound`.\n"
        )
        try:
            channel.send(message)
        except Exception as exc:
            return [fail("mail loop", f"could not send to {address}: {first_line(exc)}", "see the smtp line")]
        sent[address] = (str(message["Message-ID"])[:255], datetime.now(UTC))
    channel.close()
    found: list[Finding] = []
    deadline = time.monotonic() + wait
    waiting = dict(sent)
    while waiting and time.monotonic() < deadline:
        with db.session() as session:
            seen = set(
                session.scalars(
                    select(InboundMailRow.message_id).where(
                        InboundMailRow.message_id.in_([m for m, _ in waiting.values()])
                    )
                )
            )
        for address, (message_id, at) in list(waiting.items()):
            if message_id in seen:
                took = datetime.now(UTC) - at
                found.append(ok("mail loop", f"mail to {address} reached `serve inbound` in {_ago(took)}"))
                del waiting[address]
        if waiting:
            sleep(1.0)
    for address in waiting:
        found.append(
            fail(
                "mail loop",
                f"mail to {address} did not reach `serve inbound` within {wait:.0f} s",
                ROUTING_FIX,
            )
        )
    return found


def _ago(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
