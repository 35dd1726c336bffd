"""What every robot platform module provides."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class GroupPost:
    """One message for a chat group: a title, a short text, and the notice as data (for generic
    webhooks); ``url`` and ``secret`` are the robot's."""

    url: str
    secret: str | None
    title: str
    text: str
    event: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpPost:
    url: str
    body: bytes
    headers: dict[str, str]


class Platform(Protocol):
    name: str

    def request(self, post: GroupPost, now: float) -> HttpPost:
        """The HTTP POST the platform expects, signed at ``now`` (Unix seconds); pure."""
        ...

    def error_code(self, answer: str) -> int:
        """The platform's error code in an HTTP 200 answer, 0 when it says all is well."""
        ...

    def rate_limited(self, code: int) -> bool:
        """Whether that error code means "slow down" (tried again later) rather than "never"."""
        ...


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "exsched"}


def code_in(answer: str, *keys: str) -> int:
    """The first non-zero integer under ``keys`` in a JSON object answer, else 0."""
    try:
        data = json.loads(answer)
    except json.JSONDecodeError:
        return 0
    if not isinstance(data, dict):
        return 0
    for key in keys:
        value = data.get(key)
        if isinstance(value, int) and value != 0:
            return value
    return 0
