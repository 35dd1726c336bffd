"""What the API, the console and the public pages share per request: the database session, the
settings, the holiday calendar, who is calling, and the one way to commit a change and have the
planner look at what it touched."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from scheduler.db.models import ChapterWebhookRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal, authenticate
from scheduler.domain.errors import Unauthorized
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.webhooks import RobotTest
from scheduler.notices.planner import request_plan
from scheduler.ops.config import Settings
from schemas.mail import PlainMail
from schemas.names import Chapter

#: Sends a plain email now (sign-in links, confirmations): the workers' mail channel, given to the
#: app by whoever builds it.
Postman = Callable[[PlainMail], object]

#: Posts a test message to a chapter's robot right now (the worker's chat channel, given to the
#: app by whoever builds it: the web layer does not send notices itself).
RobotTester = Callable[[ChapterWebhookRow], RobotTest]


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """A session per request; writes commit explicitly, anything uncommitted is rolled back."""
    session = db.sessions()
    try:
        yield session
    finally:
        session.close()


def release(session: Session) -> None:
    """End the request's reading: its connection goes back to the pool while the answer is
    computed (what was read stays usable; asking the session again starts a new transaction)."""
    session.commit()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_holidays(request: Request) -> HolidayCalendar:
    return request.app.state.holidays  # type: ignore[no-any-return]


def presented_principal(
    session: Annotated[Session, Depends(get_session)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """The caller behind the key the request presents, or None if it presents none.

    A forged, malformed or revoked key is refused (401) on every route, open reads included:
    a caller must learn that its key is bad, not get the anonymous answer.
    """
    if authorization is None:
        return None
    principal = authenticate(session, authorization)
    session.commit()  # keeps last_used_at
    return principal


def get_principal(principal: Annotated[Principal | None, Depends(presented_principal)]) -> Principal:
    """The caller, who must present a key."""
    if principal is None:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    return principal


def commit_and_replan(
    request: Request,
    session: Session,
    *,
    series_ids: Iterable[uuid.UUID] = (),
    member_ids: Iterable[uuid.UUID] = (),
    chapters: Iterable[Chapter | str] = (),
) -> None:
    """Commit a change together with a request to re-plan what it touched, then wake the planner
    of this process (``serve all``; separate schedulers hear PostgreSQL's ``NOTIFY``)."""
    series_ids, member_ids, chapters = list(series_ids), list(member_ids), list(chapters)
    touched = bool(series_ids or member_ids or chapters)
    if touched:
        request_plan(session, series_ids=series_ids, member_ids=member_ids, chapters=chapters)
    session.commit()
    signal = request.app.state.plan_signal
    if touched and signal is not None:
        signal()


class Replan:
    """:func:`commit_and_replan` for a route: ``replan.commit(series_ids=[…])``."""

    def __init__(self, request: Request, session: Annotated[Session, Depends(get_session)]) -> None:
        self.request, self.session = request, session

    def commit(
        self,
        *,
        series_ids: Iterable[uuid.UUID] = (),
        member_ids: Iterable[uuid.UUID] = (),
        chapters: Iterable[Chapter | str] = (),
    ) -> None:
        commit_and_replan(
            self.request, self.session, series_ids=series_ids, member_ids=member_ids, chapters=chapters
        )


def robot_tester(request: Request) -> RobotTester | None:
    return request.app.state.robot_tester  # type: ignore[no-any-return]


def postman(request: Request) -> Postman | None:
    return request.app.state.postman  # type: ignore[no-any-return]


ReplanDep = Annotated[Replan, Depends(Replan)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolidaysDep = Annotated[HolidayCalendar, Depends(get_holidays)]
StaffDep = Annotated[Principal, Depends(get_principal)]
CallerDep = Annotated[Principal | None, Depends(presented_principal)]
TesterDep = Annotated[RobotTester | None, Depends(robot_tester)]
PostmanDep = Annotated[Postman | None, Depends(postman)]
#: For routers: every route refuses a bad key, whether or not it needs one.
CHECK_KEY = [Depends(presented_principal)]
