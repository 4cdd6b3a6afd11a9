"""PDF pages as pictures for the printing tests, drawn by PDFium (pypdfium2, one of the app's own libraries):
no poppler program needed, so the tests run the same on Linux and Windows."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image


def page_image(pdf: Path, page: int, dpi: int) -> Image.Image:
    """Page `page` (1-based) of `pdf` at `dpi`, in grey levels."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return doc[page - 1].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


def pages_as_png(pdf: Path, prefix: Path, dpi: int) -> list[Path]:
    """Every page of `pdf` as `<prefix>-01.png`, `<prefix>-02.png`, …"""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        count = len(doc)
    finally:
        doc.close()
    out = []
    for n in range(1, count + 1):
        path = prefix.with_name(f"{prefix.name}-{n:02d}.png")
        page_image(pdf, n, dpi).save(path)
        out.append(path)
    return out
