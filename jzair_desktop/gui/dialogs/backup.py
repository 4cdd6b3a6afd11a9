"""The backup dialogs: the small "正在备份…" window of the exit backup, the restore confirmation (the backup's
manifest next to the current record counts) and the question for a backup of another installation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.backup import BackupInfo
from jzair_desktop.services.database import head_revision

if TYPE_CHECKING:
    pass




def time_text(when: dt.datetime | None, *, seconds: bool = False) -> str:
    if when is None:
        return "尚无"
    local = when.astimezone() if when.tzinfo is not None else when
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n:,} 字节"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{n:,.1f} {unit}"
    return str(n)


class ExitBackupWindow(QWidget):
    """“正在备份…”: a small window of its own (the main window has closed) with progress and 取消."""

    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowTitleHint
                         | Qt.WindowType.CustomizeWindowHint | Qt.WindowType.WindowCloseButtonHint)
        self.setObjectName("exitBackupWindow")
        self.setWindowTitle(f"{APP_TITLE} - 正在备份")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        head = QLabel("正在备份…")
        head.setObjectName("exitBackupHead")
        head.setStyleSheet("font-size: 12pt; font-weight: bold;")
        layout.addWidget(head)
        self.detail = QLabel("数据有改动，退出前自动备份一次。完成后程序自动关闭。")
        self.detail.setObjectName("exitBackupDetail")
        self.detail.setWordWrap(True)
        layout.addWidget(self.detail)
        self.bar = QProgressBar()
        self.bar.setObjectName("exitBackupProgress")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        layout.addWidget(self.bar)
        self.step = QLabel("正在准备…")
        self.step.setObjectName("exitBackupStep")
        self.step.setStyleSheet("color: #555;")
        layout.addWidget(self.step)
        row = QHBoxLayout()
        note = QLabel("取消则不做这次备份，之前的备份都保留。")
        note.setStyleSheet("color: #555;")
        row.addWidget(note, 1)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setObjectName("exitBackupCancel")
        self.cancel_button.clicked.connect(self.request_cancel)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.setFixedWidth(440)
        self._done = False

    def set_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)
        if text:
            self.step.setText(text)

    def request_cancel(self) -> None:
        if not self.cancel_button.isEnabled():
            return
        self.cancel_button.setEnabled(False)
        self.step.setText("正在取消…")
        self.cancel_requested.emit()

    def finish(self) -> None:
        self._done = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._done:
            super().closeEvent(event)
            return
        event.ignore()  # the title bar's close button cancels, the backup's end closes
        self.request_cancel()


def foreign_backup_box(parent: QWidget | None, exc: backup_service.ForeignBackupError) -> QMessageBox:
    """The question asked before a backup of another installation is restored (default: 取消)."""
    reasons = "\n".join(f"· {r}" for r in exc.reasons)
    box = QMessageBox(QMessageBox.Icon.Warning, "恢复其他安装的备份",
                      f"该备份不是本安装的备份：\n{reasons}\n\n恢复它会用另一台安装的数据和用户账户替换本机的全部数据和账户"
                      "（当前数据库会先另存一份）。确定要恢复吗？",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("confirmForeignBackup")
    box.yes_button = box.addButton("确认恢复该备份", QMessageBox.ButtonRole.DestructiveRole)
    no = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    return box


def confirm_foreign_backup(parent: QWidget | None, exc: backup_service.ForeignBackupError) -> bool:
    box = foreign_backup_box(parent, exc)
    box.exec()
    return box.clickedButton() is box.yes_button


class RestoreConfirmDialog(QDialog):
    """What the backup holds next to the current database, and 恢复 / 取消 (取消 is the default)."""

    def __init__(self, info: BackupInfo, current: dict[str, int] | None, location: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("从备份恢复")
        self.setObjectName("restoreConfirm")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        head = QLabel("用这份备份替换当前数据库吗？")
        head.setStyleSheet("font-size: 13pt; font-weight: bold;")
        layout.addWidget(head)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        def row(label: str, text: str, name: str) -> None:
            value = QLabel(text)
            value.setObjectName(name)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)

        row("备份文件：", str(info.path), "backupFile")
        row("备份时间：", time_text(info.created_at, seconds=True), "backupTime")
        row("制作备份的程序版本：", info.app_version, "appVersion")
        head_rev = head_revision()
        rev = info.schema_revision
        rev_note = "与本程序相同" if rev == head_rev else f"较旧，恢复后会自动升级到 {head_rev}"
        row("数据库架构版本：", f"{rev}（{rev_note}）", "schemaRevision")
        row("备份自：", info.source, "backupSource")
        row("大小：", f"{size_text(info.size)}（数据库 {size_text(info.db_size)}）", "backupSize")
        row("将替换：", location, "target")
        layout.addLayout(form)

        keys = [k for k in LEDGERS if k in info.records or (current and k in current)]
        self.table = QTableWidget(len(keys) + 1, 3)
        self.table.setObjectName("recordCounts")
        self.table.setHorizontalHeaderLabels(["台账", "备份中的记录", "当前数据库中的记录"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        total_b = total_c = 0
        for r, key in enumerate(keys):
            b = info.records.get(key, 0)
            c = current.get(key) if current is not None else None
            total_b += b
            total_c += c or 0
            self._set_row(r, LEDGERS[key].title, b, c)
        self._set_row(len(keys), "合计", total_b, total_c if current is not None else None, bold=True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        height = self.table.horizontalHeader().height() + sum(
            self.table.rowHeight(r) for r in range(self.table.rowCount())
        ) + 4
        self.table.setFixedHeight(height)
        layout.addWidget(self.table)

        name = Path(location).name
        note = QLabel(
            f"恢复前，当前数据库会先完整另存一份（“{Path(name).stem}.恢复前-日期-时间{Path(name).suffix}”，"
            "与当前数据库在同一文件夹），然后被这份备份替换。"
            "备份时间之后录入或修改的数据不会出现在恢复后的数据库中，但仍保存在那份副本里。"
        )
        note.setObjectName("restoreNote")
        note.setWordWrap(True)
        note.setStyleSheet("color: #8a4b00; background: #fff4e5; padding: 8px; border-radius: 3px;")
        layout.addWidget(note)

        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton("恢复", QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setObjectName("restoreButton")
        self.cancel_button = buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        # QDialogButtonBox makes its accept button the default when shown: replacing data is never the default.
        self.restore_button.setDefault(False)
        self.restore_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()

    def _set_row(self, r: int, title: str, backup: int, current: int | None, *, bold: bool = False) -> None:
        for c, text in enumerate((title, f"{backup:,}", "无法读取" if current is None else f"{current:,}")):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(r, c, item)
