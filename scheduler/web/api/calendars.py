"""``/calendars``: webcal/ICS feeds, with ETag and Last-Modified so polling clients get 304s."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import TypeVar

import structlog
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from scheduler.calendars.feeds import FeedService, RenderedFeed, series_calendar
from scheduler.domain import members as people
from scheduler.domain import series as catalog
from scheduler.domain.auth import authenticate
from scheduler.web.deps import CHECK_KEY, CallerDep, SessionDep, SettingsDep, StaffDep, release
from schemas.api import ErrorOut, MemberOut
from schemas.names import Chapter, Kind

log = structlog.get_logger(__name__)
router = APIRouter(tags=["calendar feeds"], dependencies=CHECK_KEY)
#: The feeds calendar apps poll: no dependencies (each would be a trip through the thread pool);
#: :func:`_polled` does the same work in one.
feeds_router = APIRouter(tags=["calendar feeds"])
T = TypeVar("T")
CALENDAR = "text/calendar; charset=utf-8"
_NOT_FOUND = b"not found\n"


def _feeds(request: Request) -> FeedService:
    return request.app.state.feeds  # type: ignore[no-any-return]


def _respond(request: Request, feed: RenderedFeed, filename: str, *, public: bool) -> Response:
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": f"{'public' if public else 'private'}, max-age=300",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if _not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    return Response(content=feed.body, media_type=CALENDAR, headers=headers)


def _not_modified(request: Request, feed: RenderedFeed) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return feed.etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return feed.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _gone() -> Response:
    """The same answer for a token that never existed and one that was rotated away."""
    return Response(content=_NOT_FOUND, status_code=404, media_type="text/plain")


def _polled(request: Request, read: Callable[[Session], T]) -> T:
    """A feed poll's database work in one call (run in the thread pool once, not once per
    dependency): a session, the key check every route makes (a bad key is refused, 401), the
    read; the session is closed before the answer is written."""
    session = request.app.state.db.sessions()
    try:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            authenticate(session, authorization)
            session.commit()  # keeps last_used_at
        return read(session)
    finally:
        session.close()


async def _feed(
    request: Request, asked: Hashable, read: Callable[[Session], RenderedFeed | None]
) -> RenderedFeed | None:
    """The feed ``asked`` for: from memory when no change was heard since it was last read (no
    query, no thread — a key presented is always checked, so never then), else read."""
    feeds = _feeds(request)
    if "authorization" not in request.headers:
        kept = feeds.recall(asked)
        if kept is not None:
            return kept
    heard = feeds.heard()
    feed = await run_in_threadpool(_polled, request, read)
    if feed is not None:
        feeds.checked(asked, feed, heard)
    return feed


async def _public(
    request: Request, filename: str, *, chapter: Chapter | None = None, kind: Kind | None = None, alarm: bool
) -> Response:
    """A public feed (one always exists: no series is an empty calendar)."""
    feed = await _feed(
        request,
        ("public", chapter, kind, alarm),
        lambda s: _feeds(request).for_public(s, chapter=chapter, kind=kind, alarm=alarm),
    )
    assert feed is not None
    return _respond(request, feed, filename, public=True)


@feeds_router.get("/calendars/all.ics", response_class=Response)
async def all_feed(request: Request, alarm: bool = False) -> Response:
    """Every public series."""
    return await _public(request, "all.ics", alarm=alarm)


@feeds_router.get("/calendars/chapters/{chapter}.ics", response_class=Response)
async def chapter_feed(
    chapter: Chapter, request: Request, kind: Kind | None = None, alarm: bool = False
) -> Response:
    """A chapter's public series (optionally one kind)."""
    return await _public(request, f"{chapter.value}.ics", chapter=chapter, kind=kind, alarm=alarm)


@feeds_router.get("/calendars/kinds/{kind}.ics", response_class=Response)
async def kind_feed(kind: Kind, request: Request, alarm: bool = False) -> Response:
    """Every public series of one kind."""
    return await _public(request, f"{kind.value}.ics", kind=kind, alarm=alarm)


@router.get("/calendars/series/{series_id}.ics", response_class=Response)
def series_file(
    series_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> Response:
    """One series as a single recurring event (RRULE, EXDATE, RDATE, RECURRENCE-ID exceptions),
    for staff who import a series into their own calendar."""
    row = catalog.ready_to_expand(catalog.get_series(session, series_id, caller))
    release(session)
    now = datetime.now(UTC)
    window = (now - timedelta(days=settings.feed_past_days), now + timedelta(days=settings.feed_ahead_days))
    body = series_calendar(row, request.app.state.holidays, settings.public_url, window)
    return Response(
        content=body,
        media_type=CALENDAR,
        headers={"Content-Disposition": f'attachment; filename="series-{series_id}.ics"'},
    )


@feeds_router.get("/calendars/{token}.ics", response_class=Response)
async def member_feed(token: str, request: Request, alarm: bool = False) -> Response:
    """A member's personal feed: every series they follow, by subscription to it, its chapter or kind."""

    def read(session: Session) -> RenderedFeed | None:
        return None if len(token) > 100 else _feeds(request).for_member(session, token, alarm)

    feed = await _feed(request, ("member", token, alarm), read)
    if feed is None:
        return _gone()
    return _respond(request, feed, "exsched.ics", public=False)


@router.post(
    "/api/v1/members/{member_id}/feed-token",
    response_model=MemberOut,
    tags=["members"],
    responses={c: {"model": ErrorOut} for c in (401, 403, 404)},
)
def rotate_feed_token(
    member_id: uuid.UUID, session: SessionDep, staff: StaffDep, settings: SettingsDep
) -> MemberOut:
    """Give the member a new feed URL; the old one answers 404 from now on."""
    row = people.get_member(session, member_id, staff)
    row.feed_token = people.new_feed_token()
    session.commit()
    log.info("feed_token_rotated", member_id=str(member_id))
    return people.member_out(row, settings.public_url)
