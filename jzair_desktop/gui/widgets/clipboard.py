"""Copy and paste between the program's tables and Excel / WPS.

Copy puts a selection on the clipboard twice: tab-separated text (what Excel and WPS read first) and an
HTML table (what keeps the cells apart in WPS, Word and mail); 复制（含表头） adds the header row. A model
may answer COPY_ROLE with the text to copy for a cell (the ledger table does, so 身份证号 is copied whole
only for a user who may read it whole); otherwise the cell's displayed text is copied.

Paste reads the clipboard as a block of rows: the tab-separated text when there is one, else the first
HTML table (WPS sometimes offers only HTML). What a paste does is up to the page (`on_paste`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from html.parser import HTMLParser

from PySide6.QtCore import QEvent, QMimeData, QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QTableView

COPY_ROLE = int(Qt.ItemDataRole.UserRole) + 40
MAX_PASTE_CELLS = 200_000  # a block larger than this is refused before it is looked at cell by cell

Block = list[list[str]]


# --------------------------------------------------------------------------- text formats
def _tsv_cell(text: str) -> str:
    if any(ch in text for ch in '\t\n\r"'):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_tsv(rows: Block) -> str:
    """Rows as Excel writes them to the clipboard: tabs between cells, CRLF after each row, cells holding
    a tab, a line break or a quote in quotes."""
    return "".join("\t".join(_tsv_cell(c) for c in row) + "\r\n" for row in rows)


def _looks_like_digits_id(text: str) -> bool:
    """A long digit string (身份证号, 统一社会信用代码 digits) or one with a leading zero: Excel would turn it
    into a number and lose digits, so the HTML marks it as text."""
    t = text.strip()
    return t.isdigit() and (len(t) > 11 or (len(t) > 1 and t.startswith("0")))


def to_html(rows: Block, header: list[str] | None = None) -> str:
    """An HTML table Excel and WPS paste as cells (long digit strings kept as text)."""
    out = ['<html><head><meta charset="utf-8"></head><body><table border="1" cellspacing="0">']
    if header is not None:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for c in row:
            style = ' style="mso-number-format:\'\\@\'"' if _looks_like_digits_id(c) else ""
            cells.append(f"<td{style}>{html.escape(c).replace(chr(10), '<br>')}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></body></html>")
    return "".join(out)


def mime_data(rows: Block, header: list[str] | None = None) -> QMimeData:
    mime = QMimeData()
    mime.setText(to_tsv(([header] if header is not None else []) + rows))
    mime.setHtml(to_html(rows, header))
    return mime


def parse_tsv(text: str) -> Block:
    """Excel's clipboard text as rows of cells: tabs between cells, a line break between rows, a quoted
    cell may hold tabs, line breaks and doubled quotes. The line break after the last row is not a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows: Block = []
    row: list[str] = []
    cell: list[str] = []
    i, n = 0, len(text)
    at_cell_start = True
    while i < n:
        ch = text[i]
        if at_cell_start and ch == '"':
            # A quoted cell: up to the closing quote ("" is a quote inside).
            j = i + 1
            buf = []
            closed = False
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    closed = True
                    j += 1
                    break
                buf.append(text[j])
                j += 1
            if closed and (j >= n or text[j] in "\t\n"):
                cell.extend(buf)
                i = j
                at_cell_start = False
                continue
            # Not a well-formed quoted cell: read the quote as text.
        at_cell_start = False
        if ch == "\t":
            row.append("".join(cell))
            cell = []
            at_cell_start = True
        elif ch == "\n":
            row.append("".join(cell))
            rows.append(row)
            row, cell = [], []
            at_cell_start = True
        else:
            cell.append(ch)
        i += 1
    if cell or row:
        row.append("".join(cell))
        rows.append(row)
    return rows


class _TableParser(HTMLParser):
    """The first <table> of an HTML fragment as rows of cell text (colspan/rowspan cells repeat empty)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: Block = []
        self.depth = 0
        self.done = False
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.span = 1
        self.skip = 0  # inside <style>/<script>
        self.down: dict[int, int] = {}  # column -> rows still covered by a rowspan above

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag in ("style", "script"):
            self.skip += 1
        elif tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self.row = []
        elif self.depth == 1 and tag in ("td", "th") and self.row is not None:
            self._cover()
            a = dict(attrs)
            self.span = _int_attr(a.get("colspan"))
            rowspan = _int_attr(a.get("rowspan"))
            if rowspan > 1:
                for k in range(self.span):
                    self.down[len(self.row) + k] = rowspan - 1
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def _cover(self) -> None:
        """Empty cells for the columns a rowspan from a row above covers."""
        assert self.row is not None
        while self.down.get(len(self.row), 0) > 0:
            col = len(self.row)
            self.row.append("")
            self.down[col] -= 1

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag in ("style", "script"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            text = "".join(self.cell).replace("\xa0", " ")
            lines = [" ".join(line.split()) for line in text.split("\n")]
            self.row.append("\n".join(lines).strip())
            self.row.extend([""] * (self.span - 1))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.depth == 1:
            self._cover()
            self.rows.append(self.row)
            self.row = None
        elif tag == "table":
            self.depth -= 1
            if self.depth == 0:
                self.done = True

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not self.skip:
            self.cell.append(data)


def _int_attr(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000))
    except (TypeError, ValueError):
        return 1


def parse_html_table(text: str) -> Block:
    """The first table of an HTML fragment (as WPS and Excel put it on the clipboard) as rows of text."""
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return parser.rows


def clipboard_block(mime: QMimeData | None = None) -> Block:
    """The clipboard's content as rows: its tab-separated text, or its first HTML table when only HTML is
    offered (or the text is empty). Trailing empty rows are dropped; rows are padded to one width."""
    if mime is None:
        mime = QGuiApplication.clipboard().mimeData()
    rows: Block = []
    if mime is not None and mime.hasText() and mime.text().strip():
        rows = parse_tsv(mime.text())
    elif mime is not None and mime.hasHtml():
        rows = parse_html_table(mime.html())
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


# --------------------------------------------------------------------------- views
def _visible_columns(view: QTableView) -> list[int]:
    header = view.horizontalHeader()
    cols = [c for c in range(view.model().columnCount()) if not view.isColumnHidden(c)]
    return sorted(cols, key=header.visualIndex)


def cell_text(index: QModelIndex) -> str:
    value = index.data(COPY_ROLE)
    if value is None:
        value = index.data(Qt.ItemDataRole.DisplayRole)
    return "" if value is None else str(value)


def selected_block(view: QTableView, *, whole: bool = False) -> tuple[list[int], list[int]]:
    """The rows and the (visible, in shown order) columns of the selection's bounding set; with `whole`,
    every row and column."""
    model = view.model()
    cols = _visible_columns(view)
    if whole:
        return [r for r in range(model.rowCount()) if not view.isRowHidden(r)], cols
    indexes = view.selectionModel().selectedIndexes() if view.selectionModel() else []
    if not indexes and view.currentIndex().isValid():
        indexes = [view.currentIndex()]
    rows = sorted({i.row() for i in indexes})
    picked = {i.column() for i in indexes}
    return rows, [c for c in cols if c in picked]


def block_of(view: QTableView, rows: list[int], cols: list[int]) -> tuple[Block, list[str]]:
    """The texts of rows × cols (cells not selected in a ragged selection are copied too: Excel has no
    holes) and the column headers."""
    model = view.model()
    data = [[cell_text(model.index(r, c)) for c in cols] for r in rows]
    header = [str(model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "").replace("\n", " ")
              for c in cols]
    return data, header


def copy_selection(view: QTableView, *, with_header: bool = False, whole: bool = False) -> int:
    """Put the selection (or the whole table) on the clipboard; returns the number of rows copied."""
    rows, cols = selected_block(view, whole=whole)
    if not rows or not cols:
        return 0
    data, header = block_of(view, rows, cols)
    QGuiApplication.clipboard().setMimeData(mime_data(data, header if with_header else None))
    return len(rows)


class TableClipboard(QObject):
    """Ctrl+C / 复制 / 复制（含表头） / 复制整表 on a table view, and Ctrl+V / 粘贴 when `on_paste` is given
    (called with the clipboard's block of rows). The actions also make the view's context menu."""

    def __init__(self, view: QTableView, on_paste: Callable[[Block], object] | None = None) -> None:
        super().__init__(view)
        self.view = view
        self.on_paste = on_paste
        self.on_undo: Callable[[], object] | None = None  # Ctrl+Z on the view (a grid's paste undo)
        self.act_copy = QAction("复制（Ctrl+C）", view)
        self.act_copy.triggered.connect(lambda: copy_selection(view))
        self.act_copy_header = QAction("复制（含表头）", view)
        self.act_copy_header.triggered.connect(lambda: copy_selection(view, with_header=True))
        self.act_copy_all = QAction("复制整表（含表头）", view)
        self.act_copy_all.triggered.connect(lambda: copy_selection(view, with_header=True, whole=True))
        self.act_paste = QAction("粘贴（Ctrl+V）", view)
        self.act_paste.triggered.connect(self.paste)
        self.act_paste.setVisible(on_paste is not None)
        sep = QAction(view)
        sep.setSeparator(True)
        for act in (sep, self.act_copy, self.act_copy_header, self.act_copy_all, self.act_paste):
            view.addAction(act)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        view.installEventFilter(self)

    def set_paste(self, on_paste: Callable[[Block], object] | None) -> None:
        self.on_paste = on_paste
        self.act_paste.setVisible(on_paste is not None)

    def paste(self) -> object:
        if self.on_paste is None:
            return None
        return self.on_paste(clipboard_block())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.view and event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            assert isinstance(event, QKeyEvent)
            if self.on_undo is not None and event.matches(QKeySequence.StandardKey.Undo):
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()
                    return True
                self.on_undo()
                return True
            wanted = event.matches(QKeySequence.StandardKey.Copy) or (
                self.on_paste is not None and event.matches(QKeySequence.StandardKey.Paste))
            if wanted and event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # the view handles these keys itself, before any window shortcut
                return True
            if event.matches(QKeySequence.StandardKey.Copy):
                copy_selection(self.view)
                return True
            if self.on_paste is not None and event.matches(QKeySequence.StandardKey.Paste):
                self.paste()
                return True
        return False


def enable_copy(view: QAbstractItemView, on_paste: Callable[[Block], object] | None = None) -> TableClipboard:
    """Install copy (and paste, when `on_paste` is given) on `view`; returns the installed helper."""
    existing = view.findChild(TableClipboard)
    if existing is not None:
        existing.set_paste(on_paste if on_paste is not None else existing.on_paste)
        return existing
    assert isinstance(view, QTableView)
    return TableClipboard(view, on_paste)
