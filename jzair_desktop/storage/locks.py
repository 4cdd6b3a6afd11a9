"""Locks that serialize concurrent writers on a server database (PostgreSQL transaction-level advisory locks).

On SQLite a write transaction holds the whole database from BEGIN IMMEDIATE (storage.engine.write_session), so
these are no-ops there. On PostgreSQL several clerks write at the same moment, and a few things must still happen
one at a time:

- CHAIN: appending to the audit hash chain (read the head, write the next entries). Taken at the append (late in
  the transaction) and released by the commit or rollback, so the next writer reads a committed head.
- SUBMISSIONS: month submissions (上报/解锁). Writers that check month locks take it shared before reading them;
  submitting or unlocking takes it exclusive, so a submission waits for the edits already checked against the old
  locks, and edits after it see it.

Deadlocks are avoided by one order: SUBMISSIONS, then row locks, then CHAIN (taking CHAIN takes SUBMISSIONS shared
first). A transaction that has taken CHAIN takes no further locks but its own rows.

Qt-free.
"""

from __future__ import annotations

from typing import Any

# Arbitrary 64-bit keys of this application's advisory locks ("jzair" in ASCII, then a number).
CHAIN = 0x6A7A_6169_7200_0001
SUBMISSIONS = 0x6A7A_6169_7200_0002

LOCK_TIMEOUT_S = 60  # the longest a writer waits for a lock (the longest bulk append holds one a few seconds)

_HELD = "jzair_advisory_locks"  # connection info: {key: exclusive?} held in the current transaction


def is_server(conn: Any) -> bool:
    return conn.dialect.name == "postgresql"


def _held(conn: Any) -> dict[int, bool]:
    """The advisory locks this connection took in its current transaction (forgotten at its end)."""
    info = conn.info
    held = info.get(_HELD)
    txn = conn.get_transaction()
    if held is None or held[0] is not txn:
        held = info[_HELD] = (txn, {})
    return held[1]


def xact_lock(conn: Any, key: int, *, shared: bool = False) -> None:
    """Take advisory lock `key` until the end of the current transaction (waits for it). No-op on SQLite, and when
    this transaction already holds it (exclusively, or shared when shared is asked)."""
    if not is_server(conn):
        return
    held = _held(conn)
    have = held.get(key)
    if have is True or (have is False and shared):
        return
    if not held:
        # A writer never waits without end for another that hangs (a client cut off mid-transaction keeps its
        # locks until the server notices): past this the wait fails with "lock timeout", which reaches the user
        # as the database-busy message, and the transaction rolls back whole.
        # A shorter limit the connection set itself (the GUI's saved connection, so that 重试 comes soon) stays.
        if conn.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar() in ("0", None):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'")
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.exec_driver_sql(f"SELECT {fn}(%(key)s)", {"key": key})
    held[key] = not shared


def lock_chain(conn: Any) -> None:
    """Serialize an append to the audit chain with every other writer's (until this transaction ends)."""
    xact_lock(conn, SUBMISSIONS, shared=True)
    xact_lock(conn, CHAIN)


def lock_submissions(conn: Any, *, exclusive: bool) -> None:
    """Before reading month locks (shared) or changing them (exclusive)."""
    xact_lock(conn, SUBMISSIONS, shared=not exclusive)
