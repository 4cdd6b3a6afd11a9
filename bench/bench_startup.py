"""Benchmark: start-up of the command line and of the main window, from source or from the frozen build.

Times, as whole processes (median, min and max of several runs):
  - `jzair --version`            interpreter start and the command line assembled
  - `jzair self-test`            new database, migrations, reference data, libraries, every page offscreen
  - `jzair info` on a database   opening an existing database and counting records
  - the main window              from launch until its window is visible on an X display (only where
                                 Xvfb and xdotool are installed: `apt-get install xvfb xdotool`)
and, for a frozen build, the size of its folder.

    python bench/bench_startup.py [--exe dist/jzair/jzair] [--runs 10]

Without --exe it runs the source (`python -m jzair_desktop`) with this interpreter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW_TITLE = "治理攻坚台账"  # part of every main window title


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return elapsed


def window_time(cmd: list[str], env: dict[str, str], display: str) -> float:
    """Seconds from launch until a visible window with the app's title exists on `display`."""
    env = dict(env, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < 60:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if found.returncode == 0:
                return time.perf_counter() - t0
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(cmd)} exited ({proc.returncode}) before showing its window")
            time.sleep(0.01)
        raise SystemExit("the main window did not appear within 60 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_display(display: str) -> None:
    env = dict(os.environ, DISPLAY=display)
    t0 = time.perf_counter()
    while subprocess.run(["xdotool", "getdisplaygeometry"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode != 0:
        if time.perf_counter() - t0 > 20:
            raise SystemExit(f"Xvfb did not start on {display}")
        time.sleep(0.05)


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<28} median {statistics.median(values):6.2f} s   min {min(values):6.2f} s   "
            f"max {max(values):6.2f} s   ({len(values)} runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exe", help="the program to time (e.g. dist/jzair/jzair); default: the source")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    base = [str(Path(args.exe).resolve())] if args.exe else [sys.executable, "-m", "jzair_desktop"]

    with tempfile.TemporaryDirectory(prefix="jzair-bench-") as tmp:
        env = dict(os.environ, JZAIR_DATA_DIR=tmp, QT_QPA_PLATFORM="offscreen")
        env.pop("JZAIR_DB", None)
        db = str(Path(tmp) / "bench.sqlite3")
        timed([*base, "--db", db, "init"], env)
        env["JZAIR_DB"] = db

        print(f"program: {' '.join(base)}")
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        timed([*base, "--version"], env)  # warm the file cache
        print(summary("jzair --version", [timed([*base, "--version"], env) for _ in range(args.runs)]))
        print(summary("jzair info", [timed([*base, "info"], env) for _ in range(args.runs)]))
        print(summary("jzair self-test", [timed([*base, "self-test"], env) for _ in range(args.runs)]))

        if shutil.which("Xvfb") and shutil.which("xdotool"):
            display = f":{90 + os.getpid() % 50}"
            # -noreset: otherwise the server resets when the last client leaves, and the next start cannot connect.
            xvfb = subprocess.Popen(["Xvfb", display, "-noreset", "-screen", "0", "1280x860x24"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for_display(display)
                window_time(base, env, display)  # warm-up
                print(summary("main window visible", [window_time(base, env, display) for _ in range(args.runs)]))
            finally:
                xvfb.terminate()
                xvfb.wait(timeout=30)
        else:
            print("main window visible          (skipped: needs Xvfb and xdotool)")

        if args.exe:
            folder = Path(args.exe).resolve().parent
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
            print(f"{'bundle size':<28} {size / 1e6:.0f} MB in {folder}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
