"""Rendering the pages members open, in the member's language (the shared catalogs)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import PackageLoader

from scheduler.db.models import SubscriptionRow
from scheduler.i18n import Templates, Translator

TEMPLATES = Templates(PackageLoader("scheduler.web.public", "templates"), trim=False)


def page(locale: str, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered in ``locale``; such pages are never cached (they carry form tokens)."""
    html = TEMPLATES.get(locale).get_template(template).render(**values)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def subscription_words(t: Translator, row: SubscriptionRow, title: str) -> str:
    """One subscription in words: «title», the Ningbo chapter's sessions, every tech exchange."""
    if row.target_type == "series":
        return t("unsub.what.series", title=title)
    if row.target_type == "chapter":
        return t("unsub.what.chapter", chapter=t.chapter_org(row.target))
    return t("unsub.what.kind", kind=t.kind(row.target))
