"""Responses: RSVPs from invitation links, and what members report after a session.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_uid", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('docking-outcome', 'feedback')", name=op.f("ck_followup_responses_kind")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_followup_responses_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_followup_responses_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_responses")),
    )
    with op.batch_alter_table("followup_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followup_responses_occurrence_uid"), ["occurrence_uid"], unique=False
        )

    op.create_table(
        "rsvps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_uid", sa.String(length=255), nullable=False),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "response IN ('accepted', 'declined', 'tentative')", name=op.f("ck_rsvps_response")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_rsvps_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_rsvps_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rsvps")),
        sa.UniqueConstraint("occurrence_uid", "member_id", name=op.f("uq_rsvps_occurrence_uid_member_id")),
    )


def downgrade() -> None:
    op.drop_table("rsvps")
    with op.batch_alter_table("followup_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_responses_occurrence_uid"))

    op.drop_table("followup_responses")
