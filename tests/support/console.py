"""Driving the staff console over HTTP as a browser would: its forms, its CSRF token, sign-in."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from scheduler.db.session import Database
from scheduler.domain.staff import create_staff

PASSWORD = "a long staff password"


class _Forms(HTMLParser):
    """The fields a browser would submit for each form on a page (by form id)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self._form: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = self.forms.setdefault(a.get("id") or f"form{len(self.forms)}", [])
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            choice = a.get("type") in ("checkbox", "radio")  # sent only when ticked
            if not choice or "checked" in a:
                self._form.append((a["name"], a.get("value", "on" if choice else "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._form.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._form.append((self._textarea or "", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            name, _ = self._form[-1]
            self._form[-1] = (name, data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms[form_id]


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as the HTTP client takes them (a name may repeat, like the weekday boxes)."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def add_staff(db: Database, username: str, role: str = "admin", chapter: str | None = None) -> None:
    with db.session() as session:
        create_staff(session, username=username, password=PASSWORD, role=role, chapter=chapter)


def new_browser(client: TestClient) -> TestClient:
    """A browser of its own (its own cookies), over https as in production (cookies are Secure)."""
    return TestClient(client.app, base_url="https://testserver")


def try_sign_in(client: TestClient, username: str, password: str) -> tuple[TestClient, Any]:
    """A new browser filling in the sign-in form: the browser, and the form's answer."""
    browser = new_browser(client)
    page = browser.get("/console/login")
    response = browser.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )
    return browser, response


def signed_in(
    client: TestClient, db: Database, username: str, role: str = "admin", chapter: str | None = None
) -> TestClient:
    """A new browser, signed in as a new account."""
    add_staff(db, username, role, chapter)
    browser, response = try_sign_in(client, username, PASSWORD)
    assert response.status_code == 303, response.text
    return browser
