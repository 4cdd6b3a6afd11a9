"""How long `jzair init --demo` takes (goal: within 30 s).

    python bench/bench_demo.py [--runs 1] [--keep DIR]

Two measurements, each on a fresh database file:
  phases  generate_demo in this process, timed per phase through its TaskState (generate + validate
          every record, write the ledgers in one transaction with the audit trail, split targets,
          monthly figures, air quality), then the city installation with its 14 demo accounts
          (installation.set_up_demo), wall-clock and CPU time;
  cli     the real command `jzair --db FILE init --demo` in a child process, end to end
          (interpreter start, migration, reference data, demo, commit).
Prints records, seconds and records per second. CPU seconds are printed as well: on a busy machine
wall-clock time can be much larger than the work itself. It asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 30.0


def phases(folder: Path) -> tuple[float, int]:
    from jzair_desktop.cli.textable import pad
    from jzair_desktop.demo import generate_demo
    from jzair_desktop.services import installation
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url
    from jzair_desktop.taskstate import TaskState

    db, _ = open_database(sqlite_url(folder / "phases.sqlite3"), create=True)
    load_reference_data(db)
    marks: list[tuple[str, float, float]] = []

    def listener(done: int, total: int, text: str) -> None:
        phase = text.split("：")[0].rstrip("…")
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter(), time.process_time()))

    start, cpu0 = time.perf_counter(), time.process_time()
    result = generate_demo(db, state=TaskState(listener))
    marks.append(("demo accounts (set_up_demo)", time.perf_counter(), time.process_time()))
    accounts = installation.set_up_demo(db)
    end, cpu1 = time.perf_counter(), time.process_time()
    db.dispose()
    marks.append(("", end, cpu1))
    # What hashing each account's password separately would cost (the app's argon2id parameters).
    from argon2 import PasswordHasher

    h0, hc0 = time.perf_counter(), time.process_time()
    for _ in accounts:
        PasswordHasher().hash("Jinzhong-2020")
    print(f"  (hashing the password once per account instead: {len(accounts)} × argon2id = "
          f"{time.perf_counter() - h0:.2f} s wall, {time.process_time() - hc0:.2f} s cpu)")
    print(f"  {pad('phase', 34)}  wall s   cpu s")
    for (name, t0, c0), (_, t1, c1) in zip(marks, marks[1:], strict=False):
        print(f"  {pad(name, 34)}{t1 - t0:8.2f}{c1 - c0:8.2f}")
    total = result.total
    print(f"  {pad('total (generate_demo + accounts)', 34)}{end - start:8.2f}{cpu1 - cpu0:8.2f}")
    print("records: " + ", ".join(f"{k} {n:,}" for k, n in result.counts.items()) + f"; total {total:,}")
    print(f"targets {result.targets}, monthly figures {result.monthly_figures}, air quality {result.air_quality_months}")
    print(f"throughput: {total / (end - start):,.0f} records/s wall, {total / (cpu1 - cpu0):,.0f} records/s cpu")
    size = (folder / "phases.sqlite3").stat().st_size / 1024 / 1024
    print(f"database file: {size:.1f} MB")
    return end - start, total


def cli(folder: Path) -> float:
    db = folder / "cli 演示.sqlite3"
    cmd = [sys.executable, "-m", "jzair_desktop", "--db", str(db), "init", "--demo"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    took = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr)
        raise SystemExit(f"jzair init --demo failed with exit code {proc.returncode}")
    reported = [line for line in proc.stdout.splitlines() if "用时" in line]
    print(f"jzair init --demo (child process, end to end): {took:.2f} s wall; it reported: {reported[-1]}")
    again = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    print("second run: " + (again.stdout.strip().splitlines() or ["?"])[-1])
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="repeat the measurements")
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = parser.parse_args()
    for run in range(args.runs):
        folder = args.keep or Path(tempfile.mkdtemp(prefix="jzair_bench_demo_"))
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.sqlite3*"):
            old.unlink()
        print(f"--- run {run + 1} of {args.runs} ({folder})")
        try:
            wall, _ = phases(folder)
            took = cli(folder)
        finally:
            if args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)
        verdict = "within" if max(wall, took) <= GOAL_S else "OVER"
        print(f"goal {GOAL_S:.0f} s: {verdict} (generate_demo {wall:.1f} s, command {took:.1f} s)")


if __name__ == "__main__":
    main()
