"""Copying every table of one database into another of the same schema (SQLite or PostgreSQL on either side).

The rows are read in batches and written in the caller's transaction on the target: on PostgreSQL through COPY
(storage.bulk.copy_rows), elsewhere with executemany. Values pass through the tables' SQLAlchemy types (a
date-time read from SQLite's text comes out as a date-time, and goes into PostgreSQL's timestamp as such), so the
copy holds the same values. Afterwards PostgreSQL's id sequences are moved past the copied ids.

Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Integer, Table, func, select
from sqlalchemy.engine import Connection

from jzair_desktop.storage import bulk
from jzair_desktop.storage.models import Base

BATCH = 5000


def tables() -> list[Table]:
    """Every table of the schema, parents before children (foreign keys)."""
    return list(Base.metadata.sorted_tables)


def counts(conn: Connection, which: Sequence[Table]) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in which}


def empty_tables(conn: Connection, which: Sequence[Table]) -> None:
    """Delete every row of the tables (children first), in the caller's transaction."""
    for t in reversed(which):
        conn.execute(t.delete())


def copy_tables(
    source: Connection, target: Connection, which: Sequence[Table], *,
    progress: Callable[[str, int], None] | None = None, batch: int = BATCH,
) -> dict[str, int]:
    """Copy the rows of each table from `source` into the (emptied) same table of `target`; rows per table."""
    server = target.dialect.name == "postgresql"
    out: dict[str, int] = {}
    for t in which:
        cols = [c.name for c in t.columns]
        procs = [t.c[c].type._cached_bind_processor(target.dialect) for c in cols]  # noqa: SLF001
        n = 0
        result = source.execution_options(stream_results=True, yield_per=batch).execute(
            select(t).order_by(*t.primary_key.columns))
        for part in result.partitions(batch):
            if server:
                n += bulk.copy_rows(target, t.name, cols, (
                    tuple(v if p is None or v is None else p(v) for v, p in zip(row, procs, strict=True))
                    for row in part))
            else:
                target.execute(t.insert(), [dict(zip(cols, row, strict=True)) for row in part])
                n += len(part)
            if progress is not None:
                progress(t.name, n)
        out[t.name] = n
    if server:
        _move_sequences(target, which)
    return out


def _move_sequences(conn: Connection, which: Sequence[Table]) -> None:
    """Set each serial id's sequence past the largest copied id (PostgreSQL)."""
    for t in which:
        pk = list(t.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
            continue
        seq = conn.exec_driver_sql("SELECT pg_get_serial_sequence(%(t)s, %(c)s)",
                                   {"t": t.name, "c": pk[0].name}).scalar()
        if seq is None:
            continue
        top = conn.execute(select(func.max(pk[0]))).scalar()
        conn.exec_driver_sql("SELECT setval(%(s)s, %(v)s, %(called)s)",
                             {"s": seq, "v": top if top is not None else 1, "called": top is not None})
