"""The server-drawn bar charts: bars in proportion to their values, round ticks, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from scheduler.web.console.charts import bars

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_in_proportion_and_ticks_are_round() -> None:
    drawn = bars(["26-10", "26-11"], [("确认参加", [3, 12]), ("签到", [0, 6])], title="每月", chart_id="c")
    root = ET.fromstring(drawn)
    heights = {
        (r.get("data-category"), r.get("data-series")): float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.get("data-series")
    }
    assert heights[("26-11", "确认参加")] == 4 * heights[("26-10", "确认参加")] > 0
    assert (
        heights[("26-11", "签到")] == heights[("26-11", "确认参加")] / 2 and heights[("26-10", "签到")] == 0
    )
    ticks = [
        t.text
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "tick" and re.fullmatch(r"[\d.]+", t.text or "")
    ]
    assert ticks == ["0", "5", "10", "15", "20"]


def test_names_are_escaped() -> None:
    drawn = bars(["<b>"], [("a&b", [1])], title='"<script>', chart_id="x")
    assert "<script>" not in drawn and "<b>" not in drawn and ET.fromstring(drawn) is not None
