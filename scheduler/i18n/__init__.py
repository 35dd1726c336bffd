"""The one language layer: every word a person reads, from gettext catalogs, with Babel for dates,
times, lengths of time and numbers.

The catalogs (``catalogs/<locale>/LC_MESSAGES/exsched.po``, compiled to ``.mo`` at install or
build: ``python -m scheduler.i18n.compile``) hold keys such as ``series.title`` or
``reason.superseded``; the Chinese and the English catalog each give the words, with
``%(name)s`` placeholders. The same catalogs serve the console, the emails, the pages members
open and the chat-group messages. A third language is a third catalog: the locale list below is
read from the folders that exist, and the date patterns (``fmt.*``) are words of the catalog too.

Templates use ``jinja2.ext.i18n`` (``{{ _("key", n=3) }}``) through :func:`environment`; Python
code uses a :class:`Translator`.
"""

from __future__ import annotations

import datetime as dt
import gettext
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import babel
from babel.dates import format_date, format_datetime, format_time, get_day_names, get_timezone_location
from babel.numbers import format_decimal
from babel.units import format_unit
from jinja2 import BaseLoader, Environment, StrictUndefined, select_autoescape

CATALOGS = Path(__file__).with_name("catalogs")
DOMAIN = "exsched"
DEFAULT_LOCALE = "zh-CN"


def _folder(locale: str) -> str:
    return locale.replace("-", "_")


def available_locales() -> tuple[str, ...]:
    """The locales with a catalog, the default first (``zh-CN``, ``en``)."""
    found = sorted(p.name.replace("_", "-") for p in CATALOGS.iterdir() if (p / "LC_MESSAGES").is_dir())
    return tuple(sorted(found, key=lambda name: name != DEFAULT_LOCALE))


LOCALES = available_locales()


class CatalogMissing(RuntimeError):
    """The compiled catalogs are not there (a source checkout that was never built)."""


@cache
def translations(locale: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``locale`` (``zh-CN`` when the locale has none)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    path = CATALOGS / _folder(locale) / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.exists():
        raise CatalogMissing(
            f"{path} is missing: compile the message catalogs with `make catalogs` "
            "(or `python -m scheduler.i18n.compile`)"
        )
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


#: The names China's time goes by; all read 北京时间.
BEIJING = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})
#: Zones offered in pickers, Beijing time first: where the association's members and partners are.
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Dubai",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Rome",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
)


@cache
def translator(locale: str) -> Translator:
    """The :class:`Translator` of ``locale``; an unknown locale reads the default one."""
    return Translator(locale if locale in LOCALES else DEFAULT_LOCALE)


#: Reason parameters that are codes, and the catalog words for them (``format=wecom`` → 企业微信).
PARAM_WORDS = {"format": "robots.format.", "kind": "notice."}
#: Exact units for lengths of time, largest first: (seconds, CLDR unit).
_UNITS = ((86400, "duration-day"), (3600, "duration-hour"), (60, "duration-minute"), (1, "duration-second"))


class Translator:
    """``t("key", **params)`` in one locale, and the names and formats of the shared vocabulary."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.catalog = translations(locale)
        self.babel = babel.Locale.parse(_folder(locale))

    def __call__(self, key: str, **params: Any) -> str:
        """The words for ``key`` with ``params`` filled in (the key itself if the catalog lacks it)."""
        return self.catalog.gettext(key) % params

    def has(self, key: str) -> bool:
        return self.catalog.gettext(key) != key

    @property
    def html_lang(self) -> str:
        return self.locale

    # --- names of things ------------------------------------------------------------------------

    def chapter(self, code: str) -> str:
        return self(f"chapter.{code}")

    def chapter_org(self, code: str) -> str:
        """A chapter as the body one joins or follows (宁波分会, the Ningbo chapter; 省协会)."""
        return self(f"chapter_org.{code}")

    def kind(self, code: str) -> str:
        """A kind of session as a name (项目对接会, Project docking)."""
        return self(f"kind.{code}")

    def kind_phrase(self, code: str) -> str:
        """A kind of session inside a sentence (项目对接会, project docking)."""
        return self(f"kind_phrase.{code}")

    def holiday(self, english: str) -> str:
        """A statutory break by its ``chinesecalendar`` name ('National Day' → 国庆节)."""
        key = "holiday." + english.lower().replace("'", "").replace("-", "_").replace(" ", "_")
        return self(key) if self.has(key) else english

    def reason(self, code: str | None, params: Mapping[str, Any] | None = None) -> str:
        """Why a notice was skipped, cancelled, failed or is waiting, in words."""
        if not code:
            return ""
        values = dict(params or {})
        for name, value in values.items():
            if isinstance(value, Mapping) and "code" in value:  # a reason inside a reason
                values[name] = self.reason(value["code"], value.get("params"))
            elif value is None:
                values[name] = "—"
            elif name in PARAM_WORDS and self.has(PARAM_WORDS[name] + str(value)):
                values[name] = self(PARAM_WORDS[name] + str(value))
        key = f"reason.{code}"
        if not self.has(key):
            return code
        try:
            return self(key, **values)
        except (KeyError, TypeError, ValueError):  # parameters recorded by an older version
            return self(key, **{n: "?" for n in _placeholders(self.catalog.gettext(key))})

    # --- times and numbers ----------------------------------------------------------------------

    def weekday(self, index: int) -> str:
        """Monday is 0: 周一, Mon."""
        return str(get_day_names("abbreviated", locale=self.babel)[index])

    def date(self, value: dt.date) -> str:
        """A day as staff and members read it: 2026年12月10日 周四, Thu 10 Dec 2026."""
        return format_date(value, self("fmt.date"), locale=self.babel)

    def long_date(self, value: dt.date) -> str:
        """A day in an email: 2026年12月10日 周四, Thursday 10 December 2026."""
        return format_date(value, self("fmt.long_date"), locale=self.babel)

    def when(self, value: dt.datetime) -> str:
        """A wall time with its day: 2026年12月10日 周四 14:00 (``value`` already in its zone)."""
        return format_datetime(value, self("fmt.when"), tzinfo=value.tzinfo, locale=self.babel)

    def short_when(self, value: dt.datetime) -> str:
        """A wall time with a short day, for subjects and lists: 12月10日 周四 14:00, Thu 10 Dec 14:00."""
        return format_datetime(value, self("fmt.short_when"), tzinfo=value.tzinfo, locale=self.babel)

    def clock(self, value: dt.time | dt.datetime) -> str:
        return format_time(value, "HH:mm", tzinfo=getattr(value, "tzinfo", None), locale=self.babel)

    def span(self, seconds: int | dt.timedelta, length: Literal["short", "long", "narrow"] = "short") -> str:
        """A length of time in its largest exact unit: 2小时, 90分钟, 1天 (2 hr, 90 min, 1 day)."""
        total = int(seconds.total_seconds() if isinstance(seconds, dt.timedelta) else seconds)
        for size, unit in _UNITS:
            if total % size == 0:
                return format_unit(total // size, unit, length=length, locale=self.babel)
        return format_unit(total, "duration-second", length=length, locale=self.babel)

    def number(self, value: float | Decimal) -> str:
        return format_decimal(value, locale=self.babel)

    def zone_label(self, zone: str) -> str:
        """A zone as people name it: 北京时间 (Beijing time) for China's, else :meth:`zone_name`."""
        return self("zone.beijing") if zone in BEIJING else self.zone_name(zone)

    def zone_at(self, zone: str, moment: dt.datetime) -> str:
        """The zone a time is given in, for a sentence: 北京时间, or 意大利时间，UTC+01:00 with
        the offset at that moment (summer or winter time)."""
        if zone in BEIJING:
            return self("zone.beijing")
        offset = moment.astimezone(ZoneInfo(zone)).strftime("%z")
        return self("fmt.zone", zone=self._place(zone), offset=f"{offset[:3]}:{offset[3:]}")

    def zone_choices(self, current: str = "") -> list[tuple[str, str]]:
        """(IANA id, words) for a picker: Beijing time first, then where members are; the current
        value is kept in the list whatever it is."""
        zones = list(COMMON_ZONES) + ([current] if current and current not in COMMON_ZONES else [])
        return [(zone, self.zone_label(zone)) for zone in zones]

    def zone_name(self, zone: str) -> str:
        """An IANA zone as people name it, with its offset now: 匈牙利时间 (UTC+01:00)."""
        try:
            offset = dt.datetime.now(ZoneInfo(zone)).strftime("%z")
        except (LookupError, ValueError, ZoneInfoNotFoundError):
            return zone
        return f"{self._place(zone)} (UTC{offset[:3]}:{offset[3:]})"

    def _place(self, zone: str) -> str:
        """Where a zone is, in words (日本时间, Italy Time); the id itself if Babel does not know it."""
        try:
            return str(get_timezone_location(zone, locale=self.babel))
        except (LookupError, ValueError):
            return zone


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)", text)


def environment(loader: BaseLoader, locale: str, *, trim: bool = True) -> Environment:
    """A Jinja environment whose templates speak ``locale``: ``{{ _("key", n=1) }}`` and ``t``.

    ``*.html.j2`` templates are autoescaped (what people typed is shown, never run); text
    templates are not. One environment per loader and locale (callers keep them), so the compiled
    templates are shared by every request in that language.
    """
    env = Environment(
        loader=loader,
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=trim,
        lstrip_blocks=trim,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["t"] = translator(locale)
    return env


class Templates:
    """One template folder in every language: ``templates.get("zh-CN").get_template(...)``."""

    def __init__(self, loader: BaseLoader, *, trim: bool = True) -> None:
        self._envs = {locale: environment(loader, locale, trim=trim) for locale in LOCALES}

    def get(self, locale: str) -> Environment:
        return self._envs.get(locale, self._envs[DEFAULT_LOCALE])
