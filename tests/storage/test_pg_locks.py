"""The advisory locks that serialize writers on PostgreSQL (storage/locks.py): the chain's lock excludes a second
appender until the first transaction ends, shared month-lock readers do not exclude each other but exclude a
submission, a wait ends with a "lock timeout" error instead of hanging; on SQLite they are no-ops."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from jzair_desktop.storage import locks


@pytest.fixture
def engine(pg_url, monkeypatch):
    monkeypatch.setattr(locks, "LOCK_TIMEOUT_S", 1)
    eng = create_engine(pg_url)
    yield eng
    eng.dispose()


def test_the_chain_lock_excludes_a_second_appender_until_the_commit(engine):
    with engine.connect() as a, engine.connect() as b:
        a.begin()
        locks.lock_chain(a)
        locks.lock_chain(a)  # again in the same transaction: no second round trip, no wait
        b.begin()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="lock timeout"):
            locks.lock_chain(b)
        assert time.monotonic() - started < 10
        b.rollback()
        a.commit()
        b.begin()
        locks.lock_chain(b)  # free once the holder's transaction has ended
        b.commit()


def test_month_lock_readers_share_and_a_submission_waits_for_them(engine):
    with engine.connect() as a, engine.connect() as b, engine.connect() as c:
        a.begin()
        locks.lock_submissions(a, exclusive=False)
        b.begin()
        locks.lock_submissions(b, exclusive=False)  # readers do not wait for each other
        c.begin()
        with pytest.raises(OperationalError, match="lock timeout"):
            locks.lock_submissions(c, exclusive=True)
        c.rollback()
        a.commit()
        b.commit()
        c.begin()
        locks.lock_submissions(c, exclusive=True)
        c.commit()


def test_no_op_on_sqlite(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with eng.connect() as a:
            a.begin()
            locks.lock_chain(a)
            locks.lock_submissions(a, exclusive=True)
            assert not locks.is_server(a)
            a.commit()
    finally:
        eng.dispose()
