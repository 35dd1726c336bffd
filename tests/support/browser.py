"""What browser tests share: Debian's Chromium and how to start it, the staff accounts they sign in
with, and where a running exsched is."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "浙江服装 2026 console"
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
