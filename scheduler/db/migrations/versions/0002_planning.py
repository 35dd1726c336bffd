"""Planning: ask for a re-plan per series or member; notices remember their session's start.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_members_plan_requested_at"), ["plan_requested_at"], unique=False)

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f("ix_notices_member"))
        batch_op.create_index("ix_notices_member", ["member_id", "series_id"], unique=False)

    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_series_plan_requested_at"), ["plan_requested_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_plan_requested_at"))
        batch_op.drop_column("plan_requested_at")

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_member")
        batch_op.create_index(batch_op.f("ix_notices_member"), ["member_id"], unique=False)
        batch_op.drop_column("starts_at")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_plan_requested_at"))
        batch_op.drop_column("plan_requested_at")
