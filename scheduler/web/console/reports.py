"""``/console/reports``: how the sessions went, for a period and a kind, per chapter, series or
month — the province office all chapters side by side, chapter staff their own. Charts are SVG
drawn here (no script, no CDN); figures link to the list they count where the console has one;
the same report downloads as Excel (.xlsx, Chinese headers, typed cells) or CSV."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from scheduler.domain import reports
from scheduler.domain.reports import Report, Row, month_start, next_month
from scheduler.exports import report_table
from scheduler.exports.report_table import COLUMNS, label_of, shown
from scheduler.ops.clock import utcnow
from scheduler.web.console import spreadsheets
from scheduler.web.console.charts import bars
from scheduler.web.console.page import OFFICE, Page, PageDep
from scheduler.web.console.sessions import holidays_of
from schemas.names import Kind

router = APIRouter(prefix="/console", include_in_schema=False)
#: The longest period a report covers.
MOST_MONTHS = 120


@dataclass(frozen=True)
class Asked:
    """The report the page's filters ask for, read from the query (or why not)."""

    first: str  # YYYY-MM
    last: str
    kind: str
    group_by: reports.GroupBy
    chapter: str
    errors: dict[str, str]


def _asked(page: Page) -> Asked:
    q = page.request.query_params
    today = utcnow().astimezone(OFFICE)
    back = today.year * 12 + today.month - 1 - 11  # the last twelve months, this one included
    default_first = f"{back // 12:04d}-{back % 12 + 1:02d}"
    first, last = q.get("from", default_first), q.get("to", today.strftime("%Y-%m"))
    errors: dict[str, str] = {}
    start, end = month_start(first), month_start(last)
    if start is None:
        errors["from"] = page.t("report.err.month")
    if end is None:
        errors["to"] = page.t("report.err.month")
    if (
        start
        and end
        and (end < start or (end.year - start.year) * 12 + end.month - start.month >= MOST_MONTHS)
    ):
        errors["to"] = page.t("report.err.period", most=MOST_MONTHS // 12)
    kind = q.get("kind", "")
    if kind not in {k.value for k in Kind}:
        kind = ""
    group_by = q.get("group_by", "chapter" if page.is_admin else "series")
    if group_by not in reports.GROUPS:
        group_by = "chapter"
    chapter = q.get("chapter", "")
    if chapter not in page.chapters:
        chapter = ""
    return Asked(first, last, kind, group_by, chapter, errors)  # type: ignore[arg-type]


def _report(page: Page, asked: Asked) -> Report:
    start, last = month_start(asked.first), month_start(asked.last)
    assert start is not None and last is not None
    return reports.report(
        page.session,
        holidays_of(page),
        chapters=[asked.chapter] if asked.chapter else page.chapters,
        start=start,
        end=next_month(last),
        now=utcnow(),
        kind=asked.kind or None,
        group_by=asked.group_by,
    )


def _links(row: Row, group_by: str, chapter: str) -> dict[str, str]:
    """Where a figure's list is: the series list or page, and the ledger filtered to it (a
    month's: the ledger of that month's sessions, in the chapter asked for)."""
    ledger = "/console/ledger?"
    if group_by == "month":
        scope = {"month": row.key} | ({"chapter": chapter} if chapter else {})
        return {
            "invited": ledger + urlencode(scope | {"kind": "invitation"}),
            "bounce": ledger + urlencode(scope | {"status": "bounced"}),
            "followup": ledger + urlencode(scope | {"kind": "followup"}),
        }
    scope = {"chapter": row.key} if group_by == "chapter" else {"series": row.key}
    sessions = f"/console/series?chapter={row.key}" if group_by == "chapter" else f"/console/series/{row.key}"
    return {
        "held": sessions,
        "cancelled": sessions,
        "moved": sessions,
        "accepted": sessions,
        "waitlisted": sessions,
        "attended": sessions,
        "invited": ledger + urlencode(scope | {"kind": "invitation"}),
        "bounce": ledger + urlencode(scope | {"status": "bounced"}),
        "followup": ledger + urlencode(scope | {"kind": "followup"}),
    }


def _refused(page: Page, asked: Asked) -> Response:
    """The page with the filters' errors next to them, and no figures."""
    return page.render(
        "reports.html.j2", status=422, report=None, asked=asked, errors=asked.errors, columns=COLUMNS
    )


@router.get("/reports", response_class=HTMLResponse)
def reports_page(page: PageDep) -> Response:
    asked = _asked(page)
    t = page.t
    if asked.errors:
        return _refused(page, asked)
    made = _report(page, asked)
    months = [r.key[2:] for r in made.by_month]  # 26-11: twelve of them fit under the bars

    def per_month(first: str, second: str, chart: str) -> str:
        """Two figures side by side for every month of the period."""
        return bars(
            months,
            [
                (t(f"report.col.{key}"), [getattr(r.figures, key) for r in made.by_month])
                for key in (first, second)
            ],
            title=t(f"report.chart.{chart}"),
            chart_id=f"chart-{chart}",
        )

    attendance = per_month("accepted", "attended", "attendance")
    outcomes = per_month("intentions", "contracts", "outcomes")
    compared = None
    if page.is_admin and not asked.chapter:
        by_chapter = reports.report(
            page.session,
            holidays_of(page),
            chapters=page.chapters,
            start=made.start,
            end=made.end,
            now=utcnow(),
            kind=made.kind,
            group_by="chapter",
        ) if made.group_by != "chapter" else made  # fmt: skip
        compared = bars(
            [t.chapter(r.key) for r in by_chapter.rows],
            [
                (t("report.col.held"), [r.figures.held for r in by_chapter.rows]),
                (t("report.col.attended"), [r.figures.attended for r in by_chapter.rows]),
            ],
            title=t("report.chart.chapters"),
            chart_id="chart-chapters",
        )
    rows = [(label_of(t, r, made.group_by), r, _links(r, made.group_by, asked.chapter)) for r in made.rows]
    query = urlencode(
        {"from": asked.first, "to": asked.last, "kind": asked.kind, "group_by": asked.group_by}
        | ({"chapter": asked.chapter} if asked.chapter else {})
    )
    return page.render(
        "reports.html.j2",
        report=made,
        rows=rows,
        shown=shown,
        charts=[attendance, outcomes] + ([compared] if compared else []),
        download=query,
        asked=asked,
        errors={},
        columns=COLUMNS,
    )


@router.get("/reports.xlsx")
def reports_xlsx(page: PageDep) -> Response:
    asked = _asked(page)
    if asked.errors:
        return _refused(page, asked)
    book = report_table.xlsx(page.t, _report(page, asked))
    return spreadsheets.download(book, f"report-{asked.first}-{asked.last}.xlsx")


@router.get("/reports.csv")
def reports_csv(page: PageDep) -> Response:
    asked = _asked(page)
    if asked.errors:
        return _refused(page, asked)
    text = report_table.csv_text(page.t, _report(page, asked))
    return spreadsheets.download(text, f"report-{asked.first}-{asked.last}.csv")
