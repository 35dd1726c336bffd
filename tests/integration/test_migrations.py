"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from scheduler.db.migrate import current_revision, head_revision, upgrade
from scheduler.db.models import Base
from scheduler.db.session import Database


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current_revision(db) == head_revision(db)
    with db.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_upgrade_is_repeatable_and_seeds_the_chapters_once(db: Database) -> None:
    upgrade(db)
    with db.engine.connect() as connection:
        codes = connection.execute(text("SELECT code FROM chapters ORDER BY code")).scalars().all()
    assert codes == sorted(
        ["province", "wenzhou", "ningbo", "jiaxing", "yiwu", "taizhou", "huzhou", "shaoxing"]
    )


def test_downgrade_to_nothing_and_back(tmp_path) -> None:
    from alembic import command

    from scheduler.db.migrate import alembic_config

    fresh = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(fresh)
    config = alembic_config(fresh)
    with fresh.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(fresh) is None
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh)


def test_recorded_sentences_become_reason_codes(db: Database) -> None:
    """0007 reads back what earlier versions wrote in ``last_error``; anything else is kept."""
    import uuid

    from alembic import command
    from sqlalchemy import select

    from scheduler.db.migrate import alembic_config
    from scheduler.db.models import NoticeRow
    from tests.support.factories import insert_due_notices

    sentences = {
        "the member is no longer subscribed": ("unsubscribed", {}),
        "superseded by sequence 3": ("superseded", {"sequence": 3}),
        "gave up after 8 attempts; last: SMTP 451 4.7.1 greylisted": (
            "gave-up",
            {
                "attempts": 8,
                "last": {"code": "smtp-reply", "params": {"code": 451, "text": "4.7.1 greylisted"}},
            },
        ),
        "dead-lettered from exsched.reminders: rejected by a worker as impossible to handle": (
            "dead-lettered-rejected",
            {"queue": "exsched.reminders"},
        ),
        "something a relay once said": ("recorded", {"text": "something a relay once said"}),
    }
    from datetime import UTC, datetime

    insert_due_notices(db, len(sentences), datetime(2026, 12, 1, tzinfo=UTC))
    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with db.engine.begin() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT id FROM notices ORDER BY id"))]
        for notice_id, sentence in zip(ids, sentences, strict=True):
            connection.execute(
                text("UPDATE notices SET last_error = :e WHERE id = :i"), {"e": sentence, "i": notice_id}
            )
    upgrade(db)
    with db.session() as session:
        found = {n.id: (n.reason_code, n.reason_params) for n in session.scalars(select(NoticeRow))}
    assert [found[uuid.UUID(str(i))] for i in ids] == list(sentences.values())
