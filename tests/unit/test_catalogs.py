"""The message catalogs: every key the code and the templates use exists in every language, with
no placeholder the default language lacks, and the compiled catalogs are the ones the .po files describe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from babel.messages.pofile import read_po

from scheduler.domain.official_days import CODES as HOLIDAY_CODES
from scheduler.domain.reports import GROUPS
from scheduler.exports.report_table import COLUMNS as REPORT_COLUMNS
from scheduler.i18n import CATALOGS, LOCALES, translations
from scheduler.web.console.attendance import ATTENDEE_COLUMNS
from scheduler.web.console.failures import CASES
from scheduler.web.console.member_bulk import ACTIONS
from scheduler.web.console.member_import import COLUMNS
from scheduler.web.console.rule_form import ENDS, NTHS, REPEATS
from schemas.api import ResponseSource
from schemas.names import (
    Channel,
    Chapter,
    Kind,
    Locale,
    NoticeKind,
    NoticeStatus,
    OccurrenceStatus,
    RobotFormat,
    SkipHolidays,
)

ROOT = Path(__file__).resolve().parents[2]
SESSION_KINDS = [k for k in NoticeKind if k != NoticeKind.DIGEST]
#: ``_("prefix." ~ value)`` in templates and ``t(f"prefix.{value}")`` in code: the values they take.
DYNAMIC = {
    "channel.": list(Channel),
    "status.": list(NoticeStatus),
    "notice.": list(NoticeKind),
    "occ.status.": list(OccurrenceStatus),
    "form.holidays.": list(SkipHolidays),
    "members.locale.": list(Locale),
    "occ.rsvp.": ["accepted", "declined", "tentative", "waitlisted", "needs-action"],
    "occ.source.": list(get_args(ResponseSource)),
    "occ.message.to.": ["invited", "accepted", "unanswered"],
    "csv.col.": list(COLUMNS),
    "dash.alert.": ["seat-given-up", "failed"],
    "failure.": [*CASES, *(f"{case}.todo" for case in CASES)],
    "csv.target.": ["chapter", "kind", "series"],
    "members.bulk.done.": list(ACTIONS),
    "outcome.only_note.": ["docking-outcome", "feedback"],
    "outcome.intention.": ["yes", "no"],
    "outcome.contract.": ["yes", "no"],
    "followup.rating.": ["1", "2", "3", "4", "5"],
    "report.col.": [c.key for c in REPORT_COLUMNS],
    "report.group.": list(GROUPS),
    "report.chart.": ["attendance", "outcomes", "chapters"],
    "attendees.col.": list(ATTENDEE_COLUMNS),
    "form.repeat.": list(REPEATS),
    "holidays.err.": list(HOLIDAY_CODES),
    "form.nth.": [str(n) for n in NTHS],
    "form.ends.": list(ENDS),
    "chapter.": list(Chapter),
    "chapter_org.": list(Chapter),
    "kind.": list(Kind),
    "kind_phrase.": list(Kind),
    # about a session (the monthly digest has words of its own: digest.*)
    "mail.label.": [*SESSION_KINDS, "resumed"],
    "group.label.": [*SESSION_KINDS, "resumed"],
    "mail.lead.": [*SESSION_KINDS, "missed", "resumed", "update_changed"],
    "digest.per.": list(GROUPS),
    "group.lead.": [
        NoticeKind.INVITATION,
        NoticeKind.UPDATE,
        NoticeKind.CANCELLATION,
        NoticeKind.REMINDER,
        "resumed",
        "update_changed",
    ],
    "group.alert.": ["seat-given-up", "failed"],
    "mail.change.": ["when", "summary", "location", "agenda", "notes"],
    "unit.": ["s", "m", "h", "d"],
    "robots.format.": list(RobotFormat),
}
_TEMPLATE_CALL = re.compile(r"""\b_\(\s*["']([a-z0-9_-]+\.[a-z0-9_.-]*)["']""")
_CODE_CALL = re.compile(r"""\bt\(\s*f?["']([a-z0-9_-]+\.[a-z0-9_.-]*)[{"']""")


def catalog(locale: str) -> dict[str, str]:
    with (CATALOGS / locale.replace("-", "_") / "LC_MESSAGES" / "exsched.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def used_keys() -> set[str]:
    used: set[str] = set()
    for path in [*ROOT.joinpath("scheduler").rglob("*.j2"), *ROOT.joinpath("workers").rglob("*.j2")]:
        used |= set(_TEMPLATE_CALL.findall(path.read_text()))
    for path in [*ROOT.joinpath("scheduler").rglob("*.py"), *ROOT.joinpath("workers").rglob("*.py")]:
        used |= set(_CODE_CALL.findall(path.read_text()))
    return used


def test_every_key_used_exists_in_every_language_with_the_same_placeholders() -> None:
    used = used_keys()
    assert len(used) > 100, "few keys found: the patterns are wrong"
    for prefix in [k for k in used if k.endswith(".")]:
        assert prefix in DYNAMIC, f"a key built as {prefix!r} + value: list its values in DYNAMIC"
        used |= {f"{prefix}{value}" for value in DYNAMIC[prefix]}
    wanted = {k for k in used if not k.endswith(".")}
    default = catalog(LOCALES[0])
    for locale in LOCALES:
        words = catalog(locale)
        assert sorted(wanted - set(words)) == [], locale
        assert set(words) == set(default), f"{locale} and {LOCALES[0]} hold different keys"
        for key, text in words.items():
            assert text.strip(), (locale, key)
            # a translation may leave out a value the default language names, never add one
            placeholders = set(re.findall(r"%\((\w+)\)s", text))
            assert placeholders <= set(re.findall(r"%\((\w+)\)s", default[key])), (locale, key)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_says_what_the_po_file_says(locale: str) -> None:
    compiled = translations(locale)
    stale = [k for k, text in catalog(locale).items() if compiled.gettext(k) != text]
    assert stale == [], "run `make catalogs`: the .mo files are older than the .po files"


def test_every_key_kept_in_a_table_of_words_exists_in_every_language() -> None:
    """Keys held in dicts (what a page says after a change, why a reply was not applied, what a
    form field's error is) are not calls the patterns above can see; they are checked here."""
    from scheduler.web.console.replies import OUTCOMES, REASONS
    from scheduler.web.public.me import DONE
    from scheduler.web.validation import _ERROR_WORDS

    keys = {*OUTCOMES.values(), *REASONS.values(), *_ERROR_WORDS.values(), *DONE.values()}
    for locale in LOCALES:
        assert sorted(keys - set(catalog(locale))) == [], locale
