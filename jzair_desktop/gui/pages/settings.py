"""设置: where the data lives and what version runs."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from jzair_desktop import __version__, paths
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.dialogs.server_connect import ServerSettingsBox
from jzair_desktop.gui.lock import MAX_IDLE_MINUTES, idle_minutes, set_idle_minutes
from jzair_desktop.gui.pages.settings_backup import BackupSettingsBox
from jzair_desktop.services import installation
from jzair_desktop.services.actor import ROLES
from jzair_desktop.services.database import schema_revision


class SettingsPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        title = QLabel("设置")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        form = QFormLayout()
        self.db_label = QLabel(ctx.db.location)
        self.db_label.setWordWrap(True)
        form.addRow("数据库文件：" if ctx.db.path is not None else "数据库服务器：", self.db_label)
        form.addRow("数据库架构版本：", QLabel(schema_revision(ctx.db) or "无"))
        form.addRow("程序版本：", QLabel(__version__))
        form.addRow("当前用户：", QLabel(f"{ctx.actor.name}（{ROLES.get(ctx.actor.role, ctx.actor.role)}）"))
        inst = installation.installation_of(ctx.db)
        form.addRow("本机：", QLabel(inst.label if inst is not None else "尚未设置"))
        self.idle = QSpinBox()
        self.idle.setObjectName("idleLockMinutes")
        self.idle.setRange(0, MAX_IDLE_MINUTES)
        self.idle.setSuffix(" 分钟")
        self.idle.setSpecialValueText("从不")
        self.idle.setValue(idle_minutes(ctx))
        self.idle.valueChanged.connect(self._idle_changed)
        idle_note = QLabel("无人操作这么久后自动锁定窗口（需重新输入密码）；0 为从不。")
        idle_note.setWordWrap(True)
        idle_row = QHBoxLayout()
        idle_row.addWidget(self.idle)
        idle_row.addWidget(idle_note, 1)
        form.addRow("空闲自动锁定：", idle_row)
        form.addRow("日志文件夹：", QLabel(str(paths.log_dir())))
        layout.addLayout(form)
        buttons = QHBoxLayout()
        open_data = QPushButton("打开数据文件夹")
        open_data.clicked.connect(self._open_data_folder)
        open_logs = QPushButton("打开日志文件夹")
        open_logs.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir()))))
        buttons.addWidget(open_data)
        buttons.addWidget(open_logs)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.server_box = ServerSettingsBox(ctx)
        layout.addWidget(self.server_box)
        self.backup_box = BackupSettingsBox(ctx)
        layout.addWidget(self.backup_box)
        layout.addStretch(1)

    def _idle_changed(self, minutes: int) -> None:
        window = self.window()
        if hasattr(window, "set_idle_lock"):
            window.set_idle_lock(minutes)
        else:
            set_idle_minutes(self.ctx, minutes)

    def _open_data_folder(self) -> None:
        path = self.ctx.db.path
        folder = path.parent if path is not None else paths.data_dir()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
