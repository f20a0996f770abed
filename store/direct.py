"""The hottest statements of the write path, run on the driver's own cursor.

SQLAlchemy's ``Connection.execute`` spends 35-60 µs per call on its own bookkeeping (execution
context, parameter processing, result rows), several times what SQLite takes to run the small
lookups and inserts that every ingested article makes; over the eight or so statements of a feed
entry that was a tenth of the writer's time. The statements here are compiled by SQLAlchemy once
per dialect and then run on the DBAPI cursor of the session's own connection, so they stay inside
the session's transaction and savepoints.

Only statements whose parameters and result columns need no type conversion go this way:
integers, text, bytes and floats, which both drivers (sqlite3, psycopg) take and give as they
are. Dates, JSON and expanding ``IN`` lists keep SQLAlchemy's execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ClauseElement, Dialect, Table, TextClause, TextualSelect, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Parameter names in the order a positional driver (sqlite3's "?") takes them; None for a
    # driver that takes them by name (psycopg's "%(name)s").
    order: tuple[str, ...] | None


_compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}


def _compile(
    key: str, dialect: Dialect, build: Callable[[], ClauseElement], columns: tuple[str, ...] = ()
) -> _Compiled:
    cache_key = (dialect.name, key, columns)
    found = _compiled.get(cache_key)
    if found is None:
        # for_executemany: no implicit RETURNING of the new ids, which nobody reads here.
        compiled = cast(
            SQLCompiler,
            build().compile(dialect=dialect, column_keys=list(columns) or None, for_executemany=bool(columns)),
        )
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        found = _compiled[cache_key] = _Compiled(compiled.string, order)
    return found


def _driver(session: Session) -> tuple[Dialect, Any]:
    connection = session.connection()
    return connection.dialect, connection.connection.driver_connection


def fetch(
    session: Session, statement: TextClause | TextualSelect, params: Mapping[str, object]
) -> list[tuple[Any, ...]]:
    """Rows of a plain-SQL select as tuples, in the session's transaction.

    The session is not flushed: callers that read what they may have just added flush first.
    """
    dialect, driver = _driver(session)
    sql = cast(TextClause, statement.element).text if isinstance(statement, TextualSelect) else statement.text
    compiled = _compile(sql, dialect, lambda: statement)
    arguments: Any = params if compiled.order is None else [params[name] for name in compiled.order]
    cursor = driver.cursor()
    try:
        cursor.execute(compiled.sql, arguments)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def insert_rows(session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ``rows``, each a tuple of ``columns``' values in that order."""
    if not rows:
        return
    dialect, driver = _driver(session)
    compiled = _compile(f"INSERT {table.name}", dialect, lambda: insert(table), columns)
    if compiled.order is None:
        arguments: Any = [dict(zip(columns, row, strict=True)) for row in rows]
    elif compiled.order == columns:
        arguments = rows
    else:
        places = [columns.index(name) for name in compiled.order]
        arguments = [tuple(row[i] for i in places) for row in rows]
    cursor = driver.cursor()
    try:
        cursor.executemany(compiled.sql, arguments)
    finally:
        cursor.close()
