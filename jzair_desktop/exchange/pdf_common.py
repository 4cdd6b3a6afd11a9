"""Shared PDF building blocks (reportlab, no Qt): the embedded CJK font, paragraph styles, number
formats, data tables, and the page canvas that prints a header and "第 X 页 共 Y 页" on every page.

The font is WenQuanYi Micro Hei from resources/fonts, registered as a TrueType font so reportlab
embeds a subset of it in every PDF (never a viewer-side CID font). Every style, table style, header
and footer below names it explicitly: reportlab's default is Helvetica, which has no Chinese.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from jzair_desktop import paths
from jzair_desktop.errors import JzairError

FONT = "WQYMicroHei"
PAGE_SIZE = A4
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
FRAME_PADDING = 6  # SimpleDocTemplate's frame pads its content by 6 pt on each side
FRAME_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT - 2 * FRAME_PADDING
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - 2 * FRAME_PADDING

INK = colors.HexColor("#1a1a1a")
RULE = colors.HexColor("#555555")
GRID = colors.HexColor("#8c8c8c")
HEADER_FILL = colors.HexColor("#e3e3e3")
TOTAL_FILL = colors.HexColor("#f1f1f1")
OFFICIAL_RED = colors.HexColor("#c00000")

# Status tints: light enough to print as distinct greys; the status word and symbol carry the meaning.
STATUS_FILL = {
    "done": colors.HexColor("#dff0d8"),
    "on_track": None,
    "behind": colors.HexColor("#fcf0c0"),
    "overdue": colors.HexColor("#f6d0cc"),
    "no_target": None,
    "met": colors.HexColor("#dff0d8"),
    "not_met": colors.HexColor("#f6d0cc"),
    "no_data": None,
    "pending": None,
}
STATUS_SYMBOL = {"done": "●", "on_track": "○", "behind": "▲", "overdue": "■", "no_target": "—",
                 "met": "●", "not_met": "■", "no_data": "—", "pending": "○"}

_font_lock = threading.Lock()


def register_fonts(path: Path | None = None) -> str:
    """Register the bundled CJK font once per process; returns its reportlab name."""
    with _font_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return FONT
        font_file = Path(path) if path is not None else paths.font_path()
        try:
            pdfmetrics.registerFont(TTFont(FONT, str(font_file), subfontIndex=0))
        except (OSError, ValueError) as exc:
            raise JzairError(f"无法载入报告字体：{font_file}（{exc}）。请重新安装本程序。") from exc
        # One face only: <b> in a paragraph must not fall back to Helvetica-Bold.
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
        return FONT


# --------------------------------------------------------------------------- styles
@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    meta: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    cell_right: ParagraphStyle
    head_cell: ParagraphStyle
    letter_org: ParagraphStyle
    letter_title: ParagraphStyle
    letter_no: ParagraphStyle
    letter_body: ParagraphStyle
    letter_sign: ParagraphStyle


def _style(name: str, size: float, *, leading: float | None = None, align: int = TA_LEFT, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT,
        fontSize=size,
        leading=leading if leading is not None else round(size * 1.35, 1),
        alignment=align,
        wordWrap="CJK",
        textColor=kw.pop("textColor", INK),
        **kw,
    )


def make_styles() -> Styles:
    register_fonts()
    return Styles(
        title=_style("title", 21, leading=30, align=TA_CENTER, spaceAfter=4),
        subtitle=_style("subtitle", 15, leading=22, align=TA_CENTER, spaceAfter=2),
        meta=_style("meta", 10.5, leading=16, align=TA_CENTER, textColor=RULE),
        h1=_style("h1", 14, leading=20, spaceBefore=10, spaceAfter=6),
        h2=_style("h2", 11.5, leading=16, spaceBefore=8, spaceAfter=4),
        body=_style("body", 10.5, leading=17, firstLineIndent=21, spaceAfter=4),
        note=_style("note", 8.5, leading=12, textColor=RULE, spaceBefore=2, spaceAfter=4),
        cell=_style("cell", 8.5, leading=11),
        cell_center=_style("cell_center", 8.5, leading=11, align=TA_CENTER),
        cell_right=_style("cell_right", 8.5, leading=11, align=TA_RIGHT),
        head_cell=_style("head_cell", 8.5, leading=11, align=TA_CENTER),
        letter_org=_style("letter_org", 22, leading=32, align=TA_CENTER, textColor=OFFICIAL_RED),
        letter_title=_style("letter_title", 16, leading=26, align=TA_CENTER, spaceBefore=6, spaceAfter=10),
        letter_no=_style("letter_no", 10.5, leading=16, align=TA_CENTER),
        letter_body=_style("letter_body", 12, leading=22, firstLineIndent=24, spaceAfter=4),
        letter_sign=_style("letter_sign", 12, leading=22, align=TA_RIGHT),
    )


# --------------------------------------------------------------------------- formats
def fmt_number(value: float | None, *, missing: str = "—", decimals: int | None = None) -> str:
    """84,400 / 12.5 / 1,234.56; `missing` for None. Whole numbers print without decimals."""
    if value is None:
        return missing
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def fmt_percent(fraction: float | None, *, missing: str = "—") -> str:
    """62.3% style for a fraction (0.623)."""
    if fraction is None:
        return missing
    return f"{fraction * 100:.1f}%"


def fmt_date_cn(day) -> str:  # noqa: ANN001 - a datetime.date
    return f"{day.year}年{day.month}月{day.day}日"


def fmt_month_cn(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def escape(text: object) -> str:
    """Text safe inside a reportlab Paragraph (which parses a little XML)."""
    return str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Col:
    """One table column: its header, width (points), and how its cells align ('left'|'center'|'right').

    `wrap` cells become CJK-wrapping paragraphs (names, long text); others stay plain strings (fast).
    """

    header: str
    width: float
    align: str = "left"
    wrap: bool = False


def scale_widths(cols: Sequence[Col], total: float = FRAME_WIDTH) -> list[float]:
    raw = sum(c.width for c in cols)
    return [c.width * total / raw for c in cols]


def data_table(
    styles: Styles,
    cols: Sequence[Col],
    rows: Sequence[Sequence[object]],
    *,
    total_rows: Sequence[int] = (),
    row_fills: dict[int, colors.Color] | None = None,
    cell_fills: dict[tuple[int, int], colors.Color] | None = None,
    width: float = FRAME_WIDTH,
    font_size: float = 8.5,
) -> Table:
    """A bordered table: header row repeated on every page, numbers right-aligned, long text wrapped.

    `rows` hold display strings (already formatted). Indexes in `total_rows`, `row_fills` and
    `cell_fills` count data rows from 0 (the header is not counted).
    """
    widths = scale_widths(cols, width)
    para_style = {"left": styles.cell, "center": styles.cell_center, "right": styles.cell_right}
    header = [Paragraph(escape(c.header), styles.head_cell) for c in cols]
    body: list[list[object]] = []
    for row in rows:
        cells: list[object] = []
        for col, value in zip(cols, row, strict=True):
            if isinstance(value, Paragraph):
                cells.append(value)
            elif col.wrap:
                cells.append(Paragraph(escape(value), para_style[col.align]))
            else:
                cells.append("" if value is None else str(value))
        body.append(cells)
    table = Table([header, *body], colWidths=widths, repeatRows=1)
    cmds: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), FONT, font_size, font_size + 2.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BOX", (0, 0), (-1, -1), 0.9, RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.9, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for i, col in enumerate(cols):
        align = {"left": "LEFT", "center": "CENTER", "right": "RIGHT"}[col.align]
        cmds.append(("ALIGN", (i, 1), (i, -1), align))
    for r in total_rows:
        cmds.append(("BACKGROUND", (0, r + 1), (-1, r + 1), TOTAL_FILL))
        cmds.append(("LINEABOVE", (0, r + 1), (-1, r + 1), 0.9, RULE))
    for r, fill in (row_fills or {}).items():
        cmds.append(("BACKGROUND", (0, r + 1), (-1, r + 1), fill))
    for (r, c), fill in (cell_fills or {}).items():
        cmds.append(("BACKGROUND", (c, r + 1), (c, r + 1), fill))
    table.setStyle(TableStyle(cmds))
    return table


def status_text(status: str, label: str) -> str:
    """The status word with its black-and-white symbol, e.g. '▲滞后'."""
    return f"{STATUS_SYMBOL.get(status, '')}{label}"


def status_legend() -> str:
    return ("图例：●已完成　○按进度　▲滞后（完成率低于时序进度5个百分点以上）　■逾期（已过时限仍未完成）　"
            "—未分解（目标尚未分解）或无任务（该项任务不涉及本单位，或台账中没有需治理的对象）；"
            "限值指标：●达标　■未达标（最近填报月份未达到限值）；节点任务：○未到期　■逾期未完成")


# --------------------------------------------------------------------------- page canvas
def numbered_canvas(header_left: str, header_right: str, *, footer_note: str = "",
                    last_page_note: str = "") -> type[rl_canvas.Canvas]:
    """A canvas class (for `canvasmaker=`) that prints the header and '第 X 页 共 Y 页' on every page
    (and `last_page_note` at the left of the footer of the last page).

    Page output is deferred until the document is complete so the total page count is known (the
    well-known NumberedCanvas recipe).
    """

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._saved_page_states: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._saved_page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_page_states)
            for state in self._saved_page_states:
                self.__dict__.update(state)
                self._draw_frame_texts(total)
                super().showPage()
            super().save()

        def _draw_frame_texts(self, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFillColor(RULE)
            self.setStrokeColor(RULE)
            self.setFont(FONT, 8.5)
            y = height - 13 * mm
            self.drawString(MARGIN_LEFT, y, header_left)
            self.drawRightString(width - MARGIN_RIGHT, y, header_right)
            self.setLineWidth(0.6)
            self.line(MARGIN_LEFT, y - 2.5 * mm, width - MARGIN_RIGHT, y - 2.5 * mm)
            self.setFont(FONT, 9)
            self.drawCentredString(width / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            if footer_note:
                self.setFont(FONT, 7.5)
                self.drawRightString(width - MARGIN_RIGHT, 10 * mm, footer_note)
            if last_page_note and self._pageNumber == total:
                self.setFont(FONT, 7.5)
                self.drawString(MARGIN_LEFT, 10 * mm, last_page_note)
            self.restoreState()

    return NumberedCanvas
