"""One process's whole notice path for tests: planner, dispatcher, in-process bus and worker
sharing one clock, sending to a real SMTP server (aiosmtpd); and what a member does with the
links of the emails it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from scheduler.bus.base import Delivery, Outcome
from scheduler.bus.memory import InProcessBus
from scheduler.db.models import ChapterWebhookRow, NoticeRow
from scheduler.db.session import Database
from scheduler.domain.holidays import ChineseStatutoryCalendar
from scheduler.notices.dispatcher import Dispatcher
from scheduler.notices.planner import Planner
from scheduler.ops.config import Settings
from schemas.bus import queue_name
from tests.support.api import create_member, create_series
from tests.support.clock import Clock
from tests.support.robot import Robot
from tests.support.smtp import SmtpSink
from workers.channels import make_channels
from workers.channels.smtp import SmtpChannel
from workers.runtime import NoticeHandler

QUEUES = [queue_name(r) for r in ("invitations", "reminders", "followups")]
START = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)  # Thursday 14:00 in Ningbo


class World:
    """Planner, dispatcher, bus and worker sharing one clock."""

    def __init__(
        self, settings: Settings, db: Database, client: TestClient, admin: dict, sink: SmtpSink
    ) -> None:
        self.clock = Clock(datetime(2026, 11, 27, 0, 0, tzinfo=UTC))
        self.holidays = holidays = ChineseStatutoryCalendar()
        self.db, self.client, self.admin, self.sink = db, client, admin, sink
        self.bus = InProcessBus()
        self.bus.declare()
        self.planner = Planner(db, holidays, clock=self.clock)
        self.dispatcher = Dispatcher(db, self.bus, clock=self.clock)
        self.channel = SmtpChannel(sink.url, mail_from=settings.mail_from, timeout=10)
        channels = make_channels(settings, mail=self.channel)
        self.handler = NoticeHandler(settings, db, channels, holidays, clock=self.clock, max_attempts=3)

    def run(self, until: datetime | None = None) -> list[Outcome]:
        """Advance the clock, plan, dispatch and work until nothing is due."""
        if until is not None:
            self.clock.now = until
        self.planner.plan_requested()
        outcomes: list[Outcome] = []
        while self.dispatcher.dispatch_once().claimed:
            pass
        for queue in QUEUES:
            outcomes += self.work(queue)
        return outcomes

    def work(self, queue: str, handler: Any = None) -> list[Outcome]:
        outcomes: list[Outcome] = []
        stop = threading.Event()

        def take(delivery: Delivery) -> Outcome:
            outcome = (handler or self.handler)(delivery)
            outcomes.append(outcome)
            if not self.bus.queue_depth(queue):
                stop.set()
            return outcome

        if self.bus.queue_depth(queue):
            self.bus.consume([queue], take, stop=stop)
        return outcomes

    def mails(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.sink.received()]

    def notices(self, **filters: Any) -> list[NoticeRow]:
        with self.db.session() as session:
            query = select(NoticeRow).order_by(NoticeRow.due_at)
            for name, value in filters.items():
                query = query.where(getattr(NoticeRow, name) == value)
            return list(session.scalars(query))

    def close(self) -> None:
        self.channel.close()


def subscribed(world: World, **member: Any) -> dict:
    made = create_member(world.client, world.admin, **member)
    response = world.client.post(
        f"/api/v1/members/{made['id']}/subscriptions", json={"chapter": "ningbo"}, headers=world.admin
    )
    assert response.status_code == 201
    return made


def add_webhook(world: World, robot: Robot, **fields: Any) -> None:
    """The Ningbo chapter's chat group, through ``robot`` (WeCom's wire format)."""
    with world.db.session() as session:
        session.add(
            ChapterWebhookRow(
                chapter="ningbo",
                format="wecom",
                url=robot.url,
                events=["new-session", "reminder"],
                enabled=True,
                **fields,
            )
        )


def a_session(world: World, **overrides: Any) -> dict:
    body = {
        "dtstart": "2026-12-10T14:00:00",
        "rrule": None,
        "venue": "宁波国际会展中心 3号会议室",
    } | overrides
    return create_series(world.client, world.admin, **body)


def confirm(world: World, path: str) -> Any:
    """Open a link from an email and press the page's button, as a member does."""
    page = world.client.get(path).text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert token, page
    return world.client.post(path, data={"csrf": token.group(1)})


def form_token(world: World, path: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', world.client.get(path).text)
    assert found
    return found.group(1)


def path_of(url: str) -> str:
    """A link of an email as the test client opens it (the public URL's host cut off)."""
    return url.split("https://exsched.test", 1)[1]


def links_in(mail: EmailMessage, part: str) -> list[str]:
    """The paths of an email's links to ``/{part}/…``, in the order its text shows them."""
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return [path_of(word) for word in text.split() if f"/{part}/" in word]


def calendar_uid(mail: EmailMessage) -> str:
    """The UID of the session an invitation's calendar part is about."""
    from icalendar import Calendar

    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return str(event["UID"])
