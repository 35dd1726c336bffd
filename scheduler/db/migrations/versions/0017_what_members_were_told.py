"""What members were told: the facts each sent notice stated (so an update can say what
changed), and the reason staff gave for cancelling a session or a series.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("told", sa.JSON(), nullable=True))
    with op.batch_alter_table("occurrence_overrides") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN, never a copy: dropping the old series table on SQLite would
    # delete every row that refers to it (ON DELETE CASCADE)
    for table, column in (
        ("series", "cancel_reason"),
        ("occurrence_overrides", "cancel_reason"),
        ("notices", "told"),
    ):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column(column)
