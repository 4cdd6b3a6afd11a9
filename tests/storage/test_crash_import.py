"""Crash safety of an import: a real `jzair import heating FILE --county 榆次区` of a 100,000-row ledger is
killed (SIGKILL on Linux, TerminateProcess on Windows: no clean-up runs) at several moments, on the same
database file one kill after another. After every kill the database passes PRAGMA integrity_check and
holds either none or all of the rows; at the end its audit trail matches its records (`jzair audit verify`)
and another import still works.

Moments: 1 s and 2 s after start (starting up / reading the file), as soon as the -wal file shows the
write transaction under way, half-way through writing it, and during the checkpoint after the commit
(the database file itself growing): that last one must keep all rows. A package import (30,000 records into
the city database) is killed the same way while writing and during its checkpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.big_ledger import write_heating_xlsx
from tests.storage.safety_helpers import REPO_ROOT, child_env, count_rows, integrity

ROWS = 100_000
MB = 1 << 20
# The write transaction of 100,000 records (with their audit entries) fills about 120 MB of -wal.
HALF_WAY_WAL = 48 * MB


@pytest.fixture(scope="session")
def big_ledger(tmp_path_factory) -> Path:
    return write_heating_xlsx(tmp_path_factory.mktemp("crash") / "榆次区清洁取暖台账.xlsx", ROWS)


def wal_size(db: Path) -> int:
    try:
        return (db.parent / (db.name + "-wal")).stat().st_size
    except FileNotFoundError:
        return 0


def start_import(db: Path, xlsx: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jzair_desktop", "--db", str(db), "import", "heating", str(xlsx), "--county", "榆次区"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=child_env(),
    )


@dataclass
class Kill:
    moment: str
    after: float  # seconds since start
    wal: int  # -wal bytes when killed
    finished_first: bool  # the import ended before the moment came
    rows: int
    integrity: str


def kill_when(proc: subprocess.Popen, moment: str, ready, db: Path, timeout: float = 300) -> Kill:  # noqa: ANN001
    started = time.monotonic()
    while proc.poll() is None and not ready() and time.monotonic() - started < timeout:
        time.sleep(0.002)
    finished = proc.poll() is not None
    after, wal = time.monotonic() - started, wal_size(db)
    proc.kill()
    proc.communicate(timeout=60)
    return Kill(moment, after, wal, finished, count_rows(db), integrity(db))


def audit_verify(db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jzair_desktop", "--db", str(db), "audit", "verify"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=child_env(), timeout=300,
    )


@pytest.mark.slow
def test_killing_an_import_keeps_none_or_all_of_the_rows(big_ledger, tmp_path):
    db_file = tmp_path / "台账.sqlite3"
    db, _ = open_database(sqlite_url(db_file), create=True)
    load_reference_data(db)
    db.dispose()

    def after(seconds: float):  # noqa: ANN202
        t = time.monotonic() + seconds
        return lambda: time.monotonic() >= t

    def db_grows():  # noqa: ANN202
        base = db_file.stat().st_size
        return lambda: db_file.stat().st_size > base + MB

    plan = [
        ("1 秒后", lambda: after(1.0)),
        ("2 秒后", lambda: after(2.0)),
        ("开始写入（-wal 超过 1 MB）", lambda: lambda: wal_size(db_file) > MB),
        ("写入一半（-wal 超过 48 MB）", lambda: lambda: wal_size(db_file) > HALF_WAY_WAL),
        ("提交后的检查点中（数据库文件变大）", db_grows),
    ]
    kills = []
    for moment, make_ready in plan:
        ready = make_ready()
        kill = kill_when(start_import(db_file, big_ledger), moment, ready, db_file)
        kills.append(kill)
        print(f"kill {moment}: {kill.after:.2f} s, -wal {kill.wal / MB:.1f} MB, "
              f"{'import had finished, ' if kill.finished_first else ''}rows {kill.rows:,}, {kill.integrity}")
        assert kill.integrity == "ok", moment
        assert kill.rows in (0, ROWS), moment

    # The kills before the commit lost the whole import, the one during the checkpoint kept all of it.
    assert [k.rows for k in kills[:4] if not k.finished_first] == [0] * sum(not k.finished_first for k in kills[:4])
    assert kills[2].wal > MB or kills[2].finished_first
    assert kills[-1].rows == ROWS
    started = time.monotonic()
    check = audit_verify(db_file)
    print(f"audit verify: {time.monotonic() - started:.1f} s")
    assert check.returncode == 0, check.stdout + check.stderr

    # … and the database takes the next import.
    more = write_heating_xlsx(tmp_path / "补充.xlsx", 50, start=ROWS)
    done = subprocess.run(
        [sys.executable, "-m", "jzair_desktop", "--db", str(db_file), "import", "heating", str(more),
         "--county", "榆次区"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=child_env(), timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新增 50 条" in done.stdout
    assert count_rows(db_file) == ROWS + 50
    assert integrity(db_file) == "ok"
    assert not os.path.exists(str(db_file) + "-journal")


PACKAGE_ROWS = 30_000


@pytest.mark.slow
def test_killing_a_package_import_keeps_none_or_all_of_it(tmp_path):
    """The same for `jzair package import` of a county package with 30,000 records into the city database."""
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.excel import import_ledger
    from jzair_desktop.services.packages import export as package_export

    county, _ = open_database(sqlite_url(tmp_path / "县.sqlite3"), create=True)
    load_reference_data(county)
    book = write_heating_xlsx(tmp_path / "台账.xlsx", PACKAGE_ROWS)
    import_ledger(county, "heating", book, "榆次区", actor=BUILTIN_ADMIN, error_file=False)
    package = package_export.export_county_package(county, "140702", "2020-12", tmp_path / "榆次区.jzpkg",
                                                   actor=BUILTIN_ADMIN).path
    county.dispose()
    city_file = tmp_path / "市级.sqlite3"
    city, _ = open_database(sqlite_url(city_file), create=True)
    load_reference_data(city)
    city.dispose()

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "jzair_desktop", "--db", str(city_file), "package", "import", str(package)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=child_env(),
        )

    def db_grows():  # noqa: ANN202
        base = city_file.stat().st_size
        return lambda: city_file.stat().st_size > base + MB

    plan = [
        ("开始写入（-wal 超过 1 MB）", lambda: lambda: wal_size(city_file) > MB),
        ("写入一半（-wal 超过 28 MB）", lambda: lambda: wal_size(city_file) > 28 * MB),
        ("提交后的检查点中（数据库文件变大）", db_grows),
    ]
    kills = []
    for moment, make_ready in plan:
        kill = kill_when(start(), moment, make_ready(), city_file)
        imports = count_rows(city_file, "package_imports")
        kills.append((kill, imports))
        print(f"package kill {moment}: {kill.after:.2f} s, -wal {kill.wal / MB:.1f} MB, "
              f"{'import had finished, ' if kill.finished_first else ''}rows {kill.rows:,}, imports {imports}, "
              f"{kill.integrity}")
        assert kill.integrity == "ok", moment
        assert (kill.rows, imports) in ((0, 0), (PACKAGE_ROWS, 1)), moment
    assert [k.rows for k, _ in kills[:2] if not k.finished_first] == [0] * sum(not k.finished_first for k, _ in kills[:2])
    assert kills[-1][0].rows == PACKAGE_ROWS
    check = audit_verify(city_file)
    assert check.returncode == 0, check.stdout + check.stderr
    again = subprocess.run(
        [sys.executable, "-m", "jzair_desktop", "--db", str(city_file), "package", "import", str(package)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=child_env(), timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert count_rows(city_file) == PACKAGE_ROWS and count_rows(city_file, "package_imports") == 1
