"""The table model of a ledger page: ids in display order, rows fetched page by page.

The model holds only the ordered id list from `services.ledgers.query_ids` plus a bounded cache of
fetched pages (`fetch_rows` of PAGE_SIZE ids when a row of that page is first asked for). Sorting and
filtering happen in SQL: `sort()` and `set_query()` re-query the ids. GUI thread only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from jzair_desktop.domain.ledgers import Column, LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import mask_id_number
from jzair_desktop.gui.widgets.clipboard import COPY_ROLE
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services import personal
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.ledgers import RecordQuery, RecordRow

PAGE_SIZE = 200
MAX_CACHED_PAGES = 50  # 10,000 rows at most in memory
NUMERIC_KINDS = ("int", "float")
RecordRole = Qt.ItemDataRole.UserRole + 1  # the RecordRow of a row
SortKeyRole = Qt.ItemDataRole.UserRole + 2  # the raw value of a cell

_DELETED_FG = QBrush(QColor("#9a9a9a"))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

_Index = QModelIndex | QPersistentModelIndex
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
# The roles this model answers; a view asks for several more per cell on every paint.
_ROLES = frozenset((_DISPLAY, _ALIGN, _FOREGROUND, _TOOLTIP, int(RecordRole), int(SortKeyRole), COPY_ROLE))


def format_number(value: float | int) -> str:
    """12000 → 12,000; 1234.5 → 1,234.5; at most four decimals."""
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def unit_name(code: str | None) -> str:
    if not code:
        return ""
    for unit in reference().units:
        if unit.code == code:
            return unit.name
    return code


def format_value(column: Column, value: Any) -> str:
    """How a table cell shows a stored value (the form shows the full, editable value instead)."""
    if value is None or value == "":
        return ""
    if column.kind == "unit":
        return unit_name(str(value))
    if column.kind == "idcard":
        return mask_id_number(str(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if column.kind in NUMERIC_KINDS and isinstance(value, int | float):
        return format_number(value)
    return str(value)


class LedgerTableModel(QAbstractTableModel):
    def __init__(
        self,
        db: Database,
        ledger_key: str,
        *,
        actor: Actor | None = None,
        query: RecordQuery | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.ledger: LedgerDef = ledger(ledger_key)
        self.actor = actor
        self._query = query or RecordQuery()
        self._ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._pages: OrderedDict[int, list[RecordRow | None]] = OrderedDict()
        self.fetches = 0  # pages fetched so far (for tests and the benchmark)
        self.requery()

    # -- query -----------------------------------------------------------------------------------
    @property
    def query(self) -> RecordQuery:
        return self._query

    @property
    def ids(self) -> list[int]:
        return self._ids

    def set_query(self, query: RecordQuery) -> None:
        self._query = query
        self.requery()

    def requery(self) -> None:
        """Fetch the ordered ids again (after a filter, sort or data change); drops the row cache."""
        ids = ledger_service.query_ids(self.db, self.ledger.key, self._query, actor=self.actor)
        self.beginResetModel()
        self._ids = ids
        self._row_of = None
        self._pages.clear()
        self.endResetModel()

    def remove_ids(self, gone: set[int]) -> None:
        """Drop these records from the rows (they left the query: deleted from a view of live records),
        without asking the database again; the order of the others stays."""
        self.beginResetModel()
        self._ids = [i for i in self._ids if i not in gone]
        self._row_of = None
        self._pages.clear()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.ledger.columns[column].key if 0 <= column < len(self.ledger.columns) else None
        descending = order == Qt.SortOrder.DescendingOrder if key is not None else False
        if key == self._query.sort and descending == self._query.descending:
            return
        self.layoutAboutToBeChanged.emit()
        self._query = replace(self._query, sort=key, descending=descending)
        ids = ledger_service.query_ids(self.db, self.ledger.key, self._query, actor=self.actor)
        # Keep persistent indexes (selection, current row) on the same records.
        row_of = {rid: row for row, rid in enumerate(ids)}
        old = self.persistentIndexList()
        new = []
        for index in old:
            row = row_of.get(self._ids[index.row()]) if 0 <= index.row() < len(self._ids) else None
            new.append(self.index(row, index.column()) if row is not None else QModelIndex())
        self._ids = ids
        self._row_of = row_of
        self._pages.clear()
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def sort_column(self) -> int:
        """The column the current query sorts by, or -1 (entry order)."""
        if self._query.sort is None:
            return -1
        try:
            return self.ledger.keys.index(self._query.sort)
        except ValueError:
            return -1

    # -- rows ------------------------------------------------------------------------------------
    def record_id(self, row: int) -> int:
        return self._ids[row]

    def row_of_id(self, record_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {rid: row for row, rid in enumerate(self._ids)}
        return self._row_of.get(record_id)

    def record(self, row: int) -> RecordRow | None:
        """The record shown in `row` (fetching its page if needed); None if it vanished meanwhile."""
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page = self._fetch_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page[row - page_no * PAGE_SIZE]

    def _fetch_page(self, page_no: int) -> list[RecordRow | None]:
        ids = self._ids[page_no * PAGE_SIZE : (page_no + 1) * PAGE_SIZE]
        by_id = {r.id: r for r in ledger_service.fetch_rows(self.db, self.ledger.key, ids, actor=self.actor)}
        page = [by_id.get(i) for i in ids]
        self._pages[page_no] = page
        self.fetches += 1
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        return page

    def cached_pages(self) -> int:
        return len(self._pages)

    # -- Qt model interface ----------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.ledger.columns)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Called for every visible cell and role on each paint: cheap checks first.
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._ids):
            return None
        column = self.ledger.columns[index.column()]
        if role == _ALIGN:
            return _RIGHT if column.kind in NUMERIC_KINDS else _LEFT
        rec = self.record(row)
        if rec is None:
            return "（已不存在）" if role == _DISPLAY and index.column() == 0 else None
        if role == RecordRole:
            return rec
        if role == _FOREGROUND:
            return _DELETED_FG if rec.deleted_at is not None else None
        value = rec.values.get(column.key)
        if role == SortKeyRole:
            return value
        if role == COPY_ROLE:
            return self.copy_text(column, value, rec)
        text = format_value(column, value)
        if role == _TOOLTIP:
            if rec.deleted_at is not None:
                return f"已于 {rec.deleted_at:%Y-%m-%d %H:%M} 由 {rec.deleted_by or '未知用户'} 删除"
            return text if len(text) > column.width else None
        return text

    def copy_text(self, column: Column, value: Any, rec: RecordRow) -> str:
        """What Ctrl+C copies of a cell: numbers without thousands separators, 身份证号 whole only when the
        user may read this record's personal data whole (services.personal), masked otherwise."""
        if column.kind == "idcard" and value:
            if personal.may_read_whole(self.actor, rec.values.get("unit_code")):
                return str(value)
            return mask_id_number(str(value))
        if column.kind in NUMERIC_KINDS and isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else repr(float(value))
        return format_value(column, value)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(self.ledger.columns):
                return None
            column = self.ledger.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return column.help or column.header
            return None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._ids):
            return str(section + 1)
        return None
