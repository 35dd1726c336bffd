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
4. write the letter (the session's calendar facts, the recipient, their links) and send it
   through the notice's channel (:mod:`workers.channels`) — the one step that cannot share a
   transaction with the database;
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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload

from scheduler.bus.base import Delivery, Outcome
from scheduler.calendars.facts import EventFacts, changes_since, event_facts, told_of
from scheduler.db.models import ChapterWebhookRow, MemberRow, NoticeRow, SeriesRow, StaffRow
from scheduler.db.session import Database
from scheduler.domain import checkin, official_days, seats
from scheduler.domain.holidays import HolidayCalendar
from scheduler.domain.member_access import signin_link
from scheduler.domain.members import subscriptions_bringing
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.reports import OFFICE
from scheduler.domain.seats import Standing, place_of
from scheduler.domain.series import cancel_reason_of, occurrence_at
from scheduler.domain.tokens import sign
from scheduler.notices import alerts, digests, messages, store
from scheduler.notices.policy import reason_not_to_send
from scheduler.ops.backoff import Backoff
from scheduler.ops.clock import Clock, utcnow
from scheduler.ops.config import Settings
from scheduler.ops.metrics import SEND_FAILURES, SEND_SECONDS, SENT
from schemas.bus import ENVELOPE_VERSION, SCHEMA_HEADER, NoticeEnvelope
from schemas.mail import verp
from schemas.names import Chapter, Kind, Locale, NoticeKind, NoticeStatus, OccurrenceStatus
from schemas.reasons import Reason, ReasonCode, reason
from workers.channels.base import Channel, PermanentSendError, TransientSendError
from workers.digest import Digest
from workers.leases import Leases
from workers.letters import Letter, Recipient, Robot

log = structlog.get_logger(__name__)

#: How long the unsubscribe link of an email keeps working (mail is read, and filed, long after).
UNSUBSCRIBE_VALID = timedelta(days=365)

#: How long a worker waits for the database to come back, message in hand, before handing the
#: message back to the queue.
DB_WAIT = 120.0
#: How stale a worker's view of the holidays staff entered may be (seconds).
HOLIDAYS_MAX_AGE = 2.0


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
        channels: Mapping[str, Channel],
        holidays: HolidayCalendar,
        *,
        max_attempts: int = 8,
        leases: Leases | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.channels = channels
        self.holidays = holidays
        self.max_attempts = max_attempts
        self.leases = leases or Leases(db, timedelta(seconds=settings.send_lease_seconds), clock=clock)
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
        except OperationalError as exc:
            # The database is away (a restart, a failover): wait for it with this message in hand
            # rather than hand it back at once — every redelivery counts towards the queue's
            # delivery limit, and a few seconds' outage must not dead-letter notices.
            bound.warning(
                "database_unavailable", error=str(exc.orig), next=f"waiting up to {DB_WAIT:.0f} s for it"
            )
            if self._database_back(bound):
                try:
                    return self._handle(envelope, bound)
                except OperationalError as again:
                    bound.warning(
                        "database_unavailable", error=str(again.orig), next="handed back to the queue"
                    )
            return Outcome.REQUEUE

    def _database_back(self, bound: Any) -> bool:
        """Whether the database answers again within :data:`DB_WAIT` (tried with backoff)."""
        backoff = Backoff(base=0.5, cap=8.0)
        deadline = time.monotonic() + DB_WAIT
        while time.monotonic() < deadline:
            time.sleep(min(backoff.next(), max(deadline - time.monotonic(), 0)))
            try:
                with self.db.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                bound.info("database_back")
                return True
            except OperationalError:
                continue
        return False

    # --- steps ------------------------------------------------------------------------------------

    def _parse(self, delivery: Delivery) -> NoticeEnvelope:
        version = delivery.headers.get(SCHEMA_HEADER)
        if version is not None and version != ENVELOPE_VERSION:
            raise Poison(
                f"unknown envelope version {version!r} (this worker reads version {ENVELOPE_VERSION})"
            )
        try:
            data = json.loads(delivery.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Poison(f"message body is not JSON: {exc}") from exc
        if isinstance(data, dict) and data.get("version") not in (None, ENVELOPE_VERSION):
            found = data.get("version")
            raise Poison(f"unknown envelope version {found!r} (this worker reads version {ENVELOPE_VERSION})")
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
                if store.fail(session, notice_id, reason(ReasonCode.POISON, detail=detail), self.clock()):
                    alerts.notice_failed(session, notice_id, self.clock())

    def _claim(self, notice_id: uuid.UUID, now: datetime, bound: Any) -> bool:
        """``published → sending`` with a lease; False (and logged) for a duplicate or stale message."""
        leases = self.leases
        with self.db.session() as session:
            if store.take(session, notice_id, now, leases.lease, holder=leases.holder):
                leases.hold(notice_id)
                return True
            found = store.holder_of(session, notice_id)
        status, holder = found or (None, None)
        if status == NoticeStatus.SENDING and holder == leases.holder and leases.hold_again(notice_id):
            return True  # ours, left when a database outage cut its handling short; not a duplicate in hand
        bound.info(
            "notice_dropped",
            reason="duplicate or stale message",
            status=status.value if status else "missing",
            holder=holder,  # a live holder renews its lease; a dead one's runs out, then it is sent again
        )
        return False

    def _handle(self, envelope: NoticeEnvelope, bound: Any) -> Outcome:
        now = self.clock()
        if not self._claim(envelope.notice_id, now, bound):
            return Outcome.ACK
        try:
            return self._send_held(envelope, now, bound)
        finally:
            self.leases.release(envelope.notice_id)

    def _send_held(self, envelope: NoticeEnvelope, now: datetime, bound: Any) -> Outcome:
        try:
            with self.db.session() as session:
                plan = self._decide(session, envelope.notice_id, now)
            if isinstance(plan, _Send):
                plan = replace(plan, outgoing=plan.channel.compose(plan.letter))
        except OperationalError:
            raise
        except Exception as exc:  # a bug in rendering will not fix itself by retrying
            bound.exception("notice_render_failed")
            plan = Settle(NoticeStatus.FAILED, reason(ReasonCode.RENDER_FAILED, error=repr(exc)))
        if isinstance(plan, Settle):
            self._finish(envelope.notice_id, plan, bound)
            return Outcome.ACK
        channel = plan.channel.name
        began = time.perf_counter()
        try:
            channel_id = plan.channel.send(plan.outgoing)
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
        self._record_sent(envelope.notice_id, channel_id, plan.letter, bound)
        return Outcome.ACK

    def _decide(self, session: Session, notice_id: uuid.UUID, now: datetime) -> Settle | _Send:
        """The notice checked against the current facts: not to be sent (and why), or its letter."""
        # the notice with its member, and the series with its exceptions: a query each (the member
        # is kept here: the session's identity map would not keep it between two reads)
        notice, member = session.execute(
            select(NoticeRow, MemberRow)
            .outerjoin(MemberRow, MemberRow.id == NoticeRow.member_id)
            .where(NoticeRow.id == notice_id)
        ).one()
        # holidays staff entered since (checked at most every few seconds: the planner that made
        # this notice owed saw them already)
        official_days.refresh(self.holidays, session, max_age=HOLIDAYS_MAX_AGE)
        if notice.kind == NoticeKind.DIGEST.value:
            return self._digest(session, notice, now)
        series = (
            session.execute(
                select(SeriesRow)
                .where(SeriesRow.id == notice.series_id)
                .options(joinedload(SeriesRow.overrides))
            )
            .unique()
            .scalar_one_or_none()
        )
        recipient = self._recipient(session, notice, member, series)
        channel = self.channels.get(notice.channel)
        if series is None or recipient is None or channel is None:
            return Settle(NoticeStatus.CANCELLED, reason(ReasonCode.RECIPIENT_GONE))
        kind = NoticeKind(notice.kind)
        occurrence = occurrence_at(series, notice.recurrence_id, self.holidays)
        told = store.requests_sent(
            session, notice.occurrence_uid, member_id=notice.member_id, webhook_id=notice.webhook_id
        )
        bringing = (
            [(row.target_type, row.target) for row in subscriptions_bringing(session, recipient.id, series)]
            if recipient.robot is None
            else []
        )
        everyone = seats.standings(session, notice.occurrence_uid, now)  # the one read of answers
        came = {member_id for member_id, s in everyone.items() if s.checked_in}  # at the door
        standing = everyone.get(recipient.id, Standing("needs-action"))
        verdict = reason_not_to_send(
            kind,
            sequence=notice.sequence,
            session_gone=occurrence is None or occurrence.status == OccurrenceStatus.CANCELLED,
            told=told,
            group=recipient.robot is not None,
            answer=everyone[recipient.id].response if recipient.id in everyone else None,
            anyone_accepted=any(s.response == seats.ACCEPTED for s in everyone.values()),
            following=bool(bringing),
            offered=standing.offer_until is not None,
            undeliverable=self._undeliverable(notice, member),
        )
        if verdict is not None:
            return Settle(*verdict)
        letter = self._letter(notice, series, recipient, occurrence, now, bringing)
        if kind == NoticeKind.FOLLOWUP and came and recipient.id not in came:
            # the door was kept: who accepted and did not come gets a short note, not the form
            letter = replace(letter, missed=True, followup_url="")
        if kind == NoticeKind.BOUNCE:
            about = self._bounced_member(session, notice)
            if about is None:
                return Settle(NoticeStatus.CANCELLED, reason(ReasonCode.RECIPIENT_GONE))
            letter = replace(letter, bounced=about)
        if kind == NoticeKind.UPDATE:
            letter = self._what_changed(session, notice, letter)
        elif kind == NoticeKind.CANCELLATION:
            letter = replace(letter, cancel_reason=cancel_reason_of(series, notice.recurrence_id))
        elif kind == NoticeKind.MESSAGE:
            letter = replace(letter, message=messages.body_of(session, notice.slot))
        elif kind == NoticeKind.ALERT:
            alert = self._alert(session, notice, series, now)
            if alert is None:
                return Settle(NoticeStatus.CANCELLED, reason(ReasonCode.RECIPIENT_GONE))
            letter = replace(letter, alert=alert)
        if recipient.robot is None and occurrence is not None:
            letter = self._seated(letter, series, occurrence, standing, everyone, told)
        return _Send(channel, letter)

    def _digest(self, session: Session, notice: NoticeRow, now: datetime) -> Settle | _Send:
        """The monthly digest, with the month's figures read now, to a staff member who still has
        an address and an open account, or to a chat group still enabled."""
        channel = self.channels.get(notice.channel)
        recipient: Recipient | None = None
        if notice.staff_id is not None:
            staff = session.get(StaffRow, notice.staff_id)
            if staff is not None and staff.disabled_at is None and staff.email:
                name = staff.display_name or staff.username
                recipient = Recipient(staff.id, name, Locale.ZH_CN, OFFICE.key, email=staff.email)
        elif notice.webhook_id is not None:
            robot = session.get(ChapterWebhookRow, notice.webhook_id)
            if robot is not None and robot.enabled:
                recipient = Recipient(
                    robot.id, "", Locale.ZH_CN, OFFICE.key, robot=Robot(robot.format, robot.url, robot.secret)
                )
        if recipient is None or channel is None:
            return Settle(NoticeStatus.CANCELLED, reason(ReasonCode.RECIPIENT_GONE))
        facts = digests.contents(session, self.holidays, notice.chapter, notice.slot, now)
        query = urlencode(
            {"from": notice.slot, "to": notice.slot} | ({"chapter": facts.chapter} if facts.chapter else {})
        )
        base = self.settings.public_url
        digest = Digest(
            notice_id=notice.id,
            recipient=recipient,
            contents=facts,
            sent_at=now,
            report_url=f"{base}/console/reports?{query}",
            return_path=verp(self.settings.bounce_address, notice.id) if recipient.email else "",
        )
        return _Send(channel, digest)

    @staticmethod
    def _alert(
        session: Session, notice: NoticeRow, series: SeriesRow, now: datetime
    ) -> tuple[str, dict[str, Any]] | None:
        """What an alert tells the chapter's group: the hour's failed notices (counted now), or
        who gave up a seat at a full session and who holds it now (None: the member is gone)."""
        hour = alerts.hour_of(notice.slot)
        if hour is not None:
            failed = session.scalar(
                select(func.count())
                .select_from(NoticeRow)
                .join(SeriesRow, SeriesRow.id == NoticeRow.series_id)
                .where(
                    SeriesRow.chapter == series.chapter,
                    NoticeRow.member_id.is_not(None),
                    NoticeRow.status == NoticeStatus.FAILED.value,
                    NoticeRow.updated_at >= hour,
                    NoticeRow.updated_at < hour + timedelta(hours=1),
                )
            )
            return "failed", {"n": int(failed or 0), "hour": hour}
        member_id = _uuid(notice.slot)
        member = session.get(MemberRow, member_id) if member_id is not None else None
        if member is None:
            return None
        everyone = seats.standings(session, notice.occurrence_uid, now)
        offered = next((m for m, s in everyone.items() if s.offer_until is not None), None)
        holder = session.get(MemberRow, offered) if offered is not None else None
        waiting = sum(s.response == seats.WAITLISTED and s.offer_until is None for s in everyone.values())
        return "seat-given-up", {
            "name": member.name,
            "company": member.company,
            "waiting": waiting,
            "offered": holder.name if holder is not None else "",
        }

    @staticmethod
    def _what_changed(session: Session, notice: NoticeRow, letter: Letter) -> Letter:
        """An update as its recipient reads it: what changed since the last notice they were sent
        of this session, and whether that one said it was cancelled (then it is on again)."""
        last = store.last_told(
            session, notice.occurrence_uid, member_id=notice.member_id, webhook_id=notice.webhook_id
        )
        if last is None:
            return letter
        kind, told = last
        changes = tuple(changes_since(told, letter.event)) if told else ()
        return replace(letter, resumed=kind == NoticeKind.CANCELLATION, changes=changes)

    @staticmethod
    def _undeliverable(notice: NoticeRow, member: MemberRow | None) -> Reason | None:
        """Why an email notice is not sent: its member's address bounced for good (None if not)."""
        if notice.channel != "email":
            return None
        if member is None or member.undeliverable_at is None:
            return None
        since = member.undeliverable_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        return reason(ReasonCode.UNDELIVERABLE, since=f"{since}Z", detail=member.bounce_detail or "")

    @staticmethod
    def _bounced_member(session: Session, notice: NoticeRow) -> tuple[str, str, str, str] | None:
        """The member a ``bounce`` notice tells a chapter's group of (its slot: the member's id)."""
        member_id = _uuid(notice.slot)
        member = session.get(MemberRow, member_id) if member_id is not None else None
        if member is None:
            return None
        return member.name, member.company, member.email, member.bounce_detail or ""

    def _seated(
        self,
        letter: Letter,
        series: SeriesRow,
        occurrence: Occurrence,
        standing: Standing,
        everyone: dict[uuid.UUID, Standing],
        told: list[tuple[NoticeKind, int]],
    ) -> Letter:
        """The letter as the member's seat makes it: only a member who holds a seat, or may take
        one, gets the session into their calendar. A waitlisted member reads their position and
        gets no calendar part (a ``waitlisted`` note takes back one they were sent: CANCEL); an
        invitation to a full session says so and that an accept joins the waiting list (an update
        to one who has not answered still updates the calendar their invitation filled)."""
        kind = letter.notice_kind
        waiting = standing.position if standing.offer_until is None else None
        full = False  # (an update still goes to the calendar of one who has the invitation)
        if standing.response == "needs-action" and kind in (NoticeKind.INVITATION, NoticeKind.NUDGE):
            full = seats.tally(place_of(series, occurrence).capacity, everyone.values()).full
        calendar = {
            NoticeKind.INVITATION: waiting is None and not full,
            NoticeKind.UPDATE: waiting is None,
            NoticeKind.WAITLISTED: bool(told),
        }.get(kind, True)
        checkin_url = ""
        if standing.response == "accepted" and kind in (
            NoticeKind.INVITATION,
            NoticeKind.UPDATE,
            NoticeKind.REMINDER,
        ):
            token = checkin.code(
                self.settings.secret_key, letter.recipient.id, occurrence.uid, occurrence.end
            )
            checkin_url = checkin.code_url(self.settings.public_url, token)
        return replace(
            letter,
            calendar_part=calendar,
            waitlist_position=waiting,
            offer_until=standing.offer_until,
            session_full=full,
            checkin_url=checkin_url,
        )

    def _recipient(
        self, session: Session, notice: NoticeRow, member: MemberRow | None, series: SeriesRow | None
    ) -> Recipient | None:
        """The member, or the chapter's chat group, as its channel sees it; None if gone."""
        if notice.member_id is not None:
            if member is None:
                return None
            return Recipient(
                member.id,
                member.name,
                Locale(member.locale),
                member.timezone,
                email=member.email,
                epoch=member.session_epoch,
            )
        webhook = session.get(ChapterWebhookRow, notice.webhook_id) if notice.webhook_id else None
        if webhook is None or not webhook.enabled or series is None:
            return None
        robot = Robot(webhook.format, webhook.url, webhook.secret)
        # the group reads the association's language, with times in the series' zone
        return Recipient(webhook.id, "", Locale.ZH_CN, series.timezone, robot=robot)

    def _letter(
        self,
        notice: NoticeRow,
        series: SeriesRow,
        recipient: Recipient,
        occ: Occurrence | None,
        now: datetime,
        bringing: list[tuple[str, str]],
    ) -> Letter:
        kind = NoticeKind(notice.kind)
        if occ is None:  # the session no longer exists: what the recipient was told of it
            start = notice.starts_at or notice.recurrence_id
            occ = Occurrence(
                recurrence_id=notice.recurrence_id,
                uid=notice.occurrence_uid,
                start=start.astimezone(ZoneInfo(series.timezone)),
                end=start.astimezone(ZoneInfo(series.timezone)) + timedelta(seconds=series.duration_s),
                status=OccurrenceStatus.CANCELLED,
                sequence=notice.sequence,
            )
        event = event_facts(series, occ, self.settings.public_url)
        if kind == NoticeKind.CANCELLATION:
            event = replace(event, sequence=max(event.sequence, notice.sequence), cancelled=True)
        links: dict[str, str] = {}
        if recipient.email is not None:
            links = self._links(kind, notice, series, recipient, event)
            token = signin_link(self.settings.secret_key, recipient.id, recipient.epoch, now, once=False)
            links["member_url"] = f"{self.settings.public_url}/me/link/{token}"
            if bringing:
                links |= self._unsubscribe(series, recipient, now)
        return Letter(
            notice_id=notice.id,
            notice_kind=kind,
            recipient=recipient,
            event=event,
            series_id=series.id,
            session_kind=Kind(series.kind),
            chapter=Chapter(series.chapter),
            sent_at=now,
            reminder_slot=notice.slot if kind == NoticeKind.REMINDER else "",
            followed_as=bringing[0] if bringing else None,
            calendar_organizer=self.settings.reply_address or "",
            return_path=verp(self.settings.bounce_address, notice.id),
            accept_url=links.get("accept_url", ""),
            decline_url=links.get("decline_url", ""),
            followup_url=links.get("followup_url", ""),
            unsubscribe_url=links.get("unsubscribe_url", ""),
            unsubscribe_mailto=links.get("unsubscribe_mailto", ""),
            member_url=links.get("member_url", ""),
        )

    def _links(
        self, kind: NoticeKind, notice: NoticeRow, series: SeriesRow, recipient: Recipient, event: EventFacts
    ) -> dict[str, str]:
        """Signed links for a member: answer an invitation, or report after the session."""
        base, secret = self.settings.public_url, self.settings.secret_key
        claims = {"m": str(recipient.id), "s": str(series.id), "o": notice.occurrence_uid}
        if kind in (
            NoticeKind.INVITATION,
            NoticeKind.UPDATE,
            NoticeKind.OFFER,
            NoticeKind.WAITLISTED,
            NoticeKind.NUDGE,
        ):
            answers: tuple[tuple[str, str], ...] = (("accepted", "accept_url"), ("declined", "decline_url"))
            if kind == NoticeKind.WAITLISTED:  # accepting again changes nothing: only leaving the list
                answers = (("declined", "decline_url"),)
            return {
                key: f"{base}/rsvp/{sign(secret, 'rsvp', claims | {'r': answer}, expires=event.end)}"
                for answer, key in answers
            }
        if kind == NoticeKind.FOLLOWUP:
            token = sign(secret, "followup", claims, expires=event.end + timedelta(days=60))
            return {"followup_url": f"{base}/followup/{token}"}
        return {}

    def _unsubscribe(self, series: SeriesRow, recipient: Recipient, now: datetime) -> dict[str, str]:
        """RFC 8058's one-click link (a POST to it ends the subscriptions that bring this series),
        and the mailto to offer beside it when the association reads one."""
        token = sign(
            self.settings.secret_key,
            "unsubscribe",
            {"m": str(recipient.id), "s": str(series.id)},
            expires=now + UNSUBSCRIBE_VALID,
        )
        found = {"unsubscribe_url": f"{self.settings.public_url}/unsubscribe/{token}"}
        if self.settings.unsubscribe_mailto:
            found["unsubscribe_mailto"] = (
                f"mailto:{self.settings.unsubscribe_mailto}?subject=unsubscribe%20{token}"
            )
        return found

    def _finish(self, notice_id: uuid.UUID, outcome: Settle, bound: Any) -> None:
        with self.db.session() as session:
            store.settle(session, notice_id, outcome.status, outcome.reason, self.clock())
            if outcome.status == NoticeStatus.FAILED:
                alerts.notice_failed(session, notice_id, self.clock())
        bound.info(f"notice_{outcome.status.value}", **store.log_fields(outcome.reason))

    def _record_sent(
        self, notice_id: uuid.UUID, channel_id: str, letter: Letter | Digest, bound: Any
    ) -> None:
        """``sent``, once the channel took it, with the SEQUENCE and the facts the letter told
        (a digest tells no session's). The database may be away just now: then wait for it and
        record (handling the message again would send it a second time)."""
        told = told_of(letter.event) if isinstance(letter, Letter) else None
        while True:
            try:
                with self.db.session() as session:
                    store.deliver(
                        session,
                        notice_id,
                        self.clock(),
                        message_id=channel_id,
                        sequence=letter.sequence,
                        told=told,
                    )
                break
            except OperationalError as exc:
                bound.warning("database_unavailable", error=str(exc.orig), next="waiting to record the send")
                if not self._database_back(bound):
                    raise
        bound.info("notice_sent", channel_message_id=channel_id)

    def _retry(self, notice_id: uuid.UUID, why: Reason, bound: Any) -> None:
        with self.db.session() as session:
            outcome = store.defer(session, notice_id, why, self.clock(), max_attempts=self.max_attempts)
            if outcome.status == NoticeStatus.FAILED:
                alerts.notice_failed(session, notice_id, self.clock())
        bound.warning(
            "notice_send_failed",
            retry_at=outcome.due_at.isoformat() if outcome.due_at else None,
            status=outcome.status.value,
            **store.log_fields(outcome.reason),
        )


@dataclass(frozen=True)
class _Send:
    """A notice to send: its channel, its letter and (once composed) what the channel sends."""

    channel: Channel
    letter: Letter | Digest
    outgoing: Any = None


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
            log.error("dead_letter_without_notice", message_id=delivery.message_id, reason=death, queue=queue)
            return Outcome.ACK
        if death == "delivery_limit":
            why = reason(ReasonCode.DEAD_LETTERED_LIMIT, queue=queue)
        elif death == "rejected":
            why = reason(ReasonCode.DEAD_LETTERED_REJECTED, queue=queue)
        else:
            why = reason(ReasonCode.DEAD_LETTERED, queue=queue, why=death)
        with self.db.session() as session:
            marked = store.fail(session, notice_id, why, self.clock())
            if marked:
                alerts.notice_failed(session, notice_id, self.clock())
        log.warning(
            "notice_dead_lettered",
            notice_id=str(notice_id),
            queue=queue,
            marked=marked,
            **store.log_fields(why),
        )
        return Outcome.ACK
