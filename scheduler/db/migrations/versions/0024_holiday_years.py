"""Holidays entered by staff: when the State Council has published next year's holidays and the
installed holiday data has not caught up, the province office enters the year in the console
(``holiday_years``, and its days off and adjusted working days in ``holiday_days``). Only adds
tables: code of 0022 on still works with this schema.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_holiday_years")),
    )
    op.create_table(
        "holiday_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("off", sa.Boolean(), nullable=False),
        sa.Column("holiday", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"],
            ["holiday_years.year"],
            name=op.f("fk_holiday_days_year_holiday_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holiday_days")),
    )
    op.create_index(op.f("ix_holiday_days_year"), "holiday_days", ["year"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_holiday_days_year"), table_name="holiday_days")
    op.drop_table("holiday_days")
    op.drop_table("holiday_years")
