"""Excel import/export speed against the bare floor (issue: Excel templates, import, export).

    python bench/bench_excel.py [--rows 100000] [--keep DIR]

Generates a valid heating ledger of N rows (.xlsx, realistic values, valid 身份证号 check digits), then
measures, each phase in its own process (so each peak memory figure is that phase's own):
  import  jzair's import (read with python-calamine, validate every row, match against the database,
          insert through services.ledgers.insert_many with its audit trail) into a fresh database;
  floor   python-calamine reading the same file + sqlite3 executemany into a plain table with the same
          columns (no checks);
  export  jzair's export of the N records (query, layout, dropdowns, write-only openpyxl);
  schema  the floor's reading plus writing the same rows as the app must keep them, with no checking:
          the app's schema (ledger table and its indexes, built after the rows), uuids and bookkeeping,
          one hash-chained audit row with the record's state each: what the database work alone costs;
  dump    a bare openpyxl write-only dump of the same rows (already in memory).
Goals: import <= 3 x floor, export <= 1.3 x dump. Prints the figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
UNIT = "榆次区"


def peak_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024


def generate(path: Path, n: int) -> None:
    from openpyxl import Workbook

    from jzair_desktop.domain import checkdigits
    from jzair_desktop.domain.ledgers import ledger

    rnd = random.Random(20201106)
    d = ledger("heating")
    townships = ["东阳镇", "长凝镇", "北田镇", "修文镇", "郭家堡乡", "张庆乡", "庄子乡", "乌金山镇", "东赵乡", "什贴镇",
                 "使赵街道", "鸣谦镇", "西南街道", "北关街道"]
    villages = [f"{a}{b}村" for a in "东西南北前后上下大小" for b in "庄堡沟河营寨峪坪"]
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    given = "建国志强秀英桂兰红梅海燕春生玉珍国庆丽娟文华小平永福金花立新春花保平二虎三毛丑女润生改兰"
    methods = ["气代煤", "电代煤", "集中供热", "其他清洁能源"]
    weights = [12100, 18100, 52800, 1400]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(d.sheet_title)
    ws.append([f"{UNIT}清洁取暖散煤替代台账（2020年）"])
    ws.append([c.header for c in d.columns])
    base = dt.date(1940, 1, 1)
    for i in range(n):
        birth = base + dt.timedelta(days=(i // 1000) * 7 + rnd.randrange(7))
        first17 = f"140702{birth:%Y%m%d}{i % 1000:03d}"
        status = rnd.choices(["已完工", "已验收", "施工中", "未开工"], [60, 25, 10, 5])[0]
        done = dt.date(2020, 6, 1) + dt.timedelta(days=rnd.randrange(150)) if status in ("已完工", "已验收") else None
        ws.append([
            UNIT,
            rnd.choice(townships),
            rnd.choice(villages),
            rnd.choice(surnames) + "".join(rnd.sample(given, rnd.choice((1, 2)))),
            first17 + checkdigits.id_check_char(first17),
            f"1{rnd.choice('3589')}{rnd.randrange(10**9):09d}",
            round(rnd.uniform(40, 160), 1),
            rnd.choices(methods, weights)[0],
            status,
            done,
            float(rnd.choice((2000, 2500, 3000, 3500, 4000, 5000))),
            "是",
            "低保户" if rnd.random() < 0.02 else None,
        ])
    wb.save(path)


def phase_import(work: Path) -> dict:
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.services.excel import import_ledger
    from jzair_desktop.storage.engine import sqlite_url
    from jzair_desktop.taskstate import TaskState

    for suffix in ("", "-wal", "-shm"):  # a fresh database: every row is new
        (work / f"app.sqlite3{suffix}").unlink(missing_ok=True)
    db, _ = open_database(sqlite_url(work / "app.sqlite3"), create=True)
    load_reference_data(db)
    marks: list[tuple[float, str]] = []

    def listener(done: int, total: int, text: str) -> None:
        phase = "read" if "读取" in text or "检查文件" in text or "检查工作表" in text else (
            "check" if "检查第" in text or text == "检查完毕" else ("match" if "比对" in text or "已有记录" in text else
                                                                  "write"))
        if not marks or marks[-1][1] != phase:
            marks.append((time.perf_counter(), phase))

    state = TaskState(listener)
    t = time.perf_counter()
    c = time.process_time()
    report = import_ledger(db, "heating", work / "台账.xlsx", UNIT, actor=BUILTIN_ADMIN, today=dt.date(2021, 3, 31),
                           state=state)
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    end = t + seconds
    split: dict[str, float] = {}
    for (at, phase), nxt in zip(marks, [m[0] for m in marks[1:]] + [end], strict=True):
        split[phase] = split.get(phase, 0.0) + nxt - at
    db.dispose()
    return {"seconds": seconds, "cpu": cpu, "new": report.new, "warned": report.warned,
            "split": {k: round(v, 2) for k, v in split.items()}}


def phase_floor(work: Path) -> dict:
    import sqlite3

    from python_calamine import CalamineWorkbook

    dbfile = work / "floor.sqlite3"
    dbfile.unlink(missing_ok=True)
    t = time.perf_counter()
    c = time.process_time()
    wb = CalamineWorkbook.from_path(str(work / "台账.xlsx"))
    sheet = wb.get_sheet_by_name(wb.sheet_names[0])
    rows = []
    for i, row in enumerate(sheet.iter_rows()):
        if i < 2:
            continue
        rows.append(tuple(v.isoformat() if isinstance(v, dt.date) else (None if v == "" else v) for v in row))
    con = sqlite3.connect(dbfile)
    con.execute(
        "CREATE TABLE heating (id INTEGER PRIMARY KEY, unit_code TEXT, township TEXT, village TEXT, householder TEXT,"
        " id_number TEXT, phone TEXT, area_m2 REAL, method TEXT, status TEXT, done_date TEXT, subsidy_yuan REAL,"
        " keeps_coal_stove TEXT, remarks TEXT)"
    )
    con.executemany(
        "INSERT INTO heating (unit_code, township, village, householder, id_number, phone, area_m2, method, status,"
        " done_date, subsidy_yuan, keeps_coal_stove, remarks) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    con.commit()
    con.close()
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "cpu": time.process_time() - c, "rows": len(rows)}


def phase_schema(work: Path) -> dict:
    """The floor's reading, then the same rows written as the app must keep them, with no checking at all:
    into the app's own schema (the ledger table with its indexes, built after the rows as the import
    does), each row with a uuid and its bookkeeping, plus one hash-chained audit row holding the
    record's state as JSON. What the database work alone costs."""
    import hashlib
    import sqlite3
    import uuid

    from python_calamine import CalamineWorkbook

    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url

    dbfile = work / "schema.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dbfile}{suffix}").unlink(missing_ok=True)
    db, _ = open_database(sqlite_url(dbfile), create=True)
    load_reference_data(db)
    db.dispose()
    t = time.perf_counter()
    c = time.process_time()
    wb = CalamineWorkbook.from_path(str(work / "台账.xlsx"))
    sheet = wb.get_sheet_by_name(wb.sheet_names[0])
    stamp = "2021-03-31 12:00:00.000000"
    keys = ["township", "village", "householder", "id_number", "phone", "area_m2", "method", "status", "done_date",
            "subsidy_yuan", "keeps_coal_stove", "remarks"]
    rows, audit = [], []
    prev = "0" * 64
    for i, row in enumerate(sheet.iter_rows()):
        if i < 2:
            continue
        values = [v.isoformat() if isinstance(v, dt.date) else (None if v == "" else v) for v in row[1:]]
        record_uuid = str(uuid.uuid4())
        rows.append((*values, record_uuid, "140702", stamp, "bench", stamp, "bench"))
        state = json.dumps(dict(zip(keys, values, strict=True)), ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256((prev + state).encode()).hexdigest()
        audit.append((i - 1, stamp, "bench", "city_admin", "create", "heating", record_uuid, "140702", state, prev, digest))
        prev = digest
    con = sqlite3.connect(dbfile, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA cache_size=-65536")
    con.execute("BEGIN IMMEDIATE")
    indexes = [sql for (sql,) in con.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name IN ('heating', 'audit_log') AND sql IS NOT NULL")]
    for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name IN ('heating', 'audit_log') AND sql IS NOT NULL"
    ).fetchall():
        con.execute(f'DROP INDEX "{name}"')
    con.executemany(f"INSERT INTO heating ({', '.join(keys)}, uuid, unit_code, created_at, created_by, updated_at,"
                    " updated_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.executemany("INSERT INTO audit_log (seq, at, user_name, role, action, ledger, record_uuid, unit_code,"
                    " after_json, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", audit)
    for sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    con.close()
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "cpu": time.process_time() - c, "rows": len(rows)}


def phase_export(work: Path) -> dict:
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.database import open_database
    from jzair_desktop.services.excel import export_ledger
    from jzair_desktop.storage.engine import sqlite_url

    db, _ = open_database(sqlite_url(work / "app.sqlite3"))
    t = time.perf_counter()
    c = time.process_time()
    result = export_ledger(db, "heating", work / "导出.xlsx", actor=BUILTIN_ADMIN, unit_code="140702")
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    db.dispose()
    return {"seconds": seconds, "cpu": cpu, "rows": result.rows}


def phase_dump(work: Path) -> dict:
    import sqlite3

    from openpyxl import Workbook

    from jzair_desktop.domain.ledgers import ledger

    d = ledger("heating")
    con = sqlite3.connect(work / "app.sqlite3", detect_types=sqlite3.PARSE_DECLTYPES)
    cols = ", ".join(d.keys)
    rows = [list(r) for r in con.execute(f"SELECT {cols} FROM heating ORDER BY id")]  # noqa: S608
    con.close()
    for r in rows:
        if r[9]:
            r[9] = dt.date.fromisoformat(r[9]) if isinstance(r[9], str) else r[9]
    t = time.perf_counter()
    c = time.process_time()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("dump")
    ws.append([c.header for c in d.columns])
    for r in rows:
        ws.append(r)
    wb.save(work / "dump.xlsx")
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "cpu": time.process_time() - c, "rows": len(rows)}


PHASES = {"import": phase_import, "floor": phase_floor, "schema": phase_schema, "export": phase_export,
          "dump": phase_dump}


def run_phase(name: str, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), "--phase", name, "--work", str(work)],
        check=True, capture_output=True, text=True, encoding="utf-8",
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files")
    ap.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        cpu = time.process_time()
        result = PHASES[args.phase](Path(args.work))
        result["cpu_total"] = time.process_time() - cpu
        result["peak_mb"] = peak_mb()
        print(json.dumps(result))
        return 0

    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="jzair-bench-")
        work = Path(tmp.name)
    try:
        t = time.perf_counter()
        generate(work / "台账.xlsx", args.rows)
        size = (work / "台账.xlsx").stat().st_size
        print(f"generated {args.rows:,} heating rows in {time.perf_counter() - t:.1f} s ({size / 1e6:.1f} MB)")
        res = {name: run_phase(name, work) for name in ("floor", "schema", "import", "dump", "export")}
        for name, r in res.items():
            extra = {k: v for k, v in r.items() if k not in ("seconds", "cpu", "cpu_total", "peak_mb")}
            print(f"{name:7s} {r['seconds']:7.2f} s wall  {r['cpu']:7.2f} s CPU   peak RSS {r['peak_mb']:5.0f} MB   {extra}")
        for what, a, b, goal in (("import / floor", "import", "floor", 3.0), ("schema / floor", "schema", "floor", None),
                                 ("export / dump ", "export", "dump", 1.3)):
            wall = res[a]["seconds"] / res[b]["seconds"]
            cpu = res[a]["cpu"] / res[b]["cpu"]
            print(f"{what} = {wall:.2f}x wall, {cpu:.2f}x CPU" + (f" (goal <= {goal}x)" if goal else " (no checks)"))
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {sys.platform}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
