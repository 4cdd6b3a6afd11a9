"""SQLite vs PostgreSQL side by side (issue 20): importing a heating workbook, the progress table, the monthly report.

    python bench/bench_pg.py [--rows 100000] [--pg-url postgresql+psycopg://user@host:port/db] [--runs 5]

Without --pg-url a throw-away PostgreSQL cluster is started for the run (tests/pgserver.py: Debian's binaries,
initdb + pg_ctl as an unprivileged user on a free local port; with fsync and synchronous commit on, as durable
as SQLite's synchronous=FULL) and removed afterwards. The database named in
--pg-url is emptied (its schema dropped and made again): give a database of its own.

Phases, each in its own process, first on SQLite (a fresh file), then on PostgreSQL (a fresh database):
  import    jzair's import of N generated heating rows (bench_excel.generate) into a fresh database: read with
            python-calamine, check every row, match against the database, write through insert_many with the
            audit chain (SQLite: executemany with indexes built after; PostgreSQL: COPY), commit. "write" is the
            part after the checks (matching, writing, committing): where the backends differ.
  verify    `audit verify` of the resulting database (the whole chain and every record's state).
  progress  the full progress table (12 counties x every indicator + the city) at 2020-12-15, median of --runs.
  report    the monthly report of 2020-12 for the city (data and PDF), median of --runs.
Goal: import on PostgreSQL <= 2x SQLite. Prints the figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE.parent))

UNIT = "榆次区"


def _open(url: str, fresh: bool):  # noqa: ANN202
    from jzair_desktop.services.database import load_reference_data, open_database

    if fresh:
        _empty(url)
    db, _ = open_database(url, create=True)
    if fresh:
        load_reference_data(db)
    return db


def _empty(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(u.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def phase_import(url: str, work: Path, _runs: int) -> dict:
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.excel import import_ledger
    from jzair_desktop.taskstate import TaskState

    db = _open(url, fresh=True)
    marks: list[float] = []

    def listener(done: int, total: int, text: str) -> None:
        if not marks and ("比对" in text or "已有记录" in text or "写入" in text):
            marks.append(time.perf_counter())

    t = time.perf_counter()
    report = import_ledger(db, "heating", work / "台账.xlsx", UNIT, actor=BUILTIN_ADMIN, today=dt.date(2021, 3, 31),
                           state=TaskState(listener))
    end = time.perf_counter()
    db.dispose()
    return {"seconds": end - t, "write": end - (marks[0] if marks else t), "new": report.new}


def phase_verify(url: str, _work: Path, _runs: int) -> dict:
    from jzair_desktop.services import audit_verify

    db = _open(url, fresh=False)
    t = time.perf_counter()
    rep = audit_verify.verify(db)
    seconds = time.perf_counter() - t
    db.dispose()
    return {"seconds": seconds, "ok": bool(rep.ok)}


def _median(fn, runs: int) -> float:  # noqa: ANN001
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def phase_progress(url: str, _work: Path, runs: int) -> dict:
    from jzair_desktop.services import progress

    db = _open(url, fresh=False)
    seconds = _median(lambda: progress.compute_progress(db, dt.date(2020, 12, 15)), runs)
    db.dispose()
    return {"seconds": seconds}


def phase_report(url: str, work: Path, runs: int) -> dict:
    from jzair_desktop.services import report

    db = _open(url, fresh=False)
    out = work / "月报.pdf"
    seconds = _median(lambda: report.write_pdf_atomic(report.build_report_data(db, "2020-12", None), out), runs)
    db.dispose()
    return {"seconds": seconds}


PHASES = {"import": phase_import, "verify": phase_verify, "progress": phase_progress, "report": phase_report}


def run_phase(name: str, url: str, work: Path, runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), "--phase", name, "--url", url, "--work", str(work), "--runs", str(runs)],
        check=True, capture_output=True, text=True, encoding="utf-8",
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg-url", help="a PostgreSQL database of its own (emptied); default: a throw-away cluster")
    ap.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.url, Path(args.work), args.runs)))
        return 0

    from bench_excel import generate

    server = None
    with tempfile.TemporaryDirectory(prefix="jzair-bench-pg-") as tmp:
        work = Path(tmp)
        pg_url = args.pg_url
        if not pg_url:
            from tests import pgserver

            # Durable like SQLite's synchronous=FULL: the test server's speed-ups (no fsync) would flatter it.
            pgserver._SERVER_SETTINGS.update(fsync="on", full_page_writes="on", synchronous_commit="on")
            server = pgserver.start_server()
            pg_url = server.url(server.create_database())
        try:
            t = time.perf_counter()
            generate(work / "台账.xlsx", args.rows)
            print(f"generated {args.rows:,} heating rows in {time.perf_counter() - t:.1f} s")
            sqlite_url = "sqlite:///" + (work / "app.sqlite3").as_posix()
            res: dict[str, dict[str, dict]] = {}
            for name in PHASES:
                res[name] = {"SQLite": run_phase(name, sqlite_url, work, args.runs),
                             "PostgreSQL": run_phase(name, pg_url, work, args.runs)}
        finally:
            if server is not None:
                server.stop()
    print(f"\n{'':24s}{'SQLite':>10s}{'PostgreSQL':>12s}{'ratio':>8s}")
    rows = [("import (whole)", "import", "seconds"), ("import (match+write)", "import", "write"),
            ("audit verify", "verify", "seconds"), ("progress table", "progress", "seconds"),
            ("monthly report", "report", "seconds")]
    for label, phase, key in rows:
        a, b = res[phase]["SQLite"][key], res[phase]["PostgreSQL"][key]
        print(f"{label:24s}{a:9.2f}s{b:11.2f}s{b / a:7.2f}x")
    print(f"records imported: SQLite {res['import']['SQLite']['new']:,}, PostgreSQL {res['import']['PostgreSQL']['new']:,};"
          f" chain verifies: SQLite {res['verify']['SQLite']['ok']}, PostgreSQL {res['verify']['PostgreSQL']['ok']}")
    ratio = res["import"]["PostgreSQL"]["seconds"] / res["import"]["SQLite"]["seconds"]
    print(f"goal: import on PostgreSQL <= 2x SQLite: {ratio:.2f}x -- {'met' if ratio <= 2 else 'NOT met'}")
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average {load}; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    except (AttributeError, OSError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
