"""What the audit trail costs on bulk writes, and how long `audit verify` takes.

    /work/venv/bin/python bench/bench_audit.py [N]

Inserts N heating records (default 100,000) three ways on fresh database files:
  plain  - Core executemany of the rows only (what insert_many did before the audit trail),
  audit  - services.ledgers.insert_many (guards + one chained audit entry per record + a summary),
and times `audit verify` on the audited file (three runs: read-only, every audited table compared,
authors checked; then once more against the head recorded in a backup, as `verify --against` does), plus
update_values on 10,000 of the records.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

from jzair_desktop.domain import checkdigits
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_anchor import read_anchor
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.backup import make_backup
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url
from jzair_desktop.storage.models import HeatingRecord

UNITS = ("140702", "140703", "140721", "140722", "140723", "140724", "140725", "140727", "140728", "140729")


def rows(n: int) -> list[dict]:
    out = []
    for i in range(n):
        unit = UNITS[i % len(UNITS)]
        first17 = f"{unit}19{60 + i % 40:02d}0{1 + i % 9}{10 + i % 18:02d}{i % 1000:03d}"
        out.append({
            "unit_code": unit, "township": f"第{i % 20}镇", "village": f"第{i % 300}村", "householder": f"户主{i}",
            "id_number": first17 + checkdigits.id_check_char(first17), "phone": "13912345678",
            "area_m2": 80.0 + i % 50, "method": ("气代煤", "电代煤", "集中供热")[i % 3], "status": "已完工",
            "done_date": dt.date(2020, 10, 1) + dt.timedelta(days=i % 60), "subsidy_yuan": 12000.0,
            "keeps_coal_stove": "是", "remarks": None, "uuid": str(uuidlib.uuid4()),
        })
    return out


def fresh(folder: Path, name: str):
    db, _ = open_database(sqlite_url(folder / name), create=True)
    load_reference_data(db)
    return db


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = rows(n)
    with tempfile.TemporaryDirectory(prefix="jzair-bench-audit-") as tmp:
        folder = Path(tmp)
        stamp = svc.now()

        db = fresh(folder, "plain.sqlite3")
        table = HeatingRecord.__table__
        t, c = time.perf_counter(), time.process_time()
        with svc.write_records(db) as s:
            batch = []
            for r in data:
                batch.append({**r, "created_at": stamp, "created_by": "bench", "updated_at": stamp,
                              "updated_by": "bench", "deleted_at": None, "deleted_by": None})
                if len(batch) == 5000:
                    s.execute(table.insert(), batch)
                    batch = []
            if batch:
                s.execute(table.insert(), batch)
        plain, plain_cpu = time.perf_counter() - t, time.process_time() - c
        plain_size = os.path.getsize(folder / "plain.sqlite3")
        db.dispose()

        db = fresh(folder, "audit.sqlite3")
        t, c = time.perf_counter(), time.process_time()
        with svc.write_records(db) as s:
            svc.insert_many(s, "heating", data, actor=BUILTIN_ADMIN, stamp=stamp)
        audited, audited_cpu = time.perf_counter() - t, time.process_time() - c
        audit_size = os.path.getsize(folder / "audit.sqlite3")

        runs = []
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            report = verify(db)
            runs.append((time.perf_counter() - t, time.process_time() - c))
            assert report.ok, report.findings[:3]
        verify_s, verify_cpu = min(runs)
        anchor = read_anchor(make_backup(db, folder / "anchor.jzbak").path)
        t = time.perf_counter()
        anchored = verify(db, against=[anchor])
        against_s = time.perf_counter() - t
        assert anchored.ok and anchored.anchors, anchored.findings[:3]

        m = min(10_000, n)
        t = time.perf_counter()
        with svc.write_records(db) as s:
            for r in data[:m]:
                svc.update_values(s, "heating", r["uuid"], {"remarks": "核实"}, actor=BUILTIN_ADMIN)
        update_s = time.perf_counter() - t
        db.dispose()

    print(f"records: {n:,}")
    print(f"plain insert (rows only):        {plain:7.2f} s wall, {plain_cpu:6.2f} s CPU ({n / plain:,.0f} rows/s)")
    print(f"insert_many with audit trail:    {audited:7.2f} s wall, {audited_cpu:6.2f} s CPU "
          f"({n / audited:,.0f} rows/s)")
    print(f"audit overhead:                  {audited - plain:7.2f} s wall (+{(audited / plain - 1) * 100:.0f} %), "
          f"{audited_cpu - plain_cpu:.2f} s CPU (+{(audited_cpu / plain_cpu - 1) * 100:.0f} %, "
          f"{(audited_cpu - plain_cpu) / n * 1e6:.1f} µs per record)")
    print(f"database file: {plain_size / 1e6:.1f} MB without, {audit_size / 1e6:.1f} MB with the audit trail")
    print(f"audit verify ({report.entries:,} entries, {report.records:,} records): {verify_s:.2f} s wall min of 3 "
          f"({', '.join(f'{w:.2f}' for w, _ in runs)}), {verify_cpu:.2f} s CPU")
    print(f"audit verify --against a backup: {against_s:.2f} s wall")
    print(f"update_values with audit, {m:,} records: {update_s:.2f} s ({update_s / m * 1e6:.0f} µs per record)")


if __name__ == "__main__":
    main()
