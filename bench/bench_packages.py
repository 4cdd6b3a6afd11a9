"""Data packages (报送包): export and import speed.

    python bench/bench_packages.py [--records 20000] [--scale 1.0] [--keep DIR]

1. A county database holding one unit (榆次区) with N ledger records (demo records, default 20,000):
   export its package, then import it into an empty city database (goal: each under 3 s). Also times
   the dry run (preview) and a second import of the same package (nothing to do).
2. The full demo (all twelve units, `--scale` 1.0 ≈ 66,000 records) on one machine; each unit's
   package is exported with its own key (as on twelve county machines), then all twelve are imported
   into one empty city database (goal: under 20 s in total).
Prints wall and CPU seconds (the CPU figure is steadier on a busy machine); asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from jzair_desktop import demo
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database, load_reference_data, open_database
from jzair_desktop.services.ledgers import insert_many, write_records
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.storage.engine import sqlite_url, write_session
from jzair_desktop.storage.models import InstallationKey

UNIT = "140702"
MONTH = "2020-12"
TODAY = dt.date(2026, 1, 1)


def fresh(path: Path) -> Database:
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    return db


def timed(label: str, fn: Callable[[], Any], goal: float | None = None) -> Any:
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    verdict = "" if goal is None else f"   goal < {goal:g} s: {'met' if wall < goal else 'MISSED'}"
    print(f"  {label:<46}{wall:8.2f} s wall {cpu:8.2f} s cpu{verdict}", flush=True)
    return result


def unit_records(n: int) -> dict[str, list[dict[str, Any]]]:
    """Demo records of one unit, N in all (heating trimmed or the demo scaled up to reach N)."""
    scale = 1.0
    while True:
        data = demo.generate_records(scale=scale, today=TODAY)
        mine = {k: [r for r in rows if r["unit_code"] == UNIT] for k, rows in data.items()}
        total = sum(len(v) for v in mine.values())
        if total >= n:
            break
        scale *= n / total * 1.05
    extra = total - n
    mine["heating"] = mine["heating"][: len(mine["heating"]) - extra]
    for rows in mine.values():
        for r in rows:
            if r.get("status") == "已销号":  # a close-out needs evidence; keep the bench to plain records
                r["status"] = "已完成"
    return mine


def part_one(folder: Path, n: int) -> None:
    print(f"1. one unit with {n:,} records")
    county = fresh(folder / "县.sqlite3")
    records = unit_records(n)
    with write_records(county) as s:
        for key in LEDGER_KEYS:
            insert_many(s, key, records[key], actor=BUILTIN_ADMIN)
    print("  records: " + ", ".join(f"{k} {len(v):,}" for k, v in records.items()))
    out = folder / "榆次区-2020-12.jzpkg"
    res = timed("export", lambda: export.export_county_package(county, UNIT, MONTH, out, actor=BUILTIN_ADMIN), 3)
    print(f"  package: {res.size / 1024 / 1024:.1f} MB, audit entries {res.counts['audit']:,}")
    city = fresh(folder / "市.sqlite3")
    timed("preview (dry run) into the empty city database", lambda: imp.preview_package(city, out, actor=BUILTIN_ADMIN))
    result = timed("import into the empty city database", lambda: imp.import_package(city, out, actor=BUILTIN_ADMIN), 3)
    assert result.imported
    again = timed("import the same package again (nothing to do)",
                  lambda: imp.import_package(city, out, actor=BUILTIN_ADMIN))
    assert not again.imported
    res2 = export.export_county_package(county, UNIT, MONTH, out, actor=BUILTIN_ADMIN)
    timed(f"import the next package (#{res2.sequence}, nothing changed)",
          lambda: imp.import_package(city, out, actor=BUILTIN_ADMIN))
    county.dispose()
    city.dispose()


def part_two(folder: Path, scale: float) -> None:
    print(f"2. twelve units (demo at scale {scale:g})")
    source = fresh(folder / "演示.sqlite3")
    result = timed("generate the demo (not part of the goal)",
                   lambda: demo.generate_demo(source, scale=scale, today=TODAY))
    print(f"  records: {result.total:,}")
    units = [u for u in result.unit_counts["heating"]]
    packages: list[Path] = []

    def export_all() -> None:
        for code in units:
            with write_session(source.engine) as s:  # a new key per unit: as if twelve county machines
                s.execute(delete(InstallationKey))
            path = folder / f"{code}.jzpkg"
            export.export_county_package(source, code, MONTH, path, actor=BUILTIN_ADMIN)
            packages.append(path)

    timed("export the twelve packages", export_all)
    city = fresh(folder / "市-全部.sqlite3")

    def import_all() -> int:
        n = 0
        for path in packages:
            r = imp.import_package(city, path, actor=BUILTIN_ADMIN)
            n += sum(c.new for c in r.preview.changes if c.key in LEDGER_KEYS)
        return n

    n = timed("import all twelve into an empty city database", import_all, 20)
    print(f"  records imported: {n:,}")
    source.dispose()
    city.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="keep the databases and packages in this folder")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jzair-bench-packages-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, folder {folder}")
    try:
        part_one(folder, args.records)
        part_two(folder, args.scale)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
