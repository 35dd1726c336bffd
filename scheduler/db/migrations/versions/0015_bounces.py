"""Bounces: a notice can end ``bounced`` (the member's mail server refused it after all), a
member's address is marked undeliverable (a hard bounce, or too many soft ones) until it is
fixed, the chapter's chat group hears of it (a ``bounce`` notice), and inbound mail keeps the
bounces it read.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_KINDS = ("invitation", "reminder", "followup", "update", "cancellation", "offer", "waitlisted")
_STATUSES = ("pending", "published", "sending", "sent", "skipped", "failed", "cancelled")
_OUTCOMES = ("applied", "unchanged", "unmatched", "not-a-reply")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", (*_KINDS, "bounce")))
        batch.drop_constraint(op.f("ck_notices_status"), type_="check")
        batch.create_check_constraint("status", _in("status", (*_STATUSES, "bounced")))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("undeliverable_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("bounce_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("soft_bounces", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_bounce_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("inbound_mail") as batch:
        batch.drop_constraint(op.f("ck_inbound_mail_outcome"), type_="check")
        batch.create_check_constraint("outcome", _in("outcome", (*_OUTCOMES, "bounced")))


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind = 'bounce'")
    op.execute("UPDATE notices SET status = 'sent' WHERE status = 'bounced'")
    op.execute("DELETE FROM inbound_mail WHERE outcome = 'bounced'")
    with op.batch_alter_table("inbound_mail") as batch:
        batch.drop_constraint(op.f("ck_inbound_mail_outcome"), type_="check")
        batch.create_check_constraint("outcome", _in("outcome", _OUTCOMES))
    # ALTER TABLE … DROP COLUMN, never a copy: dropping the old members table on SQLite would
    # delete every row that refers to it (ON DELETE CASCADE)
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.drop_column("last_bounce_at")
        batch.drop_column("soft_bounces")
        batch.drop_column("bounce_detail")
        batch.drop_column("undeliverable_at")
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_status"), type_="check")
        batch.create_check_constraint("status", _in("status", _STATUSES))
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", _KINDS))
