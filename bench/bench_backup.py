"""How long a backup, its full check and a restore take, and how large a backup is.

    python bench/bench_backup.py [--extra 100000] [--keep DIR]

Builds a database with the demo data (`jzair init --demo`) plus `--extra` clean-heating records, then
times, on that file: make_backup (online copy, integrity check, zip), verify_backup (CRCs, SHA-256,
integrity check of the extracted copy) and restore_backup (check, pre-restore copy, swap). Prints sizes,
wall-clock and CPU seconds. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(folder: Path, extra: int) -> Path:
    from jzair_desktop.services.database import open_database
    from jzair_desktop.storage.engine import sqlite_url, write_session

    sys.path.insert(0, str(ROOT))
    from tests.storage.safety_helpers import heating_row

    db_file = folder / "台账.sqlite3"
    env = {**os.environ, "JZAIR_DATA_DIR": str(folder / "data")}
    subprocess.run([sys.executable, "-m", "jzair_desktop", "--db", str(db_file), "init", "--demo"],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    db, _ = open_database(sqlite_url(db_file))
    for start in range(0, extra, 20_000):
        with write_session(db.engine) as s:
            s.add_all(heating_row("基准", n, remarks="基准测试记录") for n in range(start, min(extra, start + 20_000)))
    db.dispose()
    return db_file


def timed(label: str, fn):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label:<16}{time.perf_counter() - wall:8.2f} s wall {time.process_time() - cpu:8.2f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extra", type=int, default=100_000, help="extra clean-heating records")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jzair-bench-backup-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["JZAIR_DATA_DIR"] = str(folder / "data")
    try:
        from jzair_desktop.services import backup as bk
        from jzair_desktop.services.database import open_database
        from jzair_desktop.storage.engine import sqlite_url

        db_file = timed("build", lambda: build(folder, args.extra))
        db, _ = open_database(sqlite_url(db_file))
        info = timed("make_backup", lambda: bk.make_backup(db, folder / "bench.jzbak"))
        db.dispose()
        timed("verify_backup", lambda: bk.verify_backup(info.path))
        result = timed("restore_backup", lambda: bk.restore_backup(db_file, info.path))
        records = sum(info.records.values())
        print(f"records {records:,}; database {info.db_size / 2**20:.1f} MiB; backup {info.size / 2**20:.1f} MiB "
              f"({info.size / info.db_size:.0%}); pre-restore copy {result.previous_copy.name}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
