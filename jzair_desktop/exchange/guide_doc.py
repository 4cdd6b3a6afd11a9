"""The user guide (使用说明): its Markdown source in resources/guide/ read into chapters and sections.

The source is one Markdown file per chapter (``NN-name.md``, in file-name order) in a small subset that
both the guide window and the PDF render:

- ``# 标题 {#anchor}`` a chapter, ``## …`` a section, ``### …`` a subsection; the ``{#anchor}`` is
  optional (the window's F1 and links find sections by it; without one the anchor is made up);
- paragraphs (lines joined; a blank line ends one), ``- `` and ``1. `` lists (one level; an indented
  line continues the item), GitHub pipe tables, ``> `` notes, fenced code blocks for commands;
- ``![说明](images/name.png)`` alone on a line: a screenshot (made by ``jzair guide --screenshots``);
- inline: ``**粗体**``, ```代码```, ``[文字](#anchor)``.

No Qt here: the window (gui/guide_window.py) and the PDF (exchange/pdf_guide.py) both render this model.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from jzair_desktop import paths
from jzair_desktop.errors import JzairError


def guide_dir() -> Path:
    return paths.resources_dir() / "guide"


@dataclass(frozen=True)
class Paragraph:
    text: str  # inline Markdown


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    items: tuple[str, ...]


@dataclass(frozen=True)
class TableBlock:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    path: Path
    caption: str


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Heading:
    level: int  # 3: a subsection inside a section
    text: str
    anchor: str


Block = Paragraph | ListBlock | TableBlock | Image | Note | Code | Heading


@dataclass
class Section:
    anchor: str
    title: str
    level: int  # 1: the chapter's own opening text, 2: a section
    chapter: str  # the chapter's anchor
    blocks: list[Block] = field(default_factory=list)

    def plain_text(self) -> str:
        """The section's words without markup (what the search looks in)."""
        parts = [self.title]
        for b in self.blocks:
            if isinstance(b, Paragraph | Note):
                parts.append(plain(b.text))
            elif isinstance(b, Code):
                parts.append(b.text)
            elif isinstance(b, Heading):
                parts.append(b.text)
            elif isinstance(b, ListBlock):
                parts += [plain(i) for i in b.items]
            elif isinstance(b, TableBlock):
                parts += [plain(c) for row in (b.header, *b.rows) for c in row]
            elif isinstance(b, Image):
                parts.append(b.caption)
        return "\n".join(parts)


@dataclass
class Chapter:
    anchor: str
    title: str
    file: Path
    sections: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    section: Section
    count: int
    snippet: str


@dataclass
class Guide:
    chapters: list[Chapter]

    def sections(self) -> list[Section]:
        return [s for c in self.chapters for s in c.sections]

    def section(self, anchor: str) -> Section | None:
        for s in self.sections():
            if s.anchor == anchor:
                return s
        return None

    def chapter(self, anchor: str) -> Chapter | None:
        return next((c for c in self.chapters if c.anchor == anchor), None)

    def chapter_of(self, anchor: str) -> Chapter | None:
        s = self.section(anchor)
        return self.chapter(s.chapter) if s is not None else None

    def anchors(self) -> set[str]:
        return {s.anchor for s in self.sections()}

    def images(self) -> list[Image]:
        return [b for s in self.sections() for b in s.blocks if isinstance(b, Image)]

    def search(self, term: str) -> list[Hit]:
        """Sections that contain `term` (case-insensitive; spaces around it ignored), with a snippet."""
        needle = term.strip().casefold()
        if not needle:
            return []
        hits = []
        for s in self.sections():
            text = s.plain_text()
            folded = text.casefold()
            count = folded.count(needle)
            if count:
                at = folded.index(needle)
                start = max(0, at - 18)
                snippet = text[start: at + len(needle) + 30].replace("\n", " ")
                hits.append(Hit(s, count, ("…" if start else "") + snippet + "…"))
        return hits


# --------------------------------------------------------------------------------------------------
# Inline markup

_INLINE = re.compile(r"\*\*(?P<b>.+?)\*\*|`(?P<c>[^`]+)`|\[(?P<lt>[^\]]+)\]\((?P<lh>[^)\s]+)\)")


def plain(text: str) -> str:
    """Inline Markdown without its marks."""
    return _INLINE.sub(lambda m: plain(m.group("b")) if m.group("b") else (m.group("c") or m.group("lt")), text)


def inline_markup(text: str, *, code_open: str, code_close: str, link: str = '<a href="{href}">{text}</a>') -> str:
    """Inline Markdown as the small HTML both Qt's rich text and reportlab's Paragraph understand."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos: m.start()], quote=False))
        if m.group("b") is not None:
            inner = inline_markup(m.group("b"), code_open=code_open, code_close=code_close, link=link)
            out.append(f"<b>{inner}</b>")
        elif m.group("c") is not None:
            out.append(f"{code_open}{html.escape(m.group('c'), quote=False)}{code_close}")
        else:
            out.append(link.format(href=html.escape(m.group("lh")), text=html.escape(m.group("lt"), quote=False)))
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Parsing

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*(?:\{#([A-Za-z0-9_-]+)\})?\s*$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\d+[.)]\s+(.*)$")
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def _join(lines: list[str]) -> str:
    """Lines of one paragraph: Chinese joins without a space, Latin words keep one."""
    text = ""
    for line in (ln.strip() for ln in lines):
        if text and line and text[-1].isascii() and line[0].isascii():
            text += " "
        text += line
    return text


def _cells(line: str) -> tuple[str, ...]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return tuple(c.strip() for c in line.split("|"))


def parse_chapter(text: str, file: Path, number: int) -> Chapter:
    """One chapter file. Raises JzairError naming the file and line on what the subset does not allow."""
    lines = text.splitlines()
    chapter: Chapter | None = None
    section: Section | None = None
    auto = 0
    i = 0

    def fail(message: str) -> JzairError:
        return JzairError(f"使用说明源文件有误：{file.name} 第{i + 1}行：{message}")

    def add(block: Block) -> None:
        if section is None:
            raise fail("正文前缺少以“# ”开头的章标题")
        section.blocks.append(block)

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if m := _HEADING.match(stripped):
            level, title, anchor = len(m.group(1)), m.group(2), m.group(3)
            if anchor is None:
                auto += 1
                anchor = f"c{number}-{auto}"
            if level == 1:
                if chapter is not None:
                    raise fail("一个文件只能有一个章标题（“# ”）")
                chapter = Chapter(anchor, title, file)
                section = Section(anchor, title, 1, anchor)
                chapter.sections.append(section)
            elif level == 2:
                if chapter is None:
                    raise fail("节标题之前缺少章标题")
                section = Section(anchor, title, 2, chapter.anchor)
                chapter.sections.append(section)
            else:
                add(Heading(3, title, anchor))
            i += 1
            continue
        if stripped.startswith("```"):
            j = i + 1
            body = []
            while j < len(lines) and not lines[j].strip().startswith("```"):
                body.append(lines[j])
                j += 1
            if j >= len(lines):
                raise fail("代码块没有结束（缺少 ```）")
            add(Code("\n".join(body)))
            i = j + 1
            continue
        if m := _IMAGE.match(stripped):
            rel = m.group(2)
            path = (file.parent / rel).resolve()
            add(Image(path, m.group(1)))
            i += 1
            continue
        if stripped.startswith(">"):
            body = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                body.append(lines[i].strip()[1:])
                i += 1
            add(Note(_join(body)))
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip()):
            header = _cells(stripped)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                row = _cells(lines[i])
                if len(row) != len(header):
                    raise fail(f"表格这一行有{len(row)}列，表头有{len(header)}列")
                rows.append(row)
                i += 1
            add(TableBlock(header, tuple(rows)))
            continue
        if _BULLET.match(stripped) or _NUMBERED.match(stripped):
            ordered = bool(_NUMBERED.match(stripped))
            pattern = _NUMBERED if ordered else _BULLET
            items: list[list[str]] = []
            while i < len(lines):
                cur = lines[i]
                if m := pattern.match(cur.strip()):
                    if cur.startswith((" ", "\t")) and items:
                        items[-1].append(cur)
                    else:
                        items.append([m.group(1)])
                elif cur.strip() and cur.startswith((" ", "\t")) and items:
                    items[-1].append(cur)
                else:
                    break
                i += 1
            add(ListBlock(ordered, tuple(_join(it) for it in items)))
            continue
        body = []
        while i < len(lines):
            cur = lines[i].strip()
            if (not cur or _HEADING.match(cur) or cur.startswith(("```", ">", "|")) or _IMAGE.match(cur)
                    or _BULLET.match(cur) or _NUMBERED.match(cur)):
                break
            body.append(cur)
            i += 1
        add(Paragraph(_join(body)))
    if chapter is None:
        raise JzairError(f"使用说明源文件有误：{file.name}：没有章标题（“# ”）")
    return chapter


def load_guide(folder: Path | None = None) -> Guide:
    """Every chapter file of the guide, in file-name order. Raises JzairError on a broken source."""
    folder = Path(folder) if folder is not None else guide_dir()
    files = sorted(folder.glob("[0-9][0-9]-*.md"))
    if not files:
        raise JzairError(f"找不到使用说明：{folder}。请重新安装本程序。")
    chapters = [parse_chapter(f.read_text(encoding="utf-8"), f, n) for n, f in enumerate(files, start=1)]
    guide = Guide(chapters)
    seen: set[str] = set()
    for s in guide.sections():
        if s.anchor in seen:
            raise JzairError(f"使用说明源文件有误：锚点“{s.anchor}”重复")
        seen.add(s.anchor)
    return guide
