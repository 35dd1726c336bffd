"""Mail contracts: a plain email the web layer asks to be sent (a sign-in link, a confirmation:
what it says, not how it leaves — the composition root hands the app a postman that sends it
through the workers' mail channel), and the VERP return path that lets a bounce name the notice
it is about (the workers write it, the inbound process reads it)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass


def verp(bounce_address: str | None, notice_id: uuid.UUID) -> str:
    """The envelope sender of one notice's email: ``bounce@d`` → ``bounce+<notice-id>@d``, so a
    bounce names the notice it is about; "" when no bounce address is configured."""
    if not bounce_address:
        return ""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{notice_id}@{domain}"


_VERP = re.compile(r"\+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@", re.IGNORECASE)


def notice_of(address: str) -> uuid.UUID | None:
    """The notice a VERP address names (``bounce+<notice-id>@d``), or None."""
    found = _VERP.search(address)
    return uuid.UUID(found.group(1)) if found else None


@dataclass(frozen=True)
class PlainMail:
    to_name: str
    to_email: str
    subject: str
    text: str
    html: str
    #: names the message (its Message-ID is derived from it): sending the same key again is
    #: recognisably the same message
    key: str
