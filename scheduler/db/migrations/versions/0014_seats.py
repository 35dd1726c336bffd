"""Seats: a capacity per session (overriding the series'), a waiting list with positions, offers
that hold a freed seat for a while, and the two notices that tell members of them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_KINDS = ("invitation", "reminder", "followup", "update", "cancellation")
_RESPONSES = ("accepted", "declined", "tentative")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("offer_hold_s", sa.Integer(), nullable=True))
    with op.batch_alter_table("occurrence_overrides") as batch:
        batch.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
    with op.batch_alter_table("rsvps") as batch:
        batch.add_column(sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("offer_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("seat_round", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint(op.f("ck_rsvps_response"), type_="check")
        batch.create_check_constraint("response", _in("response", (*_RESPONSES, "waitlisted")))
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", (*_KINDS, "offer", "waitlisted")))


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind IN ('offer', 'waitlisted')")
    op.execute("DELETE FROM rsvps WHERE response = 'waitlisted'")
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", _KINDS))
    with op.batch_alter_table("rsvps") as batch:
        batch.drop_constraint(op.f("ck_rsvps_response"), type_="check")
        batch.create_check_constraint("response", _in("response", _RESPONSES))
        batch.drop_column("seat_round")
        batch.drop_column("offer_until")
        batch.drop_column("waitlisted_at")
    # ALTER TABLE … DROP COLUMN, never a copy of the table: on SQLite, dropping the old series
    # table would delete every row that refers to it (ON DELETE CASCADE)
    with op.batch_alter_table("occurrence_overrides", recreate="never") as batch:
        batch.drop_column("capacity")
    with op.batch_alter_table("series", recreate="never") as batch:
        batch.drop_column("offer_hold_s")
