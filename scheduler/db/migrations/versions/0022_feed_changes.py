"""Feeds learn of changes without asking: on PostgreSQL, every statement that writes what a
calendar feed is made of (series, their exceptions, members, subscriptions) sends
``NOTIFY exsched_feeds`` — delivered when its transaction commits, whichever process or tool
wrote it. An API process listening keeps the feeds it has checked and answers a poll of an
unchanged one from memory. (SQLite has no NOTIFY: there every poll checks the database.)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

CHANNEL = "exsched_feeds"  # scheduler.calendars.changes.CHANNEL
TABLES = ("series", "occurrence_overrides", "members", "subscriptions")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION exsched_feeds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER feeds_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION exsched_feeds_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS feeds_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS exsched_feeds_changed()")
