"""SQLAlchemy 2.0 typed models: the source of truth (docs/architecture.md, principle 1).

Change a model only together with a migration in ``migrations/versions``; a test compares the
two and fails when they drift.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduler.db.types import UTCDateTime
from scheduler.ops.clock import utcnow
from schemas.names import NoticeKind, NoticeStatus, Role


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        uuid.UUID: Uuid,
        dict[str, Any]: JSON,
    }


class ChapterRow(Base):
    """The province office and the seven city chapters (seeded by the first migration)."""

    __tablename__ = "chapters"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: whether people who join this chapter wait for its staff's approval
    join_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SchemaCompatRow(Base):
    """One row: the oldest code this schema still works with (an Alembic revision: code whose
    newest migration is that one or later). Each migration sets it, so that during a rolling
    upgrade a process of the release before may keep running, and start again, on the newer
    schema — until a migration says it cannot (``scheduler.db.migrate.schema_state``)."""

    __tablename__ = "schema_compat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    oldest_code: Mapped[str] = mapped_column(String(32))


class HolidayYearRow(Base):
    """A year's official holidays as staff entered them from the State Council's notice, for a
    year the installed holiday data does not have yet (or has differently). Its days are
    :class:`HolidayDayRow`; every other day of the year is an ordinary weekday or weekend."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class HolidayDayRow(Base):
    """One day of an entered year that is not an ordinary one: a statutory day off, or a weekend
    day worked instead (调休), with the break it belongs to (``chinese_calendar.Holiday``'s names)."""

    __tablename__ = "holiday_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("holiday_years.year", ondelete="CASCADE"), index=True)
    off: Mapped[bool] = mapped_column(Boolean)
    holiday: Mapped[str] = mapped_column(String(32))


class SeriesRow(Base):
    """A recurring session. ``dtstart``, ``exdates`` and ``rdates`` are wall times in ``timezone``."""

    __tablename__ = "series"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    chapter: Mapped[str] = mapped_column(ForeignKey("chapters.code"), index=True)
    venue: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    dtstart: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_s: Mapped[int] = mapped_column(Integer)
    rrule: Mapped[str | None] = mapped_column(Text)
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    rdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    skip_holidays: Mapped[str] = mapped_column(String(32), default="none")
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: how long a freed seat is held for the first of the waiting list (None: 24 hours)
    offer_hold_s: Mapped[int | None] = mapped_column(Integer)
    organizer_name: Mapped[str] = mapped_column(String(200))
    organizer_email: Mapped[str] = mapped_column(String(320))
    invite_before_s: Mapped[int] = mapped_column(Integer)
    reminders_s: Mapped[list[int]] = mapped_column(JSON, default=list)
    followup_after_s: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None]
    #: what staff told members when cancelling the series (sent with the cancellations)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    plan_requested_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    overrides: Mapped[list[OccurrenceOverrideRow]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (CheckConstraint(_in("status", ("active", "cancelled")), name="status"),)


class OccurrenceOverrideRow(Base):
    """What staff changed on one occurrence, keyed by its original start (``recurrence_id``)."""

    __tablename__ = "occurrence_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    recurrence_id: Mapped[datetime]
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: what staff told members when cancelling this session (sent with the cancellations)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    venue: Mapped[str | None] = mapped_column(String(300))
    agenda: Mapped[str | None] = mapped_column(Text)
    #: this session's seats, in place of the series' capacity
    capacity: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    series: Mapped[SeriesRow] = relationship(back_populates="overrides")

    __table_args__ = (UniqueConstraint("series_id", "recurrence_id"),)


class MemberRow(Base):
    """A person at a member firm who receives invitations and has a personal feed."""

    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    chapter: Mapped[str] = mapped_column(ForeignKey("chapters.code"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["email"])
    plan_requested_at: Mapped[datetime | None] = mapped_column(index=True)
    #: part of the member's sign-in cookie: raising it signs them out everywhere
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the address bounced for good (a hard bounce, or too many soft ones) at that time: email
    #: notices are skipped until the address is changed or staff clear it
    undeliverable_at: Mapped[datetime | None]
    #: what the refusing server said last (its status code and diagnostic)
    bounce_detail: Mapped[str | None] = mapped_column(Text)
    #: temporary failures reported since the last hard bounce or fix
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_bounce_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[SubscriptionRow]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )


class SubscriptionRow(Base):
    """A member follows one series, every series of a chapter, or every series of a kind."""

    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    series_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[MemberRow] = relationship(back_populates="subscriptions")

    __table_args__ = (
        UniqueConstraint("member_id", "target_type", "target"),
        CheckConstraint(_in("target_type", ("series", "chapter", "kind")), name="target_type"),
        Index("ix_subscriptions_target", "target_type", "target"),
    )


class ApiKeyRow(Base):
    """A staff API key; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    chapter: Mapped[str | None] = mapped_column(ForeignKey("chapters.code"))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint("role = 'admin' OR chapter IS NOT NULL", name="chapter_key_has_chapter"),
    )


class StaffRow(Base):
    """A person who signs in to the console: the province office (admin) or one chapter's staff.

    Only an Argon2id hash of the password is kept. ``session_epoch`` is part of every session
    cookie; raising it (new password, disabling) ends all of that person's sessions at once.
    """

    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    chapter: Mapped[str | None] = mapped_column(ForeignKey("chapters.code"))
    password_hash: Mapped[str] = mapped_column(String(255))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    #: The password is a temporary one the province office handed out: replace it first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: where the monthly digest goes (None: this person gets none)
    email: Mapped[str | None] = mapped_column(String(320))
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint("role = 'admin' OR chapter IS NOT NULL", name="chapter_staff_has_chapter"),
    )


class NoticeRow(Base):
    """One notice owed: (occurrence, member, kind, slot, channel, sequence) → a deterministic id.

    A ``digest`` belongs to no session (``series_id`` NULL): its "occurrence" is the month it
    reports for ``chapter`` (NULL: the province office's), and it goes to a staff member or a
    chapter's chat group.

    Its status changes only in :mod:`scheduler.notices.store` (the life of a notice is written
    down there); a skipped, cancelled or failed notice, or one waiting for another try, carries
    ``reason_code`` and ``reason_params`` (:mod:`schemas.reasons`).
    """

    __tablename__ = "notices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chapter_webhooks.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    #: a digest's chapter (NULL: the province office's); a session's notices read it from the series
    chapter: Mapped[str | None] = mapped_column(String(32))
    occurrence_uid: Mapped[str] = mapped_column(String(255))
    recurrence_id: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    slot: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    starts_at: Mapped[datetime | None]  # the occurrence's actual start, for the lateness policy
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    #: Which worker process is sending it (while ``sending``): its heartbeat renews the lease.
    holder: Mapped[str | None] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(48))  # schemas.reasons.ReasonCode
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(255))
    #: what the sent notice stated of the session (title, start, end, venue, agenda): a later
    #: update says what changed since (:func:`scheduler.calendars.facts.told_of`)
    told: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(_in("status", NoticeStatus), name="status"),
        CheckConstraint(_in("kind", NoticeKind), name="kind"),
        CheckConstraint(
            "(CASE WHEN member_id IS NULL THEN 0 ELSE 1 END + CASE WHEN webhook_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN staff_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_recipient",
        ),
        CheckConstraint("(series_id IS NULL) = (kind = 'digest')", name="session_or_digest"),
        Index("ix_notices_due", "status", "due_at"),
        Index("ix_notices_member", "member_id", "series_id"),
        Index("ix_notices_occurrence", "series_id", "recurrence_id"),
    )


class ChapterWebhookRow(Base):
    """A chapter's chat group robot (WeCom, DingTalk, Feishu) or a generic signed JSON webhook.

    The group hears of new sessions, changes and cancellations, and (with ``reminder`` in
    ``events``) gets one reminder per session, at the series' first reminder offset.
    """

    __tablename__ = "chapter_webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    chapter: Mapped[str] = mapped_column(ForeignKey("chapters.code"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["new-session", "reminder"])
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("format", ("wecom", "dingtalk", "feishu", "generic")), name="format"),
    )


#: A member's answer to a session; ``waitlisted``: they accepted when every seat was taken.
RESPONSES = ("accepted", "declined", "tentative", "waitlisted")


class RsvpRow(Base):
    """A member's answer to one occurrence's invitation (from the signed links in the email)."""

    __tablename__ = "rsvps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    occurrence_uid: Mapped[str] = mapped_column(String(255))
    response: Mapped[str] = mapped_column(String(16))
    responded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: how the answer came: link (an email's button), member-page, staff, calendar
    source: Mapped[str | None] = mapped_column(String(16))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    #: on the waiting list since (the list's order: first come, first served; staff move one up
    #: by giving them an earlier time)
    waitlisted_at: Mapped[datetime | None]
    #: a freed seat is held for this waitlisted member until then (they accept, or it passes on)
    offer_until: Mapped[datetime | None]
    #: how many times the member joined the list or was offered a seat (names each such notice)
    seat_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: checked in at the door (once), and by which staff account
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("occurrence_uid", "member_id"),
        CheckConstraint(_in("response", RESPONSES), name="response"),
    )


class FollowupResponseRow(Base):
    """What a member reported after a session: docking outcomes or feedback. One per member and
    session: sending the form again replaces the answer (``updated_at``), it does not add one."""

    __tablename__ = "followup_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    occurrence_uid: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # the free note
    # after a project-docking session
    contacts: Mapped[int | None] = mapped_column(Integer)  # firms talked to
    firms: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")  # which
    intention: Mapped[bool | None] = mapped_column(Boolean)  # 合作意向
    contract: Mapped[bool | None] = mapped_column(Boolean)  # 签约/订单
    value_wan: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))  # rough value, 万元
    # after a tech exchange
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5
    useful: Mapped[str] = mapped_column(Text, default="", server_default="")
    next_topic: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    recorded_by: Mapped[str | None] = mapped_column(String(64))  # staff, when source is staff
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("kind", ("docking-outcome", "feedback")), name="kind"),
        UniqueConstraint("member_id", "occurrence_uid"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint("source IN ('member', 'staff')", name="source"),
        CheckConstraint("contacts IS NULL OR contacts >= 0", name="contacts"),
        CheckConstraint("value_wan IS NULL OR value_wan >= 0", name="value_wan"),
    )


class AttemptsRow(Base):
    """How many attempts one key (an account name, a client address, a trusted browser) made in
    its current window: what :mod:`scheduler.domain.throttle` counts. ``key`` is a SHA-256 of
    what it names, so nothing an attacker types is stored."""

    __tablename__ = "attempts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]


class UsedLinkRow(Base):
    """A link that works once (sign-in, join or email-change confirmation), after its use: the
    SHA-256 of its token, kept until the token would have expired anyway."""

    __tablename__ = "used_links"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class JoinRequestRow(Base):
    """Someone who asked to join a chapter and confirmed their address, waiting for the chapter's
    staff to approve (only chapters with ``join_approval``); approving makes them a member."""

    __tablename__ = "join_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    chapter: Mapped[str] = mapped_column(ForeignKey("chapters.code"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: What became of a mail that came back.
INBOUND_OUTCOMES = ("applied", "unchanged", "unmatched", "not-a-reply", "bounced")


class InboundMailRow(Base):
    """One mail read by ``exsched serve inbound``, keyed by the SHA-256 of its bytes (delivered
    twice, read once): an answer applied (or already there), or why not — ``reason`` is a code
    of :mod:`scheduler.inbound` (``not-invited``, ``counter``, ``no-calendar``…), kept for staff."""

    __tablename__ = "inbound_mail"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(320))
    size: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(48))
    detail: Mapped[str | None] = mapped_column(Text)
    occurrence_uid: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (CheckConstraint(_in("outcome", INBOUND_OUTCOMES), name="outcome"),)


class SessionMessageRow(Base):
    """What staff sent to a session's members: their own words (``message``: "the room is now
    3F") or a reminder to answer (``nudge``); each member's copy is a notice whose slot is this
    row's id. ``audience`` says whom it was for (``invited``, ``accepted``, ``unanswered``)."""

    __tablename__ = "session_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    occurrence_uid: Mapped[str] = mapped_column(String(255), index=True)
    recurrence_id: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[int] = mapped_column(Integer)
    sent_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint(_in("kind", ("message", "nudge")), name="kind"),)
