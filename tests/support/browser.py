"""What browser tests share: Debian's Chromium and how to start it, the staff accounts they sign in
with, where a running exsched is, and the mail it wrote to its outbox."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

PASSWORD = "浙江服装 2026 console"
#: The width of the phone pages members and staff open are checked at.
PHONE_WIDTH = 390
ACCOUNTS = (("admin", "admin", None), ("ningbo", "chapter", "ningbo"), ("wenzhou", "chapter", "wenzhou"))
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("EXSCHED_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass(frozen=True)
class Console:
    """An ``exsched serve all`` the tests drive: its URL, database and outbox."""

    base: str
    database_url: str
    outbox: Path


# --- mail the app under test wrote to its outbox -------------------------------------------------


def mail_to(
    outbox: Path, address: str, wanted: Callable[[EmailMessage], bool], timeout: float = 90
) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.rglob("*.eml")):
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(mail["To"]) and wanted(mail):  # type: ignore[arg-type]
                return mail  # type: ignore[return-value]
        time.sleep(0.3)
    pytest.fail(f"no such mail to {address} in the outbox within {timeout} s")


def plain(mail: EmailMessage) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def link(mail: EmailMessage, part: str) -> str:
    return next(url for url in re.findall(r"https?://\S+", plain(mail)) if part in url)
