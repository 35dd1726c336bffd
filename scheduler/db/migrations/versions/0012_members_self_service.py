"""Members act for themselves: sign-in links used once, member sessions that can be ended, joining.

``used_links`` keeps the links that work only once (a sign-in link, a join or an email-change
confirmation) until they would have expired anyway. ``members.session_epoch`` is part of every
member's sign-in cookie: raising it (an email address changed, "sign out everywhere") ends
them all. ``chapters.join_approval`` says whether the chapter's staff approve new members;
``join_requests`` holds the confirmed requests waiting for them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_links",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_used_links")),
    )
    op.create_index(op.f("ix_used_links_expires_at"), "used_links", ["expires_at"])
    op.create_table(
        "join_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("chapter", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter"], ["chapters.code"], name=op.f("fk_join_requests_chapter_chapters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_requests")),
        sa.UniqueConstraint("email", name=op.f("uq_join_requests_email")),
    )
    op.create_index(op.f("ix_join_requests_chapter"), "join_requests", ["chapter"])
    # plain ADD COLUMN (SQLite too): a batch copy would drop tables other tables refer to
    op.add_column("members", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.add_column(
        "chapters", sa.Column("join_approval", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("chapters", "join_approval")
    op.drop_column("members", "session_epoch")
    op.drop_index(op.f("ix_join_requests_chapter"), table_name="join_requests")
    op.drop_table("join_requests")
    op.drop_index(op.f("ix_used_links_expires_at"), table_name="used_links")
    op.drop_table("used_links")
