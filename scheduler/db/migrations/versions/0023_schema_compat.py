"""Rolling upgrades: the schema says which code still works with it. ``schema_compat`` holds one
row, ``oldest_code``: the newest migration of the oldest release that may run on this schema.
From now on each migration sets it — to its own revision when it changes what running code
reads or writes (drops, renames, new constraints old code would break), or leaves it when it
only adds (a table, a nullable column, a trigger). A process whose newest migration is older than
the database's refuses to start unless ``oldest_code`` is one it knows.

This migration only adds a table: code of 0022 works with it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "schema_compat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("oldest_code", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_compat")),
    )
    op.bulk_insert(table, [{"id": 1, "oldest_code": "0022"}])


def downgrade() -> None:
    op.drop_table("schema_compat")
