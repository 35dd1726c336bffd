"""Chat-group message formats and signatures, as each platform verifies them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote, urlsplit

from workers.channels.robots import PLATFORMS, GroupPost

NOW = 1_796_000_000.123


def request(fmt: str, secret: str | None = None) -> tuple[str, bytes, dict[str, str]]:
    post = GroupPost(
        "https://robot.example/send?key=abc",
        secret,
        "【新活动】宁波 · 技术交流会",
        "主题：交流",
        {"event": "invitation", "notice_id": "n1"},
    )
    http = PLATFORMS[fmt].request(post, NOW)
    return http.url, http.body, http.headers


def test_wecom_is_markdown_with_the_title_in_bold() -> None:
    url, body, _ = request("wecom")
    assert url == "https://robot.example/send?key=abc"
    assert json.loads(body) == {
        "msgtype": "markdown",
        "markdown": {"content": "**【新活动】宁波 · 技术交流会**\n主题：交流"},
    }


def test_dingtalk_signs_timestamp_and_secret_in_the_query() -> None:
    url, body, _ = request("dingtalk", "SEC123")
    query = parse_qs(urlsplit(url).query)
    stamp = query["timestamp"][0]
    assert stamp == str(int(NOW * 1000)) and query["key"] == ["abc"]
    expected = base64.b64encode(
        hmac.new(b"SEC123", f"{stamp}\nSEC123".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote(query["sign"][0]) == expected or query["sign"][0] == expected
    assert json.loads(body)["msgtype"] == "markdown"


def test_feishu_signs_with_the_string_to_sign_as_key() -> None:
    _, body, _ = request("feishu", "s3cret")
    data = json.loads(body)
    expected = base64.b64encode(
        hmac.new(f"{int(NOW)}\ns3cret".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert (data["timestamp"], data["sign"]) == (str(int(NOW)), expected)
    assert data["content"]["text"].startswith("【新活动】")


def test_generic_webhook_carries_the_event_and_an_hmac_of_timestamp_and_body() -> None:
    _, body, headers = request("generic", "k")
    assert json.loads(body)["notice_id"] == "n1"
    stamp = headers["X-Exsched-Timestamp"]
    mac = hmac.new(b"k", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Exsched-Signature"] == f"sha256={mac}"


def test_platform_error_codes_in_a_200_answer_are_read() -> None:
    wecom, feishu = PLATFORMS["wecom"], PLATFORMS["feishu"]
    assert wecom.error_code('{"errcode":0,"errmsg":"ok"}') == 0
    assert wecom.error_code('{"errcode":45009,"errmsg":"api freq out of limit"}') == 45009
    assert feishu.error_code('{"code":19021,"msg":"sign match fail"}') == 19021
    assert wecom.error_code("ok") == 0


def test_each_platform_says_which_of_its_codes_mean_slow_down() -> None:
    assert PLATFORMS["wecom"].rate_limited(45009) and not PLATFORMS["wecom"].rate_limited(93000)
    assert PLATFORMS["dingtalk"].rate_limited(130101) and not PLATFORMS["dingtalk"].rate_limited(310000)
    assert PLATFORMS["feishu"].rate_limited(11232) and PLATFORMS["feishu"].rate_limited(9499)
    assert not PLATFORMS["generic"].rate_limited(429)
