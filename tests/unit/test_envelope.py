"""The envelope the dispatcher writes straight from a notice row is the contract's envelope: the
same bytes as the pydantic model writes, read back by the worker as the same model — for a
member's notice, a chat group's, and a digest with no session."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas.bus import NoticeEnvelope, envelope_json

ROW = {
    "notice_id": uuid.UUID("047455a2-42c9-4e06-916b-31b7153ad0cc"),
    "kind": "invitation",
    "channel": "email",
    "series_id": uuid.UUID("26ba3000-ecad-43fd-ab29-4244856a9189"),
    "member_id": uuid.UUID("9f5c9e25-31f9-44c3-99f3-955eccd311ed"),
    "webhook_id": None,
    "staff_id": None,
    "occurrence_uid": "26ba3000-ecad-43fd-ab29-4244856a9189-20261210T060000Z@exsched.test",
    "recurrence_id": datetime(2026, 12, 10, 6, 0, tzinfo=UTC),
    "sequence": 2,
    "slot": "",
    "due_at": datetime(2026, 11, 26, 6, 0, 0, 123456, tzinfo=UTC),
    "attempt": 1,
    "trace_id": "047455a242c94e06-1",
}


@pytest.mark.parametrize(
    "row",
    [
        ROW,
        ROW | {"kind": "reminder", "slot": "PT2H", "due_at": datetime(2026, 12, 10, 4, 0, tzinfo=UTC)},
        ROW | {"channel": "webhook", "member_id": None, "webhook_id": uuid.uuid4()},
        ROW
        | {
            "kind": "digest",
            "series_id": None,
            "member_id": None,
            "staff_id": uuid.uuid4(),
            "occurrence_uid": "digest:ningbo:2026-11",
            "slot": "2026-11",
        },
        ROW | {"occurrence_uid": "宁波-会议@exsched.test"},  # not ASCII: written as UTF-8, like pydantic
    ],
)
def test_the_envelope_written_from_a_row_is_the_models(row: dict) -> None:
    model = NoticeEnvelope(**row)
    written = envelope_json(**row)
    assert written == model.model_dump_json().encode()
    assert NoticeEnvelope.model_validate_json(written) == model


def test_an_instant_in_another_zone_keeps_its_offset_and_means_the_same_instant() -> None:
    shanghai = timezone(timedelta(hours=8))
    row = ROW | {"due_at": datetime(2026, 11, 26, 14, 0, tzinfo=shanghai)}
    read = NoticeEnvelope.model_validate_json(envelope_json(**row))
    assert read.due_at == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    assert envelope_json(**row) == NoticeEnvelope(**row).model_dump_json().encode()
