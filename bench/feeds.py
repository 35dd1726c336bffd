"""Feed cost: first render of a 1,000-occurrence member feed, and cached / 304 serving over HTTP.

    .venv/bin/python -m bench.feeds [--requests 2000] [--database postgresql|sqlite]

* render: ``FeedService.render`` uncached (expansion, UIDs, VTIMEZONE, folding, ETag) next to
  serializing the same 1,000 events with bare ``icalendar`` (no expansion, no zones) in the
  same run — median of 5 each; then another feed of the same sessions on the same service (its
  events already rendered: expansion, the kept event bytes joined, ETag);
* serving: ``exsched serve api`` (uvicorn) on loopback, one keep-alive client asking for the
  cached feed, then for the same feed with ``If-None-Match`` (304), requests per second; then
  the same requests to a bare ASGI app under the same uvicorn serving the same bytes and 304
  (:func:`bare_app`), and the ratio.

``--database postgresql`` (the default, as in production: there a poll of an unchanged feed is
answered from memory, no query) makes its own PostgreSQL database and drops it afterwards;
``--database sqlite`` uses a throw-away SQLite file (every poll asks the database).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import select

from bench.dispatch import drop_database, make_database
from scheduler.calendars.facts import event_facts
from scheduler.calendars.feeds import FeedRequest, FeedService
from scheduler.db.migrate import upgrade
from scheduler.db.models import MemberRow
from scheduler.db.session import Database
from scheduler.domain.auth import Principal
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.domain.members import create_member, series_followed_by, subscribe
from scheduler.domain.series import create_series, occurrences
from scheduler.ops.logs import configure_logging
from schemas.api import MemberCreate, SeriesCreate, SubscriptionCreate
from schemas.names import Role

PUBLIC = "https://exsched.bench"


def seed(db: Database) -> str:
    """Three daily series from tomorrow, 334 sessions each, and one member following them."""
    admin = Principal(Role.ADMIN)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    with db.session() as session:
        member = create_member(
            session,
            MemberCreate.model_validate({"name": "陈静", "email": "chen@x.example", "chapter": "ningbo"}),
            admin,
        )
        for hour in (9, 14, 19):
            body = SeriesCreate.model_validate(
                {
                    "kind": "tech-exchange",
                    "title": f"宁波 · 每日交流 {hour}点",
                    "chapter": "ningbo",
                    "venue": "宁波国际会展中心 3号会议室",
                    "description": "智能裁剪与柔性产线，经验分享。" * 3,
                    "dtstart": f"{tomorrow.isoformat()}T{hour:02d}:00:00",
                    "duration": "PT1H",
                    "rrule": "FREQ=DAILY;COUNT=334",
                    "organizer_name": "宁波秘书处",
                    "organizer_email": "ningbo@assoc.example",
                }
            )
            create_series(session, body, admin, PUBLIC)
        subscribe(session, member, SubscriptionCreate.model_validate({"chapter": "ningbo"}), admin)
        return member.feed_token


def bare_icalendar(db: Database, holidays: ChineseStatutoryCalendar, member_id: object) -> float:
    """Seconds for icalendar alone to serialize the same events from pre-expanded facts."""
    with db.session() as session:
        from scheduler.db.models import SeriesRow

        ids = series_followed_by(session, member_id)  # type: ignore[arg-type]
        facts = []
        now = datetime.now(UTC)
        for row in session.scalars(select(SeriesRow).where(SeriesRow.id.in_(ids))):
            facts += [
                event_facts(row, o, PUBLIC)
                for o in occurrences(row, holidays, now, now + timedelta(days=365))
            ]
    began = time.perf_counter()
    calendar = Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    for fact in facts:
        event = Event()
        event.add("uid", fact.uid)
        event.add("dtstamp", now)
        event.add("dtstart", fact.start)
        event.add("dtend", fact.end)
        event.add("summary", fact.summary)
        event.add("location", fact.location)
        event.add("description", fact.description)
        calendar.add_component(event)
    calendar.to_ical()
    return time.perf_counter() - began


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No garbage collection inside a timed run: it otherwise lands in one side or the other at
    random and moves a single run by a third. Both sides are timed alike."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def bare_app(scope: dict, receive: Any, send: Any) -> None:
    """The baseline server: a bare ASGI app under the same uvicorn, answering every request with
    the feed's bytes (read once from ``EXSCHED_BENCH_FEED``) and its ETag, or 304 when the ETag
    matches — no framework, no database."""
    if scope["type"] != "http":
        return
    body, etag = _BARE.get("body"), _BARE.get("etag")
    if body is None:
        body = _BARE["body"] = Path(os.environ["EXSCHED_BENCH_FEED"]).read_bytes()
        etag = _BARE["etag"] = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
    matched = dict(scope["headers"]).get(b"if-none-match") == etag
    headers = [(b"etag", etag), (b"content-type", b"text/calendar; charset=utf-8")]
    await send({"type": "http.response.start", "status": 304 if matched else 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if matched else body})


_BARE: dict[str, Any] = {}


@contextmanager
def serving(args: list[str], env: dict[str, str], port: int, path: str) -> Iterator[str]:
    """A server started with ``args``, once it answers ``path``: its ETag for that path."""
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                warm = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                warm.request("GET", path)
                response = warm.getresponse()
                etag = response.getheader("ETag") or ""
                response.read()
                break
            except OSError:
                time.sleep(0.1)
        yield etag
    finally:
        server.terminate()
        server.wait(timeout=15)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def requests_per_second(port: int, path: str, count: int, headers: dict[str, str]) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status = 0
    began = time.perf_counter()
    for _ in range(count):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    elapsed = time.perf_counter() - began
    connection.close()
    return count / elapsed, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="exsched-bench-feeds-"))
    configure_logging("json", "WARNING", stream=(workdir / "bench.log").open("a"))
    if args.database == "sqlite":
        db, name = Database(f"sqlite:///{workdir / 'feeds.db'}"), None
        upgrade(db)
    else:
        db, name = make_database()
    try:
        run(db, args.requests, workdir)
    finally:
        if name is not None:
            drop_database(db, name)
    print(f"database: {args.database}")


def run(db: Database, requests: int, workdir: Path) -> None:
    token = seed(db)
    holidays = ChineseStatutoryCalendar()
    with db.session() as session:
        member = session.scalar(select(MemberRow).where(MemberRow.feed_token == token))
        assert member is not None
        ids = series_followed_by(session, member.id)
    renders, joined, bares = [], [], []
    for n in range(5):
        feeds = FeedService(holidays, PUBLIC)  # a fresh cache: every render is a first render
        with db.session() as session:
            with quiet_gc():
                began = time.perf_counter()
                rendered = feeds.render(session, FeedRequest("bench", "bench", ids, False))
                renders.append(time.perf_counter() - began)
        with db.session() as session:  # another feed of the same sessions: its events are rendered
            with quiet_gc():
                began = time.perf_counter()
                again = feeds.render(session, FeedRequest(f"other-{n}", "bench", ids, False))
                joined.append(time.perf_counter() - began)
        assert again.body == rendered.body
        with quiet_gc():
            bares.append(bare_icalendar(db, holidays, member.id))
    events = rendered.body.count(b"BEGIN:VEVENT")

    port = free_port()
    env = dict(
        os.environ, EXSCHED_DATABASE_URL=db.url, EXSCHED_PUBLIC_URL=PUBLIC, EXSCHED_LOG_LEVEL="WARNING"
    )
    path = f"/calendars/{token}.ics"
    exsched = [sys.executable, "-m", "scheduler.cli", "serve", "api", "--port", str(port)]
    with serving(exsched, env, port, path) as etag:
        served = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        served.request("GET", path)
        (workdir / "feed.ics").write_bytes(served.getresponse().read())
        served.close()
        cached, status_cached = requests_per_second(port, path, requests, {})
        not_modified, status_304 = requests_per_second(port, path, requests, {"If-None-Match": etag})
    assert status_cached == 200 and status_304 == 304
    port = free_port()
    bare = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.feeds:bare_app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    env["EXSCHED_BENCH_FEED"] = str(workdir / "feed.ics")
    with serving(bare, env, port, path) as bare_etag:
        bare_cached, status_cached = requests_per_second(port, path, requests, {})
        bare_304, status_304 = requests_per_second(port, path, requests, {"If-None-Match": bare_etag})
    assert status_cached == 200 and status_304 == 304

    render_ms, bare_ms = statistics.median(renders) * 1e3, statistics.median(bares) * 1e3
    joined_ms = statistics.median(joined) * 1e3
    print(f"member feed: {events} events, {len(rendered.body) / 1024:.0f} KiB")
    print(f"bare icalendar, same events      : {bare_ms:8.1f} ms")
    print(f"first render (nothing cached)    : {render_ms:8.1f} ms   ratio {render_ms / bare_ms:.2f}")
    print(f"render, events rendered before   : {joined_ms:8.1f} ms   ratio {joined_ms / bare_ms:.2f}")
    print(
        f"cached feed over HTTP (200)      : {cached:8.0f} requests/s   "
        f"bare uvicorn app, same bytes: {bare_cached:6.0f}/s   ratio {cached / bare_cached:.2f}"
    )
    print(
        f"conditional GET over HTTP (304)  : {not_modified:8.0f} requests/s   "
        f"bare uvicorn app, same 304:   {bare_304:6.0f}/s   ratio {not_modified / bare_304:.2f}"
    )


if __name__ == "__main__":
    main()
