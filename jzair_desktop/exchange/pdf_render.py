"""Pages of a PDF as RGB images (PDFium through pypdfium2), for the report preview and printing.

Qt-free: the GUI turns a `PageImage` into a QImage. The file is read into memory and PDFium works on
the bytes, so no handle on the file stays open while pages are rendered (on Windows an open handle
would stop the next report from replacing the file) and non-ASCII paths never reach PDFium's
narrow-character file API. PDFium is not thread-safe, not even across documents: every call into it
holds one module-wide lock, and the lock is never held across a `yield`.

May run on any thread.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from jzair_desktop.errors import JzairError
from jzair_desktop.taskstate import NULL_STATE, TaskState

POINTS_PER_INCH = 72.0
MAX_PIXELS = 60_000_000  # one page image at most (~180 MB as RGB); A4 at 600 dpi is ~35 million

_PDFIUM = threading.Lock()

PdfSource = Path | str | bytes  # a file, or a PDF's bytes


class PdfRenderError(JzairError):
    """The file is missing, unreadable or not a PDF PDFium can open."""


@dataclass(frozen=True)
class PageImage:
    """One rendered page: `rgb` holds `height` rows of `stride` bytes, three bytes (R, G, B) a pixel."""

    index: int
    width: int
    height: int
    stride: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = y * self.stride + 3 * x
        return self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]


def scale_for_dpi(dpi: float) -> float:
    """The render scale that gives `dpi` pixels per inch (PDF user space has 72 units an inch)."""
    return dpi / POINTS_PER_INCH


def read_pdf(pdf_path: Path | str) -> bytes:
    """The file's bytes (a preview keeps them, so it shows what it loaded even if the file is replaced)."""
    path = Path(pdf_path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PdfRenderError(f"无法读取 PDF 文件：{path}（{exc.strerror or exc}）") from exc


def _load(source: PdfSource) -> pdfium.PdfDocument:
    data = source if isinstance(source, bytes) else read_pdf(source)
    try:
        return pdfium.PdfDocument(data)  # the document keeps `data` alive until it is closed
    except pdfium.PdfiumError as exc:
        name = "PDF 数据" if isinstance(source, bytes) else f"PDF 文件：{source}"
        raise PdfRenderError(f"无法打开{name}（文件已损坏或不是 PDF）") from exc


def page_sizes(pdf_path: PdfSource) -> list[tuple[float, float]]:
    """Width and height of every page in points (1/72 inch)."""
    with _PDFIUM:
        doc = _load(pdf_path)
        try:
            sizes = []
            for i in range(len(doc)):
                page = doc[i]
                try:
                    sizes.append(tuple(page.get_size()))
                finally:
                    page.close()
            return sizes
        finally:
            doc.close()


def select_pages(source: PdfSource, pages: list[int], copies: int = 1) -> bytes:
    """A PDF of the chosen pages (0-based, in the order given), all of it `copies` times over: the pages
    themselves (text stays text), for a print to a PDF file of a page range."""
    with _PDFIUM:
        doc = _load(source)
        out = pdfium.PdfDocument.new()
        try:
            for _ in range(max(1, copies)):
                out.import_pages(doc, pages=list(pages))
            buffer = io.BytesIO()
            out.save(buffer)
            return buffer.getvalue()
        finally:
            out.close()
            doc.close()


def render_pages(
    pdf_path: PdfSource,
    *,
    scale: float,
    first: int | None = None,
    last: int | None = None,
    state: TaskState = NULL_STATE,
) -> Iterator[PageImage]:
    """Render pages `first`..`last` (0-based, both included; default all) at `scale` pixels per point.

    `pdf_path` is a file or the PDF's bytes; a file is read whole before the first page is rendered.

    The document is closed when the iteration ends, is closed early (`close()`, leaving a `for` loop
    of a generator that is then collected) or fails. Progress goes to `state` (page done, pages).
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    with _PDFIUM:
        doc = _load(pdf_path)
    try:
        with _PDFIUM:
            count = len(doc)
        lo = 0 if first is None else max(0, first)
        hi = count - 1 if last is None else min(count - 1, last)
        total = max(0, hi - lo + 1)
        for n, index in enumerate(range(lo, hi + 1)):
            state.check_cancelled()
            with _PDFIUM:
                image = _render_one(doc, index, scale)
            state.progress(n + 1, total, f"第 {n + 1} 页，共 {total} 页")
            yield image
    finally:
        with _PDFIUM:
            doc.close()


def _render_one(doc: pdfium.PdfDocument, index: int, scale: float) -> PageImage:
    page = doc[index]
    try:
        width, height = page.get_size()
        if width * height * scale * scale > MAX_PIXELS:
            raise PdfRenderError(f"第 {index + 1} 页按所选分辨率渲染过大，请降低打印分辨率。")
        # rev_byteorder: RGB rather than PDFium's native BGR; white background (no alpha).
        bitmap = page.render(scale=scale, rev_byteorder=True, fill_color=(255, 255, 255, 255))
        try:
            if bitmap.n_channels != 3:  # pragma: no cover - guarded by the options above
                raise PdfRenderError(f"第 {index + 1} 页的像素格式不是 RGB。")
            return PageImage(index=index, width=bitmap.width, height=bitmap.height, stride=bitmap.stride,
                             rgb=bytes(bitmap.buffer))
        finally:
            bitmap.close()
    finally:
        page.close()
