"""Rules and zones as staff say them, in both languages: no RRULE and no IANA id is shown."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from scheduler.i18n import translator
from scheduler.web.console.rule_form import rule_words, zone_words

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("rule", "zh", "en"),
    [
        (None, "单次活动", "One session"),
        ("FREQ=WEEKLY;BYDAY=TH", "每周周四", "Every week on Thu"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "每 2 周的周二、周四", "Every 2 weeks on Tue, Thu"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "每月最后一个周五", "The last Fri of every month"),
        (
            "FREQ=MONTHLY;BYDAY=2WE;COUNT=6",
            "每月第二个周三，共 6 次",
            "The second Wed of every month, 6 sessions",
        ),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", "每 3 个月的 15 日", "Every 3 months on day 15"),
        (
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270630T155959Z",
            "每周周一，至 2027年6月30日 周三 止",
            "Every week on Mon, until Wed 30 Jun 2027",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1",
            "自定义重复规则（见下方日期）",
            "A custom rule (see the dates below)",
        ),
    ],
)
def test_a_rule_in_words(rule: str | None, zh: str, en: str) -> None:
    assert rule_words(translator("zh-CN"), rule, SHANGHAI) == zh
    assert rule_words(translator("en"), rule, SHANGHAI) == en


def test_a_zone_in_words() -> None:
    zh, en = translator("zh-CN"), translator("en")
    assert zone_words(zh, "Asia/Shanghai") == "北京时间" and zone_words(en, "Asia/Shanghai") == "Beijing time"
    assert zone_words(zh, "Asia/Tokyo") == "日本时间 (UTC+09:00)"
    assert zone_words(en, "Asia/Tokyo") == "Japan Time (UTC+09:00)"
