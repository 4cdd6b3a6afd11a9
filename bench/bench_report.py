"""Benchmark: the city monthly report (月报) PDF on the demo database. Goal: written within 3 s, under 3 MB.

Uses the demo database of `jzair init --demo` (demo.generate_demo) built once into
bench/out/bench_report.sqlite3. If the demo generator cannot run, falls back to a database of about
60,000 valid records of its own (bench/sample_records.py), with targets split across the units,
monthly figures and air quality for 2020-10 … 2021-03.

Prints, for the city report (with and without 预警函) and one county report: the time to build the
figures, the time to write the PDF, pages and size.

    python bench/bench_report.py [--month 2020-12] [--runs 3] [--rebuild] [--own]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jzair_desktop.domain.reference import reference  # noqa: E402
from jzair_desktop.services import report  # noqa: E402
from jzair_desktop.services.actor import BUILTIN_ADMIN  # noqa: E402
from jzair_desktop.services.air import set_air_quality
from jzair_desktop.services.database import Database, load_reference_data, open_database  # noqa: E402
from jzair_desktop.services.monthly import FigureEntry, monthly_indicators, set_figures  # noqa: E402
from jzair_desktop.services.targets import split_city_targets  # noqa: E402
from jzair_desktop.storage.engine import read_session, sqlite_url, write_session  # noqa: E402
from jzair_desktop.storage.models import LEDGER_MODELS  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
DB_FILE = OUT / "bench_report.sqlite3"
OWN_COUNTS = {"heating": 51_000, "trucks": 8_300, "boilers": 120, "kilns": 220, "vocs": 180}
MONTHS = ("2020-10", "2020-11", "2020-12", "2021-01", "2021-02", "2021-03")
WEIGHTS = {"140702": 3.0, "140703": 2.0, "140721": 1.0, "140722": 1.0, "140723": 1.0, "140724": 1.0,
           "140725": 1.5, "140727": 1.5, "140728": 2.0, "140729": 1.5, "140781": 2.0, "140799": 0.5}
TIME_GOAL_S = 3.0
SIZE_GOAL = 3 * 1024 * 1024


def _fresh(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    return db


def build_demo(path: Path) -> Database:
    from jzair_desktop.demo import generate_demo

    db = _fresh(path)
    started = time.perf_counter()
    result = generate_demo(db, today=dt.date(2021, 4, 15))
    print(f"演示数据库：{result.total:,} 条台账记录，用时 {time.perf_counter() - started:.1f} 秒")
    return db


def build_own(path: Path, seed: int = 20201231) -> Database:
    """About 60,000 valid records with realistic names, plus targets, monthly figures and air quality."""
    import sample_records

    db = _fresh(path)
    ref = reference()
    started = time.perf_counter()
    now = dt.datetime(2021, 4, 1, 9, 0)
    rng = random.Random(seed)
    with write_session(db.engine) as s:
        for key, n in OWN_COUNTS.items():
            batch = []
            for values in sample_records.records(key, n, seed=seed + len(key)):
                batch.append({**values, "uuid": f"{rng.getrandbits(128):032x}", "created_at": now,
                              "created_by": "基准", "updated_at": now, "updated_by": "基准"})
            s.execute(insert(LEDGER_MODELS[key]), batch)
    print(f"自建基准数据库：{sum(OWN_COUNTS.values()):,} 条台账记录，用时 {time.perf_counter() - started:.1f} 秒")
    split_city_targets(db, WEIGHTS, BUILTIN_ADMIN)
    entries = []
    for ind in monthly_indicators(ref):
        for u in ref.units:
            for month in MONTHS:
                if ind.measure == "rate":
                    high = 100.0 if ind.unit == "%" else 20.0
                    value = min(high, round(rng.uniform(0.75, 1.15) * (ind.county_target or ind.target or 1), 1))
                else:
                    per_month = (ind.target or 12) * WEIGHTS[u.code] / sum(WEIGHTS.values()) / len(MONTHS)
                    value = max(0, round(per_month * rng.uniform(0.3, 1.4)))
                entries.append(FigureEntry(u.code, ind.key, month, value))
    set_figures(db, BUILTIN_ADMIN, entries)
    for month in MONTHS:
        winter = month.startswith("2021-01") or month in ("2020-12", "2021-02")
        base = 62 if winter else 45
        set_air_quality(db, BUILTIN_ADMIN, "市城区", month, pm25=round(base * rng.uniform(0.85, 1.2), 1),
                        heavy_days=rng.choice((0, 0, 1, 2, 3)) if winter else 0)
        for u in ref.units:
            set_air_quality(db, BUILTIN_ADMIN, u.code, month, pm25=round(base * rng.uniform(0.75, 1.3), 1),
                            heavy_days=rng.choice((0, 0, 1, 2, 4)) if winter else rng.choice((0, 0, 0, 1)))
    return db


def record_count(db: Database) -> int:
    with read_session(db.engine) as s:
        return sum(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in LEDGER_MODELS.values())


def open_or_build(path: Path, rebuild: bool, own: bool) -> Database:
    if path.exists() and not rebuild:
        db, _ = open_database(sqlite_url(path))
        if record_count(db):
            print(f"沿用已有的基准数据库：{path}（{record_count(db):,} 条记录）")
            return db
        db.dispose()
    if not own:
        try:
            return build_demo(path)
        except Exception as exc:  # noqa: BLE001 - fall back to our own data and say why
            print(f"演示数据生成失败（{type(exc).__name__}: {str(exc)[:120]}），改用自建的约6万条记录。")
    return build_own(path)


def measure(db: Database, out: Path, month: str, unit: str | None, letters: bool, runs: int) -> dict:
    build_times, write_times = [], []
    pages = size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        data = report.build_report_data(db, month, unit, letters=letters)
        t1 = time.perf_counter()
        pages = report.write_pdf_atomic(data, out)
        t2 = time.perf_counter()
        build_times.append(t1 - t0)
        write_times.append(t2 - t1)
        size = out.stat().st_size
    total = [a + b for a, b in zip(build_times, write_times, strict=True)]
    return {"build": statistics.median(build_times), "write": statistics.median(write_times),
            "total": statistics.median(total), "worst": max(total), "pages": pages, "size": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="月报生成基准")
    parser.add_argument("--month", default="2020-12")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--own", action="store_true", help="不用演示数据，用自建的约6万条记录")
    parser.add_argument("--db", type=Path, default=DB_FILE)
    parser.add_argument("--keep", type=Path, help="把生成的市级月报另存到该文件")
    args = parser.parse_args(argv)
    db = open_or_build(args.db, args.rebuild, args.own)
    print(f"数据库记录数：{record_count(db):,}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("全市月报", None, False), ("全市月报＋预警函", None, True), ("榆次区月报", "榆次区", False)]
        print(f"\n{args.month} 月报，{args.runs} 次取中位数：")
        for title, unit, letters in cases:
            out = Path(tmp) / f"{title}.pdf"
            r = measure(db, out, args.month, unit, letters, args.runs)
            print(f"  {title:10s}：统计 {r['build']:.2f} 秒 + 排版写入 {r['write']:.2f} 秒 = {r['total']:.2f} 秒"
                  f"（最慢 {r['worst']:.2f}），{r['pages']} 页，{r['size'] / 1024:,.0f} KB")
            if unit is None:
                ok = ok and r["worst"] <= TIME_GOAL_S and r["size"] < SIZE_GOAL
            if args.keep and unit is None and not letters:
                args.keep.write_bytes(out.read_bytes())
    print(f"\n目标：全市月报 {TIME_GOAL_S:.0f} 秒内写成、小于 3 MB —— {'达到' if ok else '未达到'}")
    db.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
