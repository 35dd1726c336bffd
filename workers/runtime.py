"""Handling one notice message: exactly one effect per notice, whatever the bus redelivers.

For each delivery, in order:

1. parse the envelope — a malformed body or an unknown version can never work: the notice (if
   its id is known) is marked ``failed`` with the reason and the message is rejected to the
   dead-letter queue;
2. claim the row (``published → sending``, with a lease) — if it is already ``sent``,
   ``cancelled``, ``skipped``, ``failed``, or another worker holds it, the message is a
   duplicate or stale: acknowledge and drop;
3. decide against the current facts — the session cancelled since, an update superseded by a
   newer one, a cancellation for a member who was never told, a follow-up for a member who did
   not attend, a reminder for one who declined: mark it ``cancelled``/``skipped`` with the
   reason, acknowledge;
4. send through the channel — the one step that cannot share a transaction with the database;
5. record ``sent`` with the channel's message id (only then acknowledge). Transient failures
   go back to ``pending`` with exponential backoff (the dispatcher publishes them again), up to
   ``max_attempts``; permanent ones are ``failed`` with the reason.

A worker killed between 4 and 5 leaves the row ``sending``; its lease expires, the notice is
published and sent again — the one duplicate this design allows, made harmless by the stable
Message-ID, UID and SEQUENCE.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from scheduler.bus.base import Delivery, Outcome
from scheduler.calendars.facts import EventFacts
from scheduler.calendars.ics import itip_cancel, itip_request
from scheduler.db.models import ChapterWebhookRow, MemberRow, NoticeRow, RsvpRow, SeriesRow
from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.series import occurrence_at
from scheduler.domain.tokens import sign
from scheduler.notices import store
from scheduler.notices.policy import reason_not_to_send
from scheduler.ops.clock import Clock, utcnow
from scheduler.ops.config import Settings
from scheduler.ops.metrics import SEND_FAILURES, SEND_SECONDS, SENT
from schemas.bus import SCHEMA_HEADER, NoticeEnvelope
from schemas.names import Chapter, Kind, Locale, NoticeKind, NoticeStatus, OccurrenceStatus
from schemas.reasons import Reason, ReasonCode, reason
from workers.channels.base import Channel, PermanentSendError, TransientSendError
from workers.channels.webhook import WebhookPost, WebhookSender
from workers.letters import Letter, Renderer
from workers.mail import build_email

log = structlog.get_logger(__name__)


class Poison(Exception):
    """A message that can never be handled; it goes to the dead-letter queue."""


@dataclass
class Settle:
    """How a notice ends without being sent, and why."""

    status: NoticeStatus
    reason: Reason


class NoticeHandler:
    """A :data:`scheduler.bus.base.Handler` for the notice queues."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        channel: Channel,
        holidays: HolidayCalendar,
        *,
        renderer: Renderer | None = None,
        max_attempts: int = 8,
        send_lease: timedelta = timedelta(minutes=5),
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.channel = channel
        self.holidays = holidays
        self.renderer = renderer or Renderer()
        self.webhooks = WebhookSender()
        self.max_attempts = max_attempts
        self.send_lease = send_lease
        self.clock = clock

    def __call__(self, delivery: Delivery) -> Outcome:
        try:
            envelope = self._parse(delivery)
        except Poison as exc:
            self._fail_poison(delivery, str(exc))
            return Outcome.REJECT
        bound = log.bind(
            notice_id=str(envelope.notice_id),
            message_id=delivery.message_id,
            occurrence_uid=envelope.occurrence_uid,
            trace_id=envelope.trace_id,
            kind=envelope.kind.value,
        )
        try:
            return self._handle(envelope, bound)
        except OperationalError as exc:  # the database is away: let the bus bring it back later
            bound.warning("database_unavailable", error=str(exc.orig))
            return Outcome.REQUEUE

    # --- steps ------------------------------------------------------------------------------------

    def _parse(self, delivery: Delivery) -> NoticeEnvelope:
        version = delivery.headers.get(SCHEMA_HEADER)
        if version is not None and version != 1:
            raise Poison(f"unknown envelope version {version!r} (this worker reads version 1)")
        try:
            data = json.loads(delivery.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Poison(f"message body is not JSON: {exc}") from exc
        if isinstance(data, dict) and data.get("version") not in (None, 1):
            raise Poison(f"unknown envelope version {data.get('version')!r} (this worker reads version 1)")
        try:
            return NoticeEnvelope.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise Poison(f"invalid envelope: {where}: {first.get('msg')}") from exc

    def _fail_poison(self, delivery: Delivery, detail: str) -> None:
        log.error("poison_message", message_id=delivery.message_id, reason=detail, queue=delivery.queue)
        notice_id = _uuid(delivery.message_id)
        if notice_id is not None:
            with self.db.session() as session:
                store.fail(session, notice_id, reason(ReasonCode.POISON, detail=detail), self.clock())

    def _claim(self, notice_id: uuid.UUID, now: datetime, bound: Any) -> bool:
        """``published → sending`` with a lease; False (and logged) for a duplicate or stale message."""
        with self.db.session() as session:
            if store.take(session, notice_id, now, self.send_lease):
                return True
            status = store.status_of(session, notice_id)
        bound.info("notice_dropped", reason="duplicate or stale message", status=status or "missing")
        return False

    def _handle(self, envelope: NoticeEnvelope, bound: Any) -> Outcome:
        now = self.clock()
        if not self._claim(envelope.notice_id, now, bound):
            return Outcome.ACK
        try:
            with self.db.session() as session:
                plan = self._decide(session, envelope.notice_id, now)
        except OperationalError:
            raise
        except Exception as exc:  # a bug in rendering will not fix itself by retrying
            bound.exception("notice_render_failed")
            plan = Settle(NoticeStatus.FAILED, reason(ReasonCode.RENDER_FAILED, error=repr(exc)))
        if isinstance(plan, Settle):
            self._finish(envelope.notice_id, plan, bound)
            return Outcome.ACK
        channel = "webhook" if plan.post is not None else "email"
        began = time.perf_counter()
        try:
            if plan.post is not None:
                channel_id = self.webhooks.send(plan.post)
            else:
                channel_id = self.channel.send(plan.message)
        except TransientSendError as exc:
            SEND_FAILURES.labels(channel, "yes").inc()
            self._retry(envelope.notice_id, exc.reason, bound)
            return Outcome.ACK
        except PermanentSendError as exc:
            SEND_FAILURES.labels(channel, "no").inc()
            self._finish(envelope.notice_id, Settle(NoticeStatus.FAILED, exc.reason), bound)
            return Outcome.ACK
        finally:
            SEND_SECONDS.labels(channel).observe(time.perf_counter() - began)
        SENT.labels(envelope.kind.value, channel).inc()
        self._record_sent(envelope.notice_id, channel_id, plan.sequence, bound)
        return Outcome.ACK

    def _decide(self, session: Session, notice_id: uuid.UUID, now: datetime) -> Settle | _Send:
        notice = session.get(NoticeRow, notice_id)
        assert notice is not None
        series = session.scalar(
            select(SeriesRow)
            .where(SeriesRow.id == notice.series_id)
            .options(selectinload(SeriesRow.overrides))
        )
        member = session.get(MemberRow, notice.member_id) if notice.member_id else None
        webhook = session.get(ChapterWebhookRow, notice.webhook_id) if notice.webhook_id else None
        if series is None or (member is None and (webhook is None or not webhook.enabled)):
            return Settle(NoticeStatus.CANCELLED, reason(ReasonCode.RECIPIENT_GONE))
        kind = NoticeKind(notice.kind)
        occurrence = occurrence_at(series, notice.recurrence_id, self.holidays)
        told = store.requests_sent(
            session, notice.occurrence_uid, member_id=notice.member_id, webhook_id=notice.webhook_id
        )
        answers = dict(
            session.execute(
                select(RsvpRow.member_id, RsvpRow.response).where(
                    RsvpRow.occurrence_uid == notice.occurrence_uid
                )
            ).all()
        )
        verdict = reason_not_to_send(
            kind,
            sequence=notice.sequence,
            session_gone=occurrence is None or occurrence.status == OccurrenceStatus.CANCELLED,
            told=told,
            group=webhook is not None,
            answer=answers.get(member.id) if member is not None else None,
            anyone_accepted="accepted" in answers.values(),
        )
        if verdict is not None:
            return Settle(*verdict)
        if webhook is not None:
            return self._post(notice, series, webhook, occurrence, kind)
        assert member is not None
        return self._compose(notice, series, member, occurrence, kind, now)

    def _post(
        self,
        notice: NoticeRow,
        series: SeriesRow,
        webhook: ChapterWebhookRow,
        occ: Occurrence | None,
        kind: NoticeKind,
    ) -> _Send:
        """A short message for the chapter's chat group, in Chinese, times in the series' zone."""
        start = occ.start if occ is not None else (notice.starts_at or notice.recurrence_id)
        end = occ.end if occ is not None else start + timedelta(seconds=series.duration_s)
        venue = (occ.venue if occ is not None and occ.venue else None) or series.venue
        letter = Letter(
            notice_kind=kind,
            locale=Locale.ZH_CN,
            member_name="",
            member_timezone=series.timezone,
            session_kind=Kind(series.kind),
            chapter=Chapter(series.chapter),
            title=series.title,
            description=series.description,
            venue=venue,
            agenda=occ.agenda if occ and occ.agenda else "",
            organizer_name=series.organizer_name,
            organizer_email=series.organizer_email,
            start=start,
            end=end,
            sequence=occ.sequence if occ is not None else notice.sequence,
            reminder_slot=notice.slot if kind == NoticeKind.REMINDER else "",
        )
        title, text = self.renderer.group_message(letter)
        event = {
            "event": kind.value,
            "notice_id": str(notice.id),
            "occurrence_uid": notice.occurrence_uid,
            "series_id": str(series.id),
            "chapter": series.chapter,
            "session_kind": series.kind,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "venue": venue,
            "sequence": letter.sequence,
        }
        post = WebhookPost(webhook.format, webhook.url, webhook.secret, title, text, event)
        return _Send(message=None, sequence=letter.sequence, post=post)

    def _compose(
        self,
        notice: NoticeRow,
        series: SeriesRow,
        member: MemberRow,
        occ: Occurrence | None,
        kind: NoticeKind,
        now: datetime,
    ) -> _Send:
        start = occ.start if occ is not None else (notice.starts_at or notice.recurrence_id)
        end = occ.end if occ is not None else start + timedelta(seconds=series.duration_s)
        sequence = occ.sequence if occ is not None else notice.sequence
        if kind == NoticeKind.CANCELLATION:
            sequence = max(sequence, notice.sequence)
        venue = (occ.venue if occ is not None and occ.venue is not None else None) or series.venue
        agenda = occ.agenda if occ is not None and occ.agenda else ""
        base = self.settings.public_url
        links: dict[str, str] = {}
        if kind in (NoticeKind.INVITATION, NoticeKind.UPDATE):
            for response, key in (("accepted", "accept_url"), ("declined", "decline_url")):
                token = sign(
                    self.settings.secret_key,
                    "rsvp",
                    {"m": str(member.id), "s": str(series.id), "o": notice.occurrence_uid, "r": response},
                    expires=end,
                )
                links[key] = f"{base}/rsvp/{token}"
        if kind == NoticeKind.FOLLOWUP:
            token = sign(
                self.settings.secret_key,
                "followup",
                {"m": str(member.id), "s": str(series.id), "o": notice.occurrence_uid},
                expires=end + timedelta(days=60),
            )
            links["followup_url"] = f"{base}/followup/{token}"
        letter = Letter(
            notice_kind=kind,
            locale=Locale(member.locale),
            member_name=member.name,
            member_timezone=member.timezone,
            session_kind=Kind(series.kind),
            chapter=Chapter(series.chapter),
            title=series.title,
            description=series.description,
            venue=venue,
            agenda=agenda,
            organizer_name=series.organizer_name,
            organizer_email=series.organizer_email,
            start=start,
            end=end,
            sequence=sequence,
            reminder_slot=notice.slot if kind == NoticeKind.REMINDER else "",
            **links,
        )
        text, html = self.renderer.bodies(letter)
        calendar = method = None
        if kind in (NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.CANCELLATION):
            facts = EventFacts(
                uid=notice.occurrence_uid,
                sequence=sequence,
                start=start,
                end=end,
                summary=series.title,
                location=venue,
                description="\n\n".join(p for p in (agenda, series.description) if p),
                organizer_name=series.organizer_name,
                organizer_email=series.organizer_email,
                categories=(series.kind, series.chapter),
            )
            if kind == NoticeKind.CANCELLATION:
                calendar, method = itip_cancel(facts, member.name, member.email, now), "CANCEL"
            else:
                calendar, method = itip_request(facts, member.name, member.email, now), "REQUEST"
        message = build_email(
            notice_id=notice.id,
            sender=self.settings.mail_from,
            to_name=member.name,
            to_email=member.email,
            reply_to=series.organizer_email,
            subject=self.renderer.subject(letter),
            text=text,
            html=html,
            sent_at=now,
            calendar=calendar,
            method=method,
        )
        return _Send(message=message, sequence=sequence)

    def _finish(self, notice_id: uuid.UUID, outcome: Settle, bound: Any) -> None:
        with self.db.session() as session:
            store.settle(session, notice_id, outcome.status, outcome.reason, self.clock())
        bound.info(f"notice_{outcome.status.value}", **store.log_fields(outcome.reason))

    def _record_sent(self, notice_id: uuid.UUID, channel_id: str, sequence: int, bound: Any) -> None:
        with self.db.session() as session:
            store.deliver(session, notice_id, self.clock(), message_id=channel_id, sequence=sequence)
        bound.info("notice_sent", channel_message_id=channel_id)

    def _retry(self, notice_id: uuid.UUID, why: Reason, bound: Any) -> None:
        with self.db.session() as session:
            outcome = store.defer(session, notice_id, why, self.clock(), max_attempts=self.max_attempts)
        bound.warning(
            "notice_send_failed",
            retry_at=outcome.due_at.isoformat() if outcome.due_at else None,
            status=outcome.status.value,
            **store.log_fields(outcome.reason),
        )


@dataclass(frozen=True)
class _Send:
    message: Any  # an EmailMessage, or None for a webhook post
    sequence: int
    post: WebhookPost | None = None


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class DeadLetterHandler:
    """Consumes ``exsched.dead-letters``: whatever ends there is a notice that failed."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    def __call__(self, delivery: Delivery) -> Outcome:
        death = str(delivery.headers.get("x-first-death-reason", "unknown"))
        queue = str(delivery.headers.get("x-first-death-queue", "?"))
        notice_id = _uuid(delivery.message_id)
        if notice_id is None:
            log.error(
                "dead_letter_without_notice", message_id=delivery.message_id, reason=death, queue=queue
            )
            return Outcome.ACK
        if death == "delivery_limit":
            why = reason(ReasonCode.DEAD_LETTERED_LIMIT, queue=queue)
        elif death == "rejected":
            why = reason(ReasonCode.DEAD_LETTERED_REJECTED, queue=queue)
        else:
            why = reason(ReasonCode.DEAD_LETTERED, queue=queue, why=death)
        with self.db.session() as session:
            marked = store.fail(session, notice_id, why, self.clock())
        log.warning(
            "notice_dead_lettered",
            notice_id=str(notice_id),
            queue=queue,
            marked=marked,
            **store.log_fields(why),
        )
        return Outcome.ACK
