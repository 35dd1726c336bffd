"""Staff's messages to a session's members (``message``) and reminders to answer (``nudge``):
what staff wrote, to whom; and alerts to a chapter's chat group (``alert``): three more notice
kinds.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_KINDS = ("invitation", "reminder", "followup", "update", "cancellation", "offer", "waitlisted", "bounce")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", (*_KINDS, "message", "nudge", "alert")))
    op.create_table(
        "session_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_uid", sa.String(length=255), nullable=False),
        sa.Column("recurrence_id", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('message', 'nudge')", name=op.f("ck_session_messages_kind")),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_session_messages_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_messages")),
    )
    op.create_index(
        op.f("ix_session_messages_occurrence_uid"), "session_messages", ["occurrence_uid"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_session_messages_occurrence_uid"), table_name="session_messages")
    op.drop_table("session_messages")
    op.execute("DELETE FROM notices WHERE kind IN ('message', 'nudge', 'alert')")
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", _KINDS))
