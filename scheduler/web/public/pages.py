"""Rendering the pages members open, in the member's language (the shared catalogs)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import PackageLoader

from scheduler.i18n import Templates

TEMPLATES = Templates(PackageLoader("scheduler.web.public", "templates"), trim=False)


def page(locale: str, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered in ``locale``; such pages are never cached (they carry form tokens)."""
    html = TEMPLATES.get(locale).get_template(template).render(**values)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
