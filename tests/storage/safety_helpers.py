"""Helpers for the data-safety tests (backups, concurrency, disk full): writing ledger rows straight through
the ORM, comparing database contents, and running a writer in a real second process."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from sqlalchemy import Engine

from jzair_desktop.storage.engine import write_session
from jzair_desktop.storage.models import BoilerRecord, HeatingRecord, TruckRecord

REPO_ROOT = Path(__file__).resolve().parents[2]
UNIT = "140702"  # 榆次区
OTHER_UNIT = "140703"  # 太谷区


def heating_row(tag: str, n: int, *, unit_code: str = UNIT, remarks: str | None = None) -> HeatingRecord:
    now = dt.datetime(2020, 11, 30, 8, 0, 0)
    return HeatingRecord(
        uuid=str(uuid.uuid4()),
        unit_code=unit_code,
        created_at=now,
        created_by="测试",
        updated_at=now,
        updated_by="测试",
        township="东阳镇",
        village=f"{tag}村",
        householder=f"户主{n}",
        id_number=None,
        phone=None,
        area_m2=80.0 + n,
        method="电代煤",
        status="已完成",
        done_date=dt.date(2020, 11, 1),
        subsidy_yuan=None,
        keeps_coal_stove="否",
        remarks=remarks,
    )


def add_heating(engine: Engine, count: int, *, tag: str, unit_code: str = UNIT, remarks: str | None = None) -> None:
    """`count` clean-heating rows in one transaction, marked by `tag` (in the village name)."""
    with write_session(engine) as s:
        s.add_all(heating_row(tag, n, unit_code=unit_code, remarks=remarks) for n in range(count))


def add_sample_data(engine: Engine) -> None:
    """A little of everything: two units, three ledgers, one soft-deleted record."""
    now = dt.datetime(2020, 12, 1, 9, 30, 0)
    add_heating(engine, 7, tag="甲")
    add_heating(engine, 3, tag="乙", unit_code=OTHER_UNIT)
    add_truck(engine, "晋K12345")
    with write_session(engine) as s:
        s.add(
            BoilerRecord(
                uuid=str(uuid.uuid4()), unit_code=OTHER_UNIT, created_at=now, created_by="测试", updated_at=now,
                updated_by="测试", org_name="太谷区某供热站", credit_code=None, boiler_no="1号炉", capacity_th=10.0,
                fuel="燃煤", measure="拆除", planned_date=dt.date(2020, 12, 31), actual_date=None, status="未完成",
                deleted_at=now, deleted_by="测试",
            )
        )


def add_truck(engine: Engine, plate: str, *, unit_code: str = UNIT) -> None:
    now = dt.datetime(2020, 12, 1, 9, 30, 0)
    with write_session(engine) as s:
        s.add(
            TruckRecord(
                uuid=str(uuid.uuid4()), unit_code=unit_code, created_at=now, created_by="测试", updated_at=now,
                updated_by="测试", plate=plate, vin="LGAX2A138A1234567", emission_std="国三",
                vehicle_type="重型", owner="晋中市某运输公司", usage="营运", method="报废",
                eliminated_date=dt.date(2020, 10, 15), subsidy_yuan=30000.0,
            )
        )


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (rows sorted, so equal contents compare equal)."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        conn.close()


def count_rows(path: Path, table: str = "heating", where: str = "1=1") -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f'SELECT count(*) FROM "{table}" WHERE {where}').fetchone()[0])
    finally:
        conn.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def child_argv(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def run_child(code: str, *args: object, argv_prefix: list[str] | None = None, timeout: float = 120,
              **env: str) -> dict:
    """Run `code` with `args` in a new Python process; it must print one JSON object as its last line."""
    proc = subprocess.run(
        [*(argv_prefix or []), *child_argv(code), *(str(a) for a in args)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=child_env(**env), timeout=timeout,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1])


def open_handles(path: Path) -> list[str]:
    """Descriptors of this process open on `path` (Linux /proc)."""
    target = os.path.realpath(path)
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                found.append(fd)
        except OSError:
            continue
    return found
