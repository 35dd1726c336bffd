"""HTTP API models (``/api/v1``). Inputs refuse unknown fields and say which field is wrong."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
    validate_email,
)
from pydantic_core import PydanticCustomError

from schemas.durations import IsoDuration
from schemas.names import (
    Channel,
    Chapter,
    Kind,
    Locale,
    NoticeKind,
    NoticeStatus,
    OccurrenceStatus,
    RobotFormat,
    SeriesStatus,
    SkipHolidays,
)

MAX_REMINDERS = 5
MAX_NOTICE_OFFSET = timedelta(days=180)


#: What no text may hold: C0 controls (TAB, and in multi-line text LF, excepted), DEL, the C1
#: controls (NEL among them) and the Unicode line and paragraph separators. RFC 5545 §3.3.11 has
#: no place for them in TEXT, and a consumer that splits lines on any of them would read what
#: follows as properties of its own (an injected ``UID:`` or ``END:VEVENT``).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def without_controls(value: str) -> str:
    """``value`` with the characters no text may hold removed (for text stored before they were
    refused on the way in)."""
    return _CONTROL.sub("", value)


def _controls(value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (found U+{code:04X})",
            {"code": ord(found.group())},
        )
    return value


def _single_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise PydanticCustomError("line_break", "must be a single line (no line breaks)")
    return _controls(value.replace("\t", " ")).strip()


def _multi_line(value: str) -> str:
    """Line breaks kept (as LF, however they were sent); other control characters refused."""
    return _controls(value.replace("\r\n", "\n").replace("\r", "\n"))


Line = Annotated[str, AfterValidator(_single_line)]
Text = Annotated[str, AfterValidator(_multi_line)]


def _address(value: str) -> str:
    try:
        _, address = validate_email(value)
    except (PydanticCustomError, ValueError) as exc:
        raise PydanticCustomError("email", "is not an email address") from exc
    return address.lower()


#: An email address typed into a form: one line, at most 320 characters, kept in lower case.
Address = Annotated[str, Field(max_length=320), AfterValidator(_single_line), AfterValidator(_address)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoticePlan(_Input):
    """When notices go out, as ISO 8601 durations relative to the session."""

    invite_before: IsoDuration = Field(timedelta(days=14), description="invitation before start")
    reminders: list[IsoDuration] = Field(
        default_factory=lambda: [timedelta(days=1), timedelta(hours=2)],
        description="one reminder per offset before start",
        max_length=MAX_REMINDERS,
    )
    followup_after: IsoDuration = Field(timedelta(days=1), description="follow-up after the end")

    @model_validator(mode="after")
    def _check(self) -> NoticePlan:
        for name, value in (("invite_before", self.invite_before), ("followup_after", self.followup_after)):
            if value > MAX_NOTICE_OFFSET:
                raise ValueError(f"{name} may be at most P180D")
        if any(r <= timedelta(0) or r > MAX_NOTICE_OFFSET for r in self.reminders):
            raise ValueError("each reminder must be between PT1S and P180D before the start")
        if len(set(self.reminders)) != len(self.reminders):
            raise ValueError("reminders must not repeat the same offset")
        self.reminders = sorted(self.reminders, reverse=True)
        return self


class SeriesFields(_Input):
    """Fields shared by create and update (all optional in an update)."""

    kind: Kind
    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=20000)
    chapter: Chapter
    venue: Line = Field("", max_length=300)
    timezone: str = Field("Asia/Shanghai", max_length=64, description="IANA zone of dtstart")
    dtstart: datetime = Field(description="first session, wall time in `timezone` (an offset is converted)")
    duration: IsoDuration = Field(description="length of one session, e.g. PT2H")
    rrule: str | None = Field(
        None, max_length=500, description="RFC 5545 RRULE without 'RRULE:'; none = one session"
    )
    exdates: list[datetime] = Field(default_factory=list, max_length=1000)
    rdates: list[datetime] = Field(default_factory=list, max_length=1000)
    skip_holidays: SkipHolidays = SkipHolidays.NONE
    capacity: int | None = Field(None, ge=1, le=100000)
    offer_hold: IsoDuration | None = Field(
        None,
        description="how long a freed seat is held for the first of the waiting list (none: PT24H);"
        " never past two hours before the start",
    )
    organizer_name: Line = Field(min_length=1, max_length=200)
    organizer_email: EmailStr
    notices: NoticePlan = Field(default_factory=NoticePlan)
    private: bool = Field(False, description="kept out of the public chapter/kind/all feeds")


#: A freed seat is held for between ten minutes and two weeks.
MIN_OFFER_HOLD, MAX_OFFER_HOLD = timedelta(minutes=10), timedelta(days=14)


def _check_offer_hold(value: timedelta | None) -> None:
    if value is not None and not MIN_OFFER_HOLD <= value <= MAX_OFFER_HOLD:
        raise ValueError("offer_hold must be between PT10M and P14D")


class SeriesCreate(SeriesFields):
    @model_validator(mode="after")
    def _offer_hold(self) -> SeriesCreate:
        _check_offer_hold(self.offer_hold)
        return self


class SeriesUpdate(_Input):
    """PATCH body: only the fields given change; the whole series is then checked again."""

    kind: Kind | None = None
    title: Line | None = Field(None, min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=20000)
    chapter: Chapter | None = None
    venue: Line | None = Field(None, max_length=300)
    timezone: str | None = Field(None, max_length=64)
    dtstart: datetime | None = None
    duration: IsoDuration | None = None
    rrule: str | None = Field(None, max_length=500)
    exdates: list[datetime] | None = Field(None, max_length=1000)
    rdates: list[datetime] | None = Field(None, max_length=1000)
    skip_holidays: SkipHolidays | None = None
    capacity: int | None = Field(None, ge=1, le=100000)
    offer_hold: IsoDuration | None = None
    organizer_name: Line | None = Field(None, min_length=1, max_length=200)
    organizer_email: EmailStr | None = None
    notices: NoticePlan | None = None
    private: bool | None = None

    @model_validator(mode="after")
    def _no_null_required(self) -> SeriesUpdate:
        nullable = {"rrule", "capacity", "offer_hold"}
        for name in self.model_fields_set - nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _check_offer_hold(self.offer_hold)
        return self


class SeriesOut(BaseModel):
    id: uuid.UUID
    uid: str
    status: SeriesStatus
    sequence: int
    kind: Kind
    title: str
    description: str
    chapter: Chapter
    venue: str
    timezone: str
    dtstart: datetime
    duration: IsoDuration
    rrule: str | None
    exdates: list[datetime]
    rdates: list[datetime]
    skip_holidays: SkipHolidays
    capacity: int | None
    offer_hold: IsoDuration | None
    organizer_name: str
    organizer_email: str
    notices: NoticePlan
    private: bool
    cancel_reason: str | None = Field(None, description="what staff told members when cancelling it")
    created_at: datetime
    updated_at: datetime


class SeriesCancel(_Input):
    """``DELETE /series/{id}``'s query: the reason members read in their cancellation."""

    reason: Line | None = Field(None, max_length=500)


class OccurrenceOut(BaseModel):
    recurrence_id: datetime = Field(description="original start, UTC; stable for life")
    uid: str
    start: datetime
    end: datetime
    status: OccurrenceStatus
    sequence: int
    provisional: bool = Field(description="in a year whose official holiday calendar is not yet known")
    holiday: str | None = Field(None, description="the statutory break that moved this session")
    venue: str
    agenda: str | None
    capacity: int | None = Field(None, description="this session's seats: its own, else the series'")
    cancel_reason: str | None = Field(None, description="what staff told members when cancelling it")


class OccurrenceUpdate(_Input):
    """Move (``start``/``end``), cancel or restore (``status``; a cancellation may carry the
    ``reason`` members read), set venue/agenda, or give this session its own number of seats
    (``capacity``; null: the series')."""

    start: datetime | None = None
    end: datetime | None = None
    status: Literal["cancelled", "scheduled"] | None = None
    venue: Line | None = Field(None, max_length=300)
    agenda: Text | None = Field(None, max_length=20000)
    capacity: int | None = Field(None, ge=1, le=100000)
    reason: Line | None = Field(None, max_length=500)

    @field_validator("reason")
    @classmethod
    def _with_cancelling(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("status") != "cancelled":
            raise ValueError('goes with status "cancelled" (why members are told it is off)')
        return value

    @model_validator(mode="after")
    def _something(self) -> OccurrenceUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of start, end, status, venue, agenda, capacity")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class MemberFields(_Input):
    name: Line = Field(min_length=1, max_length=200)
    email: EmailStr
    company: Line = Field("", max_length=200)
    chapter: Chapter
    locale: Locale = Locale.ZH_CN
    timezone: str = Field("Asia/Shanghai", max_length=64)
    channels: list[Literal["email"]] = Field(
        default_factory=lambda: list[Literal["email"]](["email"]),
        description="how the member wants notices; [] = none",
    )

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class MemberCreate(MemberFields):
    pass


class MemberUpdate(_Input):
    name: Line | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    company: Line | None = Field(None, max_length=200)
    chapter: Chapter | None = None
    locale: Locale | None = None
    timezone: str | None = Field(None, max_length=64)
    channels: list[Literal["email"]] | None = None

    @model_validator(mode="after")
    def _no_null(self) -> MemberUpdate:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.email is not None:
            self.email = self.email.lower()
        return self


class MemberOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    company: str
    chapter: Chapter
    locale: Locale
    timezone: str
    channels: list[str]
    feed_url: str
    webcal_url: str
    created_at: datetime
    updated_at: datetime


class SignInForm(_Input):
    """The member sign-in form: the address a sign-in link goes to."""

    email: Address


class JoinForm(_Input):
    """Asking to join a chapter (the member is created once the address is confirmed)."""

    name: Line = Field(min_length=1, max_length=200)
    company: Line = Field("", max_length=200)
    email: Address
    chapter: Chapter
    locale: Locale = Locale.ZH_CN


class PreferencesForm(_Input):
    """What a member may change on their page (their address changes by confirmation only)."""

    name: Line = Field(min_length=1, max_length=200)
    company: Line = Field("", max_length=200)
    locale: Locale
    timezone: Line = Field(min_length=1, max_length=64)
    channels: list[Literal["email"]] = Field(default_factory=list)


class ReportFigures(BaseModel):
    """One group's figures (rates are null where there is nothing to divide by)."""

    held: int
    cancelled: int
    moved: int
    invited: int
    accepted: int
    waitlisted: int
    attended: int
    no_show_rate: float | None
    emails: int
    bounced: int
    bounce_rate: float | None
    followups_sent: int
    reports: int
    followup_rate: float | None
    contacts: int
    intentions: int
    contracts: int
    value_wan: Decimal
    rating: float | None


class ReportRow(BaseModel):
    key: str  # chapter code, series id or YYYY-MM
    label: str  # the series' title (chapters and months: empty)
    chapter: str | None
    figures: ReportFigures


class ReportOut(BaseModel):
    """``GET /api/v1/reports``: the sessions starting in [from, to] (whole days, Asia/Shanghai)."""

    from_: date = Field(alias="from")
    to: date
    kind: Kind | None
    group_by: Literal["chapter", "series", "month"]
    rows: list[ReportRow]
    total: ReportFigures
    model_config = ConfigDict(populate_by_name=True)


class SessionMessageCreate(_Input):
    """Staff's words to a session's members (``message``: to everyone ``invited`` who has not
    declined, or to those ``accepted``), or a reminder to answer to those who have not
    (``nudge``). ``key`` makes a retried request send nothing twice."""

    kind: Literal["message", "nudge"]
    body: Text = Field("", max_length=2000)
    audience: Literal["invited", "accepted"] = "invited"
    key: uuid.UUID | None = None

    @model_validator(mode="after")
    def _words_for_a_message(self) -> SessionMessageCreate:
        if self.kind == "message" and not self.body.strip():
            raise ValueError("a message needs a body")
        if self.kind == "nudge" and self.body:
            raise ValueError("a nudge has no body: it is the reminder to answer, in each member's language")
        return self


class SessionMessageOut(BaseModel):
    id: uuid.UUID
    kind: Literal["message", "nudge"]
    audience: Literal["invited", "accepted", "unanswered"]
    body: str
    recipients: int
    sent_by: str
    created_at: datetime


def _blank_is_none(value: object) -> object:
    """An empty form field is "not given", not a malformed number."""
    return None if isinstance(value, str) and not value.strip() else value


class DockingOutcomeForm(_Input):
    """What a member (or staff for them) reports after a project-docking session."""

    contacts: int = Field(ge=0, le=500)  # how many firms they talked to
    firms: list[Annotated[Line, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    intention: bool  # 合作意向
    contract: bool  # 签约/订单
    value_wan: Decimal | None = Field(None, ge=0, le=Decimal("99999999"), decimal_places=1)  # 万元
    note: Text = Field("", max_length=5000)

    _value = field_validator("value_wan", mode="before")(_blank_is_none)


class FeedbackForm(_Input):
    """What a member (or staff for them) reports after a tech exchange."""

    rating: int = Field(ge=1, le=5)
    useful: Text = Field("", max_length=2000)
    next_topic: Line = Field("", max_length=200)
    note: Text = Field("", max_length=5000)


class OutcomeOut(BaseModel):
    """One member's report after a session (``GET …/occurrences/{id}/outcomes``)."""

    member_id: uuid.UUID
    name: str
    company: str
    kind: Literal["docking-outcome", "feedback"]
    contacts: int | None
    firms: list[str]
    intention: bool | None
    contract: bool | None
    value_wan: Decimal | None
    rating: int | None
    useful: str
    next_topic: str
    note: str
    source: Literal["member", "staff"]
    recorded_by: str | None
    created_at: datetime
    updated_at: datetime | None


class SubscriptionCreate(_Input):
    """Exactly one of ``series_id``, ``chapter``, ``kind``."""

    series_id: uuid.UUID | None = None
    chapter: Chapter | None = None
    kind: Kind | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SubscriptionCreate:
        given = [n for n in ("series_id", "chapter", "kind") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of series_id, chapter, kind")
        return self


#: An attendee's answer; ``needs-action`` until they (or staff) answer (RFC 5545 PARTSTAT).
Response = Literal["needs-action", "accepted", "declined", "tentative"]
#: How an answer came: an email's button, the member page, staff, a calendar app's reply, an
#: offered seat not taken up in time (``lapsed``: taken as a decline), or the door (``door``:
#: checked in without having a seat, or walked in).
ResponseSource = Literal["link", "member-page", "staff", "calendar", "lapsed", "door"]


class AttendeeOut(BaseModel):
    """A member invited to one session (told of it, or following its series), and their answer."""

    member_id: uuid.UUID
    name: str
    email: str
    company: str
    chapter: Chapter
    response: Response | Literal["waitlisted"]
    responded_at: datetime | None
    source: ResponseSource | None
    position: int | None = Field(None, description="place on the waiting list, from 1")
    offer_until: datetime | None = Field(None, description="a freed seat is held for them until then")
    checked_in_at: datetime | None = Field(None, description="checked in at the door")


class AttendeeUpdate(_Input):
    """Staff set a member's answer (``needs-action`` clears it; an accept when every seat is
    taken joins the waiting list), or move a waitlisted member to ``position`` on the list."""

    response: Response | None = None
    position: int | None = Field(None, ge=1, le=100000)

    @model_validator(mode="after")
    def _one(self) -> AttendeeUpdate:
        if (self.response is None) == (self.position is None):
            raise ValueError("give either response or position")
        return self


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    series_id: uuid.UUID | None
    chapter: Chapter | None
    kind: Kind | None
    created_at: datetime


class ReasonOut(BaseModel):
    """Why a notice was skipped, cancelled or failed, or waits: a code and its parameters."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class NoticeOut(BaseModel):
    """One notice owed to one member (or a chapter's chat group, or a staff member's monthly
    digest), with where it stands."""

    id: uuid.UUID
    series_id: uuid.UUID | None = Field(description="the session's series; null for a monthly digest")
    member_id: uuid.UUID | None = Field(description="the member it is for; null for a chat group")
    webhook_id: uuid.UUID | None = Field(None, description="the chapter chat group it is for")
    staff_id: uuid.UUID | None = Field(None, description="the staff member a monthly digest is for")
    chapter: str | None = Field(None, description="a monthly digest's chapter (null: all chapters)")
    occurrence_uid: str
    recurrence_id: datetime
    kind: NoticeKind
    slot: str
    channel: Channel
    sequence: int
    status: NoticeStatus
    due_at: datetime
    starts_at: datetime | None
    attempts: int
    reason: ReasonOut | None = Field(None, description="why it was skipped, cancelled or failed, or waits")
    last_error: str | None = Field(None, description="the reason in English words")
    message_id: str | None
    published_at: datetime | None
    sent_at: datetime | None
    updated_at: datetime


class WebhookCreate(_Input):
    """A chapter chat group's robot, as its platform gives it (the URL carries the robot's key)."""

    format: RobotFormat
    url: Line = Field(max_length=2000, description="the robot's webhook URL")
    secret: Line | None = Field(
        None, max_length=200, description="signing secret (DingTalk, Feishu, generic)"
    )
    reminders: bool = Field(True, description="also post one reminder per session")


class WebhookOut(BaseModel):
    """A robot as staff see it: never its URL or secret again, only where it posts."""

    id: uuid.UUID
    chapter: Chapter
    format: RobotFormat
    host: str
    signed: bool
    reminders: bool
    enabled: bool
    created_at: datetime


class WebhookTestOut(BaseModel):
    sent: bool
    receipt: str | None = None
    reason: ReasonOut | None = None
    detail: str | None = Field(None, description="why the robot did not take it, in English")


class FieldError(BaseModel):
    field: str | None
    message: str


class ErrorOut(BaseModel):
    """Every 4xx answer: ``detail`` for people, ``errors`` per field for programs."""

    detail: str
    errors: list[FieldError] = Field(default_factory=list)
