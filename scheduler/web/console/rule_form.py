"""The human rule form ("every 2 weeks on Tuesday", "the last Friday of the month") ⇄ RRULE.

:func:`to_rrule` writes the RFC 5545 rule a choice means. :func:`from_rrule` reads a stored
rule back into the form only when writing the choice again gives exactly the same rule;
anything else is shown as a custom rule, so opening and saving a series never changes its rule
(and never sends members an update for nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

from scheduler.domain.errors import RecurrenceError
from scheduler.domain.rules import parse_rule
from scheduler.i18n import Translator

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
REPEATS = ("once", "weekly", "monthly_nth", "monthly_day", "custom")
ENDS = ("never", "until", "count")
NTHS = (1, 2, 3, 4, -1)


@dataclass(frozen=True)
class RuleChoice:
    """What the form says. Fields that the chosen ``repeat`` does not use are ignored."""

    repeat: str = "weekly"
    interval: int = 1
    weekdays: tuple[str, ...] = ("TH",)
    nth: int = 2
    weekday: str = "TH"
    monthday: int = 1
    ends: str = "never"
    until: date | None = None
    count: int | None = None
    custom: str = ""


def to_rrule(choice: RuleChoice) -> str | None:
    """The rule text (not yet canonical: :func:`scheduler.domain.rules.parse_rule` makes it so)."""
    if choice.repeat == "once":
        return None
    if choice.repeat == "custom":
        text = choice.custom.strip()
        return text[6:] if text.upper().startswith("RRULE:") else text
    interval = f";INTERVAL={choice.interval}" if choice.interval > 1 else ""
    if choice.repeat == "weekly":
        days = ",".join(d for d in WEEKDAY_CODES if d in choice.weekdays)
        body = f"FREQ=WEEKLY{interval};BYDAY={days}"
    elif choice.repeat == "monthly_nth":
        body = f"FREQ=MONTHLY{interval};BYDAY={choice.nth}{choice.weekday}"
    elif choice.repeat == "monthly_day":
        body = f"FREQ=MONTHLY{interval};BYMONTHDAY={choice.monthday}"
    else:
        raise ValueError(f"unknown repeat {choice.repeat!r}")
    if choice.ends == "until" and choice.until is not None:
        body += f";UNTIL={choice.until:%Y%m%d}"
    elif choice.ends == "count" and choice.count is not None:
        body += f";COUNT={choice.count}"
    return body


def from_rrule(text: str | None, zone: ZoneInfo) -> RuleChoice:
    """The form that writes ``text`` back unchanged; a custom rule if no simple form does."""
    if not text:
        return RuleChoice(repeat="once")
    custom = RuleChoice(repeat="custom", custom=text)
    try:
        parsed = parse_rule(text, zone)
    except RecurrenceError:
        return custom
    parts = dict(piece.split("=", 1) for piece in parsed.text.split(";"))
    guess = RuleChoice(interval=int(parts.get("INTERVAL", "1")))
    if parsed.until is not None:
        guess = replace(guess, ends="until", until=parsed.until.astimezone(zone).date())
    elif parsed.count is not None:
        guess = replace(guess, ends="count", count=parsed.count)
    byday = parts.get("BYDAY", "")
    if parts["FREQ"] == "WEEKLY" and byday:
        guess = replace(guess, repeat="weekly", weekdays=tuple(byday.split(",")))
    elif parts["FREQ"] == "MONTHLY" and byday and byday[:-2] in {str(n) for n in NTHS}:
        guess = replace(guess, repeat="monthly_nth", nth=int(byday[:-2]), weekday=byday[-2:])
    elif parts["FREQ"] == "MONTHLY" and parts.get("BYMONTHDAY", "").isdigit():
        guess = replace(guess, repeat="monthly_day", monthday=int(parts["BYMONTHDAY"]))
    else:
        return custom
    written = to_rrule(guess)
    try:
        same = written is not None and parse_rule(written, zone).text == parsed.text
    except RecurrenceError:
        same = False
    return guess if same else custom


def rule_words(t: Translator, text: str | None, zone: ZoneInfo) -> str:
    """The rule as staff say it: 每两周的周二、周四 · 每月最后一个周五 · 每月 15 日, with how it ends;
    a rule the form cannot say is called a custom rule (its RRULE stays out of sight)."""
    choice = from_rrule(text, zone)
    if choice.repeat == "once":
        return t("rule.once")
    if choice.repeat == "custom":
        return t("rule.custom")
    if choice.repeat == "weekly":
        days = t("rule.list_sep").join(
            t.weekday(WEEKDAY_CODES.index(d)) for d in WEEKDAY_CODES if d in choice.weekdays
        )
        said = (
            t("rule.weekly", days=days)
            if choice.interval == 1
            else t("rule.weeks", n=choice.interval, days=days)
        )
    elif choice.repeat == "monthly_nth":
        which = t(f"form.nth.{choice.nth}").lower()
        day = t.weekday(WEEKDAY_CODES.index(choice.weekday))
        said = (
            t("rule.monthly_nth", nth=which, day=day)
            if choice.interval == 1
            else t("rule.months_nth", n=choice.interval, nth=which, day=day)
        )
    else:
        said = (
            t("rule.monthly_day", day=choice.monthday)
            if choice.interval == 1
            else t("rule.months_day", n=choice.interval, day=choice.monthday)
        )
    if choice.ends == "until" and choice.until is not None:
        return t("rule.until", rule=said, date=t.date(choice.until))
    if choice.ends == "count" and choice.count is not None:
        return t("rule.count", rule=said, n=choice.count)
    return said


def zone_words(t: Translator, zone: str) -> str:
    """A time zone as people name it: 北京时间 for Asia/Shanghai, else the zone's local name and
    its offset from UTC today (布达佩斯 · UTC+01:00)."""
    return t.zone_label(zone)
