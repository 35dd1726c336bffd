"""A session's page, the part about people: who is coming, by answer, and what staff send them
(a message in their own words, a reminder to those who have not answered)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain import seats
from scheduler.domain.recurrence import Occurrence
from scheduler.notices import messages, store
from scheduler.notices.audience import attendees
from scheduler.ops.clock import utcnow
from scheduler.web.console.page import Page
from schemas.names import NoticeKind

#: The answer groups of the list, in the order the page shows them.
GROUPS = ("accepted", "waitlisted", "tentative", "declined", "needs-action")


@dataclass(frozen=True)
class Person:
    """One line of the list: the member, when and how they answered, whether they came."""

    member: MemberRow
    answered: str  # when, in the series' zone ("" for no answer)
    how: str  # the source in words
    checked_in: bool
    position: int | None  # on the waiting list


def answers_view(page: Page, row: SeriesRow, occ: Occurrence) -> dict[str, list[Person]]:
    """Everyone told of the session or who answered, grouped by answer (``needs-action``: told
    and not answered; members who follow the series and were not told yet are not in it)."""
    zone = ZoneInfo(row.timezone)
    told = store.members_told(page.session, [occ.uid])
    standing = seats.standings(page.session, occ.uid, utcnow())
    groups: dict[str, list[Person]] = {group: [] for group in GROUPS}
    for one in attendees(page.session, row, occ.uid):
        rsvp = one.answer
        if rsvp is None and one.member.id not in told:
            continue
        mine = standing.get(one.member.id, seats.Standing("needs-action"))
        group = mine.response if mine.response in groups else "needs-action"
        groups[group].append(
            Person(
                member=one.member,
                answered=page.t.when(rsvp.responded_at.astimezone(zone))
                if rsvp and rsvp.responded_at
                else "",
                how=page.t(f"occ.source.{rsvp.source}") if rsvp and rsvp.source else "",
                checked_in=mine.checked_in,
                position=mine.position,
            )
        )
    groups["waitlisted"].sort(key=lambda p: p.position or 0)
    return groups


@dataclass(frozen=True)
class SentView:
    kind: str
    when: str
    by: str
    recipients: int
    audience: str
    body: str


def sent_view(page: Page, row: SeriesRow, occ: Occurrence) -> list[SentView]:
    zone = ZoneInfo(row.timezone)
    return [
        SentView(
            kind=m.kind,
            when=page.t.when(m.created_at.astimezone(zone)),
            by=m.sent_by,
            recipients=m.recipients,
            audience=page.t(f"occ.message.to.{m.audience}"),
            body=m.body,
        )
        for m in messages.sent_for(page.session, occ.uid)
    ]


def send_from_form(page: Page, row: SeriesRow, occ: Occurrence, action: str) -> tuple[str, dict[str, str]]:
    """The session page's message or reminder form, pressed: (the done-message key, field errors).
    The form's ``key`` makes a second press of the same form send nothing more."""
    t = page.t
    try:
        key = uuid.UUID(hex=str(page.form.get("key") or ""))
    except ValueError:
        return "", {"_form": t("occ.message.stale")}
    if action == "nudge":
        kind, audience, body = NoticeKind.NUDGE, "unanswered", ""
    else:
        kind, body = NoticeKind.MESSAGE, str(page.form.get("body") or "").strip()
        audience = str(page.form.get("audience") or "")
        errors = _message_errors(page, body, audience)
        if errors:
            return "", errors
    sent = messages.send(
        page.session,
        row,
        occ,
        kind=kind,
        audience=audience,  # type: ignore[arg-type]
        body=body,
        by=page.staff.username,
        key=key,
        now=utcnow(),
    )
    if sent.message.recipients == 0:
        return "occ.message.nobody", {}
    return ("occ.nudged_done" if kind == NoticeKind.NUDGE else "occ.message_done"), {}


def _message_errors(page: Page, body: str, audience: str) -> dict[str, str]:
    t = page.t
    errors: dict[str, str] = {}
    if not body:
        errors["body"] = t("err.required")
    elif len(body) > messages.MAX_BODY:
        errors["body"] = t("err.too_long", n=messages.MAX_BODY)
    elif any(ord(c) < 32 and c not in "\r\n\t" for c in body):
        errors["body"] = t("err.control_character")
    if audience not in messages.MESSAGE_AUDIENCES:
        errors["audience"] = t("err.choice")
    return errors


def attendee_table(page: Page, row: SeriesRow, occ: Occurrence) -> tuple[list[str], list[list[object]]]:
    """The session's people as a table to download: one row each, by answer as the page lists them."""
    t = page.t
    head = [t(f"attendees.col.{c}") for c in ATTENDEE_COLUMNS]
    body: list[list[object]] = []
    for group, people in answers_view(page, row, occ).items():
        for p in people:
            member = p.member
            body.append(
                [
                    member.name,
                    member.company,
                    member.email,
                    t.chapter(member.chapter),
                    t(f"occ.rsvp.{group}"),
                    p.position,
                    p.answered,
                    p.how,
                    t("common.yes") if p.checked_in else t("common.no"),
                ]
            )
    return head, body


ATTENDEE_COLUMNS = ("name", "company", "email", "chapter", "answer", "position", "answered", "how", "came")
