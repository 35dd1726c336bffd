"""Charts drawn on the server as SVG, so the console needs no script and no internet (an
intranet with no CDN): grouped bars with their values, a legend and a text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 46
#: Colours that stay apart for the common kinds of colour blindness (Okabe–Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


def _nice_top(value: float) -> float:
    """A round number at or above ``value`` (1, 2, 5 × 10^n, and 25 × 10^n)."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= value and (factor != 2.5 or step >= 10):  # 25, 250 but no 2.5
            return step * factor
    return step * 10


def bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    chart_id: str,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series (name, values)."""
    highest = max((v for _, values in series for v in values), default=0)
    top = 4 * _nice_top(highest / 4)  # four round steps: 0 1 2 3 4, 0 10 20 30 40
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = inner_w / max(1, len(categories))
    bar_w = max(2.0, min(28.0, (group_w * 0.8) / max(1, len(series))))
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for tick in range(5):
        value = top * tick / 4
        y = TOP + inner_h - inner_h * tick / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:g}</text>')
    for i, category in enumerate(categories):
        x0 = LEFT + group_w * i + (group_w - bar_w * len(series)) / 2
        for j, (name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            height = inner_h * value / top
            x, y = x0 + bar_w * j, TOP + inner_h - height
            tip = f"{escape(category)} · {escape(name)}：{value:g}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}" data-series="{escape(name)}" '
                f'data-category="{escape(category)}" data-value="{value:g}"><title>{tip}</title></rect>'
            )
        label_x = LEFT + group_w * i + group_w / 2
        parts.append(
            f'<text x="{label_x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
            f"{escape(category)}</text>"
        )
    for j, (name, _) in enumerate(series):
        x = LEFT + j * 130
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 7}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)  # every text in it escaped: the template marks it safe
