"""Mail that came back: one row per mail read, by the SHA-256 of its bytes (a mail delivered
twice is read once), with what became of it — an answer applied, or why not (kept for staff).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_mail",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurrence_uid", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('applied', 'unchanged', 'unmatched', 'not-a-reply')",
            name=op.f("ck_inbound_mail_outcome"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inbound_mail")),
    )
    op.create_index(op.f("ix_inbound_mail_received_at"), "inbound_mail", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_mail_received_at"), table_name="inbound_mail")
    op.drop_table("inbound_mail")
