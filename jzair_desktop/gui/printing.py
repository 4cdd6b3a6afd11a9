"""Print a PDF through Qt: each page rendered by PDFium and painted onto a QPrinter.

Printing to a PDF file (打印到文件, Qt's PDF printer) hands over the report's own PDF (or the chosen
pages taken from it): the same pages, a fraction of the size, text still text. Otherwise each page is rendered at the
printer's resolution, at most `MAX_PRINT_DPI` (300 dpi prints text and table rules cleanly; an A4 page at
1200 dpi would be a 400 MB image), in grey when no page chosen has colour (the printer is switched to
grey and the pages sent as 8-bit grey images, a third of the data for the driver or a PDF writer), and
drawn to fill the paper with its proportions kept. Pages are painted with `setFullPage(True)`: the report carries its own
margins, so it prints at its true size on A4.

`print_pdf` may run off the GUI thread (Qt allows a QPainter on a QPrinter in a worker thread); the
dialog (`QPrintDialog`) belongs to the GUI thread and is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMarginsF, QRectF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.pdf_render import (
    PageImage,
    page_sizes,
    read_pdf,
    render_pages,
    scale_for_dpi,
    select_pages,
)
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


def is_file_printer(printer: QPrinter) -> bool:
    """Printing to a PDF file (Qt's PDF printer, or 打印到文件 in the print dialog)."""
    return printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and bool(printer.outputFileName())


def hand_over_pdf(data: bytes, printer: QPrinter, pages: list[int], copies: int = 1, *,
                  state: TaskState = NULL_STATE) -> int:
    """Write the report's own PDF to the printer's output file (the chosen pages, `copies` times): the
    report itself, text and all, not pictures of its pages. Returns the pages written."""
    dest = Path(printer.outputFileName())
    total = len(page_sizes(data))
    state.progress(0, 1, "正在写入 PDF 文件", force=True)
    if pages != list(range(total)) or copies > 1:
        data = select_pages(data, pages, copies)
    count = len(pages) * copies
    tmp = dest.with_name(dest.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PrintError(f"无法开始打印：输出文件无法写入（{dest}：{exc.strerror or exc}）。") from None
    state.progress(1, 1, f"已写入 {count} 页", force=True)
    return count


def has_colour(page: PageImage, tolerance: int = 12) -> bool:
    """Whether a rendered page has any pixel that is not grey (R, G and B further apart than `tolerance`)."""
    rows = np.frombuffer(page.rgb, dtype=np.uint8).reshape(page.height, page.stride)[:, : page.width * 3]
    px = rows.reshape(page.height, page.width, 3).astype(np.int16)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    return bool((np.abs(r - g) > tolerance).any() or (np.abs(g - b) > tolerance).any())


COLOUR_CHECK_DPI = 36


def any_colour(data: bytes, pages: list[int], state: TaskState = NULL_STATE) -> bool:
    """Whether any of the chosen pages has colour (looked at in a quick low-resolution pass)."""
    for first, last in _runs(pages):
        for page in render_pages(data, scale=scale_for_dpi(COLOUR_CHECK_DPI), first=first, last=last, state=NULL_STATE):
            state.check_cancelled()
            if has_colour(page):
                return True
    return False


def page_image(page: PageImage, *, grey: bool = False) -> QImage:
    """The page as a QImage: 8-bit grey when `grey` (a page of a print without colour), else RGB."""
    image = QImage(page.rgb, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_Grayscale8) if grey else image


def print_pdf(
    source: Path | str | bytes,
    printer: QPrinter,
    *,
    state: TaskState = NULL_STATE,
    max_dpi: int = MAX_PRINT_DPI,
    hand_over: bool = True,
    grayscale: bool = True,
) -> int:
    """Print the PDF's pages (those chosen on `printer`) on `printer`; returns the sheets printed.

    To a PDF file (and `hand_over`), the report's own pages are written: the whole PDF as it is, or its
    chosen pages (and copies) taken from it.
    Otherwise each page is rendered at the printer's resolution up to `max_dpi`, in grey when no chosen page
    has colour (`grayscale`, or the print dialog asked for grey), and fills the sheet with its proportions kept (at its true size on A4): the
    printer is set to full-page mode, since the PDF brings its own margins. Cancelling (`state`) or a
    failure aborts the job (a file being printed to is removed). Any thread.
    """
    data = source if isinstance(source, bytes) else read_pdf(source)
    sizes = page_sizes(data)
    pages = pages_to_print(printer, len(sizes))
    if not pages:
        raise PrintError(f"所选页码范围内没有页面（报告共 {len(sizes)} 页）。")
    # Most drivers make the copies themselves; where they cannot, print the pages again.
    copies = 1 if printer.supportsMultipleCopies() else max(1, printer.copyCount())
    if hand_over and is_file_printer(printer):
        return hand_over_pdf(data, printer, pages, copies, state=state)
    scale = scale_for_dpi(min(printer.resolution(), max_dpi))
    total = len(pages) * copies

    grey = grayscale and (printer.colorMode() == QPrinter.ColorMode.GrayScale or not any_colour(data, pages, state))
    if grey:
        printer.setColorMode(QPrinter.ColorMode.GrayScale)  # the driver (or PDF writer) gets grey, not RGB
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
                    image = page_image(page, grey=grey)
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
