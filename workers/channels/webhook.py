"""Chat-group robots (WeCom, DingTalk, Feishu) and a generic JSON webhook signed with HMAC-SHA256.

Message formats and signatures as the three platforms document them for custom group robots;
the generic webhook sends the notice as JSON with ``X-Exsched-Timestamp`` and
``X-Exsched-Signature: sha256=<hex HMAC of "timestamp.body">``. HTTP 429, 5xx, timeouts and
the platforms' rate-limit codes are transient; other 4xx and error codes are permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from schemas.reasons import ReasonCode, reason
from workers.channels.base import PermanentSendError, TransientSendError

#: Error codes the platforms answer with HTTP 200 that mean "slow down", not "never".
RATE_LIMITED = {45009, 130101, 11232, 9499}


@dataclass(frozen=True)
class WebhookPost:
    format: str  # wecom | dingtalk | feishu | generic
    url: str
    secret: str | None
    title: str
    text: str
    event: dict[str, Any] = field(default_factory=dict)


class WebhookSender:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def request(self, post: WebhookPost, now: float | None = None) -> tuple[str, bytes, dict[str, str]]:
        """(url, body, headers) for ``post``; pure, so formats and signatures can be tested."""
        now = time.time() if now is None else now
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "exsched"}
        url = post.url
        payload: dict[str, Any]
        if post.format == "wecom":
            payload = {"msgtype": "markdown", "markdown": {"content": f"**{post.title}**\n{post.text}"}}
        elif post.format == "dingtalk":
            payload = {
                "msgtype": "markdown",
                "markdown": {"title": post.title, "text": f"**{post.title}**\n\n{post.text}"},
            }
            if post.secret:
                stamp = str(int(now * 1000))
                digest = hmac.new(
                    post.secret.encode(), f"{stamp}\n{post.secret}".encode(), hashlib.sha256
                ).digest()
                sign = quote(base64.b64encode(digest).decode(), safe="")
                url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
        elif post.format == "feishu":
            payload = {"msg_type": "text", "content": {"text": f"{post.title}\n{post.text}"}}
            if post.secret:
                stamp = str(int(now))
                digest = hmac.new(f"{stamp}\n{post.secret}".encode(), b"", hashlib.sha256).digest()
                payload.update(timestamp=stamp, sign=base64.b64encode(digest).decode())
        elif post.format == "generic":
            payload = {**post.event, "title": post.title, "text": post.text}
        else:
            raise PermanentSendError(
                reason(ReasonCode.WEBHOOK_ERROR, format=post.format, code=0, body="unknown format")
            )
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        if post.format == "generic" and post.secret:
            stamp = str(int(now))
            mac = hmac.new(post.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers.update({"X-Exsched-Timestamp": stamp, "X-Exsched-Signature": f"sha256={mac}"})
        return url, body, headers

    def send(self, post: WebhookPost) -> str:
        url, body, headers = self.request(post)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, text = response.status, response.read(65536).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            why = reason(ReasonCode.WEBHOOK_HTTP, format=post.format, status=exc.code)
            if exc.code == 429 or exc.code >= 500:
                raise TransientSendError(why) from exc
            raise PermanentSendError(why) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            why = reason(ReasonCode.WEBHOOK_UNREACHABLE, format=post.format, error=str(exc))
            raise TransientSendError(why) from exc
        code = _error_code(text)
        if code:
            why = reason(ReasonCode.WEBHOOK_ERROR, format=post.format, code=code, body=text[:200])
            if code in RATE_LIMITED:
                raise TransientSendError(why)
            raise PermanentSendError(why)
        return f"webhook:{post.format}:{status}"


def _error_code(text: str) -> int:
    """The platform's error code in a 200 answer (``errcode``, ``code``, ``StatusCode``), else 0."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return 0
    if not isinstance(data, dict):
        return 0
    for key in ("errcode", "code", "StatusCode"):
        value = data.get(key)
        if isinstance(value, int) and value != 0:
            return value
    return 0
