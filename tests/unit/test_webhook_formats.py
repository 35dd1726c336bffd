"""Chat-group message formats and signatures, as each platform verifies them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote, urlsplit

from workers.channels.webhook import WebhookPost, WebhookSender, _error_code

NOW = 1_796_000_000.123
SENDER = WebhookSender()


def post(fmt: str, secret: str | None = None) -> WebhookPost:
    return WebhookPost(
        fmt,
        "https://robot.example/send?key=abc",
        secret,
        "【新活动】宁波 · 技术交流会",
        "主题：交流",
        {"event": "invitation", "notice_id": "n1"},
    )


def test_wecom_is_markdown_with_the_title_in_bold() -> None:
    url, body, _ = SENDER.request(post("wecom"), NOW)
    assert url == "https://robot.example/send?key=abc"
    assert json.loads(body) == {
        "msgtype": "markdown",
        "markdown": {"content": "**【新活动】宁波 · 技术交流会**\n主题：交流"},
    }


def test_dingtalk_signs_timestamp_and_secret_in_the_query() -> None:
    url, body, _ = SENDER.request(post("dingtalk", "SEC123"), NOW)
    query = parse_qs(urlsplit(url).query)
    stamp = query["timestamp"][0]
    assert stamp == str(int(NOW * 1000)) and query["key"] == ["abc"]
    expected = base64.b64encode(
        hmac.new(b"SEC123", f"{stamp}\nSEC123".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote(query["sign"][0]) == expected or query["sign"][0] == expected
    assert json.loads(body)["msgtype"] == "markdown"


def test_feishu_signs_with_the_string_to_sign_as_key() -> None:
    _, body, _ = SENDER.request(post("feishu", "s3cret"), NOW)
    data = json.loads(body)
    expected = base64.b64encode(
        hmac.new(f"{int(NOW)}\ns3cret".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert (data["timestamp"], data["sign"]) == (str(int(NOW)), expected)
    assert data["content"]["text"].startswith("【新活动】")


def test_generic_webhook_carries_the_event_and_an_hmac_of_timestamp_and_body() -> None:
    _, body, headers = SENDER.request(post("generic", "k"), NOW)
    assert json.loads(body)["notice_id"] == "n1"
    stamp = headers["X-Exsched-Timestamp"]
    mac = hmac.new(b"k", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Exsched-Signature"] == f"sha256={mac}"


def test_platform_error_codes_in_a_200_answer_are_read() -> None:
    assert _error_code('{"errcode":0,"errmsg":"ok"}') == 0
    assert _error_code('{"errcode":45009,"errmsg":"api freq out of limit"}') == 45009
    assert _error_code('{"code":19021,"msg":"sign match fail"}') == 19021
    assert _error_code("ok") == 0
