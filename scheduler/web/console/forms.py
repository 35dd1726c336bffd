"""Reading the console's forms: every problem becomes a message next to its field, in the
staff member's language.

The forms check what people commonly get wrong themselves (empty fields, a date typed as
12/10, a rule without a weekday) and phrase it plainly; what remains is checked by the same
pydantic models and domain functions as the API, whose errors are mapped back to form fields.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from scheduler.domain.auth import Principal
from scheduler.domain.errors import ExschedError, RecurrenceError
from scheduler.domain.recurrence import SPARSE_SPAN, Timing, first_start, make_timing, zone_of
from scheduler.domain.rules import parse_rule
from scheduler.i18n import LOCALES, Translator, translator
from scheduler.web.console.rule_form import ENDS, NTHS, REPEATS, WEEKDAY_CODES, RuleChoice, to_rrule
from schemas.api import MemberCreate, SeriesCreate
from schemas.names import Chapter, Kind, Locale, SkipHolidays

MAX_REMINDERS = 5


class FormLike(Protocol):
    """What Starlette's ``FormData`` offers (and a test's stand-in)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class Checked:
    """A form read: its raw values (to show again), the errors by field, and what it means."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def text(form: FormLike, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# --- generic field readers -------------------------------------------------------------------


_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
#: one part of a length: a number (a decimal point allowed: 2.5小时) and its unit word, if any
_PART = re.compile(r"\s*(\d{1,6}(?:[.．]\d{1,3})?)\s*([^\d\s.．]*)\s*")


def _unit_words() -> dict[str, int]:
    """Every way a unit may be typed: the codes above and each catalog's words (``unit.h``: 小时, …)."""
    words = dict(_UNITS)
    for locale in LOCALES:
        t = translator(locale)
        for code in ("s", "m", "h", "d"):
            words.update({w.strip().lower(): _UNITS[code] for w in t(f"unit.{code}").split(",") if w.strip()})
    return words


_UNIT_WORDS = _unit_words()


def parse_offset(text: str, default_unit: str) -> int | None:
    """Seconds in ``"24"`` (in ``default_unit``), ``"90m"``, ``"2小时"``, ``"1d"``, and in lengths
    made of parts or with a decimal point: ``"2小时30分钟"``, ``"1h30m"``, ``"2.5小时"``. None if
    unreadable, or if it does not come to whole seconds."""
    text, pos, total = text.strip(), 0, Decimal(0)
    parts = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None or match.end() == pos:
            return None
        unit = match[2].strip().lower()
        if not unit and (parts or match.end() < len(text)):
            return None  # a bare number only on its own ("24"), in the field's unit
        size = _UNIT_WORDS.get(unit or default_unit)
        if size is None:
            return None
        total += Decimal(match[1].replace("．", ".")) * size
        pos, parts = match.end(), parts + 1
    if not parts or total != total.to_integral_value():
        return None
    return int(total)


def format_offset(seconds: int, default_unit: str) -> str:
    """The inverse of :func:`parse_offset`: plain in ``default_unit`` when exact, else with a unit."""
    if seconds % _UNITS[default_unit] == 0:
        return str(seconds // _UNITS[default_unit])
    for unit in ("d", "h", "m", "s"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def _required(c: Checked, t: Translator, name: str, limit: int) -> str:
    value = c.values[name]
    if not value:
        c.fail(name, t("err.required"))
    elif len(value) > limit:
        c.fail(name, t("err.too_long", n=limit))
    return str(value)


def read_int(
    c: Checked, t: Translator, name: str, low: int, high: int, *, optional: bool = False
) -> int | None:
    raw = c.values[name]
    if raw == "" and optional:
        return None
    if not re.fullmatch(r"-?\d{1,7}", raw or "") or not low <= int(raw) <= high:
        c.fail(name, t("err.int_range", low=low, high=high))
        return None
    return int(raw)


def read_date(c: Checked, t: Translator, name: str) -> date | None:
    raw = c.values[name]
    if not raw:
        c.fail(name, t("err.required"))
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    c.fail(name, t("err.date"))
    return None


def read_time(c: Checked, t: Translator, name: str) -> time | None:
    raw = c.values[name]
    if not raw:
        c.fail(name, t("err.required"))
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", raw)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        c.fail(name, t("err.time"))
        return None
    return time(int(match[1]), int(match[2]))


def _email(c: Checked, t: Translator, name: str) -> str:
    value = _required(c, t, name, 254)
    if value and name not in c.errors:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            c.fail(name, t("err.email"))
    return value


def _choice(c: Checked, t: Translator, name: str, allowed: Iterable[str]) -> str:
    value = str(c.values[name])
    if value not in set(allowed):
        c.fail(name, t("err.choice"))
    return value


def _zone(c: Checked, t: Translator, name: str) -> str:
    value = c.values[name] or "Asia/Shanghai"
    try:
        zone_of(value)
    except ExschedError:
        c.fail(name, t("err.timezone"))
    return str(value)


def apply_validation_error(c: Checked, t: Translator, exc: ValidationError, fields: dict[str, str]) -> None:
    """pydantic's errors as messages on form fields (``fields`` maps model paths to form names)."""
    for name, message in validation_messages(t, exc, fields).items():
        c.fail(name, message)


def validation_messages(t: Translator, exc: ValidationError, fields: dict[str, str]) -> dict[str, str]:
    """pydantic's errors as a message per form field, in the reader's language."""
    messages: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = next(
            (fields[p] for p in (".".join(loc[:i]) for i in range(len(loc), 0, -1)) if p in fields), None
        )
        name = name or (loc[0] if loc else "_form")
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        if kind == "missing" or kind == "string_too_short":
            message = t("err.required")
        elif kind == "string_too_long":
            message = t("err.too_long", n=ctx.get("max_length", "?"))
        elif "email" in name:
            message = t("err.email")
        elif kind in ("greater_than_equal", "less_than_equal", "int_parsing"):
            message = t("err.number")
        elif kind in ("enum", "literal_error"):
            message = t("err.choice")
        elif kind == "line_break":
            message = t("err.line_break")
        elif kind == "control_character":
            message = t("err.control_character")
        else:
            message = t("err.invalid", reason=str(err.get("msg", "")).removeprefix("Value error, "))
        messages.setdefault(name, message)
    return messages


# --- series ----------------------------------------------------------------------------------

SERIES_TEXT_FIELDS = (
    "title", "kind", "chapter", "description", "venue", "capacity", "organizer_name",
    "organizer_email", "date", "time", "duration", "timezone", "repeat", "interval", "nth",
    "weekday", "monthday", "ends", "until", "count", "custom", "skip_holidays", "invite_days",
    "reminder_hours", "followup_hours",
)  # fmt: skip

#: Where an error about a model field is shown on the series form.
SERIES_FIELD_OF = {
    "kind": "kind", "title": "title", "description": "description", "chapter": "chapter",
    "venue": "venue", "timezone": "timezone", "dtstart": "date", "duration": "duration",
    "rrule": "repeat", "skip_holidays": "skip_holidays", "capacity": "capacity",
    "organizer_name": "organizer_name", "organizer_email": "organizer_email",
    "notices": "invite_days", "notices.reminders": "reminder_hours",
    "notices.followup_after": "followup_hours", "notices.invite_before": "invite_days",
}  # fmt: skip


#: The fields a preview needs; errors elsewhere (an empty title) do not hide it.
TIMING_FIELDS = frozenset(
    {"date", "time", "duration", "timezone", "skip_holidays", "repeat", "interval", "weekdays", "nth",
     "weekday", "monthday", "ends", "until", "count", "custom"}
)  # fmt: skip


@dataclass
class SeriesForm(Checked):
    """The series form read; ``payload`` is a valid :class:`SeriesCreate` body when ``ok``."""

    rule: RuleChoice = field(default_factory=RuleChoice)
    payload: SeriesCreate | None = None
    timing: Timing | None = None


def series_values(form: FormLike) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in SERIES_TEXT_FIELDS}
    values["weekdays"] = [d for d in form.getlist("weekdays") if d in WEEKDAY_CODES]
    values["private"] = form.get("private") in ("on", "true", "1")
    return values


def read_series_form(form: FormLike, t: Translator, principal: Principal) -> SeriesForm:
    """Check a submitted series form; on success ``payload`` and ``timing`` are set."""
    c = SeriesForm(values=series_values(form))
    title = _required(c, t, "title", 200)
    kind = _choice(c, t, "kind", (k.value for k in Kind))
    chapter = _choice(c, t, "chapter", (ch.value for ch in Chapter))
    if chapter in {ch.value for ch in Chapter} and not principal.may_touch(chapter):
        c.fail("chapter", t("err.not_your_chapter", chapter=t.chapter(str(principal.chapter))))
    organizer = _required(c, t, "organizer_name", 200)
    email = _email(c, t, "organizer_email")
    if len(c.values["venue"]) > 300:
        c.fail("venue", t("err.too_long", n=300))
    capacity = read_int(c, t, "capacity", 1, 100000, optional=True)
    day = read_date(c, t, "date")
    at = read_time(c, t, "time")
    length = _offset(c, t, "duration", "min", low=1, high=14 * 86400)
    zone_name = _zone(c, t, "timezone")
    skip = _choice(c, t, "skip_holidays", (s.value for s in SkipHolidays))
    invite = _offset(c, t, "invite_days", "d", low=0, high=180 * 86400)
    followup = _offset(c, t, "followup_hours", "h", low=0, high=180 * 86400)
    reminders = _offset_list(c, t, "reminder_hours", "h")
    c.rule = _read_rule(c, t, day)
    if day is None or at is None or length is None or any(f in c.errors for f in TIMING_FIELDS):
        return c
    rrule = to_rrule(c.rule)
    zone = zone_of(zone_name)
    dtstart = datetime.combine(day, at)
    try:
        if rrule:
            first = first_start(parse_rule(rrule, zone).dateutil_text(zone), dtstart)
            if first is None:
                cut = c.rule.ends == "until" and c.rule.until is not None
                cut = cut and datetime.combine(c.rule.until, at) < dtstart + SPARSE_SPAN  # type: ignore[arg-type]
                c.fail(
                    "until" if cut else "repeat", t("err.no_sessions" if cut else "err.no_sessions_decade")
                )
                return c
            dtstart = first
        c.timing = make_timing(
            dtstart=dtstart, timezone=zone_name, duration=timedelta(seconds=length), rrule=rrule,
            skip_holidays=skip,
        )  # fmt: skip
    except RecurrenceError as exc:
        _recurrence_error(c, t, exc)
        return c
    if not c.ok:
        return c
    body: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "description": c.values["description"],
        "chapter": chapter,
        "venue": c.values["venue"],
        "timezone": zone_name,
        "dtstart": c.timing.dtstart,
        "duration": c.timing.duration,
        "rrule": c.timing.rule.text if c.timing.rule else None,
        "skip_holidays": skip,
        "capacity": capacity,
        "organizer_name": organizer,
        "organizer_email": email,
        "private": c.values["private"],
        "notices": {
            "invite_before": timedelta(seconds=invite or 0),
            "reminders": [timedelta(seconds=r) for r in reminders],
            "followup_after": timedelta(seconds=followup or 0),
        },
    }
    try:
        c.payload = SeriesCreate.model_validate(body)
    except ValidationError as exc:
        apply_validation_error(c, t, exc, SERIES_FIELD_OF)
    return c


def _read_rule(c: Checked, t: Translator, start: date | None) -> RuleChoice:
    repeat = _choice(c, t, "repeat", REPEATS)
    choice = RuleChoice(repeat=repeat if repeat in REPEATS else "weekly")
    if repeat in ("once", "custom"):
        if repeat == "custom" and not c.values["custom"]:
            c.fail("custom", t("err.required"))
        return replace(choice, custom=c.values["custom"])
    interval = read_int(c, t, "interval", 1, 99) or 1
    choice = replace(choice, interval=interval)
    if repeat == "weekly":
        if not c.values["weekdays"]:
            c.fail("weekdays", t("err.weekdays"))
        choice = replace(choice, weekdays=tuple(c.values["weekdays"]))
    elif repeat == "monthly_nth":
        nth = _choice(c, t, "nth", (str(n) for n in NTHS))
        weekday = _choice(c, t, "weekday", WEEKDAY_CODES)
        choice = replace(choice, nth=int(nth) if nth in {str(n) for n in NTHS} else 1, weekday=weekday)
    elif repeat == "monthly_day":
        choice = replace(choice, monthday=read_int(c, t, "monthday", 1, 31) or 1)
    ends = _choice(c, t, "ends", ENDS)
    choice = replace(choice, ends=ends)
    if ends == "until":
        until = read_date(c, t, "until")
        if until is not None and start is not None and until < start:
            c.fail("until", t("err.until_before"))
        choice = replace(choice, until=until)
    elif ends == "count":
        choice = replace(choice, count=read_int(c, t, "count", 1, 1000))
    return choice


def _offset(c: Checked, t: Translator, name: str, unit: str, *, low: int, high: int) -> int | None:
    seconds = parse_offset(c.values[name], unit)
    if seconds is None or not low <= seconds <= high:
        c.fail(name, t("err.offset", low=t.span(low), high=t.span(high)))
        return None
    return seconds


def _offset_list(c: Checked, t: Translator, name: str, unit: str) -> list[int]:
    raw = c.values[name].replace("，", ",").replace("、", ",")
    items = [p for p in raw.split(",") if p.strip()]
    seconds = [parse_offset(p, unit) for p in items]
    if len(items) > MAX_REMINDERS or any(s is None or not 0 < s <= 180 * 86400 for s in seconds):
        c.fail(name, t("err.hours_list", n=MAX_REMINDERS))
        return []
    return sorted({s for s in seconds if s is not None}, reverse=True)


def _recurrence_error(c: Checked, t: Translator, exc: RecurrenceError) -> None:
    name = {"dtstart": "date", "duration": "duration", "timezone": "timezone"}.get(exc.field or "", "")
    if not name:
        name = "custom" if c.values["repeat"] == "custom" else "repeat"
    if exc.code == "dst-gap":
        c.fail("time", t("err.dst_gap"))
    elif exc.code in ("no-sessions", "too-sparse"):
        c.fail(name, t("err.no_sessions_decade" if exc.code == "no-sessions" else "err.too_sparse"))
    elif name == "timezone":
        c.fail(name, t("err.timezone"))
    else:
        c.fail(name, t("err.rule", reason=exc.message))


# --- members ---------------------------------------------------------------------------------

MEMBER_FIELDS = ("name", "email", "company", "chapter", "locale", "timezone")


@dataclass
class MemberForm(Checked):
    payload: MemberCreate | None = None


def read_member(values: dict[str, Any], t: Translator, principal: Principal) -> MemberForm:
    """Check one member (from the add form or a CSV row)."""
    c = MemberForm(values=values)
    _required(c, t, "name", 200)
    _email(c, t, "email")
    chapter = _choice(c, t, "chapter", (ch.value for ch in Chapter))
    if chapter in {ch.value for ch in Chapter} and not principal.may_touch(chapter):
        c.fail("chapter", t("err.not_your_chapter", chapter=t.chapter(str(principal.chapter))))
    if c.values.get("locale"):
        _choice(c, t, "locale", (loc.value for loc in Locale))
    zone = _zone(c, t, "timezone")
    if not c.ok:
        return c
    try:
        c.payload = MemberCreate(
            name=values["name"],
            email=values["email"],
            company=values.get("company", ""),
            chapter=Chapter(chapter),
            locale=Locale(values.get("locale") or Locale.ZH_CN.value),
            timezone=zone,
            channels=["email"] if values.get("channels", True) else [],
        )
    except ValidationError as exc:
        apply_validation_error(c, t, exc, {f: f for f in MEMBER_FIELDS})
    return c


@dataclass(frozen=True)
class Target:
    """A subscription target as written in a form or a CSV cell."""

    series_id: uuid.UUID | None = None
    chapter: Chapter | None = None
    kind: Kind | None = None

    def body(self) -> dict[str, Any]:
        return {"series_id": self.series_id, "chapter": self.chapter, "kind": self.kind}


def parse_target(value: str) -> Target | None:
    """``chapter:ningbo``, ``kind:tech-exchange``, ``series:<id>`` or a bare series id."""
    kind, _, rest = value.strip().partition(":")
    try:
        if kind == "chapter":
            return Target(chapter=Chapter(rest))
        if kind == "kind":
            return Target(kind=Kind(rest))
        return Target(series_id=uuid.UUID(rest if kind == "series" else value.strip()))
    except ValueError:
        return None


def parse_targets(value: str) -> tuple[list[Target], list[str]]:
    """Targets separated by ``;`` (or ``,``/``；``), and the pieces that are not targets."""
    good: list[Target] = []
    bad: list[str] = []
    for piece in re.split(r"[;；,]", value):
        if not piece.strip():
            continue
        target = parse_target(piece)
        if target is None:
            bad.append(piece.strip())
        else:
            good.append(target)
    return good, bad
