"""Pages of a PDF as images (exchange.pdf_render): a real monthly report rendered by PDFium, compared with
poppler's rendering of the same page; Chinese glyphs drawn; files never held open; errors in Chinese."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageChops, ImageStat
from reportlab.pdfgen import canvas

from jzair_desktop.exchange import pdf_render
from jzair_desktop.exchange.pdf_common import PAGE_SIZE, register_fonts
from jzair_desktop.exchange.pdf_render import PdfRenderError, page_sizes, render_pages
from jzair_desktop.services import report
from jzair_desktop.taskstate import Cancelled, TaskState
from tests.exchange import report_dataset as ds
from tests.storage.safety_helpers import open_handles


@pytest.fixture(scope="module")
def city_pdf(tmp_path_factory) -> Path:
    """The city report of 2020-11 with warning letters, from the hand-made dataset."""
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url

    folder = tmp_path_factory.mktemp("渲染")
    db, _ = open_database(sqlite_url(folder / "台账.sqlite3"), create=True)
    load_reference_data(db)
    ds.build(db)
    out = folder / "全市月报（2020年11月）.pdf"
    report.write_report(db, out, "2020-11", letters=True)
    db.dispose()
    return out


def to_pil(page: pdf_render.PageImage) -> Image.Image:
    return Image.frombuffer("RGB", (page.width, page.height), page.rgb, "raw", "RGB", page.stride, 1)


def dark_pixels(image: Image.Image, below: int = 128) -> int:
    gray = image.convert("L")
    return sum(gray.histogram()[:below])


def one_page_pdf(path: Path, text: str | None, *, size: float = 96) -> Path:
    """An A4 page with `text` (bundled CJK font) near the top left, or blank."""
    c = canvas.Canvas(str(path), pagesize=PAGE_SIZE)
    if text:
        c.setFont(register_fonts(), size)
        c.drawString(72, PAGE_SIZE[1] - 72 - size, text)
    c.showPage()
    c.save()
    return path


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")


# --------------------------------------------------------------------------- the report's pages
@pytest.mark.slow
def test_every_page_of_a_report_is_rendered_with_ink(city_pdf):
    count = len(pypdf.PdfReader(str(city_pdf)).pages)
    assert count > 12  # overview, ledgers, warnings and twelve letters
    scale = 1.5
    images = list(render_pages(city_pdf, scale=scale))
    assert [p.index for p in images] == list(range(count))
    blank = to_pil(next(render_pages(one_page_pdf(city_pdf.parent / "空白.pdf", None), scale=scale)))
    assert dark_pixels(blank) == 0
    for page in images:
        assert (page.width, page.height) == (893, 1263)  # A4 (595.3 x 841.9 pt) at 1.5, rounded up
        assert page.stride >= 3 * page.width and len(page.rgb) == page.stride * page.height
        image = to_pil(page)
        assert image.getpixel((5, 5)) == (255, 255, 255)  # white paper in the margin
        assert dark_pixels(image) > 2_000, f"page {page.index + 1} looks blank"
        assert ImageChops.difference(image, blank).getbbox() is not None


def test_pdfium_and_poppler_agree_on_the_first_page(city_pdf, tmp_path):
    """Two independent renderers of the same page: the title, tables and Chinese text land alike. Poppler's
    pdftoppm is a Linux tool of the test machine (CI installs poppler-utils); Windows has none."""
    if sys.platform == "win32" and shutil.which("pdftoppm") is None:
        pytest.skip("poppler's pdftoppm is not installed on Windows; PDFium's own rendering is tested above")
    ours = to_pil(next(render_pages(city_pdf, scale=1.0, first=0, last=0)))
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile", str(city_pdf),
                    str(tmp_path / "poppler")], check=True)
    theirs = Image.open(tmp_path / "poppler.png").convert("RGB")
    w, h = min(ours.width, theirs.width), min(ours.height, theirs.height)
    # Blocks of 8x8 pixels: anti-aliasing differs between renderers, the drawing does not.
    a = ours.crop((0, 0, w, h)).convert("L").resize((w // 8, h // 8), Image.Resampling.BOX)
    b = theirs.crop((0, 0, w, h)).convert("L").resize((w // 8, h // 8), Image.Resampling.BOX)
    assert dark_pixels(a, 200) > 100
    assert ImageStat.Stat(ImageChops.difference(a, b)).mean[0] < 4.0


def test_chinese_glyphs_are_drawn_not_boxes(tmp_path):
    """'一' is one stroke and '国' many: a renderer drawing missing-glyph boxes would ink them alike."""
    one = to_pil(next(render_pages(one_page_pdf(tmp_path / "一.pdf", "一"), scale=1.0)))
    country = to_pil(next(render_pages(one_page_pdf(tmp_path / "国.pdf", "国"), scale=1.0)))
    ink_one, ink_country = dark_pixels(one), dark_pixels(country)
    assert ink_one > 50
    assert ink_country > 3 * ink_one
    # Both glyphs sit where they were drawn (top left), nowhere else.
    for image in (one, country):
        left, top, right, bottom = ImageChops.invert(image.convert("L")).getbbox()
        assert 60 <= left and right <= 72 + 110 and 60 <= top and bottom <= 72 + 130


def test_a_page_range_and_the_page_sizes(city_pdf):
    sizes = page_sizes(city_pdf)
    assert len(sizes) == len(pypdf.PdfReader(str(city_pdf)).pages)
    assert all(abs(w - 595.28) < 0.1 and abs(h - 841.89) < 0.1 for w, h in sizes)
    assert [p.index for p in render_pages(city_pdf, scale=0.5, first=1, last=3)] == [1, 2, 3]
    assert [p.index for p in render_pages(city_pdf, scale=0.5, first=len(sizes) - 1, last=999)] == [len(sizes) - 1]
    assert list(render_pages(city_pdf, scale=0.5, first=5, last=4)) == []
    data = city_pdf.read_bytes()
    from_bytes = next(render_pages(data, scale=0.5, first=2, last=2))
    from_file = next(render_pages(city_pdf, scale=0.5, first=2, last=2))
    assert from_bytes == from_file


def test_render_scale_follows_dpi():
    assert pdf_render.scale_for_dpi(72) == 1.0
    assert pdf_render.scale_for_dpi(300) == pytest.approx(4.1667, abs=1e-4)


# --------------------------------------------------------------------------- the file stays free
@needs_proc
def test_the_file_is_not_held_open_and_can_be_replaced(city_pdf, tmp_path):
    path = tmp_path / "预览中的月报.pdf"
    path.write_bytes(city_pdf.read_bytes())
    pages = render_pages(path, scale=0.5)
    first = next(pages)
    assert first.index == 0
    assert open_handles(path) == []  # mid-way through the pages
    replacement = one_page_pdf(tmp_path / "新月报.pdf", "新")
    os.replace(replacement, path)  # what the next generation does (write_pdf_atomic)
    rest = list(pages)  # the rest comes from the bytes read at the start
    assert [p.index for p in rest] == list(range(1, len(page_sizes(city_pdf))))
    assert open_handles(path) == []
    assert len(page_sizes(path)) == 1
    list(render_pages(path, scale=0.5))
    os.replace(one_page_pdf(tmp_path / "空白.pdf", None), path)  # after a whole iteration too
    assert open_handles(path) == []


def test_an_abandoned_iteration_closes_the_document(city_pdf):
    pages = render_pages(city_pdf, scale=0.3)
    next(pages)
    pages.close()  # what leaving a for loop over it does once it is collected
    with pytest.raises(StopIteration):
        next(pages)


def test_cancel_stops_between_pages(city_pdf):
    state = TaskState()
    seen = []
    with pytest.raises(Cancelled):
        for page in render_pages(city_pdf, scale=0.3, state=state):
            seen.append(page.index)
            state.cancel()
    assert seen == [0]


# --------------------------------------------------------------------------- threads
def test_concurrent_renders_match_serial_ones(city_pdf):
    """PDFium is not thread-safe; the module lock makes parallel renders give the same pixels."""

    def digests() -> list[str]:
        return [hashlib.sha256(p.rgb).hexdigest() for p in render_pages(city_pdf, scale=0.6)]

    expected = digests()
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(digests())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert results == [expected] * 4


# --------------------------------------------------------------------------- bad input
def test_missing_and_broken_files_give_chinese_messages(tmp_path):
    missing = tmp_path / "不存在的月报.pdf"
    with pytest.raises(PdfRenderError) as exc:
        list(render_pages(missing, scale=1.0))
    assert "无法读取 PDF 文件" in str(exc.value) and "不存在的月报.pdf" in str(exc.value)
    broken = tmp_path / "损坏的月报.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(PdfRenderError) as exc:
        page_sizes(broken)
    assert "文件已损坏或不是 PDF" in str(exc.value) and "损坏的月报.pdf" in str(exc.value)
    with pytest.raises(PdfRenderError, match="PDF 数据"):
        list(render_pages(b"not a pdf", scale=1.0))
    with pytest.raises(ValueError):
        list(render_pages(broken, scale=0))


def test_a_page_too_large_to_render_is_refused(tmp_path):
    pdf = one_page_pdf(tmp_path / "大.pdf", "大")
    with pytest.raises(PdfRenderError, match="渲染过大"):
        list(render_pages(pdf, scale=20))  # A4 at 1440 dpi


def test_the_renderer_does_not_import_qt():
    code = (
        "import sys, jzair_desktop.exchange.pdf_render;"
        "sys.exit(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
