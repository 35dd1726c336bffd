"""``INSERT … ON CONFLICT DO UPDATE`` in the dialect of the session's database.

Both databases exsched runs on have it (PostgreSQL 9.5+, SQLite 3.24+) with the same meaning:
one statement that either inserts the row or updates the one in the way, atomically, so two
requests at once cannot both insert. SQLAlchemy builds it per dialect; this picks the dialect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, table: Table) -> Any:
    """An INSERT into ``table`` that takes ``.on_conflict_do_update(...)``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
