"""What ``exsched doctor`` says of one check: ok, a warning or a failure, in plain words, with
what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    #: what was checked: "database", "broker", "smtp"…
    check: str
    status: Status
    #: what was found, in plain words
    said: str
    #: what to do about it (empty when nothing needs doing)
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(check: str, said: str) -> Finding:
    return Finding(check, "ok", said)


def warn(check: str, said: str, fix: str = "") -> Finding:
    return Finding(check, "warn", said, fix)


def fail(check: str, said: str, fix: str) -> Finding:
    return Finding(check, "fail", said, fix)


def without_password(url: str) -> str:
    """A URL fit to print: its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def first_line(error: BaseException) -> str:
    """An exception's message, first line only (drivers append pages of context)."""
    text = str(error).strip() or error.__class__.__name__
    return text.splitlines()[0]
