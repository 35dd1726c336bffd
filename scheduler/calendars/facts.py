"""The calendar facts of one occurrence: what its event says, the same in every calendar.

:func:`event_facts` is the one place that turns a series and an occurrence into an event: the
invitations and their updates and cancellations (iMIP), the webcal feeds and the whole-series
file all take their UID, SEQUENCE, times, title, place, text, organizer, URL and categories
from it, so a calendar that holds both a feed and an invitation sees one event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduler.db.models import SeriesRow
from scheduler.domain.recurrence import Occurrence
from scheduler.i18n import translator
from schemas.api import without_controls
from schemas.names import OccurrenceStatus

#: Calendars name categories in the association's own language, whoever reads them.
CATEGORY_LOCALE = "zh-CN"


@dataclass(frozen=True)
class EventFacts:
    """What a calendar event of one occurrence shows."""

    uid: str
    sequence: int
    start: datetime  # aware, in the series' zone (its TZID)
    end: datetime
    summary: str
    location: str
    organizer_name: str
    organizer_email: str
    agenda: str = ""  # this session's own
    notes: str = ""  # the series' description
    cancelled: bool = False
    url: str | None = None
    categories: tuple[str, ...] = field(default=())

    @property
    def description(self) -> str:
        """What the event's DESCRIPTION says: the session's agenda, then the series' description."""
        return "\n\n".join(part for part in (self.agenda, self.notes) if part)


def event_facts(row: SeriesRow, occ: Occurrence, public_url: str) -> EventFacts:
    """The calendar event of one occurrence, the same in invitations and in feeds."""
    names = translator(CATEGORY_LOCALE)
    return EventFacts(
        uid=occ.uid,
        sequence=occ.sequence,
        start=occ.start,
        end=occ.end,
        summary=without_controls(row.title),
        location=without_controls(occ.venue_or(row.venue)),
        agenda=without_controls(occ.agenda or ""),
        notes=without_controls(row.description),
        organizer_name=without_controls(row.organizer_name),
        organizer_email=row.organizer_email,
        cancelled=occ.status == OccurrenceStatus.CANCELLED,
        url=f"{public_url}/api/v1/series/{row.id}",
        categories=(names.kind(row.kind), names.chapter(row.chapter)),
    )


@dataclass(frozen=True)
class Change:
    """One thing an update changed since the member was last told: ``what`` is ``when``
    (``before``/``after`` are (start, end) instants), or ``summary``, ``location``, ``agenda``
    or ``notes`` (texts)."""

    what: str
    before: Any
    after: Any


#: The texts a member reads, in the order a letter lists their changes.
_TEXTS = ("summary", "location", "agenda", "notes")


def told_of(event: EventFacts) -> dict[str, str]:
    """What a notice states of its session, kept with the notice once sent (JSON), so a later
    update can say what changed since (:func:`changes_since`)."""
    return {
        "start": event.start.astimezone(UTC).isoformat(),
        "end": event.end.astimezone(UTC).isoformat(),
        **{name: getattr(event, name) for name in _TEXTS},
    }


def changes_since(told: Mapping[str, Any], event: EventFacts) -> list[Change]:
    """What ``event`` says differently from what a member was told (``told``, from
    :func:`told_of`): the time first, then the title, the place, the agenda, the description.
    A fact the old record lacks is not reported."""
    changes: list[Change] = []
    try:
        before = (datetime.fromisoformat(told["start"]), datetime.fromisoformat(told["end"]))
    except (KeyError, TypeError, ValueError):
        before = None
    if before is not None and before != (event.start, event.end):
        changes.append(Change("when", before, (event.start, event.end)))
    for name in _TEXTS:
        old, new = told.get(name), getattr(event, name)
        if isinstance(old, str) and old != new:
            changes.append(Change(name, old, new))
    return changes
