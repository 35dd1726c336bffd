"""A report (:mod:`scheduler.domain.reports`) as a table in the reader's language: its columns,
how a figure is shown, and the .xlsx and CSV files of it (the console's download and the monthly
digest's attachment are the same file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduler.domain.reports import Figures, Report, Row
from scheduler.exports import sheets
from scheduler.i18n import Translator


@dataclass(frozen=True)
class Column:
    key: str
    value: Callable[[Figures], Any]
    kind: str  # "int", "rate", "money", "mean"


COLUMNS = (
    Column("held", lambda f: f.held, "int"),
    Column("cancelled", lambda f: f.cancelled, "int"),
    Column("moved", lambda f: f.moved, "int"),
    Column("invited", lambda f: f.invited, "int"),
    Column("accepted", lambda f: f.accepted, "int"),
    Column("waitlisted", lambda f: f.waitlisted, "int"),
    Column("attended", lambda f: f.attended, "int"),
    Column("no_show", lambda f: f.no_show_rate, "rate"),
    Column("bounce", lambda f: f.bounce_rate, "rate"),
    Column("followup", lambda f: f.followup_rate, "rate"),
    Column("contacts", lambda f: f.contacts, "int"),
    Column("intentions", lambda f: f.intentions, "int"),
    Column("contracts", lambda f: f.contracts, "int"),
    Column("value", lambda f: f.value_wan, "money"),
    Column("rating", lambda f: f.rating, "mean"),
)
#: Excel's number format for each kind of column.
FORMATS = {"int": "#,##0", "rate": "0.0%", "money": "#,##0.0", "mean": "0.0"}


def shown(t: Translator, column: Column, figures: Figures) -> str:
    """A figure as a page or an email shows it ("–" where there is none)."""
    value = column.value(figures)
    if value is None:
        return "–"
    if column.kind == "rate":
        return f"{value * 100:.0f}%"
    if column.kind == "mean":
        return f"{value:.1f}"
    return t.number(value)


def label_of(t: Translator, row: Row, group_by: str) -> str:
    """What a row of the report is, in words: a chapter, a month, or a chapter's series."""
    if group_by == "chapter":
        return t.chapter(row.key)
    if group_by == "month":
        return row.key
    return f"{t.chapter(row.chapter)} · {row.label}"


def table(t: Translator, made: Report) -> tuple[list[str], list[list[Any]]]:
    """The head row and the rows (the total last), values kept as numbers."""
    head = [t(f"report.group.{made.group_by}")] + [t(f"report.col.{c.key}") for c in COLUMNS]
    body = [
        [label_of(t, r, made.group_by)] + [c.value(r.figures) for c in COLUMNS]
        for r in [*made.rows, Row("total", t("report.total"), "", made.total)]
    ]
    body[-1][0] = t("report.total")
    return head, body


def xlsx(t: Translator, made: Report) -> bytes:
    """The report as one .xlsx sheet."""
    head, body = table(t, made)
    by_column = {index: FORMATS[c.kind] for index, c in enumerate(COLUMNS, start=1)}
    return sheets.xlsx(t("report.sheet"), head, body, by_column)


def csv_text(t: Translator, made: Report) -> str:
    """The report as CSV (UTF-8 with a BOM)."""
    return sheets.csv_text(*table(t, made))
