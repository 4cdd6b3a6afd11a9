"""The user guide as a printable PDF (A4, the bundled font, a contents page, 第 X 页 共 Y 页).

    write_guide_pdf(load_guide(), Path("使用说明.pdf"))

Chapters start on a new page; screenshots are scaled to the text width (and at most about half a page
high); tables wrap their cells; links inside the guide become links inside the PDF.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import (
    Image as RLImage,
)
from reportlab.platypus import (
    Paragraph as RLParagraph,
)
from reportlab.platypus.doctemplate import BaseDocTemplate, PageTemplate
from reportlab.platypus.frames import Frame
from reportlab.platypus.tableofcontents import TableOfContents

from jzair_desktop import APP_TITLE, __version__
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import pdf_common as pc
from jzair_desktop.exchange.guide_doc import (
    Code,
    Guide,
    Heading,
    Image,
    ListBlock,
    Note,
    Paragraph,
    TableBlock,
    inline_markup,
)
from jzair_desktop.fsutil import replace_file

NOTE_FILL = colors.HexColor("#fff4e5")
CODE_FILL = colors.HexColor("#f1f3f5")
IMAGE_MAX_HEIGHT = pc.FRAME_HEIGHT * 0.5


def _inline(text: str) -> str:
    # The bundled font has one weight only: bold shows as a darker blue.
    marked = inline_markup(text, code_open='<font color="#7a2e0e">', code_close="</font>",
                           link='<a href="{href}" color="#1f5f9e">{text}</a>')
    return marked.replace("<b>", '<font color="#0b2f5c"><b>').replace("</b>", "</b></font>")


class _GuideDoc(BaseDocTemplate):
    """Registers chapter and section headings in the contents and as PDF outline entries."""

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's name
        level = getattr(flowable, "_toc_level", None)
        if level is None:
            return
        text, key = flowable._toc_text, flowable._toc_key  # noqa: SLF001
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
        self.notify("TOCEntry", (level, text, self.page, key))


def _heading(text: str, style, level: int, anchor: str) -> RLParagraph:  # noqa: ANN001
    para = RLParagraph(f'<a name="{anchor}"/>{_inline(text)}', style)
    para._toc_level = level  # noqa: SLF001
    para._toc_text = text  # noqa: SLF001
    para._toc_key = anchor  # noqa: SLF001
    return para


def _image(img: Image, styles: pc.Styles) -> list[Flowable]:
    if not img.path.is_file():
        raise JzairError(f"使用说明中的图片不存在：{img.path}（请运行 jzair guide --screenshots 重新生成）")
    from reportlab.lib.utils import ImageReader

    width_px, height_px = ImageReader(str(img.path)).getSize()
    width = min(pc.FRAME_WIDTH, width_px * 0.5)
    height = width * height_px / width_px
    if height > IMAGE_MAX_HEIGHT:
        height = IMAGE_MAX_HEIGHT
        width = height * width_px / height_px
    flow = RLImage(str(img.path), width=width, height=height)
    flow.hAlign = "CENTER"
    parts: list[Flowable] = [Spacer(1, 3), flow]
    if img.caption:
        parts.append(RLParagraph(f"图：{_inline(img.caption)}", styles.caption))
    return [KeepTogether(parts)]


def _boxed(para: RLParagraph, fill: colors.Color) -> Table:
    table = Table([[para]], colWidths=[pc.FRAME_WIDTH])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), pc.FONT, 10),
        ("BACKGROUND", (0, 0), (-1, -1), fill),
        ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ("RIGHTPADDING", (0, 0), (-1, -1), 7),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    return table


def _table(block: TableBlock, styles: _Styles) -> Table:
    """Columns as wide as their text asks (capped), but never narrower than a short word of 8 characters."""
    longest = [max(len(row[c]) for row in (block.header, *block.rows)) for c in range(len(block.header))]
    weights = [min(max(n, 3), 30) for n in longest]
    widths = [w * pc.FRAME_WIDTH / sum(weights) for w in weights]
    floor = [min(n, 8) * 9.5 + 8 for n in longest]
    for c, need in enumerate(floor):
        short = need - widths[c]
        if short > 0:
            widest = max(range(len(widths)), key=lambda i: widths[i])
            widths[widest] -= short
            widths[c] = need
    cols = [pc.Col(h, w, wrap=True) for h, w in zip(block.header, widths, strict=True)]
    rows = [[RLParagraph(_inline(cell), styles.cell) for cell in row] for row in block.rows]
    return pc.data_table(styles.base, cols, rows, font_size=9)


class _Styles:
    """The report's styles plus the guide's own (captions, list items, notes, code)."""

    def __init__(self) -> None:
        base = pc.make_styles()
        self.base = base
        self.title = base.title
        self.h1 = pc._style("g_h1", 17, leading=24, spaceBefore=0, spaceAfter=8)  # noqa: SLF001
        self.h2 = pc._style("g_h2", 13, leading=19, spaceBefore=10, spaceAfter=5)  # noqa: SLF001
        self.h3 = pc._style("g_h3", 11.5, leading=16, spaceBefore=7, spaceAfter=3,  # noqa: SLF001
                            textColor=colors.HexColor("#0b2f5c"))
        self.body = pc._style("g_body", 10.5, leading=17, spaceAfter=5)  # noqa: SLF001
        self.item = pc._style("g_item", 10.5, leading=16, leftIndent=16, bulletIndent=4, bulletFontName=pc.FONT,  # noqa: SLF001, E501
                              spaceAfter=2)
        self.note = pc._style("g_note", 10, leading=16)  # noqa: SLF001
        self.code = pc._style("g_code", 9.5, leading=14)  # noqa: SLF001
        self.caption = pc._style("g_caption", 9, leading=13, align=1, textColor=pc.RULE, spaceAfter=6)  # noqa: SLF001
        self.cell = base.cell
        self.head_cell = base.head_cell
        self.cell_center = base.cell_center
        self.cell_right = base.cell_right


def guide_story(guide: Guide, styles: _Styles, *, version: str, today: dt.date) -> list[Flowable]:
    story: list[Flowable] = [
        Spacer(1, 60 * mm),
        RLParagraph(APP_TITLE, styles.title),
        RLParagraph("使用说明", pc._style("g_cover", 26, leading=36, align=1, spaceBefore=8)),  # noqa: SLF001
        Spacer(1, 12 * mm),
        RLParagraph(f"适用于程序版本 {version}　　{pc.fmt_date_cn(today)}印制", styles.base.meta),
        RLParagraph("供各县（区、市）填报员和市大气污染防治工作领导组办公室工作人员使用", styles.base.meta),
        PageBreak(),
        RLParagraph("目　录", pc._style("g_toc_title", 17, leading=24, align=1, spaceAfter=10)),  # noqa: SLF001
    ]
    toc = TableOfContents()
    toc.levelStyles = [
        pc._style("toc1", 11.5, leading=19, leftIndent=0, spaceBefore=4),  # noqa: SLF001
        pc._style("toc2", 10, leading=15, leftIndent=18),  # noqa: SLF001
    ]
    toc.dotsMinLevel = 0
    toc.tableStyle = TableStyle([
        ("FONT", (0, 0), (-1, -1), pc.FONT, 10),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ])
    story.append(toc)
    for chapter in guide.chapters:
        story.append(PageBreak())
        for section in chapter.sections:
            if section.level == 1:
                story.append(_heading(section.title, styles.h1, 0, section.anchor))
            else:
                story.append(CondPageBreak(30 * mm))
                story.append(_heading(section.title, styles.h2, 1, section.anchor))
            for block in section.blocks:
                story += _block(block, styles)
    return story


def _block(block, styles: _Styles) -> list[Flowable]:  # noqa: ANN001
    if isinstance(block, Paragraph):
        return [RLParagraph(_inline(block.text), styles.body)]
    if isinstance(block, Heading):
        return [CondPageBreak(25 * mm), RLParagraph(f'<a name="{block.anchor}"/>{_inline(block.text)}', styles.h3)]
    if isinstance(block, ListBlock):
        out: list[Flowable] = []
        for n, item in enumerate(block.items, start=1):
            bullet = f"{n}." if block.ordered else "•"
            out.append(RLParagraph(_inline(item), styles.item, bulletText=bullet))
        out.append(Spacer(1, 3))
        return out
    if isinstance(block, TableBlock):
        return [Spacer(1, 2), _table(block, styles), Spacer(1, 6)]
    if isinstance(block, Image):
        return _image(block, styles)
    if isinstance(block, Note):
        return [Spacer(1, 2), _boxed(RLParagraph(_inline(block.text), styles.note), NOTE_FILL), Spacer(1, 6)]
    if isinstance(block, Code):
        text = "<br/>".join(pc.escape(line) for line in block.text.splitlines())
        return [Spacer(1, 2), _boxed(RLParagraph(text, styles.code), CODE_FILL), Spacer(1, 6)]
    raise TypeError(block)


def write_guide_pdf(guide: Guide, out: Path, *, version: str = __version__, today: dt.date | None = None) -> int:
    """Write the guide to `out` (written beside it and moved into place). Returns the number of pages."""
    out = Path(out)
    styles = _Styles()
    today = today or dt.date.today()
    canvas = pc.numbered_canvas(f"{APP_TITLE}　使用说明", f"程序版本 {version}")
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise JzairError(f"无法写入文件：{out}（{exc.strerror or exc}）") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        doc = _GuideDoc(
            str(tmp), pagesize=pc.PAGE_SIZE, leftMargin=pc.MARGIN_LEFT, rightMargin=pc.MARGIN_RIGHT,
            topMargin=pc.MARGIN_TOP, bottomMargin=pc.MARGIN_BOTTOM, title=f"{APP_TITLE} 使用说明",
            author="晋中市大气污染防治工作领导组办公室", subject="使用说明", initialFontName=pc.FONT, initialFontSize=10,
        )
        frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        doc.multiBuild(guide_story(guide, styles, version=version, today=today), canvasmaker=canvas)
        pages = doc.page
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private; an ordinary file for the user to share
        replace_file(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(f"无法写入文件：{out}（{exc.strerror or exc}）") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pages


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
