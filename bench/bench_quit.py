"""How long the program takes to end after its main window is closed (not a test; prints figures).

    python bench/bench_quit.py [--runs 7] [--records 20000]

Each run starts the real desktop program (`python -m jzair_desktop --db …`, offscreen, in a fresh process)
on the same database; once the main window is shown the program closes it, as 文件 → 退出 does, and prints
the moment it did. The figure is the time from that moment to the end of the process, measured by this
script (both read the same wall clock):

- "no backup due": nothing changed since the newest backup: the process should end within 1 s;
- "backup due": the database file was touched before the start, so the exit backup runs (under the
  “正在备份…” window) before the process ends; the figure includes the backup.

It also measures a second start while the first is still finishing its exit backup: the second program
waits for the first instead of reporting another window, and opens the database itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
import jzair_desktop.gui.app as app_module

original = app_module.build_main_window

def build(ctx):
    window = original(ctx)

    def close():
        print(f"closed {time.time():.6f}", flush=True)
        window.close()

    QTimer.singleShot(int(sys.argv[2]), close)
    print(f"shown {time.time():.6f}", flush=True)
    return window

app_module.build_main_window = build
from jzair_desktop.cli import main
sys.exit(main(["--db", sys.argv[1]]))
"""


def run_once(db: Path, env: dict, close_after_ms: int = 1200) -> tuple[float, float]:
    """(seconds from the close to the process's end, seconds the process lived)."""
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(close_after_ms)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    closed = None
    for line in proc.stdout:
        if line.startswith("closed "):
            closed = float(line.split()[1])
    proc.wait()
    ended = time.time()
    if closed is None or proc.returncode != 0:
        raise RuntimeError(f"the program did not close its window (exit code {proc.returncode})")
    return ended - closed, ended - started


def touch(db: Path) -> None:
    now = time.time() + 2  # clearly after the newest backup's name (whole seconds)
    os.utime(db, (now, now))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--records", type=int, default=20000, help="clean-heating records in the database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jzair-quit-") as tmp:
        env = {**os.environ, "JZAIR_DATA_DIR": str(Path(tmp) / "data"), "QT_QPA_PLATFORM": "offscreen",
               "PYTHONPATH": str(ROOT)}
        db = Path(tmp) / "jzair.sqlite3"
        subprocess.run([sys.executable, "-m", "jzair_desktop", "--db", str(db), "init"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-c",
                        "import sys; from tests.storage.safety_helpers import add_heating;"
                        "from jzair_desktop.storage.engine import make_engine, sqlite_url;"
                        "e = make_engine(sqlite_url(sys.argv[1])); add_heating(e, int(sys.argv[2]), tag='退出'); e.dispose()",
                        str(db), str(args.records)], cwd=ROOT, env=env, check=True)
        size = db.stat().st_size
        run_once(db, env)  # warm-up: the first start records the audit baseline, the exit makes a backup

        quick = [run_once(db, env) for _ in range(args.runs)]
        due = []
        for _ in range(max(3, args.runs // 2)):
            touch(db)
            due.append(run_once(db, env))

        # A second start while the first still makes its exit backup.
        touch(db)
        first = subprocess.Popen([sys.executable, "-c", CHILD, str(db), "1200"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in first.stdout:
            if line.startswith("closed "):
                break
        second_started = time.time()
        second = subprocess.Popen([sys.executable, "-c", CHILD, str(db), "300"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        shown_at = None
        for line in second.stdout:
            if line.startswith("shown "):
                shown_at = float(line.split()[1])
        first.wait()
        second.wait()

    def fmt(values: list[float]) -> str:
        return f"median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s"

    print(f"database: {size / 1e6:.1f} MB ({args.records:,} records); load average {os.getloadavg()[0]:.1f}")
    print(f"close → process ended, no backup due ({len(quick)} runs): {fmt([q[0] for q in quick])}")
    print(f"close → process ended, exit backup due ({len(due)} runs): {fmt([d[0] for d in due])}")
    if shown_at is not None:
        print(f"second start during the first one's exit backup: its window shown after "
              f"{shown_at - second_started:.2f} s (it waited; exit codes {first.returncode}, {second.returncode})")
    else:
        print("second start during the first one's exit backup: its window was never shown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
