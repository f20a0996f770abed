"""Migrations are the only way the schema changes: upgrade from empty, then no drift."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from ingest import migrations
from ingest.app import App
from ingest.errors import DatabaseNotReadyError
from store import make_engine
from store.models import Base


def test_upgrade_from_empty_then_no_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(DatabaseNotReadyError, match="newsdedup db upgrade"):
            migrations.require_head(engine)
        migrations.upgrade(engine)
        migrations.require_head(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_one_linear_history() -> None:
    engine = make_engine("sqlite://")
    scripts = ScriptDirectory.from_config(migrations.alembic_config(engine))
    assert len(scripts.get_heads()) == 1


def test_commands_refuse_a_database_not_at_head(sqlite_url: str) -> None:
    from config import load_settings

    app = App(load_settings(environ={}, database_url=sqlite_url))
    try:
        with pytest.raises(DatabaseNotReadyError, match="database is empty"):
            app.require_head()
    finally:
        app.close()
