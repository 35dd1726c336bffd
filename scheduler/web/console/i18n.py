"""Recorded reasons of notices in Chinese, matched by their English text (until reasons are codes)."""

from __future__ import annotations

from scheduler.i18n import Translator

#: The fixed reasons the planner, dispatcher and workers record, for readers of Chinese; anything
#: else (an SMTP server's answer, say) is shown as recorded.
REASONS_ZH = {
    "the session was cancelled": "该场已取消",
    "the member is no longer subscribed": "成员已退订",
    "the session no longer exists (the series' rule or dates changed)": (
        "该场已不存在（系列的规则或日期已改）"
    ),
    "the series or the recipient no longer exists": "系列或接收者已不存在",
    "the recipient was never told of this session": "接收者从未收到此场的邀请",
    "the session was cancelled before this was sent": "发送前该场已取消",
    "the member declined this session": "成员已回复不参加",
    "the member was never invited to this session": "成员未被邀请参加此场",
    "not confirmed": "消息队列未确认",
}
_REASON_PREFIXES_ZH = (
    ("the session had already started", "该场已开始，不再发送"),
    ("more than ", "会后跟进已过期太久，不再发送"),
    ("gave up after ", "多次尝试后放弃"),
    ("retry asked by ", "已要求重新发送"),
)


def legacy_reason(t: Translator, text: str | None) -> str:
    """A notice's recorded reason, in Chinese where it is one of the known ones."""
    if not text or t.locale != "zh-CN":
        return text or ""
    if text in REASONS_ZH:
        return REASONS_ZH[text]
    for prefix, chinese in _REASON_PREFIXES_ZH:
        if text.startswith(prefix):
            return f"{chinese}（{text}）" if prefix in ("gave up after ", "retry asked by ") else chinese
    return text
