"""Two writers on one database file, in different processes: the second waits for the busy timeout and
then gets a clear message; nothing is ever half-written or corrupted."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from jzair_desktop.errors import DatabaseBusyError, DatabaseError
from jzair_desktop.storage import engine as engine_mod
from jzair_desktop.storage.engine import BUSY_MESSAGE, make_engine, read_session, translate_operational_error
from tests.storage.safety_helpers import REPO_ROOT, add_heating, child_argv, child_env, count_rows, integrity

# Holds the write lock (BEGIN IMMEDIATE, one row written) until told to let go, then commits.
LOCK_HOLDER = """
import sqlite3, sys, pathlib
db, release = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE units SET name = name || '（另一程序）' WHERE code = '140702'")
print("locked", flush=True)
while not release.exists():
    import time; time.sleep(0.01)
conn.execute("COMMIT")
conn.close()
print("committed", flush=True)
"""


def hold_lock(db_path, release):
    proc = subprocess.Popen(
        [*child_argv(LOCK_HOLDER), str(db_path), str(release)],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=child_env(),
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def unit_name(db_path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT name FROM units WHERE code = '140702'").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.sqlite_only("SQLite's file lock, WAL and busy timeout")
def test_second_writer_gets_the_busy_message_and_nothing_is_written(db, tmp_path, monkeypatch):
    db.dispose()
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "200")
    engine = make_engine(db.url)
    release = tmp_path / "release"
    before = count_rows(db.path)
    holder = hold_lock(db.path, release)
    try:
        with pytest.raises(DatabaseBusyError) as err:
            add_heating(engine, 50, tag="第二个")
        assert str(err.value) == "数据库正被另一个程序（或另一个窗口）使用，请稍后再试。"
        assert str(err.value) == BUSY_MESSAGE
    finally:
        release.write_text("go")
        holder.communicate(timeout=30)
        engine.dispose()
    assert holder.returncode == 0
    assert integrity(db.path) == "ok"
    assert count_rows(db.path) == before  # the refused transaction left nothing
    assert unit_name(db.path) == "榆次区（另一程序）"  # the first writer's work is whole
    # and once the other program is done, the same write goes through
    engine = make_engine(db.url)
    add_heating(engine, 50, tag="第二个")
    engine.dispose()
    assert count_rows(db.path) == before + 50


@pytest.mark.sqlite_only("SQLite's file lock, WAL and busy timeout")
def test_second_writer_waits_for_the_first_within_the_timeout(db, tmp_path, monkeypatch):
    db.dispose()
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "60000")
    engine = make_engine(db.url)
    release = tmp_path / "release"
    holder = hold_lock(db.path, release)
    outcome: list[object] = []

    def write() -> None:
        try:
            add_heating(engine, 5, tag="等待者")
            outcome.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            outcome.append(exc)

    writer = threading.Thread(target=write)
    try:
        writer.start()
        time.sleep(0.3)  # let the writer reach the lock (ordering only; nothing is measured)
        assert writer.is_alive() and outcome == [], "the second writer did not wait for the lock"
    finally:
        release.write_text("go")
        holder.communicate(timeout=30)
    writer.join(timeout=60)
    engine.dispose()
    assert outcome == ["ok"]
    assert integrity(db.path) == "ok"
    assert unit_name(db.path) == "榆次区（另一程序）"
    assert count_rows(db.path, where="village = '等待者村'") == 5


# Many small transactions, started together with another process doing the same.
BUSY_WRITER = """
import sys, pathlib, time
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.safety_helpers import add_heating
db, _ = open_database(sqlite_url(pathlib.Path(sys.argv[1])))
go, name = pathlib.Path(sys.argv[2]), sys.argv[3]
while not go.exists():
    time.sleep(0.005)
for batch in range(60):
    add_heating(db.engine, 5, tag=f"{name}-{batch}")
db.dispose()
print("done", flush=True)
"""


@pytest.mark.sqlite_only("SQLite's file lock, WAL and busy timeout")
@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(db, tmp_path):
    db.dispose()
    go = tmp_path / "go"
    before = count_rows(db.path)
    procs = [
        subprocess.Popen([*child_argv(BUSY_WRITER), str(db.path), str(go), name], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=child_env())
        for name in ("甲", "乙")
    ]
    go.write_text("go")
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "done", err
    assert integrity(db.path) == "ok"
    assert count_rows(db.path) == before + 2 * 60 * 5
    conn = sqlite3.connect(db.path)
    groups = conn.execute("SELECT village, count(*) FROM heating GROUP BY village").fetchall()
    conn.close()
    assert sorted(c for v, c in groups if "-" in v) == [5] * 120


@pytest.mark.sqlite_only("SQLite's file lock, WAL and busy timeout")
def test_reading_while_another_process_writes_is_not_blocked(db, tmp_path, monkeypatch):
    """WAL: readers see the last committed state while a writer holds the lock."""
    db.dispose()
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "0")
    release = tmp_path / "release"
    holder = hold_lock(db.path, release)
    engine = make_engine(db.url)
    try:
        with read_session(engine) as s:
            assert s.execute(text("SELECT name FROM units WHERE code = '140702'")).scalar() == "榆次区"
    finally:
        release.write_text("go")
        holder.communicate(timeout=30)
        engine.dispose()


@pytest.mark.sqlite_only("SQLite's file lock, WAL and busy timeout")
def test_busy_timeout_comes_from_the_environment(db, monkeypatch):
    def pragma() -> int:
        engine = make_engine(db.url)
        try:
            with engine.connect() as conn:
                return conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        finally:
            engine.dispose()

    monkeypatch.delenv("JZAIR_BUSY_TIMEOUT_MS", raising=False)
    assert pragma() == 5000
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "250")
    assert pragma() == 250
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "五秒")
    assert pragma() == 5000
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "-3")
    assert engine_mod.busy_timeout_ms() == 0


def _op_error(message: str, code: int | None) -> OperationalError:
    orig = sqlite3.OperationalError(message)
    if code is not None:
        orig.sqlite_errorcode = code
    return OperationalError("INSERT …", {}, orig)


@pytest.mark.parametrize(
    ("message", "code", "expected"),
    [
        ("database is locked", 5, engine_mod.BUSY_MESSAGE),
        ("database table is locked", 6, engine_mod.BUSY_MESSAGE),
        ("database is locked", None, engine_mod.BUSY_MESSAGE),
        ("attempt to write a readonly database", 8, engine_mod.READONLY_MESSAGE),
        ("attempt to write a readonly database", 1032, engine_mod.READONLY_MESSAGE),  # READONLY_DBMOVED
        ("database or disk is full", 13, engine_mod.FULL_MESSAGE),
        ("disk I/O error", 778, engine_mod.WRITE_FAILED_MESSAGE),  # IOERR_WRITE: EFBIG, a failing device
        ("disk I/O error", 1034, engine_mod.IO_MESSAGE),  # IOERR_FSYNC
        ("disk I/O error", None, engine_mod.IO_MESSAGE),
    ],
)
def test_translate_operational_error(message, code, expected):
    err = translate_operational_error(_op_error(message, code))
    assert isinstance(err, DatabaseError | DatabaseBusyError)
    assert str(err) == expected


def test_other_operational_errors_are_left_alone():
    exc = _op_error("no such table: nope", 1)
    assert translate_operational_error(exc) is exc
