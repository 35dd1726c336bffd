"""Feishu (飞书) custom bots: text messages, signed in the body when the bot has a secret
(``timestamp`` in s and ``sign`` = base64 HMAC-SHA256 keyed with "timestamp\\nsecret" over
nothing); ``code`` or ``StatusCode`` in the answer, 11232 and 9499 = too often."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from workers.channels.robots.base import JSON_HEADERS, GroupPost, HttpPost, code_in, json_body


@dataclass(frozen=True)
class Feishu:
    name: str = "feishu"
    slow_down: frozenset[int] = frozenset({11232, 9499})

    def request(self, post: GroupPost, now: float) -> HttpPost:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{post.title}\n{post.text}"}}
        if post.secret:
            stamp = str(int(now))
            digest = hmac.new(f"{stamp}\n{post.secret}".encode(), b"", hashlib.sha256).digest()
            payload.update(timestamp=stamp, sign=base64.b64encode(digest).decode())
        return HttpPost(post.url, json_body(payload), dict(JSON_HEADERS))

    def error_code(self, answer: str) -> int:
        return code_in(answer, "code", "StatusCode")

    def rate_limited(self, code: int) -> bool:
        return code in self.slow_down


PLATFORM = Feishu()
