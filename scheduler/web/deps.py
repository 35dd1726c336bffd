"""Request-scoped dependencies: the database session, the caller, the settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from scheduler.db.session import Database
from scheduler.domain.auth import Principal, authenticate
from scheduler.domain.holidays import HolidayCalendar
from scheduler.notices.planner import request_plan
from scheduler.ops.config import Settings


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


class Replan:
    """Ask for re-planning inside the request's transaction; signal the planner after commit."""

    def __init__(self, request: Request, session: Annotated[Session, Depends(get_session)]) -> None:
        self.session = session
        self.signal = request.app.state.plan_signal

    def series(self, *series_ids: uuid.UUID) -> None:
        request_plan(self.session, series_ids=series_ids)

    def member(self, *member_ids: uuid.UUID) -> None:
        request_plan(self.session, member_ids=member_ids)

    def commit(self) -> None:
        self.session.commit()
        if self.signal is not None:
            self.signal()


ReplanDep = Annotated[Replan, Depends(Replan)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolidaysDep = Annotated[HolidayCalendar, Depends(get_holidays)]
StaffDep = Annotated[Principal, Depends(get_principal)]
