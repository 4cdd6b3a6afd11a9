"""Rows pasted into a ledger table go through the import: the same reader, checks and duplicate rules.

The pasted block is written as a tab-separated text file (UTF-8) into a temporary folder and handed to
the import wizard (gui.dialogs.excel), which reads it with the ledger import's own reader
(exchange.excel_import, its text-table path), shows the preview, checks every row against the ledger's
rules and the records already in the database, and writes nothing unless every row passes. Rows copied
without their header row get the ledger's headers in the order the table shows its columns.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QWidget

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.xlsx_common import HEADER_SEARCH_ROWS, match_header
from jzair_desktop.gui.context import GuiContext


def header_row_index(d: LedgerDef, rows: Sequence[Sequence[str]]) -> int | None:
    """The row of `rows` (among the first the import searches) that names at least three of the ledger's
    columns (or all its required ones, when it has fewer): the block's own header row."""
    required = [c for c in d.columns if c.required]
    threshold = max(1, min(3, len(required)))
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {m.key for m in (match_header(d, v) for v in row) if m is not None}
        if len(keys) >= threshold:
            return i
    return None


def block_with_header(d: LedgerDef, rows: list[list[str]], shown_columns: Sequence[str]) -> list[list[str]]:
    """`rows` with a header row: their own, or the headers of `shown_columns` (keys, in the order the table
    shows them) when the block has none. Raises JzairError for a block wider than the table."""
    if header_row_index(d, rows) is not None:
        return rows
    width = max((len(r) for r in rows), default=0)
    if width > len(shown_columns):
        raise JzairError(
            f"粘贴的内容有 {width} 列，没有表头行，且比“{d.sheet_title}”的 {len(shown_columns)} 列还多，无法判断各列是什么。"
            "请连同 Excel 中的表头行一起复制后再粘贴。")
    return [[d.column(k).header for k in shown_columns[:width]], *rows]


def write_block(d: LedgerDef, rows: list[list[str]]) -> Path:
    """The rows as a tab-separated UTF-8 text file in a new temporary folder (the caller removes it)."""
    folder = Path(tempfile.mkdtemp(prefix="jzair-paste-"))
    path = folder / f"粘贴的{d.sheet_title}.txt"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\r\n")
        writer.writerows(rows)
    return path


def open_paste_import(
    parent: QWidget, ctx: GuiContext, ledger_key: str, rows: list[list[str]], shown_columns: Sequence[str],
    *, unit_code: str | None = None,
):  # noqa: ANN201 - the wizard, or None
    """Open the import wizard on the pasted rows, past its file page, at the preview. Raises JzairError when
    the block cannot be read as ledger rows at all."""
    from jzair_desktop.gui.dialogs import excel

    d = ledger(ledger_key)
    if not any(any(c.strip() for c in r) for r in rows):
        raise JzairError("剪贴板中没有可粘贴的内容。请先在 Excel 或 WPS 中选中台账的行并复制。")
    path = write_block(d, block_with_header(d, rows, shown_columns))
    wizard = excel.open_import_wizard(parent, ctx, ledger_key, unit_code=unit_code)
    if wizard is None:
        shutil.rmtree(path.parent, ignore_errors=True)
        return None
    wizard.destroyed.connect(lambda *_: shutil.rmtree(path.parent, ignore_errors=True))
    wizard.setWindowTitle(f"粘贴导入 — {d.sheet_title}")
    wizard.file_page.path_edit.setText(str(path))
    wizard.file_page.path_edit.setReadOnly(True)
    wizard.next()  # reads the rows in the background, then shows the preview
    return wizard
