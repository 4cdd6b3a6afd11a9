"""The same ledger imported as .xlsx, .xls, .ods and .csv, side by side in one run (issue 21).

    python bench/bench_formats.py [--rows 100000] [--repeat 2] [--keep DIR]

Generates the heating ledger of bench_excel.py (.xlsx, realistic values) and has LibreOffice Calc (headless)
save it as .ods, .xls and CSV (UTF-8 and GBK). Excel 97-2003 (.xls) holds at most 65,536 rows a sheet,
so every format is also measured on a 65,000-row ledger (the .xls figures come from that one). Each import
runs in its own process, into a fresh database, alternating the formats, and prints the median wall and CPU time,
the reading part (format recognition, pre-scan, reading the rows) and the peak RSS.
Goal: each format's import takes at most the .xlsx import's time. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
UNIT = "榆次区"
XLS_ROWS = 65_000
FORMATS = [("xlsx", ".xlsx"), ("xls", ".xls"), ("ods", ".ods"), ("csv UTF-8", "-utf8.csv"), ("csv GBK", "-gbk.csv")]
CSV_OPTIONS = {"-utf8.csv": "44,34,76,1,,0,false,true,true", "-gbk.csv": "44,34,67,1,,0,false,true,true"}


def peak_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024


def soffice(src: Path, target: str, out: Path) -> None:
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                            target, "--outdir", tmp, str(src)], check=True, capture_output=True, timeout=1800)
            made = next(Path(tmp).iterdir())
            shutil.move(made, out)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def make_files(work: Path, rows: int) -> dict[str, Path]:
    from bench_excel import generate

    base = work / f"台账-{rows}"
    files = {suffix: Path(f"{base}{suffix}") for _, suffix in FORMATS}
    if not files[".xlsx"].exists():
        generate(files[".xlsx"], rows)
    for _, suffix in FORMATS[1:]:
        if files[suffix].exists() or (suffix == ".xls" and rows > 65_535):
            continue
        t = time.perf_counter()
        target = suffix.lstrip(".") if not suffix.endswith(".csv") else \
            f"csv:Text - txt - csv (StarCalc):{CSV_OPTIONS[suffix]}"
        soffice(files[".xlsx"], target, files[suffix])
        print(f"  LibreOffice wrote {files[suffix].name} in {time.perf_counter() - t:.0f} s", flush=True)
    return {k: v for k, v in files.items() if v.exists()}


def phase_import(path: Path, work: Path) -> dict:
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.services.excel import import_ledger
    from jzair_desktop.storage.engine import sqlite_url
    from jzair_desktop.taskstate import TaskState

    dbfile = work / "formats.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dbfile}{suffix}").unlink(missing_ok=True)
    db, _ = open_database(sqlite_url(dbfile), create=True)
    load_reference_data(db)
    read_done: list[float] = []

    def listener(done: int, total: int, text: str) -> None:
        if not read_done and ("检查第" in text or text == "检查完毕"):
            read_done.extend((time.perf_counter(), time.process_time()))

    t = time.perf_counter()
    c = time.process_time()
    report = import_ledger(db, "heating", path, UNIT, actor=BUILTIN_ADMIN, today=dt.date(2021, 3, 31),
                           state=TaskState(listener))
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    db.dispose()
    return {"seconds": seconds, "cpu": cpu, "read": (read_done[0] - t) if read_done else float("nan"),
            "read_cpu": (read_done[1] - c) if read_done else float("nan"),
            "new": report.new, "peak_mb": peak_mb()}


def run_phase(path: Path, work: Path) -> dict:
    out = subprocess.run([sys.executable, str(HERE), "--phase", str(path), "--work", str(work)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", help="folder for the generated files (reused when present)")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase_import(Path(args.phase), Path(args.work))))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="jzair-bench-formats-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"files in {work}", flush=True)
    for rows in sorted({args.rows, XLS_ROWS}, reverse=True):
        files = make_files(work, rows)
        results: dict[str, list[dict]] = {label: [] for label, suffix in FORMATS if suffix in files}
        for _ in range(args.repeat):  # alternate the formats, so that a busy moment does not hit one only
            for label, suffix in FORMATS:
                if suffix in files:
                    results[label].append(run_phase(files[suffix], work))
        print(f"\n{rows:,} rows (import into a fresh database; median of {args.repeat} runs: wall / CPU / reading the "
              "file / peak RSS; on a loaded machine compare the CPU ratios)")
        base = median(r["seconds"] for r in results["xlsx"])
        base_cpu = median(r["cpu"] for r in results["xlsx"])
        for label, runs in results.items():
            wall, cpu = median(r["seconds"] for r in runs), median(r["cpu"] for r in runs)
            size = files[dict(FORMATS)[label]].stat().st_size / 1e6
            all_runs = ", ".join(f"{r['seconds']:.2f}/{r['cpu']:.2f}" for r in runs)
            print(f"  {label:10s} {size:6.1f} MB  {wall:5.2f} s wall ({wall / base:4.2f}× xlsx)"
                  f"  {cpu:5.2f} s CPU ({cpu / base_cpu:4.2f}× xlsx)"
                  f"  reading {median(r['read'] for r in runs):4.2f} s ({median(r['read_cpu'] for r in runs):4.2f} s CPU)"
                  f"  peak {max(r['peak_mb'] for r in runs):4.0f} MB"
                  f"  new {runs[0]['new']:,}  all runs (wall/CPU): {all_runs} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
