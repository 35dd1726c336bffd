"""``exsched doctor``: checks a configuration before it goes live and says in plain words what is
wrong and how to fix it. It reads the same ``EXSCHED_…`` environment as the processes and asks
each server what a process would: the database (reachable, migrated, its clock), RabbitMQ (every
node, the topology, the user's permissions), the SMTP relay (the envelope sender accepted;
nothing sent), the public URL, the inbound process and the reply and bounce addresses, the
secret key and next year's holidays. ``--mail-loop`` also sends a test mail to the reply and
bounce addresses and waits for ``serve inbound`` to take it in.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date

from scheduler.db.session import Database
from scheduler.doctor import broker, mail, storage, web
from scheduler.doctor.findings import Finding, fail
from scheduler.domain import official_days
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.ops.config import Settings

__all__ = ["Finding", "examine", "render"]

MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


def examine(settings: Settings, *, mail_loop: bool = False, today: date | None = None) -> list[Finding]:
    """Every check, in the order an operator would fix things; none raises."""
    found: list[Finding] = []

    def run(check: str, work: Callable[[], list[Finding] | Finding]) -> None:
        try:
            result = work()
        except Exception as exc:  # a check that breaks is a finding too, never a traceback
            result = fail(check, f"the check itself failed: {exc.__class__.__name__}: {exc}", "report this")
        found.extend(result if isinstance(result, list) else [result])

    run("secret key", lambda: storage.secret_key(settings))
    try:
        db_found, db = storage.database(settings)
    except Exception as exc:
        db_found, db = [fail("database", f"the check itself failed: {exc!r}", "report this")], None
    found.extend(db_found)
    migrated = db if db is not None and all(f.status != "fail" for f in db_found) else None
    if db is not None:
        run("clock", lambda: storage.clock(db))
    run("broker", lambda: broker.broker(settings.amqp_url))
    run("smtp", lambda: mail.smtp(settings))
    run("public url", lambda: web.public_url(settings))
    run("inbound", lambda: mail.inbound(settings, migrated, looping=mail_loop))
    if mail_loop:
        run("mail loop", lambda: mail.mail_loop(settings, migrated))
    run("holidays", lambda: storage.holidays(_calendar(migrated), today or date.today()))
    if db is not None:
        db.dispose()
    return found


def _calendar(db: Database | None) -> ChineseStatutoryCalendar:
    """The holidays installed, and those the province office entered (when the database answers)."""
    calendar = ChineseStatutoryCalendar()
    if db is not None:
        with db.session() as session:
            official_days.refresh(calendar, session)
    return calendar


def render(found: list[Finding], columns: int = 100) -> str:
    """The findings as an operator reads them: a mark and the check's name, what was found, the
    fix under it, wrapped to ``columns``."""
    width = max(len(f.check) for f in found)
    indent = " " * (width + 6)
    lines = []
    for f in found:
        lines += textwrap.wrap(
            f.said,
            columns,
            initial_indent=f"  {MARKS[f.status]} {f.check:<{width}}  ",
            subsequent_indent=indent,
        )
        if f.fix and f.status != "ok":
            lines += textwrap.wrap(
                f.fix,
                columns,
                initial_indent=indent[:-2] + "→ ",
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
    failures = sum(f.status == "fail" for f in found)
    warnings = sum(f.status == "warn" for f in found)
    if failures:
        verdict = f"{failures} problem{'s' * (failures != 1)} to fix before going live"
    else:
        verdict = "nothing stops it going live"
    if warnings:
        verdict += f"; {warnings} warning{'s' * (warnings != 1)} to read"
    return "\n".join([*lines, "", verdict + "."])
