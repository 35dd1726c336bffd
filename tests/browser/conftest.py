"""Browser tests: Debian's Chromium, driven by Playwright, against ``exsched serve all``.

The app runs as users run it (a subprocess on SQLite with the in-process bus and the file
outbox, accounts made with ``exsched staff add``). Screenshots of the main pages are written to
``test-artifacts/console`` (or ``$EXSCHED_TEST_ARTIFACTS``) for people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import ACCOUNTS, CHROMIUM_FLAGS, PASSWORD, PHONE_WIDTH, Console, chromium_path
from tests.support.processes import free_port, run, serving
from tests.support.services import service_missing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("EXSCHED_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        missing = FileNotFoundError("install Debian's chromium package: apt-get install chromium")
        service_missing("Chromium", missing)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        service_missing("Playwright", exc)
    with sync_playwright() as pw:
        # A Chinese locale, so date and time inputs read as staff see them (2026/12/10, 14:00).
        env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN:zh"}
        launched = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, env=env)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """``exsched serve all`` on a fresh SQLite database, with three staff accounts."""
    home = tmp_path_factory.mktemp("console")
    port = free_port()
    env = dict(os.environ)
    env.update(
        EXSCHED_DATABASE_URL=f"sqlite:///{home / 'exsched.db'}",
        EXSCHED_PUBLIC_URL=f"http://127.0.0.1:{port}",
        EXSCHED_ROBOT_LOCAL_TARGETS="true",  # the test's chat robot answers on a loopback port
        EXSCHED_OUTBOX_DIR=str(home / "outbox"),
        EXSCHED_AMQP_URL="",
        EXSCHED_SMTP_URL="",
        EXSCHED_LOG_FORMAT="json",
    )
    assert run(["db", "upgrade"], env, home).returncode == 0
    for username, role, chapter in ACCOUNTS:
        args = ["staff", "add", username, "--role", role, "--password-stdin", "--name", f"{username} 秘书处"]
        result = run([*args, *(["--chapter", chapter] if chapter else [])], env, home, input=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
    with serving(["serve", "all", "--host", "127.0.0.1", "--port", str(port)], env, home, port):
        yield Console(f"http://127.0.0.1:{port}", env["EXSCHED_DATABASE_URL"], home / "outbox")


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page on a phone: 390 px wide, touch, zh-CN."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": PHONE_WIDTH, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
    )
    yield context.new_page()
    context.close()
