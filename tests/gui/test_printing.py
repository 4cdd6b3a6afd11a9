"""gui.printing.print_pdf straight onto QPrinters that write PDF files: page choice, copies, paper, cancel."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageChops
from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageRanges, QPageSize
from PySide6.QtPrintSupport import QPrinter
from reportlab.pdfgen import canvas

from jzair_desktop.exchange.pdf_common import PAGE_SIZE, register_fonts
from jzair_desktop.gui import printing, qtsetup
from jzair_desktop.gui.printing import PrintError, pages_to_print, prepare_a4, print_pdf
from jzair_desktop.taskstate import Cancelled, TaskState
from tests.gui.pdf_raster import page_image


@pytest.fixture(scope="module")
def numbered(tmp_path_factory) -> Path:
    """Five A4 pages, each with its number as a big Chinese label (第N页)."""
    path = tmp_path_factory.mktemp("打印") / "五页.pdf"
    c = canvas.Canvas(str(path), pagesize=PAGE_SIZE)
    for n in range(1, 6):
        c.setFont(register_fonts(), 40)
        c.drawString(72, PAGE_SIZE[1] - 120, f"第{n}页")
        c.setLineWidth(4)
        c.rect(72, 72, PAGE_SIZE[0] - 144, PAGE_SIZE[1] - 144)  # a frame 1 inch inside the sheet
        c.showPage()
    c.save()
    return path


@pytest.fixture
def app():
    return qtsetup.make_application()


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def rendered(pdf: Path, page: int, tmp: Path, dpi: int = 72) -> Image.Image:
    return page_image(pdf, page, dpi)


def ink_box(pdf: Path, page: int, tmp: Path) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """Size of the page at 36 dpi and the box around its dark pixels."""
    image = rendered(pdf, page, tmp, 36)
    return image.size, image.point(lambda v: 255 if v < 128 else 0).getbbox()


def same_picture(a: Path, page_a: int, b: Path, page_b: int, tmp: Path) -> bool:
    """Pages alike in every 8x8-pixel block at 72 dpi: a line a pixel off passes (about 30 grey levels at
    most), another page number does not (76 and more, measured)."""
    one, two = rendered(a, page_a, tmp), rendered(b, page_b, tmp)
    w, h = min(one.width, two.width), min(one.height, two.height)
    blocks = [img.crop((0, 0, w, h)).resize((w // 8, h // 8), Image.Resampling.BOX) for img in (one, two)]
    return ImageChops.difference(*blocks).getextrema()[1] < 50


@pytest.mark.slow
def test_all_pages_at_true_size(app, numbered, tmp_path):
    out = tmp_path / "全部.pdf"
    printer = pdf_printer(out)
    prepare_a4(printer)
    assert print_pdf(numbered, printer) == 5
    assert len(pypdf.PdfReader(str(out)).pages) == 5
    for n in range(1, 6):
        assert same_picture(out, n, numbered, n, tmp_path), n
    assert not same_picture(out, 1, numbered, 2, tmp_path)


def test_a_printer_with_margins_still_gets_the_whole_sheet(app, numbered, tmp_path):
    out = tmp_path / "有边距.pdf"
    printer = pdf_printer(out)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageMargins(QMarginsF(20, 20, 20, 20), QPageLayout.Unit.Millimeter)
    print_pdf(numbered, printer, max_dpi=150, hand_over=False)  # as a real printer gets it
    assert same_picture(out, 3, numbered, 3, tmp_path)


def test_page_range_and_page_list(app, numbered, tmp_path):
    printer = pdf_printer(tmp_path / "范围.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 4)
    assert pages_to_print(printer, 5) == [1, 2, 3]
    assert print_pdf(numbered, printer, max_dpi=100) == 3
    assert same_picture(tmp_path / "范围.pdf", 1, numbered, 2, tmp_path)
    ranges = QPageRanges()
    ranges.addPage(1)
    ranges.addRange(4, 9)
    printer = pdf_printer(tmp_path / "列表.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setPageRanges(ranges)
    assert pages_to_print(printer, 5) == [0, 3, 4]
    assert print_pdf(numbered, printer, max_dpi=100) == 3
    assert same_picture(tmp_path / "列表.pdf", 2, numbered, 4, tmp_path)
    assert pages_to_print(pdf_printer(tmp_path / "x.pdf"), 5) == [0, 1, 2, 3, 4]


def test_a_range_beyond_the_pages_is_refused(app, numbered, tmp_path):
    printer = pdf_printer(tmp_path / "超出.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(7, 9)
    with pytest.raises(PrintError, match="没有页面（报告共 5 页）"):
        print_pdf(numbered, printer)
    assert not (tmp_path / "超出.pdf").exists()


def test_copies_are_printed_again_when_the_printer_cannot(app, numbered, tmp_path):
    out = tmp_path / "两份.pdf"
    printer = pdf_printer(out)
    printer.setCopyCount(2)
    assert not printer.supportsMultipleCopies()  # the PDF writer makes no copies itself
    assert print_pdf(numbered, printer, max_dpi=72) == 10
    assert same_picture(out, 6, numbered, 1, tmp_path)


def test_an_a4_page_on_letter_paper_is_fitted_and_centred(app, numbered, tmp_path):
    out = tmp_path / "信纸.pdf"
    printer = pdf_printer(out)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    print_pdf(numbered, printer, max_dpi=150, hand_over=False)  # as a real printer gets it
    page = pypdf.PdfReader(str(out)).pages[0]
    assert round(float(page.mediabox.width)) == 612 and round(float(page.mediabox.height)) == 792
    (w, h), (left, top, right, bottom) = ink_box(out, 1, tmp_path)
    # A4 is the narrower shape: the page fills the height (its frame 1 inch in, scaled by 792/842) and
    # sits in the middle across.
    inch = 36 * 792 / 841.89
    assert abs(top - inch) <= 2 and abs((h - bottom) - inch) <= 2
    assert abs(left - (w - right)) <= 2 and left > inch + 5


def test_cancel_stops_and_removes_the_half_written_file(app, numbered, tmp_path):
    out = tmp_path / "取消.pdf"

    class StopAfterTwo(TaskState):
        def progress(self, done, total, text="", *, force=False):
            if done >= 2:
                self.cancel()
            super().progress(done, total, text, force=force)

    with pytest.raises(Cancelled):
        print_pdf(numbered, pdf_printer(out), state=StopAfterTwo(), max_dpi=72, hand_over=False)
    assert not out.exists()


def test_an_unwritable_output_is_refused_in_chinese(app, numbered, tmp_path):
    with pytest.raises(PrintError, match="无法开始打印：输出文件无法写入"):
        print_pdf(numbered, pdf_printer(tmp_path / "无此文件夹" / "x.pdf"), hand_over=False)
    with pytest.raises(PrintError, match="无法开始打印：输出文件无法写入"):
        print_pdf(numbered, pdf_printer(tmp_path / "无此文件夹" / "x.pdf"))


def test_consecutive_pages_are_rendered_in_runs():
    assert list(printing._runs([0, 1, 2, 5, 7, 8])) == [(0, 2), (5, 5), (7, 8)]
    assert list(printing._runs([])) == []


def test_printing_to_a_pdf_file_hands_over_the_report_itself(app, numbered, tmp_path):
    out = tmp_path / "打印到文件.pdf"
    printer = pdf_printer(out)
    prepare_a4(printer)
    assert print_pdf(numbered, printer) == 5
    assert out.read_bytes() == numbered.read_bytes()  # the report's own PDF: text stays text, no page images
    assert not list(tmp_path.glob("*.part"))
    # a page range (and copies) to a file: those pages taken from the report, still text
    part = tmp_path / "第2至3页.pdf"
    printer = pdf_printer(part)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 3)
    printer.setCopyCount(2)
    assert print_pdf(numbered, printer) == 4
    reader = pypdf.PdfReader(str(part))
    assert [p.extract_text().strip() for p in reader.pages] == ["第2页", "第3页", "第2页", "第3页"]


def _image_colour_spaces(pdf: Path) -> list[str]:
    spaces = []
    for page in pypdf.PdfReader(str(pdf)).pages:
        for obj in page["/Resources"]["/XObject"].values():
            obj = obj.get_object()
            if obj.get("/Subtype") == "/Image":
                spaces.append(str(obj["/ColorSpace"]))
    return spaces


def test_pages_without_colour_are_sent_grey_and_coloured_pages_in_colour(app, tmp_path):
    from reportlab.lib.colors import red

    source = tmp_path / "彩色与黑白.pdf"
    c = canvas.Canvas(str(source), pagesize=PAGE_SIZE)
    c.setFont(register_fonts(), 30)
    c.drawString(72, 700, "黑白页")
    c.showPage()
    c.setFillColor(red)
    c.rect(72, 600, 200, 100, fill=1)
    c.showPage()
    c.save()
    grey, colour, mixed = tmp_path / "灰度.pdf", tmp_path / "原样.pdf", tmp_path / "两页.pdf"

    def first_page_only(path):
        printer = pdf_printer(path)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(1, 1)
        return printer

    print_pdf(source, first_page_only(grey), max_dpi=100, hand_over=False)
    print_pdf(source, first_page_only(colour), max_dpi=100, hand_over=False, grayscale=False)
    assert _image_colour_spaces(grey) == ["/DeviceGray"]
    assert _image_colour_spaces(colour) == ["/DeviceRGB"]
    assert grey.stat().st_size < colour.stat().st_size
    assert same_picture(grey, 1, source, 1, tmp_path)
    print_pdf(source, pdf_printer(mixed), max_dpi=100, hand_over=False)  # the red page keeps its colour
    assert _image_colour_spaces(mixed) == ["/DeviceRGB", "/DeviceRGB"]
    assert same_picture(mixed, 2, source, 2, tmp_path)


def test_the_print_resolution_is_capped_at_300_dpi(app, numbered, tmp_path):
    out = tmp_path / "分辨率.pdf"
    printer = pdf_printer(out)  # HighResolution: 1200 dpi
    assert printer.resolution() > printing.MAX_PRINT_DPI
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(1, 1)
    print_pdf(numbered, printer, hand_over=False)  # as a printer of 1200 dpi gets it
    image = next(o.get_object() for o in pypdf.PdfReader(str(out)).pages[0]["/Resources"]["/XObject"].values())
    assert abs(int(image["/Width"]) - 595.28 / 72 * 300) <= 2
