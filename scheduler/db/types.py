"""Column types that keep the same meaning on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: The zones psycopg hands back for a PostgreSQL session whose TimeZone is UTC.
_UTC_ZONES = (ZoneInfo("Etc/UTC"), ZoneInfo("UTC"))


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, always handed back as an aware UTC ``datetime``.

    PostgreSQL stores ``timestamptz``; SQLite has no zone support, so the value is stored as
    naive UTC text, which still sorts and compares correctly. A naive value is refused on the
    way in: an instant without a zone is a bug, not a wall time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value  # type: ignore[no-any-return]
        if value.tzinfo in _UTC_ZONES:  # psycopg on a server in UTC: no conversion needed
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
