"""A table file as a download (the tables themselves: :mod:`scheduler.exports.sheets`)."""

from __future__ import annotations

from fastapi.responses import Response

from scheduler.exports.sheets import XLSX


def download(body: bytes | str, name: str) -> Response:
    """The file as an attachment named ``name`` (its type from the extension), never cached."""
    media = XLSX if name.endswith(".xlsx") else "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media, headers=headers)
