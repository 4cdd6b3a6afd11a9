"""Benchmark: rendering the monthly report's pages (月报 preview and printing, PDFium via pypdfium2).

Builds a demo database (demo.generate_demo, `--scale`) in a temporary folder, writes the city
report with 预警函 for `--month`, then prints:
  - reading and measuring the PDF (what the preview does first),
  - rendering every page at the preview's width (900 px, scale ~1.5) and at the print resolution (300 dpi),
  - printing every page onto a QPrinter that writes a PDF (offscreen Qt), and that file's size.

    python bench/bench_report_preview.py [--month 2020-12] [--scale 0.2] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jzair_desktop.demo import generate_demo  # noqa: E402
from jzair_desktop.exchange.pdf_render import page_sizes, read_pdf, render_pages, scale_for_dpi  # noqa: E402
from jzair_desktop.services import report  # noqa: E402
from jzair_desktop.services.database import load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float]:  # noqa: ANN001
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2020-12")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jzair-bench-preview-") as tmp:
        os.environ["JZAIR_DATA_DIR"] = tmp
        db, _ = open_database(sqlite_url(Path(tmp) / "演示.sqlite3"), create=True)
        load_reference_data(db)
        generate_demo(db, scale=args.scale)
        pdf = Path(tmp) / "全市月报.pdf"
        result = report.write_report(db, pdf, args.month, letters=True)
        db.dispose()
        print(f"city report {args.month} with letters, demo scale {args.scale}: "
              f"{result.pages} pages, {result.size / 1024:,.0f} KB")

        def load() -> None:
            page_sizes(read_pdf(pdf))

        med, low = timed(load, args.runs)
        print(f"read and measure the PDF:            {med * 1000:7.1f} ms median, {low * 1000:7.1f} ms min")
        data = pdf.read_bytes()
        for label, scale in (("preview width 900 px", 900 / 595.28), ("print 300 dpi", scale_for_dpi(300))):
            med, low = timed(lambda s=scale: sum(1 for _ in render_pages(data, scale=s)), args.runs)
            print(f"render all pages, {label:20s} {med:6.2f} s median, {low:6.2f} s min "
                  f"({med / result.pages * 1000:.0f} ms a page)")

        from PySide6.QtPrintSupport import QPrinter
        from PySide6.QtWidgets import QApplication

        from jzair_desktop.gui.printing import prepare_a4, print_pdf

        app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - needed for QPrinter
        out = Path(tmp) / "打印.pdf"

        def print_once() -> None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(out))
            prepare_a4(printer)
            print_pdf(data, printer)

        med, low = timed(print_once, max(1, args.runs - 1))
        print(f"print all pages to a PDF file (300 dpi): {med:6.2f} s median, {low:6.2f} s min; "
              f"file {out.stat().st_size / 1024 / 1024:.1f} MB")
        print(f"machine load average: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
