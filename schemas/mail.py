"""A plain email the web layer asks to be sent (a sign-in link, a confirmation): what it says,
not how it leaves. The composition root hands the app a postman that sends it through the
workers' mail channel (SMTP, or the file outbox)."""

from __future__ import annotations

from dataclasses import dataclass


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
