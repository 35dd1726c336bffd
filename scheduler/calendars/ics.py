"""iCalendar bytes: invitations (iTIP REQUEST / CANCEL over iMIP), feeds and the series file.

RFC 5545 / 5546 / 6047: METHOD in the calendar (and, by the
mail code, on the MIME part), one VEVENT with the occurrence's stable UID and its SEQUENCE, a
fresh UTC DTSTAMP, DTSTART/DTEND with TZID and a VTIMEZONE for it, exactly one ORGANIZER, the
invitee as the one ATTENDEE with RSVP=TRUE. icalendar ≥ 7.3 writes CRLF, folds at 75 octets
without splitting UTF-8, and escapes TEXT; CR/LF are also stripped from names here so they can
never reach a property parameter. Time zones come from :mod:`scheduler.calendars.zones`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration, vRecur, vText

from scheduler.calendars.facts import EventFacts
from scheduler.calendars.zones import month_of, vtimezone

PRODID = "-//exsched//Garment association sessions//ZH-CN"


def _clean(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _address(name: str, email: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{_clean(email)}")
    address.params["CN"] = vText(_clean(name))
    for key, value in params.items():
        address.params[key] = value
    return address


def _vevent(facts: EventFacts, dtstamp: datetime, organizer: str | None = None) -> Event:
    event = Event()
    event.add("uid", facts.uid)
    event.add("sequence", facts.sequence)
    event.add("dtstamp", dtstamp)
    event.add("dtstart", facts.start)
    event.add("dtend", facts.end)
    event.add("summary", facts.summary)
    if facts.location:
        event.add("location", facts.location)
    if facts.description:
        event.add("description", facts.description)
    if facts.url:
        event.add("url", facts.url)
    if facts.categories:
        event.add("categories", list(facts.categories))
    event.add("status", "CANCELLED" if facts.cancelled else "CONFIRMED")
    event.add("organizer", _address(facts.organizer_name, organizer or facts.organizer_email))
    return event


def _calendar(
    method: str,
    events: list[Event],
    first: datetime,
    last: datetime | None,
    *,
    name: str | None = None,
    timezone: str | None = None,
    refresh: timedelta | None = None,
    tzids: Iterable[str] = (),
) -> bytes:
    """A VCALENDAR of ``events`` whose instants lie from ``first`` to ``last`` (None: no end),
    with a VTIMEZONE for every TZID they use (and every one of ``tzids``) that holds over that
    whole span."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name is not None:  # TEXT: commas, semicolons and backslashes escaped (RFC 5545 §3.3.11)
        calendar.add("NAME", vText(name))
        calendar.add("X-WR-CALNAME", vText(name))
    if timezone is not None:
        calendar.add("X-WR-TIMEZONE", vText(timezone))
    if refresh is not None:
        calendar.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    for event in events:
        calendar.add_component(event)
    start = month_of(first)
    end = month_of(last) + timedelta(days=32) if last is not None else None
    # VTIMEZONEs go before the events that use them, as clients expect.
    needed = sorted(set(calendar.get_missing_tzids()) | set(tzids))
    calendar.subcomponents[:0] = [vtimezone(t, start, end) for t in needed]
    return calendar.to_ical()


def feed_event(facts: EventFacts, dtstamp: datetime, alarm_before: timedelta | None) -> bytes:
    """One event of a subscribable feed, as its bytes: a pure function of its arguments, so a feed
    service keeps them and a feed is the join of events already rendered. It may carry a display
    alarm that long before its start.

    Byte for byte :func:`_feed_event_whole`, without rendering every property of every session:
    the sessions of a series differ in five lines (UID, SEQUENCE, DTSTAMP, DTSTART, DTEND), so
    the rest is rendered once per series' shape and kept (:func:`_event_frame`), and only those
    lines are written for each session (still by icalendar)."""
    shape = replace(
        facts,
        uid=_STAND_IN_UID,
        sequence=0,
        start=datetime(1901, 1, 1, tzinfo=facts.start.tzinfo),
        end=datetime(1901, 1, 1, 1, tzinfo=facts.end.tzinfo),
    )
    pieces = _event_frame(shape, alarm_before)
    mine = _property_lines(_own_lines(facts)) | _shared_lines(dtstamp, facts.sequence)
    out = [pieces[0]]
    for name, piece in zip(_OWN, pieces[1:], strict=True):
        out += [mine[name], piece]
    return b"".join(out)


def _feed_event_whole(facts: EventFacts, dtstamp: datetime, alarm_before: timedelta | None) -> bytes:
    """A feed's event as icalendar writes it, all at once."""
    event = _vevent(facts, dtstamp)
    if alarm_before is not None and not facts.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", facts.summary)
        alarm.add("trigger", -alarm_before)
        event.add_component(alarm)
    return bytes(event.to_ical())


_STAND_IN_UID = "stand-in@exsched.invalid"
#: The lines each session of a series has of its own, in the order icalendar writes them.
_OWN = ("DTSTART", "DTEND", "DTSTAMP", "UID", "SEQUENCE")


def _own_lines(facts: EventFacts) -> bytes:
    """An event of the lines no other session shares: UID, DTSTART, DTEND."""
    event = Event()
    event.add("uid", facts.uid)
    event.add("dtstart", facts.start)
    event.add("dtend", facts.end)
    return bytes(event.to_ical())


@lru_cache(maxsize=1024)
def _shared_lines(dtstamp: datetime, sequence: int) -> dict[str, bytes]:
    """The DTSTAMP and SEQUENCE lines, which most sessions of a series share (kept)."""
    event = Event()
    event.add("sequence", sequence)
    event.add("dtstamp", dtstamp)
    return _property_lines(bytes(event.to_ical()))


def _property_lines(body: bytes) -> dict[str, bytes]:
    """Each top-level property's content line (folded, with its CRLF) by name."""
    found: dict[str, bytes] = {}
    name = ""
    for line in body.split(b"\r\n")[1:-2]:  # (between BEGIN and END)
        if line.startswith(b" "):
            found[name] += line + b"\r\n"
        else:
            name = re.split(rb"[;:]", line, maxsplit=1)[0].decode()
            found[name] = line + b"\r\n"
    return found


@lru_cache(maxsize=1024)
def _event_frame(shape: EventFacts, alarm_before: timedelta | None) -> tuple[bytes, ...]:
    """A series' event with its sessions' own lines cut out: the pieces between them, in order."""
    whole = _feed_event_whole(shape, _STAND_IN_STAMP, alarm_before)
    stand_in = _property_lines(_own_lines(shape)) | _shared_lines(_STAND_IN_STAMP, shape.sequence)
    pieces: list[bytes] = []
    rest = whole
    for name in _OWN:
        before, found, rest = rest.partition(stand_in[name])
        at_line_start = before.endswith(b"\r\n") or (before == b"" and bool(pieces))
        assert found and at_line_start, f"{name} not where icalendar writes it"
        pieces.append(before)
    return (*pieces, rest)


_TZID = re.compile(rb";TZID=([^;:]+)[;:]")
_END = b"END:VCALENDAR\r\n"


def tzids_of(event: bytes) -> frozenset[str]:
    """The time zones an event's bytes name (each needs its VTIMEZONE in the feed)."""
    return frozenset(found.decode() for found in _TZID.findall(event))


def feed(
    events: Sequence[bytes],
    *,
    tzids: Iterable[str],
    first: datetime,
    last: datetime,
    name: str,
    timezone: str,
    refresh: timedelta,
) -> bytes:
    """A subscribable feed (METHOD:PUBLISH, RFC 5546 §3.2.1 and RFC 7986) of events rendered by
    :func:`feed_event`: no ATTENDEE, the calendar's name and refresh interval in both the standard
    and the X-WR/X-PUBLISHED forms, a VTIMEZONE for each of ``tzids`` over ``first``–``last``
    before the events."""
    head = _calendar("PUBLISH", [], first, last, name=name, timezone=timezone, refresh=refresh, tzids=tzids)
    assert head.endswith(_END)
    return b"".join([head[: -len(_END)], *events, _END])


def publish(
    events: list[tuple[EventFacts, datetime, timedelta | None]],
    *,
    name: str,
    timezone: str,
    refresh: timedelta,
) -> bytes:
    """A feed of these events (each with its DTSTAMP — when it last changed, so an unchanged feed
    renders to the same bytes — and its alarm), rendered now: :func:`feed` of :func:`feed_event`."""
    rendered = [feed_event(*event) for event in events]
    first = min((f.start for f, _, _ in events), default=datetime.now(ZoneInfo(timezone)))
    last = max((f.end for f, _, _ in events), default=first)
    tzids = frozenset().union(*(tzids_of(e) for e in rendered))
    return feed(rendered, tzids=tzids, first=first, last=last, name=name, timezone=timezone, refresh=refresh)


def itip_request(
    facts: EventFacts,
    attendee_name: str,
    attendee_email: str,
    dtstamp: datetime,
    organizer: str | None = None,
) -> bytes:
    """METHOD:REQUEST for one invitee: an invitation, or an update with a higher SEQUENCE.
    ``organizer``: the address calendar apps send their REPLY to (the organizer's name stays)."""
    return _itip("REQUEST", facts, attendee_name, attendee_email, dtstamp, organizer)


def itip_cancel(
    facts: EventFacts,
    attendee_name: str,
    attendee_email: str,
    dtstamp: datetime,
    organizer: str | None = None,
) -> bytes:
    """METHOD:CANCEL, same UID, STATUS:CANCELLED, SEQUENCE already raised by the caller."""
    return _itip("CANCEL", replace(facts, cancelled=True), attendee_name, attendee_email, dtstamp, organizer)


def _itip_whole(
    method: str, facts: EventFacts, name: str, email: str, dtstamp: datetime, organizer: str | None
) -> bytes:
    """The iTIP message as icalendar writes it, all at once."""
    event = _vevent(facts, dtstamp, organizer)
    event.add("attendee", _invitee(method, name, email))
    return _calendar(method, [event], facts.start, facts.end)


def _invitee(method: str, name: str, email: str) -> vCalAddress:
    """The one ATTENDEE: asked to answer a REQUEST, only named in a CANCEL."""
    if method == "REQUEST":
        return _address(name, email, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE")
    return _address(name, email, ROLE="REQ-PARTICIPANT")


#: Stand-ins, rendered in the frame of a session's messages and replaced for each invitee.
_STAND_IN_STAMP = datetime(1901, 1, 1, tzinfo=UTC)
_STAND_IN_EMAIL = "stand-in@exsched.invalid"


def _itip(
    method: str, facts: EventFacts, name: str, email: str, dtstamp: datetime, organizer: str | None
) -> bytes:
    """:func:`_itip_whole`, byte for byte, without rendering the session again for each invitee:
    the session's frame (its event, VTIMEZONE, organizer) is rendered once and kept, and only
    the two lines that are the invitee's — DTSTAMP and ATTENDEE — are written for each."""
    before, between, after = _frame(method, facts, organizer)
    stamp, attendee = _lines(method, name, email, dtstamp.astimezone(UTC))  # DTSTAMP is UTC (§3.8.7.2)
    return b"".join((before, stamp, between, attendee, after))


@lru_cache(maxsize=256)
def _frame(method: str, facts: EventFacts, organizer: str | None) -> tuple[bytes, bytes, bytes]:
    whole = _itip_whole(method, facts, "", _STAND_IN_EMAIL, _STAND_IN_STAMP, organizer)
    stamp, attendee = _lines(method, "", _STAND_IN_EMAIL, _STAND_IN_STAMP)
    at_stamp, at_attendee = whole.index(stamp), whole.index(attendee)
    assert at_stamp + len(stamp) <= at_attendee  # DTSTAMP comes first (icalendar's canonical order)
    return (
        whole[:at_stamp],
        whole[at_stamp + len(stamp) : at_attendee],
        whole[at_attendee + len(attendee) :],
    )


def _lines(method: str, name: str, email: str, dtstamp: datetime) -> tuple[bytes, bytes]:
    """The DTSTAMP and ATTENDEE content lines (folded, CRLF) as icalendar writes them."""
    event = Event()
    event.add("dtstamp", dtstamp)
    event.add("attendee", _invitee(method, name, email))
    body = event.to_ical()
    stamp_at, attendee_at = body.index(b"\r\nDTSTAMP"), body.index(b"\r\nATTENDEE")
    end_at = body.index(b"\r\nEND:VEVENT")
    first, second = sorted((stamp_at, attendee_at))
    lines = {first: body[first + 2 : second + 2], second: body[second + 2 : end_at + 2]}
    return lines[stamp_at], lines[attendee_at]


def series_export(
    master: EventFacts,
    *,
    rrule: str | None,
    exdates: list[datetime],
    rdates: list[datetime],
    overrides: list[tuple[EventFacts, datetime]],
    dtstamp: datetime,
    name: str,
    last: datetime | None,
) -> bytes:
    """A whole series as one recurring VEVENT (RRULE, EXDATE, RDATE) plus a RECURRENCE-ID
    VEVENT per occurrence that differs from its rule (moved, cancelled, shifted for a holiday,
    a venue or agenda of its own). All instants are zone-aware in the series' zone. ``last``
    is the end of the series' last session (None for a rule without end): the time zone is
    written to hold for every session the file describes."""
    events = []
    main = _vevent(master, dtstamp)
    if rrule:
        main.add("rrule", vRecur.from_ical(rrule))
    if exdates:
        main.add("exdate", exdates)
    if rdates:
        main.add("rdate", rdates)
    events.append(main)
    for facts, original in overrides:
        event = _vevent(replace(facts, uid=master.uid), dtstamp)
        event.add("recurrence-id", original)
        events.append(event)
    first = min([master.start, *(f.start for f, _ in overrides)])
    if last is not None:
        last = max([last, *(f.end for f, _ in overrides), *(d + (master.end - master.start) for d in rdates)])
    return _calendar("PUBLISH", events, first, last, name=name)
