"""What a member reads: subject lines and bodies per notice kind, in the member's language.

Times are shown in the member's own time zone with the zone named, so a member in Milan reads
a Ningbo session in Milan time and knows it. The words come from the shared catalogs
(:mod:`scheduler.i18n`); one Jinja2 template per output sits beside this module, and HTML is
autoescaped, so a title with markup is shown, never executed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import PackageLoader

from scheduler.calendars.facts import Change, EventFacts
from scheduler.i18n import Templates, Translator, translator
from schemas.durations import parse_duration
from schemas.names import Chapter, Kind, Locale, NoticeKind


@dataclass(frozen=True)
class Robot:
    """A chapter chat group's robot: its platform, webhook URL and signing secret."""

    format: str  # wecom | dingtalk | feishu | generic
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class Recipient:
    """Who a notice is for: a member (by email), or a chapter's chat group (through its robot)."""

    id: uuid.UUID
    name: str
    locale: Locale
    timezone: str
    email: str | None = None
    robot: Robot | None = None
    #: the member's ``session_epoch``: their personal sign-in link stops working when it rises
    epoch: int = 0


@dataclass(frozen=True)
class Letter:
    """What one notice says, and to whom: the session's calendar facts (the same as its
    invitations and feeds carry), the recipient, and the links for them to act on."""

    notice_id: uuid.UUID
    notice_kind: NoticeKind
    recipient: Recipient
    event: EventFacts
    series_id: uuid.UUID
    session_kind: Kind
    chapter: Chapter
    sent_at: datetime
    reminder_slot: str = ""
    accept_url: str = ""
    decline_url: str = ""
    followup_url: str = ""
    #: why the member gets it: the subscription that brings the series (``("chapter", "ningbo")``);
    #: None for a member told of a session who follows it no more (its cancellation still goes)
    followed_as: tuple[str, str] | None = None
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""
    #: the member's personal link to their page (signs in after a button press; two weeks)
    member_url: str = ""
    #: the ORGANIZER address of the calendar part (where calendar apps reply); "" = the organizer's
    calendar_organizer: str = ""
    #: the envelope sender (VERP: bounces name the notice); "" = the From address
    return_path: str = ""
    #: whether the email carries the kind's calendar part (a member waiting for a seat gets none)
    calendar_part: bool = True
    #: the member's place on the waiting list (None: not waiting)
    waitlist_position: int | None = None
    #: a seat held for the member until then (an offer)
    offer_until: datetime | None = None
    #: every seat taken, and the member has not answered (an accept joins the waiting list)
    session_full: bool = False
    #: for a chapter's group: the member whose address bounced (name, company, address, what
    #: the server said)
    bounced: tuple[str, str, str, str] | None = None
    #: the member's check-in code (a link; the email shows it as a QR code), when they hold a seat
    checkin_url: str = ""
    #: a follow-up to a member who accepted and was not checked in: a short note instead
    missed: bool = False
    #: an update: what changed since the last notice the recipient was sent of the session
    changes: tuple[Change, ...] = ()
    #: an update to a recipient whose last notice said the session was cancelled: it is on again
    resumed: bool = False
    #: a cancellation: the reason staff gave ("" when none)
    cancel_reason: str = ""
    #: a message from staff about the session: their words
    message: str = ""
    #: an alert to a chapter's group: what happened (``seat-given-up``, ``failed``) and its facts
    alert: tuple[str, dict[str, Any]] | None = None

    # --- what the templates read -----------------------------------------------------------------

    @property
    def locale(self) -> Locale:
        return self.recipient.locale

    @property
    def member_name(self) -> str:
        return self.recipient.name

    @property
    def member_timezone(self) -> str:
        return self.recipient.timezone

    @property
    def title(self) -> str:
        return self.event.summary

    @property
    def venue(self) -> str:
        return self.event.location

    @property
    def agenda(self) -> str:
        return self.event.agenda

    @property
    def description(self) -> str:
        return self.event.notes

    @property
    def organizer_name(self) -> str:
        return self.event.organizer_name

    @property
    def organizer_email(self) -> str:
        return self.event.organizer_email

    @property
    def start(self) -> datetime:
        return self.event.start

    @property
    def end(self) -> datetime:
        return self.event.end

    @property
    def sequence(self) -> int:
        return self.event.sequence


class Renderer:
    """Subjects, bodies and chat-group messages from the catalogs, one template per output."""

    def __init__(self) -> None:
        self.templates = Templates(PackageLoader("workers", "templates"))

    def subject(self, letter: Letter) -> str:
        t = translator(letter.locale)
        start = letter.start.astimezone(ZoneInfo(letter.member_timezone))
        chapter = t.chapter(letter.chapter)
        # the series' title tells a chapter's two tech exchanges apart; the chapter goes first
        # unless the title names it already (宁波 · 数字化制衣技术交流会)
        title = letter.title if chapter in letter.title else f"{chapter} · {letter.title}"
        return t(
            "mail.subject",
            label=t(f"mail.label.{self._label(letter)}"),
            title=title,
            when=t.short_when(start),
        )

    @staticmethod
    def _label(letter: Letter) -> str:
        """The catalog word for what the notice is: its kind, or ``resumed`` for an update that
        brings a cancelled session back."""
        return "resumed" if letter.resumed else letter.notice_kind.value

    def group_message(self, letter: Letter) -> tuple[str, str]:
        """(title, markdown-ish text) for a chapter's chat group."""
        t = translator(letter.locale)
        title = t(
            "group.title",
            label=t(f"group.label.{self._label(letter)}"),
            chapter=t.chapter(letter.chapter),
            kind=t.kind(letter.session_kind),
        )
        return title, self._render("group.txt.j2", letter)

    def bodies(self, letter: Letter) -> tuple[str, str]:
        """(text/plain, text/html)."""
        return self._render("email.txt.j2", letter), self._render("email.html.j2", letter)

    def _render(self, template: str, letter: Letter) -> str:
        env = self.templates.get(letter.locale)
        return env.get_template(template).render(self._values(letter, translator(letter.locale)))

    def _values(self, letter: Letter, t: Translator) -> dict[str, object]:
        zone = ZoneInfo(letter.member_timezone)
        zone_text = t.zone_at(letter.member_timezone, letter.start)
        when = t("mail.when", date_time=_span(t, letter.start, letter.end, zone), zone=zone_text)
        return {
            "l": letter,
            "kind": letter.notice_kind.value,
            "lead": self._lead(letter),
            "alert": self._alert(letter, t, zone),
            "changes": [self._change(change, t, zone) for change in letter.changes],
            "chapter_name": t.chapter(letter.chapter),
            "kind_phrase": t.kind_phrase(letter.session_kind),
            "when": when,
            "ahead": t.span(parse_duration(letter.reminder_slot), "long") if letter.reminder_slot else "",
            "docking": letter.session_kind == Kind.PROJECT_DOCKING,
            "why": self._why(letter, t),
            "seat": self._seat(letter, t, zone),
        }

    @staticmethod
    def _alert(letter: Letter, t: Translator, zone: ZoneInfo) -> str:
        """An alert to a chapter's group, in words ("" for any other notice)."""
        if letter.alert is None:
            return ""
        what, facts = letter.alert
        if what == "failed":
            hour = facts["hour"].astimezone(zone)
            span = f"{t.clock(hour)}–{t.clock(hour + timedelta(hours=1))}"
            return t("group.alert.failed", n=facts["n"], date=t.date(hour), hours=span)
        offered = t("group.alert.offered", name=facts["offered"]) if facts["offered"] else ""
        return (
            t(
                "group.alert.seat-given-up",
                name=facts["name"],
                company=facts["company"],
                waiting=facts["waiting"],
            )
            + offered
        )

    @staticmethod
    def _lead(letter: Letter) -> str:
        """Which first sentence the letter opens with (``mail.lead.*``, ``group.lead.*``)."""
        if letter.missed:
            return "missed"
        if letter.resumed:
            return "resumed"
        if letter.notice_kind == NoticeKind.UPDATE and letter.changes:
            return "update_changed"
        return letter.notice_kind.value

    @staticmethod
    def _change(change: Change, t: Translator, zone: ZoneInfo) -> dict[str, str]:
        """One change in words: what, as it was, as it is now (times in the reader's zone)."""
        if change.what == "when":
            (was_start, was_end), (now_start, now_end) = change.before, change.after
            before, after = _span(t, was_start, was_end, zone), _span(t, now_start, now_end, zone)
        else:
            before, after = (_excerpt(change.before) or t("mail.change.none"), _excerpt(change.after))
            after = after or t("mail.change.none")
        return {"what": t(f"mail.change.{change.what}"), "before": before, "after": after}

    @staticmethod
    def _seat(letter: Letter, t: Translator, zone: ZoneInfo) -> str:
        """What the member's seat is: held for them until a time, a place on the waiting list,
        or none left ("" when none of these)."""
        if letter.offer_until is not None:
            until = letter.offer_until.astimezone(zone)
            return t("mail.seat.offer", until=f"{t.long_date(until)} {t.clock(until)}")
        if letter.waitlist_position is not None:
            return t("mail.seat.waitlisted", position=letter.waitlist_position)
        if letter.session_full:
            return t("mail.seat.full")
        return ""

    @staticmethod
    def _why(letter: Letter, t: Translator) -> str:
        """The footer's "why you get this": what the member follows that brought this email."""
        if letter.followed_as is None:
            return t("mail.why.told")
        target_type, target = letter.followed_as
        if target_type == "series":
            return t("mail.why.series", title=letter.title)
        if target_type == "chapter":
            return t("mail.why.chapter", chapter=t.chapter_org(target))
        return t("mail.why.kind", kind=t.kind(target))


#: How much of a changed text a letter quotes (the whole new text follows in the letter).
EXCERPT = 120


def _span(t: Translator, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A session's date and times in ``zone``: 2026年12月10日 周四 14:00–16:30."""
    start, end = start.astimezone(zone), end.astimezone(zone)
    until = (
        t.clock(end)
        if end.date() == start.date()
        else t("fmt.span", date=t.long_date(end), time=t.clock(end))
    )
    return t("fmt.span", date=t.long_date(start), time=f"{t.clock(start)}–{until}")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
