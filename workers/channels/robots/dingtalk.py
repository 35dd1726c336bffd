"""DingTalk (钉钉) group robots: markdown messages, signed in the query string when the robot has a
secret (``timestamp`` in ms and ``sign`` = base64 HMAC-SHA256 of "timestamp\\nsecret");
``errcode`` in the answer, 130101 = too often."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

from workers.channels.robots.base import JSON_HEADERS, GroupPost, HttpPost, code_in, json_body


@dataclass(frozen=True)
class DingTalk:
    name: str = "dingtalk"
    slow_down: frozenset[int] = frozenset({130101})

    def request(self, post: GroupPost, now: float) -> HttpPost:
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": post.title, "text": f"**{post.title}**\n\n{post.text}"},
        }
        url = post.url
        if post.secret:
            stamp = str(int(now * 1000))
            digest = hmac.new(
                post.secret.encode(), f"{stamp}\n{post.secret}".encode(), hashlib.sha256
            ).digest()
            sign = quote(base64.b64encode(digest).decode(), safe="")
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
        return HttpPost(url, json_body(payload), dict(JSON_HEADERS))

    def error_code(self, answer: str) -> int:
        return code_in(answer, "errcode")

    def rate_limited(self, code: int) -> bool:
        return code in self.slow_down


PLATFORM = DingTalk()
