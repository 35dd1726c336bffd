"""What a member reads: subject lines and bodies per notice kind, in zh-CN or en.

Times are shown in the member's own time zone with the zone named, so a member in Milan reads
a Ningbo session in Milan time and knows it. Templates are Jinja2 files beside this module;
HTML is autoescaped, so a title with markup is shown, never executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from schemas.durations import parse_duration
from schemas.names import CHAPTER_NAMES, KIND_NAMES, Chapter, Kind, Locale, NoticeKind

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
LABELS = {
    Locale.ZH_CN: {
        NoticeKind.INVITATION: "邀请",
        NoticeKind.REMINDER: "提醒",
        NoticeKind.FOLLOWUP: "会后",
        NoticeKind.UPDATE: "变更",
        NoticeKind.CANCELLATION: "取消",
    },
    Locale.EN: {
        NoticeKind.INVITATION: "Invitation",
        NoticeKind.REMINDER: "Reminder",
        NoticeKind.FOLLOWUP: "Follow-up",
        NoticeKind.UPDATE: "Updated",
        NoticeKind.CANCELLATION: "Cancelled",
    },
}


@dataclass(frozen=True)
class Letter:
    """Everything one email says."""

    notice_kind: NoticeKind
    locale: Locale
    member_name: str
    member_timezone: str
    session_kind: Kind
    chapter: Chapter
    title: str
    description: str
    venue: str
    agenda: str
    organizer_name: str
    organizer_email: str
    start: datetime
    end: datetime
    sequence: int
    reminder_slot: str = ""
    accept_url: str = ""
    decline_url: str = ""
    followup_url: str = ""
    details_url: str = ""


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("workers", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def subject(self, letter: Letter) -> str:
        label = LABELS[letter.locale][letter.notice_kind]
        start = letter.start.astimezone(ZoneInfo(letter.member_timezone))
        zh = letter.locale == Locale.ZH_CN
        chapter = CHAPTER_NAMES[letter.chapter][0 if zh else 1]
        kind = KIND_NAMES[letter.session_kind][0 if zh else 1]
        if zh:
            when = f"{start.month}月{start.day}日 {WEEKDAYS_ZH[start.weekday()]} {start:%H:%M}"
            return f"【{label}】{chapter} · {kind} · {when}"
        return f"[{label}] {chapter} · {kind} · {start:%a} {start.day} {start:%b} {start:%H:%M}"

    def group_message(self, letter: Letter) -> tuple[str, str]:
        """(title, markdown-ish text) for a chapter's chat group."""
        values = self._values(letter)
        label = {NoticeKind.INVITATION: "新活动"}.get(
            letter.notice_kind, LABELS[Locale.ZH_CN][letter.notice_kind]
        )
        title = f"【{label}】{values['chapter_name']} · {values['session_kind_name']}"
        text = self.env.get_template("group.zh-CN.txt.j2").render(values)
        return title, text

    def bodies(self, letter: Letter) -> tuple[str, str]:
        """(text/plain, text/html)."""
        values = self._values(letter)
        text = self.env.get_template(f"email.{letter.locale.value}.txt.j2").render(values)
        html = self.env.get_template(f"email.{letter.locale.value}.html.j2").render(values)
        return text, html

    def _values(self, letter: Letter) -> dict[str, object]:
        zone = ZoneInfo(letter.member_timezone)
        start, end = letter.start.astimezone(zone), letter.end.astimezone(zone)
        index = 0 if letter.locale == Locale.ZH_CN else 1
        offset = start.strftime("%z")
        offset = f"UTC{offset[:3]}:{offset[3:]}"
        if letter.locale == Locale.ZH_CN:
            date = f"{start.year}年{start.month}月{start.day}日 {WEEKDAYS_ZH[start.weekday()]}"
        else:
            date = f"{start:%A} {start.day} {start:%B %Y}"
        return {
            "l": letter,
            "kind": letter.notice_kind.value,
            "chapter_name": CHAPTER_NAMES[letter.chapter][index],
            "session_kind_name": KIND_NAMES[letter.session_kind][index],
            "date": date,
            "time": f"{start:%H:%M}–{end:%H:%M}",
            "zone": f"{letter.member_timezone}, {offset}",
            "lead": _lead(letter, index),
            "docking": letter.session_kind == Kind.PROJECT_DOCKING,
        }


def _lead(letter: Letter, index: int) -> str:
    """How far ahead a reminder is, in words: "1 天" / "1 day"."""
    if not letter.reminder_slot:
        return ""
    seconds = int(parse_duration(letter.reminder_slot).total_seconds())
    units = ((86400, "天", "day"), (3600, "小时", "hour"), (60, "分钟", "minute"), (1, "秒", "second"))
    for size, zh, en in units:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {zh}" if index == 0 else f"{count} {en}{'s' if count != 1 else ''}"
    return letter.reminder_slot
