"""帮助 → 使用说明: the user guide in a window of its own, with contents, search and F1 per page.

The guide's source is resources/guide/*.md (exchange/guide_doc.py reads it). The window shows one chapter
at a time in a QTextBrowser; the contents tree on the left lists chapters and sections; the search box
filters the tree to the sections holding the words typed and marks every place they occur. F1 in the main
window opens the section of the page that is on screen (PAGE_SECTIONS).
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QImageReader, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.exchange.guide_doc import (
    Chapter,
    Code,
    Guide,
    Heading,
    Image,
    ListBlock,
    Note,
    Paragraph,
    TableBlock,
    inline_markup,
    load_guide,
)

log = logging.getLogger(__name__)

# The guide section F1 opens for each page of the main window (gui/pages PAGES keys).
PAGE_SECTIONS: dict[str, str] = {
    **{key: key for key in LEDGERS},  # a ledger's page opens its section of the ledger chapter
    "dashboard": "dashboard",
    "report": "report",
    "targets": "targets",
    "figures": "figures",
    "submission": "submission",
    "packages": "packages",
    "audit": "audit",
    "users": "accounts",
    "plan": "plan",
    "settings": "backup",
}
START_SECTION = "start"
IMAGE_MAX_WIDTH = 760
ROLE_ANCHOR = Qt.ItemDataRole.UserRole


def _inline(text: str) -> str:
    return inline_markup(text, code_open='<code style="color:#7a2e0e">', code_close="</code>")


def chapter_html(chapter: Chapter) -> str:
    """One chapter as the rich text QTextBrowser shows (anchors named after the sections)."""
    out = ["<html><body style='font-size:11pt; line-height:150%'>"]
    for section in chapter.sections:
        tag = "h1" if section.level == 1 else "h2"
        out.append(f'<a name="{section.anchor}"></a><{tag}>{_inline(section.title)}</{tag}>')
        for block in section.blocks:
            out.append(_block_html(block))
    out.append("</body></html>")
    return "".join(out)


def _block_html(block) -> str:  # noqa: ANN001
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Heading):
        return f'<a name="{block.anchor}"></a><h3>{_inline(block.text)}</h3>'
    if isinstance(block, ListBlock):
        tag = "ol" if block.ordered else "ul"
        items = "".join(f"<li>{_inline(i)}</li>" for i in block.items)
        return f"<{tag}>{items}</{tag}>"
    if isinstance(block, TableBlock):
        head = "".join(f"<th style='background:#e8ecf0'>{_inline(c)}</th>" for c in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return (f"<table border='1' cellspacing='0' cellpadding='4' style='border-color:#999;"
                f"border-collapse:collapse'><tr>{head}</tr>{rows}</table><p></p>")
    if isinstance(block, Image):
        size = QImageReader(str(block.path)).size()
        width = min(size.width(), IMAGE_MAX_WIDTH) if size.isValid() else IMAGE_MAX_WIDTH
        src = QUrl.fromLocalFile(str(block.path)).toString()
        caption = f"<br><span style='color:#555'>图：{_inline(block.caption)}</span>" if block.caption else ""
        return f"<p align='center'><img src=\"{html.escape(src)}\" width='{width}'>{caption}</p>"
    if isinstance(block, Note):
        return (f"<table width='100%' cellpadding='8' style='background:#fff4e5'><tr><td>"
                f"{_inline(block.text)}</td></tr></table><p></p>")
    if isinstance(block, Code):
        return f"<pre style='background:#f1f3f5'>{html.escape(block.text)}</pre>"
    raise TypeError(block)


class GuideWindow(QWidget):
    """The guide: contents and search on the left, a chapter on the right. One per main window."""

    def __init__(self, guide: Guide | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("guideWindow")
        self.setWindowTitle(f"使用说明 - {APP_TITLE}")
        self.guide = guide or load_guide()
        self.current_chapter: str | None = None
        self.current_anchor: str | None = None

        self.search = QLineEdit()
        self.search.setObjectName("guideSearch")
        self.search.setPlaceholderText("搜索使用说明（Ctrl+F）")
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(50)
        self.result_label = QLabel()
        self.result_label.setObjectName("guideResults")
        self.result_label.setStyleSheet("color: #555;")
        self.tree = QTreeWidget()
        self.tree.setObjectName("guideContents")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(1)
        self._items: dict[str, QTreeWidgetItem] = {}
        for chapter in self.guide.chapters:
            top = QTreeWidgetItem([chapter.title])
            top.setData(0, ROLE_ANCHOR, chapter.anchor)
            self._items[chapter.anchor] = top
            for section in chapter.sections[1:]:
                child = QTreeWidgetItem([section.title])
                child.setData(0, ROLE_ANCHOR, section.anchor)
                top.addChild(child)
                self._items[section.anchor] = child
            self.tree.addTopLevelItem(top)
        self.tree.expandAll()
        self.tree.currentItemChanged.connect(self._on_tree)

        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search)
        lay.addWidget(self.result_label)
        lay.addWidget(self.tree, 1)

        self.browser = QTextBrowser()
        self.browser.setObjectName("guideText")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        self.browser.document().setDocumentMargin(14)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_search)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._focus_search)
        QShortcut(QKeySequence("Esc"), self, activated=self._escape)
        self.resize(1180, 760)
        self.show_section(START_SECTION if self.guide.section(START_SECTION) else self.guide.chapters[0].anchor)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(1180, 760)

    # -- navigation -------------------------------------------------------------------------------
    def show_section(self, anchor: str) -> bool:
        """Show the chapter holding `anchor` and scroll to it. False for an unknown anchor."""
        chapter = self.guide.chapter_of(anchor)
        if chapter is None:
            return False
        if chapter.anchor != self.current_chapter:
            self.browser.setHtml(chapter_html(chapter))
            self.current_chapter = chapter.anchor
        self.current_anchor = anchor
        item = self._items.get(anchor)
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
        if anchor == chapter.anchor:
            self.browser.verticalScrollBar().setValue(0)
        else:
            self.browser.scrollToAnchor(anchor)
        self._mark(self.search.text())
        return True

    def _on_tree(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is None:
            return
        anchor = current.data(0, ROLE_ANCHOR)
        self.show_section(anchor)
        term = self.search.text().strip()
        if term:
            self._scroll_to_term(anchor, term)

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() in ("", "file") and url.fragment():
            self.show_section(url.fragment())

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _escape(self) -> None:
        if self.search.text():
            self.search.clear()
        else:
            self.close()

    # -- search ------------------------------------------------------------------------------------
    def apply_search(self) -> list[str]:
        """Filter the contents to the sections holding the search text; returns their anchors."""
        self._search_timer.stop()
        term = self.search.text().strip()
        if not term:
            for item in self._items.values():
                item.setHidden(False)
            self.result_label.setText("")
            self._mark("")
            return []
        hits = self.guide.search(term)
        found = {h.section.anchor for h in hits}
        for chapter in self.guide.chapters:
            top = self._items[chapter.anchor]
            any_child = False
            for section in chapter.sections[1:]:
                hidden = section.anchor not in found
                self._items[section.anchor].setHidden(hidden)
                any_child |= not hidden
            top.setHidden(chapter.anchor not in found and not any_child)
        total = sum(h.count for h in hits)
        if hits:
            self.result_label.setText(f"找到 {total} 处，在 {len(hits)} 节中")
            first = hits[0].section.anchor
            if self.current_anchor not in found:
                self.show_section(first)
            self._scroll_to_term(self.current_anchor or first, term)
        else:
            self.result_label.setText("没有找到。可换一个词，如“身份证”“上报”“备份”。")
        self._mark(term)
        return [h.section.anchor for h in hits]

    def _mark(self, term: str) -> None:
        """Highlight every place of `term` in the chapter shown."""
        term = term.strip()
        selections = []
        if term:
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ffe066"))
            doc = self.browser.document()
            cursor = QTextCursor(doc)
            while True:
                cursor = doc.find(term, cursor)
                if cursor.isNull():
                    break
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
        self.browser.setExtraSelections(selections)

    def _scroll_to_term(self, anchor: str, term: str) -> None:
        """Scroll to the first place of `term` at or after the section `anchor` in the chapter shown."""
        section = self.guide.section(anchor)
        doc = self.browser.document()
        start = QTextCursor(doc)
        if section is not None and section.level > 1:
            found = doc.find(section.title, 0)
            if not found.isNull():
                start = found
        cursor = doc.find(term, start)
        if cursor.isNull():
            cursor = doc.find(term, 0)
        if not cursor.isNull():
            self.browser.setTextCursor(cursor)
            self.browser.ensureCursorVisible()

    def marked_count(self) -> int:
        return len(self.browser.extraSelections())

    def visible_anchors(self) -> list[str]:
        return [a for a, item in self._items.items() if not item.isHidden()]


def open_guide(owner: QWidget, anchor: str | None = None) -> GuideWindow:
    """The guide window of `owner` (made once, shown, raised), at `anchor` if given."""
    window = owner.findChild(GuideWindow, "guideWindow")
    if window is None:
        window = GuideWindow(parent=owner)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    if anchor:
        window.show_section(anchor)
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def section_for_page(page_key: str | None) -> str:
    return PAGE_SECTIONS.get(page_key or "", START_SECTION)

