"""Alembic from the application: upgrade, and the "database at head" check."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from alembic import command
from ingest.errors import DatabaseNotReadyError
from store import current_revision


def _alembic_dir() -> Path:
    override = os.environ.get("NEWSDEDUP_ALEMBIC_DIR")
    if override:
        return Path(override)
    # The migrations live beside the packages in the source tree (installed editable).
    return Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(engine: Engine) -> Config:
    directory = _alembic_dir()
    if not (directory / "env.py").is_file():
        raise DatabaseNotReadyError(f"migrations folder not found at {directory} (set NEWSDEDUP_ALEMBIC_DIR)")
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.attributes["configure_logging"] = False
    return config


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:
        raise DatabaseNotReadyError("no migrations found")
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_batch_pragmas(connection, on=True)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise DatabaseNotReadyError(f"migration left rows without their parent: {broken[:5]}")
        finally:
            if sqlite:
                _sqlite_batch_pragmas(connection, on=False)


def _sqlite_batch_pragmas(connection: Connection, on: bool) -> None:
    """SQLite batch migrations recreate a table (copy, drop, rename). With foreign keys on, the
    drop would cascade into the child tables; without legacy ALTER TABLE, the rename fails while a
    view (``canonical_articles``) names the table. Both pragmas only work outside a transaction,
    so they go straight to the driver connection."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'OFF' if on else 'ON'}")
    driver.execute(f"PRAGMA legacy_alter_table={'ON' if on else 'OFF'}")


def require_head(engine: Engine) -> None:
    try:
        current = current_revision(engine)
    except Exception as exc:
        raise DatabaseNotReadyError(f"cannot reach the database: {exc}") from exc
    head = head_revision(engine)
    if current != head:
        at = "empty" if current is None else f"at revision {current}"
        raise DatabaseNotReadyError(
            f"database is {at}, not at the latest migration {head}: run `newsdedup db upgrade`"
        )
