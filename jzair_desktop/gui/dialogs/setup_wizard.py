"""首次使用向导: shown when the window opens a database that was never set up.

Four pages: what this installation is; its first administrator; the city's 任务包 (a county) or the signing
key's fingerprint (the city); where automatic backups go. Nothing is written before 完成: the set-up is one
transaction (services.installation.set_up), and cancelling leaves the database as it was, so the next start
asks again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.tasks import show_user_error
from jzair_desktop.gui.widgets.password_fields import PasswordFields
from jzair_desktop.services import accounts, backup, installation
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database

STYLE = """
QLabel.note { color: #444; }
QLabel#fingerprint { font-size: 14pt; font-weight: bold; color: #1f5f9e; padding: 8px;
                     background: #f3f5f7; border: 1px solid #c9d3dd; }
QLabel#wizardError { color: #c62828; }
"""
SIZE = (760, 560)  # fits a 1366×768 screen with the task bar and the window frame


def _note(text: str, *, indent: int = 0) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("class", "note")
    label.setTextFormat(Qt.TextFormat.RichText)
    if indent:
        label.setIndent(indent)
    return label


def fingerprint_lines(display: str) -> str:
    """The 16 groups of a fingerprint on two lines of eight, as it is read out over the phone."""
    groups = display.split()
    return " ".join(groups[:8]) + "\n" + " ".join(groups[8:])


class UnitPage(QWizardPage):
    """1. 本机是哪一级."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("第 1 步：本机是哪一级")
        self.setSubTitle("这台电脑上的程序给谁用？设置后不能更改。")
        self.city = QRadioButton(installation.CITY_LABEL)
        self.city.setObjectName("unitCity")
        self.county = QRadioButton("县（区、市）：")
        self.county.setObjectName("unitCounty")
        self.group = QButtonGroup(self)
        self.group.addButton(self.city)
        self.group.addButton(self.county)
        self.unit = QComboBox()
        self.unit.setObjectName("unitChoice")
        self.unit.addItem("请选择……", None)
        for u in reference().units:
            self.unit.addItem(u.name, u.code)
        self.unit.setEnabled(False)
        bold = self.city.font()
        bold.setBold(True)
        self.city.setFont(bold)
        self.county.setFont(bold)
        layout = QVBoxLayout(self)
        layout.addWidget(_note("欢迎使用！这是第一次打开这个数据库，请用 4 步完成设置。"
                               "在最后一步点“完成”之前不会保存任何内容；点“取消”则下次打开程序时会再次询问。"))
        layout.addSpacing(12)
        layout.addWidget(self.city)
        layout.addWidget(_note("市大气污染防治工作领导组办公室使用：保存全市 12 个县（区、市）的数据，"
                               "分解任务目标，导入各县的报送包，生成全市月报。", indent=22))
        layout.addSpacing(12)
        row = QHBoxLayout()
        row.addWidget(self.county)
        row.addWidget(self.unit)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(_note("县（区、市）的填报员使用：只保存本县（区、市）的台账，"
                               "任何人（包括本机管理员）都不能录入其他县的数据；数据以报送包的形式报给市大气办。",
                               indent=22))
        layout.addStretch(1)
        self.city.toggled.connect(self._changed)
        self.county.toggled.connect(self._changed)
        self.unit.currentIndexChanged.connect(self._changed)

    def _changed(self) -> None:
        self.unit.setEnabled(self.county.isChecked())
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.city.isChecked() or (self.county.isChecked() and self.unit.currentData() is not None)

    def chosen(self) -> str | None:
        if self.city.isChecked():
            return installation.CITY
        if self.county.isChecked():
            return self.unit.currentData()
        return None


class AdminPage(QWizardPage):
    """2. 第一个管理员."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("第 2 步：创建本机的管理员")
        self.setSubTitle("管理员负责本机的用户账户、备份和恢复。设置完成后，打开程序需要用账户登录。")
        self.name = QLineEdit()
        self.name.setObjectName("adminName")
        self.name.setPlaceholderText("登录用的名字，如 zhangwei 或 张伟")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("adminDisplayName")
        self.display_name.setPlaceholderText("如真实姓名，可不填")
        form = QFormLayout()
        form.addRow("用户名：", self.name)
        form.addRow("显示名称：", self.display_name)
        self.passwords = PasswordFields(form, name=self.name.text, parent=self)
        self.problem = QLabel()
        self.problem.setObjectName("wizardError")
        self.problem.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(_note("请记住这个密码：忘记时只能由本机的另一位管理员重置。"
                               "建议设置完成后在“用户管理”中再为日常填报的同事分别创建账户。"))
        self.name.textChanged.connect(self.passwords.update)
        self.passwords.changed.connect(self.completeChanged)

    def name_problem(self) -> str | None:
        try:
            accounts.check_name(self.name.text())
            accounts.check_display_name(self.display_name.text())
        except JzairError as exc:
            return str(exc)
        return None

    def isComplete(self) -> bool:  # noqa: N802
        return self.name_problem() is None and self.passwords.problem() is None


class ThirdPage(QWizardPage):
    """3. county: the 任务包 now or later; city: the key's fingerprint."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.key: installation.PreparedKey | None = None
        self.stack = QStackedWidget()

        county = QWidget()
        self.now = QRadioButton("现在导入市大气办发来的任务包")
        self.now.setObjectName("targetsNow")
        self.later = QRadioButton("以后再导入（收到任务包后，在“数据报送”页导入）")
        self.later.setObjectName("targetsLater")
        self.later.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.now)
        group.addButton(self.later)
        self.file = QLineEdit()
        self.file.setObjectName("targetsFile")
        self.file.setPlaceholderText("任务包文件（.jzpkg）")
        self.browse = QPushButton("浏览…")
        self.browse.clicked.connect(self._browse)
        self.fingerprint = QLineEdit()
        self.fingerprint.setObjectName("cityFingerprint")
        self.fingerprint.setPlaceholderText("电话向市大气办核对得到的 64 位指纹（可不填）")
        box = QGroupBox("任务包")
        form = QFormLayout(box)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.browse)
        form.addRow("文件：", file_row)
        form.addRow("市大气办公钥指纹：", self.fingerprint)
        c = QVBoxLayout(county)
        c.setContentsMargins(0, 0, 0, 0)
        c.addWidget(_note("任务包由市大气办导出，包含各县（区、市）的任务目标和空气质量目标，"
                          "导入后本机的进度与市里计算的一致。任务包带有市大气办的签名：填写指纹时，"
                          "签名公钥与指纹不一致的任务包会被拒绝；导入后本机只接受同一公钥签名的任务包。"))
        c.addWidget(self.now)
        c.addWidget(box)
        c.addWidget(self.later)
        c.addStretch(1)
        self.now.toggled.connect(self._changed)
        self.file.textChanged.connect(self._changed)
        self.stack.addWidget(county)

        city = QWidget()
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setObjectName("fingerprint")
        self.fingerprint_label.setWordWrap(True)
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        c = QVBoxLayout(city)
        c.setContentsMargins(0, 0, 0, 0)
        c.addWidget(_note("本机的报送包签名密钥已生成。市大气办导出的任务包都用它签名，"
                          "各县（区、市）据此确认任务包确实来自市大气办。"))
        c.addWidget(QLabel("本机公钥指纹："))
        c.addWidget(self.fingerprint_label)
        c.addWidget(_note("请把这个指纹<b>通过电话</b>读给各县（区、市）的管理员核对（不要只随任务包一起发送）。"
                          "以后也可以在“数据报送”页或用命令 <code>jzair package key</code> 查看。"))
        c.addStretch(1)
        self.stack.addWidget(city)

        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)

    def initializePage(self) -> None:  # noqa: N802
        unit = self.wizard().unit_page.chosen()
        if unit == installation.CITY:
            self.setTitle("第 3 步：本机的签名密钥")
            self.setSubTitle("市大气办的任务包用这把密钥签名。")
            if self.key is None:
                self.key = installation.prepare_key(self.db)
            self.fingerprint_label.setText(fingerprint_lines(self.key.display))
            self.stack.setCurrentIndex(1)
        else:
            self.setTitle("第 3 步：市大气办的任务包")
            self.setSubTitle(f"{installation.unit_label(unit or '')}的任务目标来自市大气办的任务包：可以现在导入，也可以以后再导入。")
            self.stack.setCurrentIndex(0)
        self._changed()

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "选择任务包", str(Path.home()), "任务包 (*.jzpkg)")
        if chosen:
            self.file.setText(chosen)

    def _changed(self) -> None:
        county = self.stack.currentIndex() == 0
        for w in (self.file, self.browse, self.fingerprint):
            w.setEnabled(county and self.now.isChecked())
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        if self.stack.currentIndex() == 1 or not self.now.isChecked():
            return True
        return bool(self.file.text().strip())

    def package(self) -> Path | None:
        if self.stack.currentIndex() == 0 and self.now.isChecked() and self.file.text().strip():
            return Path(self.file.text().strip())
        return None


class BackupPage(QWizardPage):
    """4. where automatic backups go."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("第 4 步：自动备份（可选）")
        self.setSubTitle("程序会自动备份数据；建议再选一个 U 盘或另一块硬盘上的文件夹，以防电脑损坏时一起丢失。")
        settings = backup.backup_settings()
        folder = settings.backup_folder()
        self.extra = QLineEdit(str(settings.extra_folder) if settings.extra_folder else "")
        self.extra.setObjectName("extraFolder")
        self.extra.setPlaceholderText("不选则只备份到上面的文件夹")
        browse = QPushButton("选择文件夹…")
        browse.clicked.connect(self._browse)
        clear = QPushButton("清除")
        clear.clicked.connect(self.extra.clear)
        row = QHBoxLayout()
        row.addWidget(self.extra, 1)
        row.addWidget(browse)
        row.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.addWidget(_note(
            f"<b>默认做法：</b>每天第一次打开程序时、一直开着时每小时检查一次、以及退出时（数据有改动的话），"
            f"自动备份到本机的文件夹：<br>&nbsp;&nbsp;<code>{folder}</code><br>"
            f"保留最近 {settings.keep_daily} 天每天最新的一份和最近 {settings.keep_monthly} 个月每月最新的一份，"
            "更早的自动删除。"))
        layout.addSpacing(8)
        layout.addWidget(QLabel("附加备份文件夹（每份自动备份再复制一份到这里，同样轮换）："))
        layout.addLayout(row)
        layout.addWidget(_note("U 盘没插时照常做本机备份，只在状态栏提示。以后可以在“设置 → 数据备份”中修改。"))
        layout.addStretch(1)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "选择附加备份文件夹", self.extra.text() or str(Path.home()))
        if chosen:
            self.extra.setText(chosen)

    def folder(self) -> Path | None:
        text = self.extra.text().strip()
        return Path(text) if text else None


class SetupWizard(QWizard):
    """The four pages; `result` holds the set-up after 完成 (None when cancelled)."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.result_: installation.SetupResult | None = None
        self.password: str | None = None
        self.setWindowTitle(f"首次使用向导 - {APP_TITLE}")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setStyleSheet(STYLE)
        for button, text in ((QWizard.WizardButton.BackButton, "< 上一步"),
                             (QWizard.WizardButton.NextButton, "下一步 >"),
                             (QWizard.WizardButton.FinishButton, "完成"),
                             (QWizard.WizardButton.CancelButton, "取消")):
            self.setButtonText(button, text)
        self.unit_page = UnitPage()
        self.admin_page = AdminPage()
        self.third_page = ThirdPage(db)
        self.backup_page = BackupPage()
        for page in (self.unit_page, self.admin_page, self.third_page, self.backup_page):
            self.addPage(page)
        self.resize(*SIZE)

    def accept(self) -> None:
        """完成: set up in one transaction; on a refusal say why and stay on the wizard."""
        if self.finish():
            super().accept()

    def finish(self) -> bool:
        admin = self.admin_page
        try:
            result = installation.set_up(
                self.db, unit=self.unit_page.chosen() or "", admin=admin.name.text(),
                password=admin.passwords.value(), display_name=admin.display_name.text(),
                targets_package=self.third_page.package(), city_fingerprint=self.third_page.fingerprint.text() or None,
                key=self.third_page.key,
            )
        except JzairError as exc:
            show_user_error(self, exc, "无法完成设置", note="\n\n数据库没有改动，请修改后再点“完成”。")
            return False
        self.result_ = result
        self.password = admin.passwords.value()
        folder = self.backup_page.folder()
        if folder is not None:
            try:
                settings = backup.backup_settings()
                backup.save_backup_settings(backup.BackupSettings(
                    keep_daily=settings.keep_daily, keep_monthly=settings.keep_monthly, extra_folder=folder,
                    folder=settings.folder), actor=Actor(name=result.admin, role=result.admin_role))
            except (JzairError, OSError) as exc:
                QMessageBox.warning(self, "附加备份文件夹未保存",
                                    f"本机已设置好，但附加备份文件夹没有保存：{exc}\n可以在“设置 → 数据备份”中再选。")
        return True


def run_setup(db: Database) -> tuple[installation.SetupResult, str] | None:
    """Show the wizard (modal). The set-up and the administrator's password, or None when cancelled."""
    wizard = SetupWizard(db)
    if wizard.exec() != QWizard.DialogCode.Accepted or wizard.result_ is None:
        return None
    return wizard.result_, wizard.password or ""
