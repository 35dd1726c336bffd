"""Members from a CSV file, all checked before any is stored, with a report per row.

A file with errors imports nothing, and the report says, per row and column, what is wrong;
staff then fix the file, or choose to import only the rows without errors. The export writes
the same columns, so a file can go out, be edited in Excel, and come back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.domain.auth import Principal
from scheduler.i18n import Translator
from scheduler.web.console.forms import Target, parse_targets, read_member
from schemas.api import MemberCreate
from schemas.names import SeriesStatus

COLUMNS = ("name", "email", "company", "chapter", "locale", "timezone", "subscribe")
REQUIRED = ("name", "email")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str
    reason: str


@dataclass
class ImportCheck:
    """The file read: the good rows ready to store, and what is wrong with the others."""

    good: list[tuple[MemberCreate, list[Target]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None
    bad_lines: int = 0


def decode(data: bytes, t: Translator) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, t("members.import.not_utf8")


def check_csv(session: Session, content: str, t: Translator, principal: Principal) -> ImportCheck:
    result = ImportCheck()
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        lines = [line for line in reader if line]
    except csv.Error:  # a cell longer than csv's limit (131,072 characters), a stray NUL, …
        result.file_error = t("members.import.unreadable", line=reader.line_num)
        return result
    header = [h.strip().lower() for h in lines[0]] if lines else []
    missing = [c for c in REQUIRED if c not in header]
    if principal.chapter is None and "chapter" not in header:
        missing.append("chapter")
    if missing:
        result.file_error = t("members.import.no_header", columns=", ".join(missing))
        return result
    rows = [dict(zip(header, line, strict=False)) for line in lines[1:]]
    if len(rows) > MAX_ROWS:
        result.file_error = t("members.import.too_many", n=MAX_ROWS)
        return result
    emails = _known_emails(session, [(r.get("email") or "").strip().lower() for r in rows])
    usable_series = _usable_series(session, rows, principal)
    first_line_of: dict[str, int] = {}
    for index, raw in enumerate(rows):
        line = index + 2
        values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        if not values["chapter"] and principal.chapter is not None:
            values["chapter"] = principal.chapter.value
        checked = read_member({**values, "channels": True}, t, principal)
        problems = [RowError(line, name, reason) for name, reason in checked.errors.items()]
        email = values["email"].lower()
        if email and email in first_line_of:
            problems.append(
                RowError(line, "email", t("members.import.dup_in_file", row=first_line_of[email]))
            )
        elif email:
            first_line_of[email] = line
            if email in emails:
                problems.append(RowError(line, "email", t("err.email_taken")))
        targets, unknown = parse_targets(values["subscribe"])
        targets = list(dict.fromkeys(targets))  # the same target twice in a cell is one subscription
        unknown += [str(x.series_id) for x in targets if x.series_id and x.series_id not in usable_series]
        problems += [RowError(line, "subscribe", t("members.import.bad_target", value=v)) for v in unknown]
        if problems or checked.payload is None:
            result.errors.extend(problems)
            result.bad_lines += 1
        else:
            result.good.append((checked.payload, targets))
    return result


def _known_emails(session: Session, emails: Sequence[str]) -> set[str]:
    wanted = {e for e in emails if e}
    found: set[str] = set()
    batch = sorted(wanted)
    for start in range(0, len(batch), 500):
        found.update(
            session.scalars(select(MemberRow.email).where(MemberRow.email.in_(batch[start : start + 500])))
        )
    return found


def _usable_series(session: Session, rows: Sequence[dict[str, str]], principal: Principal) -> set[object]:
    """Active series the file may subscribe to: for chapter staff, their own or public ones."""
    ids = {
        target.series_id
        for row in rows
        for target in parse_targets(row.get("subscribe") or "")[0]
        if target.series_id is not None
    }
    if not ids:
        return set()
    query = select(SeriesRow.id).where(SeriesRow.id.in_(ids), SeriesRow.status == SeriesStatus.ACTIVE.value)
    if principal.chapter is not None:
        query = query.where(or_(SeriesRow.chapter == principal.chapter.value, SeriesRow.private.is_(False)))
    return set(session.scalars(query))


def export_csv(members: Sequence[MemberRow], subscriptions: Sequence[SubscriptionRow]) -> str:
    """UTF-8 with a BOM, so Excel shows the Chinese names; the columns :func:`check_csv` reads."""
    by_member: dict[object, list[str]] = {}
    for sub in subscriptions:
        by_member.setdefault(sub.member_id, []).append(f"{sub.target_type}:{sub.target}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for m in members:
        subs = ";".join(sorted(by_member.get(m.id, [])))
        writer.writerow(
            [_cell(v) for v in (m.name, m.email, m.company, m.chapter, m.locale, m.timezone, subs)]
        )
    return "\ufeff" + out.getvalue()


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


TEMPLATE = (
    "\ufeff"
    + ",".join(COLUMNS)
    + "\r\n"
    + "张三,zhang.san@example.com,宁波某服饰有限公司,ningbo,zh-CN,Asia/Shanghai,"
    + "chapter:ningbo;kind:tech-exchange\r\n"
)
