"""A generic JSON webhook: the notice as JSON, signed (with a secret) by ``X-Exsched-Timestamp``
and ``X-Exsched-Signature: sha256=<hex HMAC of "timestamp.body">``; any 2xx answer is success."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from workers.channels.robots.base import JSON_HEADERS, GroupPost, HttpPost, json_body


@dataclass(frozen=True)
class Generic:
    name: str = "generic"

    def request(self, post: GroupPost, now: float) -> HttpPost:
        body = json_body({**post.event, "title": post.title, "text": post.text})
        headers = dict(JSON_HEADERS)
        if post.secret:
            stamp = str(int(now))
            mac = hmac.new(post.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers.update({"X-Exsched-Timestamp": stamp, "X-Exsched-Signature": f"sha256={mac}"})
        return HttpPost(post.url, body, headers)

    def error_code(self, answer: str) -> int:
        return 0

    def rate_limited(self, code: int) -> bool:
        return False


PLATFORM = Generic()
