"""Benchmark: the full progress table (all units × all indicators) on 200,000 ledger records.

Builds (or reuses) bench/out/bench_progress.sqlite3: a migrated database with the plan's reference data,
200,000 ledger records spread over the 12 units and 5 ledgers with realistic statuses and dates (about
2 % soft-deleted), targets split across the units and monthly figures for every month. Then times
`compute_progress` (median of several runs, each a fresh read session) for a few as-of dates, and the
one aggregate query of each ledger on its own. Goal: within 100 ms.

    python bench/bench_progress.py [--records 200000] [--runs 15] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from jzair_desktop.domain.reference import reference
from jzair_desktop.services import aggregates, progress
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database, load_reference_data, open_database
from jzair_desktop.services.monthly import FigureEntry, monthly_indicators, set_figures
from jzair_desktop.services.targets import split_city_targets
from jzair_desktop.storage.engine import read_session, sqlite_url, write_session
from jzair_desktop.storage.models import LEDGER_MODELS, AppMeta

OUT = Path(__file__).resolve().parent / "out"
DB_FILE = OUT / "bench_progress.sqlite3"
SHARES = {"heating": 0.70, "trucks": 0.20, "boilers": 0.04, "kilns": 0.03, "vocs": 0.03}
D = dt.date


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _row(ledger: str, unit: str, rng: random.Random, n: int, now: dt.datetime) -> dict:
    row = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "unit_code": unit,
        "created_at": now,
        "created_by": "基准",
        "updated_at": now,
        "updated_by": "基准",
        "deleted_at": now if rng.random() < 0.02 else None,
        "deleted_by": None,
    }
    if row["deleted_at"] is not None:
        row["deleted_by"] = "基准"
    if ledger == "heating":
        status = rng.choices(["已验收", "已完工", "施工中", "未开工"], [45, 40, 10, 5])[0]
        done = status in ("已完工", "已验收")
        row.update(
            township=f"第{rng.randint(1, 12)}乡镇", village=f"第{rng.randint(1, 40)}村", householder=f"户主{n}",
            method=rng.choices(["气代煤", "电代煤", "集中供热", "其他清洁能源"], [14, 21, 63, 2])[0],
            status=status, done_date=_day(rng, D(2020, 6, 1), D(2021, 1, 31)) if done else None,
            keeps_coal_stove=rng.choice(["是", "否"]),
        )
    elif ledger == "trucks":
        row.update(
            plate=f"晋K{n % 100000:05d}", vin=f"LBENCH{n:011d}"[:17], emission_std=rng.choice(["国零", "国一", "国二", "国三"]),
            vehicle_type=rng.choice(["重型货车", "中型货车", "轻型货车"]), owner=f"车主{n}", usage="营运",
            method=rng.choice(["报废拆解", "注销", "转出"]), eliminated_date=_day(rng, D(2019, 3, 1), D(2021, 3, 31)),
        )
    else:
        status = rng.choices(["已完成", "已销号", "施工中", "未开工"], [50, 15, 25, 10])[0]
        planned = _day(rng, D(2020, 10, 1), D(2021, 3, 31))
        actual = _day(rng, D(2020, 9, 1), D(2021, 3, 31)) if status in ("已完成", "已销号") else None
        row.update(planned_date=planned, actual_date=actual, status=status)
        if ledger == "boilers":
            row.update(org_name=f"单位{n}", boiler_no=str(n), capacity_th=rng.choice([1, 2, 4, 6, 10, 20, 35, 40, 75]),
                       fuel=rng.choices(["燃煤", "燃气", "燃油", "生物质", "电"], [60, 25, 5, 5, 5])[0],
                       measure=rng.choice(["淘汰拆除", "清洁能源替代", "超低排放改造", "低氮改造", "达标治理"]))
        elif ledger == "kilns":
            row.update(enterprise=f"企业{n}", credit_code=f"91140700MA{n:08d}"[:18],
                       industry=rng.choice(["钢铁", "建材", "有色", "焦化", "铸造", "其他"]),
                       category=rng.choice(["工业炉窑治理", "无组织排放治理"]), content="治理项目")
        else:
            row.update(enterprise=f"企业{n}", credit_code=f"91140700MB{n:08d}"[:18],
                       industry=rng.choice(["石化", "化工", "工业涂装", "包装印刷", "加油站", "其他"]),
                       category=rng.choice(["VOCs综合治理", "低VOCs原辅材料替代", "旁路排查整治", "储罐排查", "油气回收在线监控"]),
                       bypass_count=rng.randint(0, 3), bypass_disposal=rng.choice(["取消", "铅封", "安装自动监控"]))
    return row


def build(path: Path, records: int) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    ref = reference()
    rng = random.Random(20201013)
    units = [u.code for u in ref.units]
    weights = [3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.5, 2.0, 1.5, 2.0, 0.5]  # 榆次区 largest, 开发区 smallest
    now = dt.datetime(2021, 4, 1, 9, 0)
    started = time.perf_counter()
    n = 0
    with write_session(db.engine) as s:
        for ledger, share in SHARES.items():
            count = round(records * share) if ledger != "vocs" else records - n
            batch: list[dict] = []
            for _ in range(count):
                n += 1
                batch.append(_row(ledger, rng.choices(units, weights)[0], rng, n, now))
                if len(batch) == 20_000:
                    s.execute(insert(LEDGER_MODELS[ledger]), batch)
                    batch = []
            if batch:
                s.execute(insert(LEDGER_MODELS[ledger]), batch)
        s.add(AppMeta(key="bench_records", value=str(records)))
    print(f"已生成 {n:,} 条台账记录，用时 {time.perf_counter() - started:.1f} 秒")
    split_city_targets(db, dict(zip(units, weights, strict=True)), BUILTIN_ADMIN)
    entries = []
    months = ["2020-10", "2020-11", "2020-12", "2021-01", "2021-02", "2021-03"]
    for ind in monthly_indicators(ref):
        for code in units:
            for month in months:
                if ind.measure == "rate":
                    high = 100.0 if ind.unit == "%" else 20.0
                    value = round(rng.uniform(0.6, 1.2) * min(ind.target or 1, high), 1)
                    value = min(value, high)
                else:
                    value = rng.randint(0, max(1, int((ind.target or 12) / 60)))
                entries.append(FigureEntry(code, ind.key, month, value))
    set_figures(db, BUILTIN_ADMIN, entries)
    return db


def open_or_build(path: Path, records: int, rebuild: bool) -> Database:
    if path.exists() and not rebuild:
        db, _ = open_database(sqlite_url(path))
        with read_session(db.engine) as s:
            meta = s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_records"))
        if meta == str(records):
            print(f"沿用已有的基准数据库：{path}（{records:,} 条记录）")
            return db
        db.dispose()
    print(f"生成基准数据库：{path}")
    return build(path, records)


def time_it(fn, runs: int) -> tuple[float, float, float, float]:  # noqa: ANN001
    """(median wall ms, min wall ms, max wall ms, median CPU ms of this process)."""
    fn()  # warm-up (page cache, statement cache)
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
    return statistics.median(wall), min(wall), max(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="进度计算基准")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--db", type=Path, default=DB_FILE)
    args = parser.parse_args(argv)
    db = open_or_build(args.db, args.records, args.rebuild)
    ref = reference()
    goal = 100.0
    worst = 0.0
    print(f"\n完整进度表（{len(ref.units)} 个县 × {len(ref.indicators)} 项指标 + 全市），{args.runs} 次取中位数：")
    for as_of in (D(2020, 10, 31), D(2020, 12, 15), D(2021, 3, 31)):
        rows = progress.compute_progress(db, as_of)
        med, lo, hi, cpu = time_it(lambda as_of=as_of: progress.compute_progress(db, as_of), args.runs)
        worst = max(worst, med)
        print(f"  截至 {as_of}: 中位数 {med:6.1f} ms（最快 {lo:.1f}，最慢 {hi:.1f}；CPU 中位数 {cpu:.1f}），{len(rows)} 行")
    med, lo, hi, cpu = time_it(lambda: progress.warnings(db, D(2020, 12, 15)), args.runs)
    print(f"  预警列表 2020-12-15: 中位数 {med:6.1f} ms（CPU {cpu:.1f}）")
    print("\n各台账一次聚合查询（截至 2020-12-15）：")
    with read_session(db.engine) as s:
        total = 0
        for ledger in SHARES:
            n = s.execute(select(LEDGER_MODELS[ledger].id).order_by(LEDGER_MODELS[ledger].id.desc()).limit(1)).scalar()
            inds = tuple(i for i in ref.indicators if i.ledger == ledger)
            med, _, _, cpu = time_it(
                lambda inds=inds: aggregates.ledger_counts(s, D(2020, 12, 15), indicators=inds), args.runs
            )
            total += n or 0
            print(f"  {ledger:8s} 约 {n:7,} 条，{len(inds)} 项指标：{med:6.1f} ms（CPU {cpu:.1f}）")
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\n本机负载（1/5/15 分钟）：{load}；CPU 核数 {os.cpu_count()}。负载高时墙钟时间偏大，可参考 CPU 时间。")
    except (AttributeError, OSError):  # Windows has no load average
        pass
    print(f"结论：完整进度表最慢中位数 {worst:.1f} ms，目标 {goal:.0f} ms 以内 —— {'达到' if worst <= goal else '未达到'}")
    db.dispose()
    return 0 if worst <= goal else 1


if __name__ == "__main__":
    sys.exit(main())
