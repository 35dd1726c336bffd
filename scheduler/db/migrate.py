"""Schema migrations with Alembic, driven from code (``exsched db upgrade``), and whether this
code may run on the schema it finds (:func:`schema_state`: the same, or newer but declaring in
``schema_compat`` that this code still works with it — a rolling upgrade)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text

from scheduler.db.session import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run on every start."""
    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


@dataclass(frozen=True)
class SchemaState:
    """What this code makes of the schema it finds.

    ``current``: at this code's newest migration; ``empty``: no exsched tables; ``behind``: older
    (run ``exsched db upgrade``); ``newer``: migrated by a newer release that declares this code
    still works with it (``oldest_code``); ``too_new``: migrated by a newer release this code
    does not work with."""

    state: Literal["current", "empty", "behind", "newer", "too_new"]
    current: str | None
    head: str | None
    oldest_code: str | None = None

    @property
    def runnable(self) -> bool:
        return self.state in ("current", "newer")

    def problem(self) -> str:
        """Why a process must not start on it, in words with the fix."""
        if self.state == "empty":
            return "the database has no exsched schema: run `exsched db upgrade` first"
        if self.state == "behind":
            return (
                f"the database schema is at {self.current}, not {self.head}: run `exsched db upgrade` first"
            )
        if self.state == "too_new":
            return (
                f"the database schema is at {self.current}, migrated by a newer exsched that works only "
                f"with code from {self.oldest_code or 'its own version'} on (this is {self.head}): "
                "run that version"
            )
        return ""


def schema_state(db: Database) -> SchemaState:
    scripts = ScriptDirectory.from_config(alembic_config(db))
    head, current = scripts.get_current_head(), current_revision(db)
    if current == head:
        return SchemaState("current", current, head)
    if current is None:
        return SchemaState("empty", current, head)
    try:
        scripts.get_revision(current)
        return SchemaState("behind", current, head)
    except CommandError:
        pass  # a revision this code has never heard of: a newer release migrated it
    oldest = oldest_code(db)
    known = False
    if oldest is not None:
        try:
            known = scripts.get_revision(oldest) is not None
        except CommandError:
            known = False
    return SchemaState("newer" if known else "too_new", current, head, oldest)


def oldest_code(db: Database) -> str | None:
    """``schema_compat.oldest_code``, or None before migration 0023."""
    if "schema_compat" not in inspect(db.engine).get_table_names():
        return None
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT oldest_code FROM schema_compat WHERE id = 1")).scalar()
