"""Members from a CSV file, in the staff's words: checked as a whole, shown before anything is
stored, then imported.

Columns and values may be written as staff write them — 姓名, 邮箱, 分会 绍兴 (or 绍兴分会, or
``shaoxing``), 语言 中文, 时区 北京时间, 订阅 技术交流会; 分会：宁波; a series' title — or in the
codes programs use (``name``, ``chapter``, ``zh-CN``, ``Asia/Shanghai``, ``kind:tech-exchange``,
a series id); both languages' words are read whatever the reader's language. A row whose email
belongs to a member already updates that member (empty cells leave a field as it is;
subscriptions are only added). Every error names the row, the column and the value found.

Nothing is stored until staff have seen what will happen: how many members are new, what
changes for each one updated, and how many invitations go out at once. A file with errors
imports nothing unless staff choose "only the rows without errors". The export writes the
same columns in the reader's language, so a file can go out, be edited in Excel, and come back.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.domain.auth import Principal
from scheduler.domain.errors import RecurrenceError
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.series import occurrences
from scheduler.i18n import COMMON_ZONES, LOCALES, Translator, translator
from scheduler.web.console.forms import Target, parse_target, read_member
from schemas.api import MemberCreate
from schemas.names import Chapter, Kind, Locale, SeriesStatus

COLUMNS = ("name", "email", "company", "chapter", "locale", "timezone", "subscribe")
REQUIRED = ("name", "email")
MAX_ROWS = 5000
#: Fields an import may change on a member already there (the email is how the row is matched).
UPDATABLE = ("name", "company", "chapter", "locale", "timezone")


def _key(word: str) -> str:
    """A word as compared: no spaces, full-width colons as ASCII ones, case folded."""
    return re.sub(r"\s+", "", word).replace("：", ":").casefold()


class Words:
    """What cells may say, in either language, and what the export writes in the reader's.

    Built from the shared catalogs, so a word staff read in the console (宁波分会, 技术交流会,
    北京时间) is a word the import understands."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        readers = [translator(locale) for locale in LOCALES]
        self.columns: dict[str, str] = {}
        for column in COLUMNS:
            for reader in readers:
                self.columns[_key(reader(f"csv.col.{column}"))] = column
            self.columns[_key(column)] = column
        self.columns |= {
            _key(w): c for w, c in (("电子邮箱", "email"), ("邮件", "email"), ("单位", "company"))
        }
        self.chapters: dict[str, str] = {}
        for chapter in Chapter:
            for reader in readers:
                for word in (reader.chapter(chapter), reader.chapter_org(chapter)):
                    self.chapters[_key(word)] = chapter.value
            self.chapters[_key(chapter.value)] = chapter.value
        self.locales = {_key(loc.value): loc.value for loc in Locale}
        for loc in Locale:
            for reader in readers:
                self.locales[_key(reader(f"members.locale.{loc.value}"))] = loc.value
        self.locales |= {
            _key(w): v for w, v in (("简体中文", "zh-CN"), ("Chinese", "zh-CN"), ("English", "en"))
        }
        self.zones: dict[str, str] = {}
        for reader in readers:
            for zone, label in reader.zone_choices():
                self.zones[_key(label)] = zone
                self.zones[_key(label.split(" (")[0])] = zone  # 日本时间, without the offset
        self.kinds = {_key(reader.kind(kind)): kind.value for kind in Kind for reader in readers}
        self.kinds |= {_key(kind.value): kind.value for kind in Kind}
        self.type_words = {
            _key(reader(f"csv.target.{name}")): name
            for name in ("chapter", "kind", "series")
            for reader in readers
        }

    # --- reading ------------------------------------------------------------------------------------

    def column(self, header: str) -> str | None:
        return self.columns.get(_key(header))

    def chapter(self, value: str) -> str | None:
        return self.chapters.get(_key(value))

    def locale(self, value: str) -> str | None:
        return self.locales.get(_key(value))

    def zone(self, value: str) -> str | None:
        """An IANA id as it is (checked later), or a zone named in words."""
        return value if "/" in value or value == "UTC" else self.zones.get(_key(value))

    def target(self, value: str, titles: dict[str, uuid.UUID]) -> Target | None:
        """``chapter:ningbo``/``kind:…``/``series:<id>``/an id, or words: 分会：宁波, 宁波分会,
        类型：技术交流会, 技术交流会, 系列：<title>, or a series' title."""
        found = parse_target(value)
        if found is not None:
            return found
        kind_word, colon, rest = _key(value).partition(":")
        named = self.type_words.get(kind_word) if colon else None
        word = rest if named else _key(value)
        if named in (None, "chapter") and word in self.chapters:
            return Target(chapter=Chapter(self.chapters[word]))
        if named in (None, "kind") and word in self.kinds:
            return Target(kind=Kind(self.kinds[word]))
        if named in (None, "series") and word in titles:
            return Target(series_id=titles[word])
        return None

    # --- writing ------------------------------------------------------------------------------------

    def headers(self) -> list[str]:
        return [self.t(f"csv.col.{column}") for column in COLUMNS]

    def target_words(self, sub: SubscriptionRow, titles: dict[uuid.UUID, str]) -> str:
        t = self.t
        if sub.target_type == "chapter":
            return f"{t('csv.target.chapter')}：{t.chapter(sub.target)}"
        if sub.target_type == "kind":
            return f"{t('csv.target.kind')}：{t.kind(sub.target)}"
        title = titles.get(sub.series_id) if sub.series_id else None
        return f"{t('csv.target.series')}：{title}" if title else f"series:{sub.target}"


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str  # one of COLUMNS
    value: str  # what the cell said
    reason: str


@dataclass(frozen=True)
class Change:
    column: str
    before: str  # in words
    after: str


@dataclass
class Update:
    """A member already there, and what the file changes: fields, subscriptions to add."""

    member: MemberRow
    patch: dict[str, Any]
    changes: list[Change]
    targets: list[Target]


@dataclass
class ImportCheck:
    """The file read: new members, updates to members there, and what is wrong with the rest."""

    new: list[tuple[MemberCreate, list[Target]]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None
    bad_lines: int = 0

    @property
    def good(self) -> int:
        return len(self.new) + len(self.updates)


def decode(data: bytes, t: Translator) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, t("members.import.not_utf8")


def check_csv(session: Session, content: str, t: Translator, principal: Principal) -> ImportCheck:
    result = ImportCheck()
    words = Words(t)
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        lines = [line for line in reader if line]
    except csv.Error:  # a cell longer than csv's limit (131,072 characters), a stray NUL, …
        result.file_error = t("members.import.unreadable", line=reader.line_num)
        return result
    header = [words.column(h) or h.strip() for h in lines[0]] if lines else []
    missing = [c for c in REQUIRED if c not in header]
    if principal.chapter is None and "chapter" not in header:
        missing.append("chapter")
    if missing:
        result.file_error = t(
            "members.import.no_header", columns="、".join(t(f"csv.col.{c}") for c in missing)
        )
        return result
    rows = [dict(zip(header, line, strict=False)) for line in lines[1:]]
    if len(rows) > MAX_ROWS:
        result.file_error = t("members.import.too_many", n=MAX_ROWS)
        return result
    there = _members_by_email(session, [(r.get("email") or "").strip().lower() for r in rows])
    titles, usable = _usable_series(session, principal)
    first_line_of: dict[str, int] = {}
    for index, raw in enumerate(rows):
        line = index + 2
        cells = {c: _uncell((raw.get(c) or "").strip()) for c in COLUMNS}
        problems: list[RowError] = []
        values = _translated(cells, words, t, line, problems)
        email = values["email"].lower()
        member = there.get(email)
        if email and email in first_line_of:
            problems.append(
                RowError(
                    line, "email", cells["email"], t("members.import.dup_in_file", row=first_line_of[email])
                )
            )
        elif email:
            first_line_of[email] = line
        targets: list[Target] = []
        for piece in _pieces(cells["subscribe"]):
            target = words.target(piece, titles)
            if target is None or (target.series_id is not None and target.series_id not in usable):
                problems.append(
                    RowError(line, "subscribe", piece, t("members.import.bad_target", value=piece))
                )
            elif target not in targets:  # the same target twice in a cell is one subscription
                targets.append(target)
        if member is not None:
            update = _update_of(member, values, cells, targets, words, principal, line, problems)
            if problems:
                result.errors.extend(problems)
                result.bad_lines += 1
            elif update.changes or update.targets:
                result.updates.append(update)
            else:
                result.unchanged += 1
            continue
        if not values["chapter"] and principal.chapter is not None:
            values["chapter"] = principal.chapter.value
        checked = read_member({**values, "channels": True}, t, principal)
        problems += _form_errors(checked.errors, cells, line, problems)
        if problems or checked.payload is None:
            result.errors.extend(problems)
            result.bad_lines += 1
        else:
            result.new.append((checked.payload, targets))
    return result


def _translated(
    cells: dict[str, str], words: Words, t: Translator, line: int, problems: list[RowError]
) -> dict[str, str]:
    """The row's cells as codes (绍兴 → shaoxing, 中文 → zh-CN, 北京时间 → Asia/Shanghai); a
    word that is none of them is an error naming it."""
    values = dict(cells)
    for column, read, error in (
        ("chapter", words.chapter, "members.import.bad_chapter"),
        ("locale", words.locale, "members.import.bad_locale"),
        ("timezone", words.zone, "members.import.bad_zone"),
    ):
        if cells[column]:
            found = read(cells[column])
            if found is None:
                problems.append(RowError(line, column, cells[column], t(error, value=cells[column])))
            values[column] = found or ""
    return values


def _form_errors(
    errors: dict[str, str], cells: dict[str, str], line: int, found: list[RowError]
) -> list[RowError]:
    """The member form's complaints about a row, but for columns already found wrong."""
    said = {e.column for e in found}
    return [
        RowError(line, name, cells.get(name, ""), why) for name, why in errors.items() if name not in said
    ]


def _pieces(cell: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；,，、\n]", cell) if p.strip()]


def _update_of(
    member: MemberRow,
    values: dict[str, str],
    cells: dict[str, str],
    targets: list[Target],
    words: Words,
    principal: Principal,
    line: int,
    problems: list[RowError],
) -> Update:
    """What a row changes on a member already there: fields it fills (an empty cell keeps the
    field), and subscriptions the member does not have yet."""
    t = words.t
    if not principal.may_touch(member.chapter):
        problems.append(RowError(line, "email", cells["email"], t("members.import.other_chapter")))
        return Update(member, {}, [], [])
    given = {c: values[c] for c in UPDATABLE if values.get(c)}
    # checked as the member form checks a member: the row's fields over the member's own
    merged = {c: getattr(member, c) for c in UPDATABLE} | given | {"email": member.email, "channels": True}
    checked = read_member(merged, t, principal)
    problems += _form_errors(checked.errors, cells, line, problems)
    patch = {c: v for c, v in given.items() if v != getattr(member, c)}
    changes = [Change(c, _shown(words, c, getattr(member, c)), _shown(words, c, v)) for c, v in patch.items()]
    held = {(s.target_type, s.target) for s in member.subscriptions}
    fresh = [x for x in targets if _as_pair(x) not in held]
    return Update(member, patch, changes, fresh)


def _as_pair(target: Target) -> tuple[str, str]:
    if target.chapter is not None:
        return "chapter", target.chapter.value
    if target.kind is not None:
        return "kind", target.kind.value
    return "series", str(target.series_id)


def _shown(words: Words, column: str, value: str) -> str:
    t = words.t
    if column == "chapter":
        return t.chapter(value)
    if column == "locale":
        return t(f"members.locale.{value}")
    if column == "timezone":
        return t.zone_label(value)
    return value


def _members_by_email(session: Session, emails: Sequence[str]) -> dict[str, MemberRow]:
    wanted = sorted({e for e in emails if e})
    found: dict[str, MemberRow] = {}
    for start in range(0, len(wanted), 500):
        for member in session.scalars(
            select(MemberRow)
            .where(MemberRow.email.in_(wanted[start : start + 500]))
            .options(selectinload(MemberRow.subscriptions))
        ):
            found[member.email.lower()] = member
    return found


def _usable_series(session: Session, principal: Principal) -> tuple[dict[str, uuid.UUID], set[uuid.UUID]]:
    """Active series a file may subscribe to (for chapter staff, their own or public ones): by
    title as compared, and all their ids; a title two series share names neither (the id then
    says which)."""
    query = select(SeriesRow.id, SeriesRow.title).where(SeriesRow.status == SeriesStatus.ACTIVE.value)
    if principal.chapter is not None:
        query = query.where(or_(SeriesRow.chapter == principal.chapter.value, SeriesRow.private.is_(False)))
    by_title: dict[str, uuid.UUID] = {}
    shared: set[str] = set()
    ids: set[uuid.UUID] = set()
    for series_id, title in session.execute(query):
        word = _key(title)
        if word in by_title:
            shared.add(word)
        by_title[word] = series_id
        ids.add(series_id)
    return {w: i for w, i in by_title.items() if w not in shared}, ids


# --- what an import will send ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    invitations: int  # sent at once after the import
    sessions: int  # the sessions they are for


def invitations_at_once(
    session: Session, check: ImportCheck, holidays: HolidayCalendar, now: datetime
) -> Outgoing:
    """How many invitations the import sends right away: for each member and each series a new
    subscription brings them, the sessions ahead whose invitation time has come."""
    wanted: list[tuple[set[uuid.UUID], list[Target]]] = [(set(), targets) for _, targets in check.new]
    for update in check.updates:
        wanted.append(({update.member.id}, update.targets))
    if not any(targets for _, targets in wanted):
        return Outgoing(0, 0)
    series = session.scalars(
        select(SeriesRow)
        .where(SeriesRow.status == SeriesStatus.ACTIVE.value)
        .options(selectinload(SeriesRow.overrides))
    ).all()
    due: dict[uuid.UUID, int] = {}
    total = 0
    for members, targets in wanted:
        brought = {row.id: row for row in series if any(_brings(x, row) for x in targets)}
        already = _followed(session, members, brought.values())
        for row in brought.values():
            if row.id in already:
                continue
            if row.id not in due:
                due[row.id] = _due_now(row, holidays, now)
            total += due[row.id]
    return Outgoing(total, sum(due.values()))


def _brings(target: Target, row: SeriesRow) -> bool:
    if target.series_id is not None:
        return target.series_id == row.id
    if row.private:
        return False
    if target.chapter is not None:
        return row.chapter == target.chapter.value
    return target.kind is not None and row.kind == target.kind.value


def _followed(session: Session, members: set[uuid.UUID], rows: Iterable[SeriesRow]) -> set[uuid.UUID]:
    """Of ``rows``, those a member there already follows (a new subscription sends them nothing)."""
    if not members:
        return set()
    held = {
        (s.target_type, s.target)
        for s in session.scalars(select(SubscriptionRow).where(SubscriptionRow.member_id.in_(members)))
    }
    return {
        row.id
        for row in rows
        if ("series", str(row.id)) in held
        or (not row.private and (("chapter", row.chapter) in held or ("kind", row.kind) in held))
    }


def _due_now(row: SeriesRow, holidays: HolidayCalendar, now: datetime) -> int:
    """How many of the series' sessions ahead are within its invitation time (invited at once)."""
    try:
        ahead = occurrences(row, holidays, now, now + timedelta(seconds=row.invite_before_s))
    except RecurrenceError:
        return 0
    return sum(1 for occ in ahead if occ.start > now and occ.status.value != "cancelled")


# --- export ---------------------------------------------------------------------------------------


def export_csv(
    members: Sequence[MemberRow],
    subscriptions: Sequence[SubscriptionRow],
    t: Translator,
    titles: dict[uuid.UUID, str],
) -> str:
    """UTF-8 with a BOM, so Excel shows the Chinese; the columns and words :func:`check_csv`
    reads, in the reader's language (a series by its title when no other series shares it)."""
    words = Words(t)
    by_member: dict[object, list[str]] = {}
    for sub in subscriptions:
        by_member.setdefault(sub.member_id, []).append(words.target_words(sub, titles))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(words.headers())
    for m in members:
        subs = "；".join(sorted(by_member.get(m.id, [])))
        row = (m.name, m.email, m.company, t.chapter(m.chapter), _shown(words, "locale", m.locale))
        writer.writerow([_cell(v) for v in (*row, t.zone_label(m.timezone), subs)])
    return "\ufeff" + out.getvalue()


def unique_titles(session: Session) -> dict[uuid.UUID, str]:
    """Series titles no other series shares (the export names those series by title)."""
    rows = session.execute(select(SeriesRow.id, SeriesRow.title)).all()
    count: dict[str, int] = {}
    for _, title in rows:
        count[_key(title)] = count.get(_key(title), 0) + 1
    return {series_id: title for series_id, title in rows if count[_key(title)] == 1}


#: What makes a spreadsheet read a cell as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA) else value


def _uncell(value: str) -> str:
    """A cell as :func:`_cell` wrote it, read back (the file's own text round-trips)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA) else value


def template(t: Translator) -> str:
    """A file to start from: the columns in the reader's language and one example row."""
    example = (
        t("csv.example.name"),
        "zhang.san@example.com",
        t("csv.example.company"),
        t.chapter("ningbo"),
        t("members.locale.zh-CN"),
        t.zone_label(COMMON_ZONES[0]),
        f"{t('csv.target.chapter')}：{t.chapter('ningbo')}；{t('csv.target.kind')}：{t.kind('tech-exchange')}",
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"csv.col.{column}") for column in COLUMNS])
    writer.writerow(example)
    return "\ufeff" + out.getvalue()
