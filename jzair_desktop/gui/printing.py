"""Print a PDF through Qt: each page rendered by PDFium and painted onto a QPrinter.

The page is rendered at the printer's resolution, at most `MAX_PRINT_DPI` (300 dpi prints text and
table rules cleanly; an A4 page at 1200 dpi would be a 400 MB image), and drawn to fill the paper
with its proportions kept. Pages are painted with `setFullPage(True)`: the report carries its own
margins, so it prints at its true size on A4.

`print_pdf` may run off the GUI thread (Qt allows a QPainter on a QPrinter in a worker thread); the
dialog (`QPrintDialog`) belongs to the GUI thread and is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.pdf_render import page_sizes, read_pdf, render_pages, scale_for_dpi
from jzair_desktop.taskstate import NULL_STATE, TaskState

MAX_PRINT_DPI = 300


class PrintError(JzairError):
    pass


def prepare_a4(printer: QPrinter, *, title: str = "") -> None:
    """A4 portrait, whole sheet addressable (the PDF has its own margins)."""
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    printer.setFullPage(True)
    if title:
        printer.setDocName(title)


def pages_to_print(printer: QPrinter, count: int) -> list[int]:
    """The 0-based pages chosen in the print dialog (all unless a page range was chosen)."""
    if printer.printRange() == QPrinter.PrintRange.PageRange:
        ranges = printer.pageRanges()
        if not ranges.isEmpty():
            return [i for i in range(count) if ranges.contains(i + 1)]
        lo, hi = printer.fromPage(), printer.toPage()
        if lo > 0:
            return list(range(lo - 1, min(hi if hi > 0 else count, count)))
    return list(range(count))


def _runs(pages: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive pages as (first, last) pairs: 0,1,2,5 -> (0, 2), (5, 5)."""
    start = prev = None
    for p in pages:
        if start is None:
            start = prev = p
        elif p == prev + 1:
            prev = p
        else:
            yield start, prev
            start = prev = p
    if start is not None:
        yield start, prev


def _fit(target: QRectF, w_pt: float, h_pt: float) -> QRectF:
    """The largest rectangle of the page's proportions centred in `target`."""
    scale = min(target.width() / w_pt, target.height() / h_pt)
    w, h = w_pt * scale, h_pt * scale
    return QRectF(target.x() + (target.width() - w) / 2, target.y() + (target.height() - h) / 2, w, h)


def print_pdf(
    source: Path | str | bytes,
    printer: QPrinter,
    *,
    state: TaskState = NULL_STATE,
    max_dpi: int = MAX_PRINT_DPI,
) -> int:
    """Paint the PDF's pages (those chosen on `printer`) onto `printer`; returns the sheets painted.

    Each page fills the sheet with its proportions kept (at its true size on A4): the printer is set to
    full-page mode, since the PDF brings its own margins. Cancelling (`state`) or a failure aborts the job
    (a file being printed to is removed). Any thread.
    """
    data = source if isinstance(source, bytes) else read_pdf(source)
    sizes = page_sizes(data)
    pages = pages_to_print(printer, len(sizes))
    if not pages:
        raise PrintError(f"所选页码范围内没有页面（报告共 {len(sizes)} 页）。")
    # Most drivers make the copies themselves; where they cannot, print the pages again.
    copies = 1 if printer.supportsMultipleCopies() else max(1, printer.copyCount())
    scale = scale_for_dpi(min(printer.resolution(), max_dpi))
    total = len(pages) * copies

    printer.setFullPage(True)  # painter coordinates start at the sheet's corner, not inside margins
    painter = QPainter()
    if not painter.begin(printer):
        where = printer.outputFileName()
        raise PrintError(f"无法开始打印：输出文件无法写入（{where}）。" if where
                         else "无法开始打印：打印机不可用，请检查打印机是否已连接并开机。")
    done = 0
    finished = False
    try:
        sheet = QRectF(printer.pageLayout().fullRectPixels(printer.resolution()))
        for _copy in range(copies):
            for first, last in _runs(pages):
                for page in render_pages(data, scale=scale, first=first, last=last, state=state):
                    if done and not printer.newPage():
                        raise PrintError(f"打印第 {page.index + 1} 页时打印机拒绝了新的一页。")
                    image = QImage(page.rgb, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
                    w_pt, h_pt = sizes[page.index]
                    painter.drawImage(_fit(sheet, w_pt, h_pt), image)
                    done += 1
                    state.progress(done, total, f"正在打印第 {page.index + 1} 页（{done}/{total}）")
        finished = True
    finally:
        if not finished:
            printer.abort()
        painter.end()
        if not finished and printer.outputFileName():
            # Printing to a file stopped half-way: no truncated document that looks complete.
            Path(printer.outputFileName()).unlink(missing_ok=True)
    return done
