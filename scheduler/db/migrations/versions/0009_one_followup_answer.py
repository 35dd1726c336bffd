"""One follow-up answer per member and session: sending the form again edits it.

Where a member sent several, the newest is kept (its text is what they said last).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM followup_responses WHERE id NOT IN ("
        " SELECT MAX(id) FROM followup_responses GROUP BY member_id, occurrence_uid)"
    )
    with op.batch_alter_table("followup_responses") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_followup_responses_member_id_occurrence_uid"), ["member_id", "occurrence_uid"]
        )


def downgrade() -> None:
    with op.batch_alter_table("followup_responses") as batch:
        batch.drop_constraint(op.f("uq_followup_responses_member_id_occurrence_uid"), type_="unique")
        batch.drop_column("updated_at")
