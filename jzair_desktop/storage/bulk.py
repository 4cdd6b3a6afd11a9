"""Bulk inserts: on SQLite, building a table's secondary indexes once, after the rows, instead of row by row.

Inserting many rows into an indexed table updates every index B-tree row by row; dropping the plain
(non-unique) indexes first and creating them again afterwards sorts each index once, which for a table
that is small next to the insert costs a fraction. Unique indexes and constraints stay in place, so every
row is checked exactly as before. Everything happens in the caller's transaction: should it roll back,
the indexes are back as they were; should the block fail, the indexes are created again before the error
goes on, so a caller that goes on and commits never commits a table without them.

On PostgreSQL bulk rows go through COPY FROM STDIN (`copy_rows`).

Qt-free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# Below this many new rows the index work is small anyway and the table counts are not worth reading.
MIN_ROWS = 10_000


def _plain_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of a table's explicit, non-unique indexes."""
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).all()
    unique = {name for _, name, is_unique, *_ in conn.exec_driver_sql(f'PRAGMA index_list("{table}")') if is_unique}
    return [(name, sql) for name, sql in rows if name not in unique]


@contextlib.contextmanager
def indexes_built_after(
    conn: Connection, adding: Mapping[str, int], *, min_rows: int = MIN_ROWS
) -> Iterator[list[str]]:
    """Inside the block, the plain indexes of each table that will at least double are dropped; they are
    created again when the block ends. `adding`: {table: rows about to be inserted}. Yields the tables
    whose indexes were dropped (none on other databases than SQLite, or for small inserts)."""
    if conn.dialect.name != "sqlite":
        yield []
        return
    dropped: list[tuple[str, list[tuple[str, str]]]] = []
    for table, n in adding.items():
        if n < min_rows:
            continue
        (existing,) = conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').one()
        if n < existing:
            continue
        indexes = _plain_indexes(conn, table)
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        dropped.append((table, indexes))

    def build() -> None:
        for _table, indexes in dropped:
            for _name, sql in indexes:
                conn.exec_driver_sql(sql)

    try:
        yield [table for table, _ in dropped]
    except BaseException:
        # The transaction is about to roll back (which restores the indexes anyway); a failure to build
        # them now must not hide the error that got here.
        with contextlib.suppress(Exception):
            build()
        raise
    build()


# --- PostgreSQL: COPY ------------------------------------------------------------------------------------------


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows (tuples in the order of `columns`, values as the driver adapts them) into `table` with
    PostgreSQL's COPY FROM STDIN, in the caller's transaction: one statement streaming every row, the server's
    fast route for bulk loads (constraints and indexes checked as for INSERT). Returns the rows written."""
    prep = conn.dialect.identifier_preparer
    sql = f"COPY {prep.quote(table)} ({', '.join(prep.quote(c) for c in columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()
    n = 0
    try:
        with cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                n += 1
    except Exception as exc:
        # The driver's error as SQLAlchemy raises it for any other statement (IntegrityError for a duplicate,
        # OperationalError for a lost connection, ...), so that callers and the engine's Chinese messages see
        # COPY's failures as they see INSERT's.
        dbapi = conn.dialect.loaded_dbapi
        if isinstance(exc, dbapi.Error):
            raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
        raise
    finally:
        cursor.close()
    return n
