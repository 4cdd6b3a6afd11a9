"""Benchmark of deleting 2,000 selected records on the heating ledger page over 100,000 (prints figures).

    python bench/bench_delete.py [--db FILE] [--records 100000] [--selected 2000] [--runs 3]

Goal (issue 18): the ledger page's delete of 2,000 selected among 100,000 costs the GUI thread ≤ 200 ms; the
write itself (one transaction, an audit entry per record) runs off the GUI thread. Printed per run: the time the
GUI thread is busy in the page's delete (from the click to the job handed to the pool, plus the time it spends
showing the outcome), and the wall time from the click until the table shows 2,000 rows fewer.

The database is built once, in a child process, as bench_heating_page.py builds it (valid records through
services.ledgers.insert_many); each run works on a fresh copy of it.
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def measure(args: argparse.Namespace, source: Path) -> int:
    from PySide6.QtCore import QItemSelection, QItemSelectionModel
    from PySide6.QtWidgets import QApplication, QMessageBox

    from jzair_desktop.gui.context import DataSignals, GuiContext
    from jzair_desktop.gui.pages.ledger import LedgerPage
    from jzair_desktop.gui.qtsetup import make_application
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url

    app = make_application()
    os.environ["JZAIR_DATA_DIR"] = tempfile.mkdtemp(prefix="jzair_bench_")  # no remembered filter or sort
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)  # the 确认删除 answer

    busy: list[float] = []  # GUI-thread milliseconds spent in the page's code per run
    walls: list[float] = []  # click → table updated
    cpus: list[float] = []  # CPU time of the GUI thread in the busy parts (tells more on a loaded machine)
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="jzair_bench_delete_")) / "delete.sqlite3"
        shutil.copyfile(source, work)
        db, _ = open_database(sqlite_url(work))
        load_reference_data(db)
        page = LedgerPage(GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals()), "heating")
        page.resize(1280, 760)
        page.show()
        app.processEvents()
        rows = page.model.rowCount()
        assert rows == args.records, rows
        step = rows // args.selected
        selection = QItemSelection()
        last = page.model.columnCount() - 1
        for r in range(0, step * args.selected, step):
            selection.select(page.model.index(r, 0), page.model.index(r, last))
        page.table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        assert len(page.selected_ids()) == args.selected

        t0, c0 = time.perf_counter(), time.thread_time()
        page.delete_selected()
        click = (time.perf_counter() - t0) * 1000
        cpu = (time.thread_time() - c0) * 1000
        job = page.job
        assert job is not None
        while not job.ended:  # the write runs on a pool thread; the window goes on meanwhile
            QApplication.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - t0 > 120:
                raise SystemExit("the delete did not end within 120 s")
        t1, c1 = time.perf_counter(), time.thread_time()
        while page.model.rowCount() != rows - args.selected or page.busy():
            QApplication.processEvents()
        page.table.viewport().repaint()  # the new rows painted
        outcome = (time.perf_counter() - t1) * 1000
        cpu += (time.thread_time() - c1) * 1000
        cpus.append(cpu)
        wall = (time.perf_counter() - t0) * 1000
        gui = click + outcome
        busy.append(gui)
        walls.append(wall)
        print(f"run {run + 1}: GUI thread busy {gui:7.1f} ms (click {click:.1f} + outcome shown {outcome:.1f}; CPU {cpu:.1f}); "
              f"click → table updated {wall:7.1f} ms"
              f"（{page.status_line.text()}）")
        page.close()
        page.deleteLater()
        app.processEvents()
        db.dispose()
        shutil.rmtree(work.parent, ignore_errors=True)

    print(f"\n清洁取暖台账页面，{args.records:,} 条中删除选中的 {args.selected:,} 条（{args.runs} 次）")
    print(f"GUI 线程占用: 中位 {statistics.median(busy):.1f} ms，最大 {max(busy):.1f} ms   目标 ≤ 200 ms")
    print(f"GUI 线程 CPU 时间: 中位 {statistics.median(cpus):.1f} ms，最大 {max(cpus):.1f} ms")
    print(f"点删除 → 表格更新（含后台写入）: 中位 {statistics.median(walls):.0f} ms，最大 {max(walls):.0f} ms")
    print(f"机器负载（1 分钟平均）: {os.getloadavg()[0]:.1f}，CPU 核数 {os.cpu_count()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="database file (built when missing)")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--selected", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db_path = Path(args.db) if args.db else Path(tempfile.gettempdir()) / f"jzair_bench_heating_{args.records}.sqlite3"
    if not db_path.exists():  # the same database as bench_heating_page.py
        subprocess.run([sys.executable, str(HERE / "bench_heating_page.py"), "--db", str(db_path),
                        "--records", str(args.records), "--build-only"], check=True)
    return measure(args, db_path)


if __name__ == "__main__":
    raise SystemExit(main())
