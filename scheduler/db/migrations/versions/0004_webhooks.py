"""Chat-group webhooks per chapter; notices to a webhook instead of a member; member channels.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chapter_webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chapter", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "format IN ('wecom', 'dingtalk', 'feishu', 'generic')", name=op.f("ck_chapter_webhooks_format")
        ),
        sa.ForeignKeyConstraint(
            ["chapter"], ["chapters.code"], name=op.f("fk_chapter_webhooks_chapter_chapters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_webhooks")),
    )
    with op.batch_alter_table("chapter_webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapter_webhooks_chapter"), ["chapter"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channels", sa.JSON(), nullable=False, server_default='["email"]'))

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("member_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_index(batch_op.f("ix_notices_webhook_id"), ["webhook_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_webhook_id_chapter_webhooks"),
            "chapter_webhooks",
            ["webhook_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("one_recipient", "(member_id IS NULL) <> (webhook_id IS NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE webhook_id IS NOT NULL")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notices_one_recipient"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_notices_webhook_id_chapter_webhooks"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notices_webhook_id"))
        batch_op.alter_column("member_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("webhook_id")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("channels")

    with op.batch_alter_table("chapter_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_webhooks_chapter"))

    op.drop_table("chapter_webhooks")
