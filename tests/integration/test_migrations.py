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
