"""What a session achieved, in fields rather than one text box: after a project-docking session
the firms talked to (how many, which), whether an intention to cooperate or a contract came of
it and its rough value (万元); after a tech exchange a 1–5 rating, what was useful and the topic
wanted next. ``text`` stays as the free note. ``source`` says who recorded it: the member, or
staff from a phone call (``recorded_by``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followup_responses") as batch:
        batch.add_column(sa.Column("contacts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("firms", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("intention", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("contract", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("value_wan", sa.Numeric(12, 1), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("useful", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("next_topic", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="member"))
        batch.add_column(sa.Column("recorded_by", sa.String(64), nullable=True))
        batch.create_check_constraint("rating", "rating IS NULL OR rating BETWEEN 1 AND 5")
        batch.create_check_constraint("source", "source IN ('member', 'staff')")
        batch.create_check_constraint("contacts", "contacts IS NULL OR contacts >= 0")
        batch.create_check_constraint("value_wan", "value_wan IS NULL OR value_wan >= 0")


def downgrade() -> None:
    with op.batch_alter_table("followup_responses") as batch:
        for name in ("rating", "source", "contacts", "value_wan"):
            batch.drop_constraint(op.f(f"ck_followup_responses_{name}"), type_="check")
        for column in (
            "recorded_by", "source", "next_topic", "useful", "rating", "value_wan", "contract", "intention",
            "firms", "contacts",
        ):  # fmt: skip
            batch.drop_column(column)
