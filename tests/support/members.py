"""What a member does in a browser, for tests: ask for a sign-in link, read it in the mail (the
app's file outbox), press the page's button; read the member page's form token."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

from fastapi.testclient import TestClient

from scheduler.ops.config import Settings


def outbox(settings: Settings) -> list[EmailMessage]:
    """Every mail the app sent (sign-in links, confirmations), oldest first."""
    folder = Path(settings.outbox_dir)
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def mails_to(settings: Settings, address: str) -> list[EmailMessage]:
    return [m for m in outbox(settings) if m["To"].addresses[0].addr_spec == address.lower()]


def link_in(mail: EmailMessage, part: str) -> str:
    """The path of the mail's link to ``/{part}…`` (the public URL's host cut off)."""
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    [url] = [w for w in text.split() if f"/{part}" in w]
    return url.split("https://exsched.test", 1)[1]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def press(client: TestClient, path: str) -> object:
    """Open a page reached from a link and press its button."""
    return client.post(path, data={"csrf": csrf_of(client.get(path).text)}, follow_redirects=False)


def sign_in(client: TestClient, settings: Settings, address: str) -> None:
    """Sign in as the member at ``address``: the form, the mail, the button."""
    before = len(mails_to(settings, address))
    assert client.post("/me/sign-in", data={"email": address}).status_code == 200
    mails = mails_to(settings, address)
    assert len(mails) == before + 1, "no sign-in mail came"
    answered = press(client, link_in(mails[-1], "me/link/"))
    assert answered.status_code == 303 and answered.headers["location"] == "/me"  # type: ignore[attr-defined]


def page_csrf(client: TestClient) -> str:
    page = client.get("/me")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
