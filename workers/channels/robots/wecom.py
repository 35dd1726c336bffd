"""WeCom (企业微信) group robots: markdown messages; ``errcode`` in the answer, 45009 = too often."""

from __future__ import annotations

from dataclasses import dataclass

from workers.channels.robots.base import JSON_HEADERS, GroupPost, HttpPost, code_in, json_body


@dataclass(frozen=True)
class WeCom:
    name: str = "wecom"
    slow_down: frozenset[int] = frozenset({45009})

    def request(self, post: GroupPost, now: float) -> HttpPost:
        payload = {"msgtype": "markdown", "markdown": {"content": f"**{post.title}**\n{post.text}"}}
        return HttpPost(post.url, json_body(payload), dict(JSON_HEADERS))

    def error_code(self, answer: str) -> int:
        return code_in(answer, "errcode")

    def rate_limited(self, code: int) -> bool:
        return code in self.slow_down


PLATFORM = WeCom()
