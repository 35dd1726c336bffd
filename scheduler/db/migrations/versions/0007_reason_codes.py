"""Notices keep why they were skipped, cancelled or failed as a code with parameters.

``last_error`` (an English sentence) becomes ``reason_code`` + ``reason_params``: the sentences
this version's predecessors wrote are read back into their codes; anything else is kept as
``recorded`` with the text. The downgrade writes the English sentence back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The fixed sentences of revisions before this one, and their codes.
FIXED = {
    "the session was cancelled": "session-cancelled",
    "the member is no longer subscribed": "unsubscribed",
    "the session no longer exists (the series' rule or dates changed)": "session-gone",
    "the session is on again": "session-on-again",
    "this reminder was removed from the series' notice plan": "reminder-removed",
    "the member was never invited to this session": "never-invited",
    "the series or the recipient no longer exists": "recipient-gone",
    "the recipient was never told of this session": "never-told",
    "the session was cancelled before this was sent": "cancelled-before-send",
    "the member declined this session": "declined",
    "follow-ups go to those who accepted, and this member did not": "not-accepted",
    "lease expired without a worker's answer; publishing again": "lease-expired",
}
#: Sentences with values in them: (pattern, code, parameter names).
PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"superseded by sequence (\d+)$"), "superseded", ("sequence",)),
    (re.compile(r"the recipient already has sequence (\d+)$"), "already-told", ("sequence",)),
    (
        re.compile(r"the session had already started \((.+)\) when this (\w+) came due$"),
        "started",
        ("starts_at", "kind"),
    ),
    (re.compile(r"more than (\d+) days late for a follow-up$"), "followup-too-late", ("days",)),
    (re.compile(r"SMTP (\d{3}) (.*)$", re.S), "smtp-reply", ("code", "text")),
    (re.compile(r"SMTP connection problem: (.*)$", re.S), "smtp-connection", ("error",)),
    (re.compile(r"HTTP (\d{3}) from the (\w+) webhook$"), "webhook-http", ("status", "format")),
    (re.compile(r"(\w+) webhook unreachable: (.*)$", re.S), "webhook-unreachable", ("format", "error")),
    (
        re.compile(r"(\w+) webhook answered error (-?\d+): (.*)$", re.S),
        "webhook-error",
        ("format", "code", "body"),
    ),
    (re.compile(r"poison message: (.*)$", re.S), "poison", ("detail",)),
    (re.compile(r"could not be rendered: (.*)$", re.S), "render-failed", ("error",)),
]


def to_code(text: str) -> tuple[str, dict[str, Any]]:
    if text in FIXED:
        return FIXED[text], {}
    gave_up = re.match(r"gave up after (\d+) attempts; last: (.*)$", text, re.S)
    if gave_up:
        code, params = to_code(gave_up[2])
        return "gave-up", {"attempts": int(gave_up[1]), "last": {"code": code, "params": params}}
    for pattern, code, names in PATTERNS:
        found = pattern.match(text)
        if found:
            values: dict[str, Any] = dict(zip(names, found.groups(), strict=True))
            for name in ("sequence", "days", "code", "status", "attempts"):
                if name in values and re.fullmatch(r"-?\d+", str(values[name])):
                    values[name] = int(values[name])
            return code, values
    if text.startswith("dead-lettered from "):
        queue, _, why = text.removeprefix("dead-lettered from ").partition(": ")
        if why.startswith("delivered too many times"):
            return "dead-lettered-limit", {"queue": queue}
        if why.startswith("rejected by a worker"):
            return "dead-lettered-rejected", {"queue": queue}
        return "dead-lettered", {"queue": queue, "why": why}
    if text in ("not confirmed", "nacked by RabbitMQ") or text.startswith(
        ("no confirm within", "unroutable on")
    ):
        return "not-confirmed", {"detail": text}
    return "recorded", {"text": text}


notices = sa.table(
    "notices",
    sa.column("id", sa.Uuid()),
    sa.column("last_error", sa.Text()),
    sa.column("reason_code", sa.String(48)),
    sa.column("reason_params", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(notices.c.id, notices.c.last_error).where(notices.c.last_error.is_not(None))
    ).all()
    for row in rows:
        code, params = to_code(row.last_error)
        connection.execute(
            notices.update().where(notices.c.id == row.id).values(reason_code=code, reason_params=params)
        )
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("last_error")


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(notices.c.id, notices.c.reason_code, notices.c.reason_params).where(
            notices.c.reason_code.is_not(None)
        )
    ).all()
    for row in rows:
        params = row.reason_params or {}
        text = params.get("text") if row.reason_code == "recorded" else f"{row.reason_code} {params}"
        connection.execute(notices.update().where(notices.c.id == row.id).values(last_error=text))
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
