"""Benchmark: printing a 20-page 月报 to a PDF file (打印到文件 / a PDF printer). Goal: not 24 MB.

Writes the city report of 2020-12 (with 预警函) on a fresh database with the plan's reference data (or on
bench/out/bench_report.sqlite3 when bench_report.py has built it), repeats its pages up to 20, then
prints it three ways onto Qt's PDF printer at its own resolution (HighResolution: 1200 dpi, capped at
300 dpi):

* before: every page rendered to an RGB image (the old way, `hand_over=False, grayscale=False`);
* grey: rendered, in grey when no page has colour (what a real printer now receives);
* after: the report's own PDF handed over (what 打印到文件 / a PDF printer now gets).

Prints time and size of each.

    python bench/bench_print.py [--pages 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtPrintSupport import QPrinter  # noqa: E402

from jzair_desktop.exchange.pdf_render import page_sizes, select_pages  # noqa: E402
from jzair_desktop.gui import qtsetup  # noqa: E402
from jzair_desktop.gui.printing import prepare_a4, print_pdf  # noqa: E402
from jzair_desktop.services import report  # noqa: E402
from jzair_desktop.services.database import load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url  # noqa: E402

DEMO = Path(__file__).resolve().parent / "out" / "bench_report.sqlite3"


def report_pdf(folder: Path, pages: int) -> Path:
    if DEMO.exists():
        db, _ = open_database(sqlite_url(DEMO))
        source = "bench/out/bench_report.sqlite3"
    else:
        db, _ = open_database(sqlite_url(folder / "bench.sqlite3"), create=True)
        load_reference_data(db)
        source = "fresh database (reference data only)"
    result = report.write_report(db, folder / "月报.pdf", "2020-12", letters=True)
    db.dispose()
    data = result.path.read_bytes()
    n = len(page_sizes(data))
    order = [i % n for i in range(pages)]
    out = folder / f"月报-{pages}页.pdf"
    out.write_bytes(select_pages(data, order))
    print(f"report: {source}, {n} pages of its own, repeated to {pages}: {out.stat().st_size / 1024:,.0f} KB")
    return out


def printer_to(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    prepare_a4(printer)
    return printer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    qtsetup.make_application()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = report_pdf(folder, args.pages)
        for name, kwargs in (("before (RGB pages, 300 dpi)", {"hand_over": False, "grayscale": False}),
                             ("grey where no colour, 300 dpi", {"hand_over": False, "grayscale": True}),
                             ("after (report's own PDF)", {})):
            out = folder / f"{name[:5]}.pdf"
            printer = printer_to(out)
            start = time.perf_counter()
            sheets = print_pdf(pdf, printer, **kwargs)
            elapsed = time.perf_counter() - start
            print(f"{name:32s} {sheets:3d} pages  {elapsed:7.2f} s  {out.stat().st_size / 1024 / 1024:8.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
