"""`jzair guide --out`: the user guide as a PDF with every chapter, and the guide source itself."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.guide_doc import Image, TableBlock, load_guide, parse_chapter
from jzair_desktop.gui.guide_window import PAGE_SECTIONS
from jzair_desktop.gui.pages import PAGES


@pytest.mark.slow
def test_guide_out_writes_a_pdf_with_every_chapter(tmp_path, capsys):
    out = tmp_path / "使用说明.pdf"
    assert cli_main(["guide", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    reader = PdfReader(out)
    pages = len(reader.pages)
    assert f"共 {pages} 页" in printed and pages >= 10
    text = "\n".join(page.extract_text() for page in reader.pages)
    for chapter in load_guide().chapters:
        assert chapter.title in text, chapter.title
    assert "目　录" in text or "目 录" in text
    assert f"第 1 页 共 {pages} 页" in text and f"第 {pages} 页 共 {pages} 页" in text
    assert "11010519491231002X" in text  # a table cell
    fonts = {str(f) for p in reader.pages for f in (p["/Resources"].get("/Font") or {}).values()}
    assert fonts  # text is drawn with the embedded font, checked below
    names = {str(p["/Resources"]["/Font"][k].get_object()["/BaseFont"]) for p in reader.pages
             for k in p["/Resources"]["/Font"]}
    assert names and all("WenQuanYiMicroHei" in n for n in names), names  # no Helvetica anywhere
    assert reader.outline  # chapters are bookmarks


def test_guide_needs_an_output_and_refuses_other_suffixes(tmp_path, capsys):
    assert cli_main(["guide"]) != 0
    assert "--out" in capsys.readouterr().err
    assert cli_main(["guide", "--out", str(tmp_path / "说明.txt")]) != 0
    assert ".pdf" in capsys.readouterr().err
    assert not (tmp_path / "说明.txt").exists()


def test_the_guide_source_names_every_ledger_column_and_choice():
    """The ledger chapter follows the column registry: every header and every allowed value is in it."""
    guide = load_guide()
    for key, d in LEDGERS.items():
        section = guide.section(key)
        assert section is not None, key
        table = next(b for b in section.blocks if isinstance(b, TableBlock))
        headers = [row[0] for row in table.rows]
        assert headers == [c.header for c in d.columns], key
        text = section.plain_text()
        for column in d.columns:
            for choice in column.choices:
                assert choice in text, (key, column.header, choice)


def test_every_page_has_a_guide_section_and_every_image_exists():
    guide = load_guide()
    assert {p.key for p in PAGES} <= set(PAGE_SECTIONS)
    assert set(PAGE_SECTIONS.values()) <= guide.anchors()
    for image in guide.images():
        assert image.path.is_file(), image.path
        assert image.path.stat().st_size < 200_000  # screenshots are stored small
    for section in guide.sections():  # every link inside the guide leads somewhere
        import re

        for target in re.findall(r"\]\(#([^)]+)\)", section.plain_text() + "".join(
                getattr(b, "text", "") for b in section.blocks)):
            assert target in guide.anchors(), (section.anchor, target)


def test_a_broken_source_is_refused_with_file_and_line(tmp_path):
    bad = "# 章 {#a}\n\n| 甲 | 乙 |\n|---|---|\n| 1 | 2 | 3 |\n"
    with pytest.raises(JzairError, match=r"坏\.md 第5行.*3列"):
        parse_chapter(bad, tmp_path / "坏.md", 1)
    with pytest.raises(JzairError, match="缺少以“# ”开头的章标题"):
        parse_chapter("正文\n", tmp_path / "坏.md", 1)
    # An image's path is resolved against the chapter's folder (tmp_path: on Windows "/g" would gain a drive).
    chapter = parse_chapter("# 章 {#a}\n\n![图](images/x.png)\n\n## 节\n\n- 一\n  续\n- 二\n", tmp_path / "g" / "01-a.md", 1)
    assert chapter.sections[0].blocks == [Image((tmp_path / "g" / "images" / "x.png").resolve(), "图")]
    assert chapter.sections[1].anchor == "c1-1" and chapter.sections[1].blocks[0].items == ("一续", "二")
