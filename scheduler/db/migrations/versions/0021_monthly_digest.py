"""The monthly digest: staff have an email address, and a notice may be addressed to a staff
member and belong to no session (``digest``: last month's figures and next month's sessions;
``chapter`` says whose, NULL for the province office's).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_KINDS = (
    "invitation",
    "reminder",
    "followup",
    "update",
    "cancellation",
    "offer",
    "waitlisted",
    "bounce",
    "message",
    "nudge",
    "alert",
)
_ONE_OF_TWO = "(member_id IS NULL) <> (webhook_id IS NULL)"
_ONE_OF_THREE = (
    "(CASE WHEN member_id IS NULL THEN 0 ELSE 1 END + CASE WHEN webhook_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN staff_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("staff_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("chapter", sa.String(length=32), nullable=True))
        batch.alter_column("series_id", existing_type=sa.Uuid(), nullable=True)
        batch.create_foreign_key(
            batch.f("fk_notices_staff_id_staff"), "staff", ["staff_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index(batch.f("ix_notices_staff_id"), ["staff_id"], unique=False)
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", (*_KINDS, "digest")))
        batch.drop_constraint(op.f("ck_notices_one_recipient"), type_="check")
        batch.create_check_constraint("one_recipient", _ONE_OF_THREE)
        batch.create_check_constraint("session_or_digest", "(series_id IS NULL) = (kind = 'digest')")


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind = 'digest' OR staff_id IS NOT NULL OR series_id IS NULL")
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("ck_notices_session_or_digest"), type_="check")
        batch.drop_constraint(op.f("ck_notices_one_recipient"), type_="check")
        batch.create_check_constraint("one_recipient", _ONE_OF_TWO)
        batch.drop_constraint(op.f("ck_notices_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", _KINDS))
        batch.drop_index(batch.f("ix_notices_staff_id"))
        batch.drop_constraint(batch.f("fk_notices_staff_id_staff"), type_="foreignkey")
        batch.alter_column("series_id", existing_type=sa.Uuid(), nullable=False)
        batch.drop_column("chapter")
        batch.drop_column("staff_id")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("email")
