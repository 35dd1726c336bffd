"""An answer records how it came (link, member page, staff, calendar) and the user agent.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rsvps") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rsvps") as batch:
        batch.drop_column("user_agent")
        batch.drop_column("source")
