"""The backup part of the 设置 page: the backup folders, how many copies are kept, 立即备份 and 从备份恢复…."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.errors import JzairError
from jzair_desktop.gui.backup_controller import BackupController
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.dialogs.backup import time_text
from jzair_desktop.gui.tasks import show_user_error
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.backup import BackupSettings

if TYPE_CHECKING:
    pass




class BackupSettingsBox(QGroupBox):
    """数据备份: last backup, folders, how many copies to keep, 立即备份 and 从备份恢复…"""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__("数据备份", parent)
        self.setObjectName("backupBox")
        self.ctx = ctx
        self.may_change = backup_service.may_backup(ctx.actor)
        self._controller: BackupController | None = None
        self._loading = False
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.last_label = QLabel()
        self.last_label.setObjectName("lastBackup")
        form.addRow("最近备份：", self.last_label)

        self.folder_label = QLabel()
        self.folder_label.setObjectName("backupFolder")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_folder = QPushButton("打开")
        open_folder.setToolTip("在文件管理器中打开备份文件夹")
        open_folder.clicked.connect(self._open_folder)
        line = QHBoxLayout()
        line.addWidget(self.folder_label, 1)
        line.addWidget(open_folder)
        form.addRow("备份文件夹：", line)

        self.keep_daily = QSpinBox()
        self.keep_daily.setObjectName("keepDaily")
        self.keep_daily.setRange(1, 3650)
        self.keep_daily.setSuffix(" 天")
        self.keep_monthly = QSpinBox()
        self.keep_monthly.setObjectName("keepMonthly")
        self.keep_monthly.setRange(0, 1200)
        self.keep_monthly.setSuffix(" 个月")
        keep = QHBoxLayout()
        keep.addWidget(QLabel("每天最新的一份，保留最近"))
        keep.addWidget(self.keep_daily)
        keep.addSpacing(12)
        keep.addWidget(QLabel("每月最新的一份，保留最近"))
        keep.addWidget(self.keep_monthly)
        keep.addStretch(1)
        form.addRow("保留份数：", keep)

        self.extra_edit = QLineEdit()
        self.extra_edit.setObjectName("extraFolder")
        self.extra_edit.setReadOnly(True)
        self.extra_edit.setPlaceholderText("未设置（例如选择 U 盘上的一个文件夹）")
        self.choose_extra_button = choose = QPushButton("选择…")
        choose.setObjectName("chooseExtra")
        choose.clicked.connect(self._choose_extra)
        self.clear_extra = QPushButton("清除")
        self.clear_extra.setObjectName("clearExtra")
        self.clear_extra.clicked.connect(lambda: self._set_extra(None))
        extra = QHBoxLayout()
        extra.addWidget(self.extra_edit, 1)
        extra.addWidget(choose)
        extra.addWidget(self.clear_extra)
        form.addRow("附加备份文件夹：", extra)
        layout.addLayout(form)

        hint = QLabel(
            "每天第一次打开程序时、程序开着时每小时检查一次、以及退出程序时（数据有改动的话）自动备份。"
            "设置了附加备份文件夹时，每份自动备份都会再复制一份到那里；U 盘未插入时只做主备份，并在状态栏提示。"
        )
        hint.setObjectName("backupHint")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        layout.addWidget(hint)

        self.problem = QLabel()
        self.problem.setObjectName("backupProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.setVisible(False)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        self.backup_button = QPushButton("立即备份")
        self.backup_button.setObjectName("backupNow")
        self.backup_button.clicked.connect(self.backup_now)
        self.restore_button = QPushButton("从备份恢复…")
        self.restore_button.setObjectName("restoreFromBackup")
        self.restore_button.clicked.connect(self.restore)
        buttons.addWidget(self.backup_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        if not backup_service.may_restore(ctx.actor):
            self.restore_button.setEnabled(False)
            self.restore_button.setToolTip("只有管理员可以恢复数据库")
        if not self.may_change:
            # Where copies of the whole database go, and making one, are administrators' acts (the service
            # refuses them too); the routine automatic backups still run for everyone.
            for widget in (self.backup_button, self.keep_daily, self.keep_monthly, self.choose_extra_button,
                           self.clear_extra):
                widget.setEnabled(False)
                widget.setToolTip("只有管理员可以立即备份或更改备份设置")

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(600)
        self._save_timer.timeout.connect(self.save)
        self.keep_daily.valueChanged.connect(lambda _v: self._changed())
        self.keep_monthly.valueChanged.connect(lambda _v: self._changed())
        self.load()

    # -- the controller is looked up once the box is inside the main window
    def controller(self) -> BackupController | None:
        if self._controller is None:
            self._controller = BackupController.of(self)
            if self._controller is not None:
                self._controller.changed.connect(self.load)
        return self._controller

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.controller()
        self.load()

    def hideEvent(self, event) -> None:  # noqa: ANN001, N802
        if self._save_timer.isActive():
            self._save_timer.stop()
            self.save()
        super().hideEvent(event)

    def load(self) -> None:
        self._loading = True
        try:
            try:
                settings = backup_service.backup_settings()
                self.problem.setVisible(False)
            except JzairError as exc:
                settings = BackupSettings()
                self.problem.setText(str(exc))
                self.problem.setVisible(True)
            folder = settings.backup_folder()
            self.folder_label.setText(str(folder))
            try:
                self.last_label.setText(time_text(backup_service.last_backup_time(folder)))
            except JzairError as exc:
                self.last_label.setText(f"无法读取（{exc}）")
            controller = self._controller
            if controller is not None and controller.last_error:
                self.last_label.setText(f"{self.last_label.text()}　{controller.last_error}")
                self.last_label.setStyleSheet("color: #c62828;")
            else:
                self.last_label.setStyleSheet("")
            self.keep_daily.setValue(max(settings.keep_daily, 1))
            self.keep_monthly.setValue(settings.keep_monthly)
            self.extra_edit.setText(str(settings.extra_folder) if settings.extra_folder else "")
            self.clear_extra.setEnabled(settings.extra_folder is not None and self.may_change)
            self._settings = settings
        finally:
            self._loading = False

    def _changed(self) -> None:
        if not self._loading:
            self._save_timer.start()

    def current_settings(self) -> BackupSettings:
        extra = self.extra_edit.text().strip()
        return BackupSettings(
            keep_daily=self.keep_daily.value(),
            keep_monthly=self.keep_monthly.value(),
            extra_folder=Path(extra) if extra else None,
            folder=self._settings.folder,
        )

    def save(self) -> bool:
        self._save_timer.stop()
        try:
            backup_service.save_backup_settings(self.current_settings(), actor=self.ctx.actor)
        except JzairError as exc:
            show_user_error(self, exc, "备份设置未保存")
            return False
        self.problem.setVisible(False)
        controller = self.controller()
        if controller is not None:
            controller.changed.emit()
        return True

    def _choose_extra(self) -> None:
        start = self.extra_edit.text() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "选择附加备份文件夹（例如 U 盘）", start)
        if folder:
            self._set_extra(Path(folder))

    def _set_extra(self, folder: Path | None) -> None:
        self.extra_edit.setText(str(folder) if folder is not None else "")
        self.clear_extra.setEnabled(folder is not None)
        self.save()

    def _open_folder(self) -> None:
        folder = Path(self.folder_label.text())
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def backup_now(self) -> None:
        if self._save_timer.isActive() and not self.save():
            return
        controller = self.controller()
        if controller is None:
            return
        controller.run_backup(parent=self.window())

    def restore(self) -> None:
        controller = self.controller()
        if controller is not None:
            controller.choose_and_restore(self.window())
