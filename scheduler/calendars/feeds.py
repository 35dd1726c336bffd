"""Calendar feeds: a member's personal feed and the public chapter / kind / all feeds.

Each event's bytes are rendered once for what it says and kept (bounded, least recently used
dropped first): a feed that changed, or another feed holding the same sessions, is the join of
events already rendered. A feed is rendered once per content version and then served from
memory: the version is the day (the window moves daily), the feed's series with their
``updated_at``, and the newest occurrence override — two small queries, so a calendar client
polling every few minutes costs almost nothing. Each VEVENT has the same UID and SEQUENCE as
the occurrence's invitations, and its DTSTAMP is when it last changed, so an unchanged feed
renders to the same bytes (and ETag).

On PostgreSQL a poll need not ask at all: with :class:`~scheduler.calendars.changes.FeedChanges`
listening, a feed checked since the last change heard (and today) is answered from memory
(:meth:`FeedService.recall`), without a query or a trip to the thread pool.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.calendars.changes import FeedChanges
from scheduler.calendars.facts import EventFacts, event_facts
from scheduler.calendars.ics import feed, feed_event, series_export, tzids_of
from scheduler.db.models import MemberRow, OccurrenceOverrideRow, SeriesRow
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.members import series_followed_by
from scheduler.domain.recurrence import Occurrence, expand, local_to_utc
from scheduler.domain.series import occurrences, timing_of
from scheduler.i18n import translator
from scheduler.ops.metrics import FEED_ANSWERS, FEED_EVICTIONS
from schemas.names import (
    Chapter,
    Kind,
    OccurrenceStatus,
    SeriesStatus,
    SkipHolidays,
)

log = structlog.get_logger(__name__)

#: Public feeds are named in the association's language; a member's feed in the member's.
PUBLIC_FEED_LOCALE = "zh-CN"


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # quoted, strong
    last_modified: datetime
    version: str
    key: str  # the FeedRequest's


@dataclass(frozen=True)
class _Checked:
    """A feed found current while ``heard`` changes had been heard, on ``day``."""

    key: str
    version: str
    heard: int
    day: date


@dataclass(frozen=True)
class FeedRequest:
    """Which series, under what name, with or without alarms."""

    key: str
    name: str
    series_ids: Sequence[uuid.UUID]
    alarm: bool


class FeedService:
    """Renders feeds and keeps them: at most ``max_bytes`` of rendered bodies (least recently
    served dropped first), one render at a time per feed version however many clients ask for
    it at once (the others wait for that render), at most ``renders_at_once`` renders of
    different feeds at a time, and no database connection held while a feed is rendered."""

    def __init__(
        self,
        holidays: HolidayCalendar,
        public_url: str,
        *,
        past: timedelta = timedelta(days=90),
        ahead: timedelta = timedelta(days=365),
        refresh: timedelta = timedelta(hours=1),
        timezone: str = "Asia/Shanghai",
        max_bytes: int = 64 * 1024 * 1024,
        renders_at_once: int = 2,
        wait: float = 120.0,
        changes: FeedChanges | None = None,
        max_checked: int = 50_000,
    ) -> None:
        self.holidays = holidays
        self.public_url = public_url
        self.past, self.ahead, self.refresh = past, ahead, refresh
        self.timezone = timezone
        self.max_bytes = max_bytes
        self.wait = wait
        self.renders = 0  # how many renders this service did (for tests and the log)
        self._cache: OrderedDict[str, RenderedFeed] = OrderedDict()
        self._bytes = 0
        self._flights: dict[tuple[str, str], Future[RenderedFeed]] = {}
        #: each event's bytes as rendered (and the zones it names), by what it says; half as much
        #: memory again as the feeds, least recently used dropped first
        self._events: OrderedDict[tuple[Any, ...], tuple[bytes, frozenset[str]]] = OrderedDict()
        self._event_bytes = 0
        self.max_event_bytes = max_bytes // 2
        self.events_rendered = 0  # (for tests)
        self._lock = threading.Lock()
        self._rendering = threading.BoundedSemaphore(renders_at_once)
        #: with a listener: which feed each way of asking for one (a token, a chapter…) was found
        #: to be, and when; least recently asked dropped first
        self.changes = changes
        self._checked: OrderedDict[Hashable, _Checked] = OrderedDict()
        self.max_checked = max_checked

    # --- without the database ---------------------------------------------------------------------

    def heard(self) -> tuple[int, date] | None:
        """The changes heard so far and today's date: taken *before* reading the database, what
        :meth:`checked` needs; None if nothing kept can be trusted."""
        heard = self.changes.heard() if self.changes is not None else None
        if heard is None:
            return None
        # a change of the entered holidays counts as a change heard (it is no write to a table
        # the triggers watch)
        return (hash((heard, getattr(self.holidays, "entered_version", None))), datetime.now(UTC).date())

    def recall(self, asked: Hashable) -> RenderedFeed | None:
        """The feed ``asked`` was found to be, if nothing has changed since (None: ask the
        database): no write heard since it was checked, the same day, still in memory."""
        heard = self.heard()
        if heard is None:
            return None
        with self._lock:
            checked = self._checked.get(asked)
            if checked is None or (checked.heard, checked.day) != heard:
                return None
            feed = self._cache.get(checked.key)
            if feed is None or feed.version != checked.version:
                return None
            self._checked.move_to_end(asked)
            self._cache.move_to_end(checked.key)
        FEED_ANSWERS.labels("memory").inc()
        return feed

    def checked(self, asked: Hashable, feed: RenderedFeed, heard: tuple[int, date] | None) -> None:
        """Remember that ``asked`` was ``feed``, read from the database after :meth:`heard`."""
        if heard is None:
            return
        with self._lock:
            self._checked[asked] = _Checked(feed.key, feed.version, *heard)
            self._checked.move_to_end(asked)
            while len(self._checked) > self.max_checked:
                self._checked.popitem(last=False)

    # --- which feed ---------------------------------------------------------------------------

    def for_member(self, session: Session, token: str, alarm: bool) -> RenderedFeed | None:
        member = session.scalar(select(MemberRow).where(MemberRow.feed_token == token))
        if member is None:
            return None
        t = translator(member.locale)
        name = f"{t('feed.brand')} · {t('feed.mine')}"
        ids = series_followed_by(session, member.id, include_cancelled=True)
        return self.render(session, FeedRequest(f"member:{member.id}:{alarm}", name, ids, alarm))

    def for_public(
        self,
        session: Session,
        *,
        chapter: Chapter | None = None,
        kind: Kind | None = None,
        alarm: bool = False,
    ) -> RenderedFeed:
        query = select(SeriesRow.id).where(SeriesRow.private.is_(False))
        t = translator(PUBLIC_FEED_LOCALE)
        parts = [t("feed.brand")]
        if chapter is not None:
            query = query.where(SeriesRow.chapter == chapter.value)
            parts.append(t.chapter(chapter))
        if kind is not None:
            query = query.where(SeriesRow.kind == kind.value)
            parts.append(t.kind(kind))
        if chapter is None and kind is None:
            parts.append(t("feed.all"))
        key = f"public:{chapter}:{kind}:{alarm}"
        return self.render(session, FeedRequest(key, " · ".join(parts), session.scalars(query).all(), alarm))

    # --- rendering and the cache -----------------------------------------------------------------

    def render(self, session: Session, request: FeedRequest) -> RenderedFeed:
        """The feed, from memory if its version is unchanged; otherwise rendered once, with
        concurrent requests for the same version waiting for that one render."""
        now = datetime.now(UTC)
        version, changed = self._version(session, request, now)
        flight_key = (request.key, version)
        with self._lock:
            cached = self._cache.get(request.key)
            if cached is not None and cached.version == version:
                self._cache.move_to_end(request.key)
                FEED_ANSWERS.labels("cache").inc()
                return cached
            flight = self._flights.get(flight_key)
            leading = flight is None
            if flight is None:
                flight = self._flights[flight_key] = Future()
        FEED_ANSWERS.labels("render").inc()
        if not leading:
            session.commit()  # nothing more to read: no connection held while waiting
            return flight.result(timeout=self.wait)
        try:
            rendered = self._render(session, request, now, version, changed)
        except BaseException as exc:
            with self._lock:
                self._flights.pop(flight_key, None)
            flight.set_exception(exc)
            raise
        with self._lock:
            self._keep(request.key, rendered)
            self._flights.pop(flight_key, None)
        flight.set_result(rendered)
        return rendered

    def _keep(self, key: str, rendered: RenderedFeed) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        if len(rendered.body) > self.max_bytes:
            return
        self._cache[key] = rendered
        self._bytes += len(rendered.body)
        while self._bytes > self.max_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= len(dropped.body)
            FEED_EVICTIONS.inc()

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    @property
    def cached_event_bytes(self) -> int:
        return self._event_bytes

    def _version(self, session: Session, request: FeedRequest, now: datetime) -> tuple[str, datetime]:
        ids = list(request.series_ids)
        rows = (
            session.execute(select(SeriesRow.id, SeriesRow.updated_at).where(SeriesRow.id.in_(ids))).all()
            if ids
            else []
        )
        overrides = (
            session.scalar(
                select(func.max(OccurrenceOverrideRow.updated_at)).where(
                    OccurrenceOverrideRow.series_id.in_(ids)
                )
            )
            if ids
            else None
        )
        stamps = sorted((str(row.id), row.updated_at.isoformat()) for row in rows)
        changed = max([row.updated_at for row in rows] + ([overrides] if overrides else []), default=_EPOCH)
        # the holidays staff entered move sessions too: a feed rendered before this process knew
        # of them is not the same feed
        entered = getattr(self.holidays, "entered_version", None)
        material = repr((now.date().isoformat(), request.name, request.alarm, stamps, overrides, entered))
        return hashlib.sha256(material.encode()).hexdigest(), changed

    def _render(
        self, session: Session, request: FeedRequest, now: datetime, version: str, changed: datetime
    ) -> RenderedFeed:
        rows = session.scalars(
            select(SeriesRow)
            .where(SeriesRow.id.in_(list(request.series_ids)))
            .options(selectinload(SeriesRow.overrides))
            .order_by(SeriesRow.id)
        ).all()
        session.commit()  # all read: the connection goes back to the pool before the CPU work
        with self._rendering:
            self.renders += 1
            began = time.perf_counter()
            rendered = self._render_rows(rows, request, now, version, changed)
        log.info(
            "feed_rendered",
            feed=request.key,
            series=len(rows),
            bytes=len(rendered.body),
            ms=round((time.perf_counter() - began) * 1000),
        )
        return rendered

    def _render_rows(
        self, rows: Sequence[SeriesRow], request: FeedRequest, now: datetime, version: str, changed: datetime
    ) -> RenderedFeed:
        events: list[tuple[EventFacts, datetime, timedelta | None]] = []
        for row in rows:
            touched = {o.recurrence_id: o.updated_at for o in row.overrides}
            alarm = timedelta(seconds=max(row.reminders_s)) if request.alarm and row.reminders_s else None
            for occ in occurrences(row, self.holidays, now - self.past, now + self.ahead):
                stamp = max(row.updated_at, touched.get(occ.recurrence_id, row.updated_at))
                events.append((event_facts(row, occ, self.public_url), stamp, alarm))
        events.sort(key=lambda item: (item[0].start, item[0].uid))
        rendered = [self._event(*event) for event in events]
        first = min((f.start for f, _, _ in events), default=datetime.now(ZoneInfo(self.timezone)))
        last = max((f.end for f, _, _ in events), default=first)
        body = feed(
            [body for body, _ in rendered],
            tzids=frozenset().union(*(zones for _, zones in rendered)),
            first=first,
            last=last,
            name=request.name,
            timezone=self.timezone,
            refresh=self.refresh,
        )
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return RenderedFeed(
            body=body,
            etag=etag,
            last_modified=changed.replace(microsecond=0),
            version=version,
            key=request.key,
        )

    def _event(
        self, facts: EventFacts, stamp: datetime, alarm: timedelta | None
    ) -> tuple[bytes, frozenset[str]]:
        """An event's bytes and the zones they name: rendered once for what the event says (its
        facts, zone, DTSTAMP and alarm), then taken from memory by every feed that holds it."""
        key = (facts, str(facts.start.tzinfo), str(facts.end.tzinfo), stamp, alarm)
        with self._lock:
            kept = self._events.get(key)
            if kept is not None:
                self._events.move_to_end(key)
                return kept
        body = feed_event(facts, stamp, alarm)
        made = (body, tzids_of(body))
        with self._lock:
            self.events_rendered += 1
            if key not in self._events:
                self._events[key] = made
                self._event_bytes += len(body)
            while self._event_bytes > self.max_event_bytes and self._events:
                _, (dropped, _) = self._events.popitem(last=False)
                self._event_bytes -= len(dropped)
        return made


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def series_calendar(
    row: SeriesRow, holidays: HolidayCalendar, public_url: str, window: tuple[datetime, datetime]
) -> bytes:
    """One series for import into a personal calendar: RRULE form with its exceptions.

    Exceptions (holiday drops and shifts, moves, cancellations) are listed for the sessions in
    ``window``; for a bounded rule the window covers the whole series.
    """
    timing = timing_of(row)
    zone = timing.zone
    plain = replace(timing, skip_holidays=SkipHolidays.NONE)
    cancelled_from = row.cancelled_at
    actual = {
        occ.recurrence_id: occ
        for occ in occurrences(row, holidays, *(None, None) if timing.bounded else window)
    }
    ruled = expand(
        plain,
        series_uid=row.uid,
        sequence=row.sequence,
        window=None if timing.bounded else window,
    )
    dropped = [o.recurrence_id.astimezone(zone) for o in ruled if o.recurrence_id not in actual]
    exdates = sorted({*(local_to_utc(d, zone).astimezone(zone) for d in timing.exdates), *dropped})
    first_start = local_to_utc(timing.dtstart, zone).astimezone(zone)
    master = replace(
        event_facts(row, _rule_occurrence(row, first_start, timing.duration), public_url),
        uid=row.uid,
        sequence=row.sequence,
        cancelled=row.status == SeriesStatus.CANCELLED.value
        and cancelled_from is not None
        and cancelled_from <= first_start,
    )
    overrides = []
    for occ in actual.values():
        original = occ.recurrence_id.astimezone(zone)
        differs = (
            occ.start != original
            or occ.status != OccurrenceStatus.SCHEDULED
            or occ.venue is not None
            or occ.agenda
            or occ.end - occ.start != timing.duration
        )
        if differs:
            overrides.append((event_facts(row, occ, public_url), original))
    stamp = max([row.updated_at, *(o.updated_at for o in row.overrides)])
    return series_export(
        master,
        rrule=timing.rule.text if timing.rule else None,
        exdates=exdates,
        rdates=[local_to_utc(d, zone).astimezone(zone) for d in timing.rdates],
        overrides=sorted(overrides, key=lambda item: item[1]),
        dtstamp=stamp,
        name=row.title,
        last=max(o.end for o in [*ruled, *actual.values()]) if timing.bounded else None,
    )


def _rule_occurrence(row: SeriesRow, start: datetime, duration: timedelta) -> Occurrence:
    return Occurrence(
        recurrence_id=start.astimezone(UTC),
        uid=row.uid,
        start=start,
        end=start + duration,
        status=OccurrenceStatus.SCHEDULED,
        sequence=row.sequence,
    )
