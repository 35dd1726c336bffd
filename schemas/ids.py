"""Deterministic identifiers: the same facts always give the same id.

Calendar clients match events by UID and the notices table is upserted by notice id, so both
are derived from what they name rather than drawn at random (docs/architecture.md, principles 1
and 5).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

#: Namespace for notice ids (UUIDv5); never change it, or every planned notice changes identity.
NOTICE_NAMESPACE = uuid.UUID("6b1f6c1e-2f38-5a4e-9c59-3f1f0d6a8e21")


def recurrence_stamp(recurrence_id: datetime) -> str:
    """``20261210T060000Z``: the RFC 5545 UTC form of an occurrence's original start."""
    if recurrence_id.tzinfo is None:
        raise ValueError("recurrence_id must be timezone-aware (UTC)")
    return recurrence_id.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_recurrence_stamp(text: str) -> datetime:
    """Inverse of :func:`recurrence_stamp`; also accepts ISO 8601 with an offset."""
    raw = text.strip()
    try:
        if len(raw) == 16 and raw.endswith("Z") and raw[8] == "T":
            return datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"invalid recurrence id {text!r}; expected e.g. 20261210T060000Z") from exc
    if value.tzinfo is None:
        raise ValueError(f"recurrence id {text!r} needs a UTC offset or a trailing Z")
    return value.astimezone(UTC)


def occurrence_uid(series_uid: str, recurrence_id: datetime) -> str:
    """The calendar UID of one occurrence, stable for its whole life (moves keep it)."""
    local, at, domain = series_uid.partition("@")
    return f"{local}-{recurrence_stamp(recurrence_id)}{at}{domain}"


def recurrence_of_uid(uid: str) -> datetime:
    """Inverse of :func:`occurrence_uid`: the original start an occurrence's UID names."""
    local = uid.partition("@")[0]
    if len(local) < 17 or local[-17] != "-":
        raise ValueError(f"not an occurrence UID: {uid[:80]!r}")
    return parse_recurrence_stamp(local[-16:])


def notice_id(
    occurrence_uid: str,
    member_id: uuid.UUID | str,
    kind: str,
    channel: str,
    sequence: int,
    slot: str = "",
) -> uuid.UUID:
    """The id of one notice owed: (occurrence, member, kind, slot, channel, sequence).

    ``slot`` tells apart notices of one kind for the same occurrence, such as the reminder a day
    before and the one two hours before (slot ``P1D`` and ``PT2H``).
    """
    name = "|".join((occurrence_uid, str(member_id), kind, slot, channel, str(sequence)))
    return uuid.uuid5(NOTICE_NAMESPACE, name)
