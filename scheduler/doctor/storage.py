"""The checks that need no other server than the database: the secret key, the database itself
and its schema, the clock against the database's, and the holiday data."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import text

from scheduler.db.migrate import schema_state
from scheduler.db.session import Database
from scheduler.doctor.findings import Finding, fail, first_line, ok, warn, without_password
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.ops.config import Settings

#: Beyond this the clocks disagree enough to matter: notices are due by this machine's clock,
#: leases and answers are stamped by it, and the database's now() orders some of them.
SKEW_WARN, SKEW_FAIL = 2.0, 30.0
#: From November the State Council may publish next year's holidays at any time.
HOLIDAYS_DUE_MONTH = 11


def secret_key(settings: Settings) -> Finding:
    if settings.uses_dev_secret:
        return fail(
            "secret key",
            "EXSCHED_SECRET_KEY is the development key, printed in exsched's source: anyone could "
            "sign answer links and console sessions with it",
            "set EXSCHED_SECRET_KEY to a long random value: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    if len(settings.secret_key) < 32:
        return warn(
            "secret key",
            f"EXSCHED_SECRET_KEY has only {len(settings.secret_key)} characters",
            "use at least 32 random characters (changing it signs everyone out and voids links in sent mail)",
        )
    return ok("secret key", f"a key of {len(settings.secret_key)} characters, not the development one")


def database(settings: Settings) -> tuple[list[Finding], Database | None]:
    """Reachable, PostgreSQL, migrated to this version. Returns the database when it answers."""
    shown = without_password(settings.database_url)
    try:
        db = Database(settings.database_url)
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return [fail("database", f"{shown}: {_why_not(exc)}", _database_fix(exc))], None
    found: list[Finding] = []
    if db.engine.dialect.name == "sqlite":
        found.append(
            warn(
                "database",
                f"{shown} is SQLite: fine for the demo and a single `serve all`, not for several processes",
                "use PostgreSQL in production: EXSCHED_DATABASE_URL=postgresql://exsched:…@host/exsched",
            )
        )
    found.append(_schema(db, shown))
    return found, db


def _schema(db: Database, shown: str) -> Finding:
    found = schema_state(db)
    if found.state == "current":
        return ok("database", f"{shown} answers; its schema is this version's ({found.head})")
    if found.state == "empty":
        return fail("database", f"{shown} is empty (no exsched tables)", "run `exsched db upgrade`")
    if found.state == "behind":
        return fail(
            "database",
            f"{shown}: the schema is at {found.current}, this version needs {found.head}",
            "run `exsched db upgrade` (the processes refuse to start until then)",
        )
    if found.state == "newer":
        return warn(
            "database",
            f"{shown} was migrated by a newer exsched (schema {found.current}) that still works with this "
            f"version ({found.head}): a rolling upgrade in progress",
            "install the newer release here too and restart this machine's processes on it",
        )
    return fail(
        "database",
        f"{shown} was migrated by a newer exsched (schema {found.current}; this version knows up to "
        f"{found.head} and that schema needs code from {found.oldest_code or 'its own version'} on)",
        "run the exsched version that migrated it, or restore the backup taken before that upgrade",
    )


def _why_not(exc: Exception) -> str:
    message = first_line(getattr(exc, "orig", None) or exc)
    lowered = message.lower()
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return "the server refused the user name or password"
    if "does not exist" in lowered and "database" in lowered:
        return "no such database on the server"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return f"no database server answers ({message})"
    return message


def _database_fix(exc: Exception) -> str:
    message = str(getattr(exc, "orig", None) or exc).lower()
    if "authentication failed" in message:
        return "check the user and password in EXSCHED_DATABASE_URL"
    if "does not exist" in message and "database" in message:
        return "create it (createdb -O exsched exsched), then run `exsched db upgrade`"
    return "check the host and port in EXSCHED_DATABASE_URL and that PostgreSQL runs and accepts this machine"


def clock(db: Database) -> Finding:
    """This machine's clock against the database server's."""
    if db.engine.dialect.name != "postgresql":
        return ok("clock", "SQLite: the database has no clock of its own to compare with")
    with db.engine.connect() as connection:
        before = time.time()
        theirs = connection.execute(text("SELECT now()")).scalar_one()
        after = time.time()
    ours = datetime.fromtimestamp((before + after) / 2, UTC)
    return clock_finding((ours - theirs).total_seconds(), after - before)


def clock_finding(skew: float, round_trip: float) -> Finding:
    """``skew``: this machine's clock minus the database's, in seconds."""
    ahead = "ahead of" if skew > 0 else "behind"
    said = f"this machine's clock is {abs(skew):.1f} s {ahead} the database server's"
    fix = "run NTP (chrony or systemd-timesyncd) on this machine and on the database server"
    if abs(skew) > SKEW_FAIL:
        return fail("clock", said + ": notices would go out early or late, leases expire wrongly", fix)
    if abs(skew) > SKEW_WARN:
        return warn("clock", said, fix)
    return ok("clock", f"agrees with the database server's within {max(abs(skew), round_trip):.1f} s")


def holidays(calendar: ChineseStatutoryCalendar, today: date) -> Finding:
    """Next year's official holidays, installed or not."""
    known = calendar.known_years()
    following = today.year + 1
    if following in known:
        entered = " (entered in the console)" if following in calendar.entered_years() else ""
        return ok("holidays", f"official holidays and working days known through {known[-1]}{entered}")
    said = f"{following}'s official holidays are not installed (known: {known[0]}–{known[-1]})"
    fix = (
        "when the State Council has published them, the province office enters them in the console "
        "(节假日安排), or upgrade the holiday data (pip install -U chinesecalendar) and restart; until "
        f"then sessions in {following} are planned as if it had no holidays"
    )
    if today.month >= HOLIDAYS_DUE_MONTH:
        return warn("holidays", said, fix)
    return ok("holidays", said + "; they are usually published in November or December")
