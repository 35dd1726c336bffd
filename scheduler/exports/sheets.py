"""Tables as files staff open in Excel: .xlsx (openpyxl: a bold, frozen head row, numbers kept
as numbers with their format, columns wide enough for Chinese text) and CSV (UTF-8 with a BOM,
so Excel shows the Chinese)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # a Han character is two columns wide


def xlsx(title: str, head: Sequence[str], rows: Sequence[Sequence[Any]], formats: Mapping[int, str]) -> bytes:
    """One sheet: ``head``, then ``rows``; ``formats`` by column index (0-based), e.g. "0.0%"."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(head))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for index, number_format in formats.items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            cell.number_format = number_format
    for index in range(len(head)):
        widest = max([_width(head[index]), *(_width(r[index]) for r in rows)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(60, max(8, widest + 2))
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return "\ufeff" + out.getvalue()
