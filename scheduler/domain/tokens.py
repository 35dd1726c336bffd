"""Signed, expiring tokens for links in emails (RSVP, follow-up forms).

``payload.signature``, both unpadded base64url, each in its one canonical spelling: the payload
is compact JSON, the signature an
HMAC-SHA256 under ``EXSCHED_SECRET_KEY`` with a purpose prefix, so a token made for one purpose
is never accepted for another. 256-bit signatures make them unguessable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any


class InvalidToken(ValueError):
    """Malformed, forged, expired, or made for another purpose."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: str, payload: dict[str, Any], expires: datetime) -> str:
    body = _b64(json.dumps({**payload, "exp": int(expires.timestamp())}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: str, purpose: str, token: str, now: datetime | None = None) -> dict[str, Any]:
    try:
        body, mac = token.split(".")
        expected = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
        # compared as text: one token has one spelling (a decoder would also take padding, stray
        # characters and other values in the last character's unused bits)
        if not hmac.compare_digest(_b64(expected).encode(), mac.encode()):
            raise InvalidToken("bad signature")
        payload: dict[str, Any] = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if int(payload.get("exp", 0)) < (now or datetime.now(UTC)).timestamp():
        raise InvalidToken("expired")
    return payload
