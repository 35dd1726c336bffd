"""Backups that restore.

:func:`backup` writes one consistent copy of the database into a folder, named by its UTC time:
on PostgreSQL ``pg_dump --format=custom`` (one snapshot, however busy the system), on SQLite the
online backup API. The copy is read back before it counts (``pg_restore --list``, or SQLite's
integrity check), and copies older than ``keep_days`` are removed. :func:`restore` loads a copy
into an **empty** database (``pg_restore --single-transaction``: all or nothing) — never over
live data. The CLI then migrates it and puts the notices that were in flight back to pending
(``exsched db backup`` / ``db restore``; docs/operations.md, "Backups").

The password never appears on a command line (``ps`` shows those): pg_dump and pg_restore get it
in ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from scheduler.db.session import Database

PREFIX = "exsched-"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite"}


class BackupError(Exception):
    """A backup or restore that did not happen, said so an operator can act on it."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    seconds: float
    #: what the copy was checked by ("pg_restore --list: 45 entries", "integrity_check ok")
    checked: str
    removed: list[Path] = field(default_factory=list)


def backup(db: Database, folder: Path, *, keep_days: int = 14, now: datetime | None = None) -> Backup:
    now = now or datetime.now(UTC)
    dialect = db.engine.dialect.name
    if dialect not in SUFFIXES:
        raise BackupError(f"cannot back up a {dialect} database")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PREFIX}{now:%Y%m%dT%H%M%SZ}{SUFFIXES[dialect]}"
    partial = path.with_name(path.name + ".partial")
    began = time.monotonic()
    try:
        if dialect == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"], db.url)
            listed = _run(["pg_restore", "--list", str(partial)], None).splitlines()
            checked = f"pg_restore --list: {sum(1 for line in listed if line and line[0] != ';')} entries"
        else:
            _sqlite_copy(Path(str(make_url(db.url).database)), partial)
            checked = _sqlite_check(partial)
        partial.replace(path)  # only a copy that reads back gets its final name
    finally:
        partial.unlink(missing_ok=True)
    seconds = time.monotonic() - began
    removed = _prune(folder, SUFFIXES[dialect], now - timedelta(days=keep_days), keep=path)
    return Backup(path, path.stat().st_size, seconds, checked, removed)


def restore(db: Database, path: Path) -> float:
    """Load ``path`` into ``db``, which must be empty; the seconds it took."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(
            f"{_shown(db.url)} is not empty ({len(tables)} tables): restore into a new database "
            "(createdb -O exsched exsched_restored) and point EXSCHED_DATABASE_URL at it"
        )
    began = time.monotonic()
    if db.engine.dialect.name == "postgresql":
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
            ],
            db.url,
            trailing=[str(path)],
        )
    elif db.engine.dialect.name == "sqlite":
        _sqlite_check(path)
        db.engine.dispose()
        _sqlite_copy(path, Path(str(make_url(db.url).database)))
    else:
        raise BackupError(f"cannot restore into a {db.engine.dialect.name} database")
    return time.monotonic() - began


def _run(command: list[str], url: str | None, trailing: list[str] | None = None) -> str:
    """A PostgreSQL client program; the database (if any) as a libpq URL without its password."""
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client programs of the server's "
            "major version (Debian: postgresql-client)"
        )
    env = dict(os.environ)
    args = list(command)
    if url is not None:
        parsed = make_url(url)
        if parsed.password is not None:
            env["PGPASSWORD"] = str(parsed.password)
        args.append(parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False))
    args += trailing or []
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)  # noqa: S603
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{command[0]} failed: {said[-1] if said else f'exit status {done.returncode}'}")
    return done.stdout


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while others write."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _sqlite_check(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    if verdict != "ok":
        raise BackupError(f"{path}: SQLite integrity check says {verdict}")
    return "integrity_check ok"


def _prune(folder: Path, suffix: str, before: datetime, *, keep: Path) -> list[Path]:
    """Copies older than ``before`` by the time in their name (a file named otherwise is never
    touched)."""
    removed = []
    for old in sorted(folder.glob(f"{PREFIX}*{suffix}")):
        stamp = old.name[len(PREFIX) : -len(suffix)]
        try:
            taken = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue
        if old != keep and taken < before:
            old.unlink()
            removed.append(old)
    return removed


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
