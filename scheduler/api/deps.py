"""Request-scoped dependencies: the database session, the caller, the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from scheduler.auth import Principal, authenticate
from scheduler.config import Settings
from scheduler.db.session import Database
from scheduler.holidays import HolidayCalendar


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """A session per request; writes commit explicitly, anything uncommitted is rolled back."""
    session = db.sessions()
    try:
        yield session
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_holidays(request: Request) -> HolidayCalendar:
    return request.app.state.holidays  # type: ignore[no-any-return]


def get_principal(
    session: Annotated[Session, Depends(get_session)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    principal = authenticate(session, authorization)
    session.commit()  # keeps last_used_at
    return principal


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolidaysDep = Annotated[HolidayCalendar, Depends(get_holidays)]
StaffDep = Annotated[Principal, Depends(get_principal)]
