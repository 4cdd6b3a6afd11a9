"""A record's history (every audited change, who and when, values before and after) and, for ledgers
with 已销号, its evidence files and the close-out (销号).

`show_record_history(parent, ctx, ledger_key, uuid)` opens it (not modal); the ledger page calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, user_errors
from jzair_desktop.gui.widgets.common import fill_change_rows, list_table
from jzair_desktop.services import audit, audit_text, closeout
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.guards import CLOSED, has_closed_status, label_of

STYLE = """
QLabel#historyTitle { font-size: 13pt; font-weight: bold; }
QLabel#closeoutState { padding: 4px 0; }
"""
ENTRY_HEADERS = ("序号", "时间", "用户", "操作", "改动的内容", "说明")
FIELD_HEADERS = ("字段", "修改前", "修改后")
EVIDENCE_HEADERS = ("文件名", "类型", "大小", "SHA-256", "上传人", "上传时间")


def _size_text(n: int) -> str:
    return f"{n:,} 字节" if n < 1024 else (f"{n / 1024:,.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB")


class HistoryDialog(QDialog):
    def __init__(self, ctx: GuiContext, ledger_key: str, record_uuid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.d: LedgerDef = ledger(ledger_key)
        self.uuid = record_uuid
        self.entries: list[audit.AuditRow] = []
        self.evidence: list[closeout.EvidenceInfo] = []
        self.setStyleSheet(STYLE)
        self.resize(960, 640)

        self.title = QLabel()
        self.title.setObjectName("historyTitle")
        self.subtitle = QLabel()
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # -- history ---------------------------------------------------------------------------------
        self.entry_table = list_table(ENTRY_HEADERS, "historyEntries")
        self.field_table = list_table(FIELD_HEADERS, "historyFields")
        self.entry_table.itemSelectionChanged.connect(self._show_selected)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.entry_table)
        split.addWidget(self.field_table)
        split.setSizes([260, 300])
        history_tab = QWidget()
        QVBoxLayout(history_tab).addWidget(split)

        self.tabs = QTabWidget()
        self.tabs.addTab(history_tab, "修改历史")

        # -- evidence and close-out -------------------------------------------------------------------
        self.closable = has_closed_status(self.d)
        if self.closable:
            self.evidence_table = list_table(EVIDENCE_HEADERS, "evidenceTable")
            self.add_button = QPushButton("添加佐证材料…")
            self.add_button.clicked.connect(self.add_evidence)
            self.save_button = QPushButton("另存为…")
            self.save_button.clicked.connect(self.save_evidence)
            row = QHBoxLayout()
            row.addWidget(self.add_button)
            row.addWidget(self.save_button)
            row.addStretch(1)
            self.closeout_state = QLabel()
            self.closeout_state.setObjectName("closeoutState")
            self.closeout_state.setWordWrap(True)
            self.reviewer = QLineEdit()
            self.reviewer.setObjectName("reviewer")
            self.reviewer.setPlaceholderText("审核人姓名")
            self.closeout_button = QPushButton("销号")
            self.closeout_button.setObjectName("closeoutButton")
            self.closeout_button.clicked.connect(self.close_out)
            box = QGroupBox("销号")
            box_layout = QVBoxLayout(box)
            box_layout.addWidget(self.closeout_state)
            form = QHBoxLayout()
            form.addWidget(QLabel("审核人："))
            form.addWidget(self.reviewer, 1)
            form.addWidget(self.closeout_button)
            box_layout.addLayout(form)
            hint = QLabel("销号须至少有一份佐证材料（现场照片 JPEG/PNG 或 PDF，单个不超过 10 MB，按文件内容识别类型），"
                          "并填写审核人。销号后记录只读，只有市级管理员可以修改（须填写原因）。")
            hint.setWordWrap(True)
            hint.setStyleSheet("color: #555;")
            box_layout.addWidget(hint)
            ev_tab = QWidget()
            ev_layout = QVBoxLayout(ev_tab)
            ev_layout.addWidget(self.evidence_table, 1)
            ev_layout.addLayout(row)
            ev_layout.addWidget(box)
            self.tabs.addTab(ev_tab, "佐证材料与销号")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.reload()

    # -- data --------------------------------------------------------------------------------------
    def reload(self) -> None:
        d = self.d
        rec = ledger_service.get_record(self.ctx.db, d.key, self.uuid, actor=self.ctx.actor)
        self.record = rec
        label = label_of(d, rec.values)
        self.setWindowTitle(f"记录历史 - {d.title} {label}")
        self.title.setText(f"{d.title}：{label}")
        status = rec.values.get(d.status_field) if d.status_field else None
        parts = [rec.unit_name]
        if status:
            parts.insert(1, f"状态 {status}")
        if rec.deleted_at is not None:
            parts.append(f"已于 {rec.deleted_at:%Y-%m-%d %H:%M} 删除")
        self.subtitle.setText("　".join(parts))
        self.entries = audit.record_history(self.ctx.db, d.key, self.uuid, actor=self.ctx.actor)
        self._fill_entries()
        if self.closable:
            self._fill_evidence(status)

    def _fill_entries(self) -> None:
        t = self.entry_table
        t.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            values = (str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.user_name, e.action_label, self._summary(e),
                      e.detail or "")
            for c, v in enumerate(values):
                t.setItem(r, c, QTableWidgetItem(v))
        t.resizeColumnsToContents()
        if self.entries:
            t.selectRow(len(self.entries) - 1)
        self._show_selected()

    def _summary(self, e: audit.AuditRow) -> str:
        if e.action == "evidence":
            return "佐证材料"
        if e.before is None:
            return "新建记录" if e.action in ("create", "baseline") else ""
        keys = audit_text.changed_keys(e)
        return "、".join(audit_text.field_label(self.d.key, e.action, k) for k in keys)

    def _show_value(self, key: str, value: Any) -> str:
        return audit_text.value_text(self.d.key, key, value, mask_personal=not self.ctx.actor.can_see_personal_data)

    def _show_selected(self) -> None:
        rows = self.entry_table.selectionModel().selectedRows()
        t = self.field_table
        if not rows:
            t.setRowCount(0)
            return
        e = self.entries[rows[0].row()]
        before = e.before if isinstance(e.before, dict) else {}
        after = e.after if isinstance(e.after, dict) else {}
        if e.action == "evidence":
            keys = [(k, False) for k in ("file_name", "mime", "size", "sha256")]
            names = {k: audit.EVIDENCE_FIELDS[k] for k, _ in keys}
            fill_change_rows(t, [(names[k], self._show_value(k, before.get(k)), self._show_value(k, after.get(k)),
                                  changed) for k, changed in keys])
        else:
            fill_change_rows(t, audit_text.detail_rows(e, mask_personal=not self.ctx.actor.can_see_personal_data))
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        t.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def _fill_evidence(self, status: str | None) -> None:
        self.evidence = closeout.list_evidence(self.ctx.db, self.d.key, self.uuid, actor=self.ctx.actor)
        t = self.evidence_table
        t.setRowCount(len(self.evidence))
        for r, e in enumerate(self.evidence):
            values = (e.file_name, e.type_label, _size_text(e.size), e.sha256[:16] + "…", e.uploaded_by,
                      f"{e.uploaded_at:%Y-%m-%d %H:%M}")
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 3:
                    item.setToolTip(e.sha256)
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        info = closeout.closeout_info(self.ctx.db, self.d.key, self.uuid)
        actor = self.ctx.actor
        writable = actor.can_write() and self.record.deleted_at is None
        closed = status == CLOSED
        if closed and info is not None:
            self.closeout_state.setText(
                f"<b style='color:#2e7d32'>已销号</b>：审核人 {info.reviewer}，"
                f"由 {info.closed_by} 于 {info.closed_at:%Y-%m-%d %H:%M} 办理。")
        elif closed:
            self.closeout_state.setText("<b>已销号</b>")
        else:
            n = len(self.evidence)
            self.closeout_state.setText(
                f"尚未销号。已有佐证材料 {n} 份。" + ("" if n else "请先添加佐证材料。"))
        self.closeout_button.setEnabled(writable and not closed)
        self.reviewer.setEnabled(writable and not closed)
        self.add_button.setEnabled(writable and (not closed or actor.is_city))
        self.save_button.setEnabled(bool(self.evidence))

    # -- actions -----------------------------------------------------------------------------------
    def add_evidence(self, paths: list[str] | None = None) -> int:
        if paths is None:
            paths, _ = QFileDialog.getOpenFileNames(
                self, "选择佐证材料", "", "照片或 PDF (*.jpg *.jpeg *.png *.pdf);;所有文件 (*)")
        added = 0
        for p in paths:
            with user_errors(self, "无法添加佐证材料") as outcome:
                closeout.attach_evidence(self.ctx.db, self.d.key, self.uuid, p, self.ctx.actor)
            if outcome.failed:
                continue
            added += 1
        if added:
            publish(self.ctx, Changes.of(ledgers=[self.d.key]), self)
            self.reload()
            self.tabs.setCurrentIndex(1)
        return added

    def save_evidence(self) -> bool:
        rows = self.evidence_table.selectionModel().selectedRows()
        if not self.evidence:
            return False
        e = self.evidence[rows[0].row() if rows else 0]
        path, _ = QFileDialog.getSaveFileName(self, "另存佐证材料", e.file_name)
        if not path:
            return False
        with user_errors(self, "无法保存佐证材料") as outcome:
            _, data = closeout.evidence_bytes(self.ctx.db, e.id, actor=self.ctx.actor)
        if outcome.failed:
            return False
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            QMessageBox.warning(self, "保存失败", f"无法保存到 {path}（{exc.strerror}）")
            return False
        return True

    def close_out(self) -> bool:
        with user_errors(self, "无法销号") as outcome:
            closeout.close_out(self.ctx.db, self.d.key, self.uuid, self.reviewer.text(), self.ctx.actor)
        if outcome.failed:
            return False
        publish(self.ctx, Changes.of(ledgers=[self.d.key]), self)
        self.reload()
        return True


def show_record_history(parent: QWidget | None, ctx: GuiContext, ledger_key: str, uuid: str) -> HistoryDialog | None:
    """Open the history (and, where the ledger has 已销号, evidence and close-out) of one record."""
    with user_errors(parent, "无法显示记录历史") as outcome:
        dialog = HistoryDialog(ctx, ledger_key, uuid, parent)
    if outcome.failed:
        return None
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def show_history_of_current(page: Any) -> HistoryDialog | None:
    """The ledger page's 历史 action: the history of the record at the table's current row."""
    index = page.table.currentIndex()
    rec = page.model.record(index.row()) if index.isValid() else None
    if rec is None:
        QMessageBox.information(page, "记录历史", "请先在表格中选中一条记录。")
        return None
    return show_record_history(page, page.ctx, page.ledger.key, rec.uuid)
