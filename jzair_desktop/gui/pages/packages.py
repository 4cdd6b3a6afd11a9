"""数据报送: county machines export their signed monthly package (报送包); the city machine previews a
package (what it will change, per ledger), imports it, and keeps the history of imported packages per
unit and the pinned keys (re-pinned by a city_admin). The city also exports the targets package (任务包)
that county machines import. Long work runs off the GUI thread through gui.tasks.run_task.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.months import default_month, plan_months
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.jzpkg import SUFFIX, format_fingerprint
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import TaskState, run_task, show_user_error
from jzair_desktop.gui.widgets.common import list_table
from jzair_desktop.services import authority
from jzair_desktop.services.changes import EVERYTHING, NOTHING, Changed, Changes
from jzair_desktop.services.packages import export as package_export
from jzair_desktop.services.packages import importer as package_import
from jzair_desktop.services.packages import keys as package_keys
from jzair_desktop.services.packages.importer import ImportPreview, ImportResult

PREVIEW_HEADERS = ("项目", "新增", "修改", "删除", "不变")
HISTORY_HEADERS = ("单位", "类型", "月份", "序号", "导入时间", "导入人", "台账新增", "台账修改", "台账删除", "公钥指纹")
PIN_HEADERS = ("单位", "公钥指纹", "方式", "绑定时间", "操作人")
GREEN, ORANGE, RED, GREY = "#2e7d32", "#9a5b00", "#c62828", "#555555"
FILTER = f"数据报送包 (*{SUFFIX})"
SETTINGS_FOLDER = "packages/folder"


def _mono() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(font.pointSizeF(), 10.5))
    return font


def _fill(table: QTableWidget, rows: list[tuple], numeric: tuple[int, ...] = ()) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(str(value))
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def _say(label: QLabel, text: str, colour: str = GREY) -> None:
    label.setText(f"<span style='color:{colour}'>{text}</span>")


class RepinDialog(QDialog):
    """Re-pin the key accepted for a unit (or the city): by a fingerprint read over the phone, or from a package."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None, *, scope: str | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("重新绑定公钥")
        self.resize(640, 300)
        self.scope_combo = QComboBox()
        self.scope_combo.setObjectName("scopeCombo")
        if ctx.actor.is_city:
            for u in reference().units:
                self.scope_combo.addItem(u.name, u.code)
        self.scope_combo.addItem(package_keys.scope_name(package_keys.SCOPE_CITY), package_keys.SCOPE_CITY)
        if scope is not None and self.scope_combo.findData(scope) >= 0:
            self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))
        self.by_fingerprint = QRadioButton("按公钥指纹（电话核对后填写）")
        self.by_package = QRadioButton("按对方发来的报送包文件")
        self.by_fingerprint.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_fingerprint)
        group.addButton(self.by_package)
        self.fingerprint_edit = QLineEdit()
        self.fingerprint_edit.setObjectName("fingerprintEdit")
        self.fingerprint_edit.setFont(_mono())
        self.fingerprint_edit.setPlaceholderText("64位十六进制，可每4位用空格隔开")
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("fileEdit")
        browse = QPushButton("选择文件…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText("如：县里重装了电脑，已电话核对指纹")
        note = QLabel("绑定后只接受用该公钥签名的报送包。只有管理员可以绑定；原指纹和新指纹都会记入审计记录。")
        note.setWordWrap(True)
        self.current_label = QLabel()
        self.current_label.setObjectName("currentPin")
        self.current_label.setFont(_mono())
        self.current_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self._show_current())
        form = QFormLayout()
        form.addRow("单位：", self.scope_combo)
        form.addRow("当前绑定：", self.current_label)
        form.addRow(self.by_fingerprint)
        form.addRow("公钥指纹：", self.fingerprint_edit)
        form.addRow(self.by_package)
        form.addRow("报送包：", file_row)
        form.addRow("原因：", self.reason_edit)
        self.error = QLabel()
        self.error.setObjectName("repinError")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("绑定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.result_pin: package_keys.PinResult | None = None
        self._show_current()

    def _show_current(self) -> None:
        scope = self.scope_combo.currentData()
        pin = next((p for p in package_keys.list_pins(self.ctx.db) if p.scope == scope), None)
        self.current_label.setText(pin.display if pin is not None else "（未绑定）")

    def _browse(self) -> None:
        chosen, _f = QFileDialog.getOpenFileName(self, "选择报送包", "", FILTER)
        if chosen:
            self.file_edit.setText(chosen)
            self.by_package.setChecked(True)

    def apply(self) -> None:
        """Pin (reads a package file on this thread: it is small and checked in well under a second)."""
        scope = self.scope_combo.currentData()
        try:
            if self.by_package.isChecked():
                if not self.file_edit.text().strip():
                    raise JzairError("请选择报送包文件。")
                self.result_pin = package_keys.pin_key(self.ctx.db, scope, actor=self.ctx.actor,
                                                       package=self.file_edit.text().strip(),
                                                       reason=self.reason_edit.text())
            else:
                self.result_pin = package_keys.pin_key(self.ctx.db, scope, actor=self.ctx.actor,
                                                       fingerprint=self.fingerprint_edit.text(),
                                                       reason=self.reason_edit.text())
        except JzairError as exc:
            _say(self.error, html.escape(str(exc)), RED)
            return
        self.accept()


class PackagesPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.preview: ImportPreview | None = None
        self.last_export: package_export.ExportResult | None = None
        title = QLabel("数据报送")
        title.setObjectName("pageTitle")
        sub = QLabel("县（区、市）每月把本单位的数据导出为签名的报送包（.jzpkg），用U盘等方式交给市里；"
                     "市里导入前逐项校验签名、校验值、序号和每条记录，先预览改动，确认后一次写入。"
                     "同一个报送包重复导入不会改动任何数据。")
        sub.setWordWrap(True)
        self.key_label = QLabel()
        self.key_label.setObjectName("ownKey")
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        key_box = QGroupBox("本机公钥指纹（与对方电话核对时逐组读出）")
        key_layout = QVBoxLayout(key_box)
        self.key_label.setFont(_mono())
        key_layout.addWidget(self.key_label)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("packageTabs")
        self.tabs.addTab(self._export_tab(), "导出报送包（县级）")
        self.tabs.addTab(self._import_tab(), "导入报送包（市级）")
        self.tabs.addTab(self._history_tab(), "导入记录与公钥")

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(sub)
        layout.addWidget(key_box)
        layout.addWidget(self.tabs, 1)
        self.refresh()

    # -- building --------------------------------------------------------------------------------
    def _export_tab(self) -> QWidget:
        w = QWidget()
        actor = self.ctx.actor
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("exportUnit")
        for u in reference().units:
            self.unit_combo.addItem(u.name, u.code)
        if actor.own_unit:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(actor.unit_code))
            self.unit_combo.setEnabled(False)
        self.month_combo = QComboBox()
        self.month_combo.setObjectName("exportMonth")
        for m in plan_months():
            self.month_combo.addItem(m, m)
        self.month_combo.setCurrentIndex(self.month_combo.findData(default_month()))
        self.export_button = QPushButton("导出报送包…")
        self.export_button.setObjectName("exportButton")
        self.export_button.clicked.connect(lambda: self.export_county())
        if not actor.can_write():
            self.export_button.setEnabled(False)
            self.export_button.setToolTip("只读用户不能导出报送包。")
        self.unit_combo.setMinimumWidth(180)
        self.month_combo.setMinimumWidth(180)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("县（区、市）：", self.unit_combo)
        form.addRow("报送月份：", self.month_combo)
        what = QLabel("报送包包含该单位各类台账的全部记录（已删除的记录只带删除标记）、销号记录、月度数据、"
                      "空气质量、节点任务、月度上报和审计记录，并用本机密钥签名。每导出一次序号加一，市里只接受更新的序号。")
        what.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addStretch(1)
        self.export_result = QLabel()
        self.export_result.setObjectName("exportResult")
        self.export_result.setWordWrap(True)
        self.export_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(w)
        layout.addLayout(form)
        layout.addWidget(what)
        layout.addLayout(row)
        layout.addWidget(self.export_result)
        if actor.is_city:
            box = QGroupBox("市级任务包（发往各县）")
            box_layout = QVBoxLayout(box)
            text = QLabel("把各县（区、市）的任务目标和空气质量目标导出为签名的任务包；各县导入后，"
                          "双方计算的完成进度一致。")
            text.setWordWrap(True)
            self.targets_button = QPushButton("导出任务包…")
            self.targets_button.setObjectName("targetsButton")
            self.targets_button.clicked.connect(lambda: self.export_targets())
            trow = QHBoxLayout()
            trow.addWidget(self.targets_button)
            trow.addStretch(1)
            box_layout.addWidget(text)
            box_layout.addLayout(trow)
            layout.addWidget(box)
        layout.addStretch(1)
        return w

    def _import_tab(self) -> QWidget:
        w = QWidget()
        self.choose_button = QPushButton("选择报送包…")
        self.choose_button.setObjectName("chooseButton")
        self.choose_button.clicked.connect(lambda: self.choose_package())
        self.file_label = QLabel("尚未选择文件。导入前会先校验并预览将要发生的改动。")
        self.file_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.choose_button)
        top.addWidget(self.file_label, 1)
        self.preview_header = QLabel()
        self.preview_header.setObjectName("previewHeader")
        self.preview_header.setWordWrap(True)
        self.preview_key = QLabel()
        self.preview_key.setObjectName("previewKey")
        self.preview_key.setWordWrap(True)
        self.preview_key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview_table = list_table(PREVIEW_HEADERS, "previewTable", stretch_last=False)
        header = self.preview_table.horizontalHeader()
        header.setStretchLastSection(False)
        self.preview_table.setColumnWidth(0, 170)
        for c in range(1, len(PREVIEW_HEADERS)):
            self.preview_table.setColumnWidth(c, 96)
        self.preview_table.setMinimumWidth(170 + 96 * 4 + 24)
        self.preview_table.setMaximumWidth(170 + 96 * 4 + 24)
        self.preview_warnings = QLabel()
        self.preview_warnings.setObjectName("previewWarnings")
        self.preview_warnings.setWordWrap(True)
        self.preview_warnings.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.import_button = QPushButton("确认导入")
        self.import_button.setObjectName("importButton")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(lambda: self.import_chosen())
        self.clear_button = QPushButton("取消")
        self.clear_button.clicked.connect(lambda: self.clear_preview())
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        self.import_status = QLabel()
        self.import_status.setObjectName("importStatus")
        self.import_status.setWordWrap(True)
        self.import_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # What the package would change: shown once a package passed every check.
        self.preview_box = QWidget()
        box = QVBoxLayout(self.preview_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.preview_header)
        box.addWidget(self.preview_key)
        middle = QHBoxLayout()
        middle.addWidget(self.preview_table)
        middle.addWidget(self.preview_warnings, 1)
        box.addLayout(middle, 1)
        box.addLayout(buttons)
        layout = QVBoxLayout(w)
        layout.addLayout(top)
        layout.addWidget(self.import_status)
        layout.addWidget(self.preview_box, 1)
        layout.addStretch(0)
        self.clear_preview()
        return w

    def _history_tab(self) -> QWidget:
        w = QWidget()
        self.history_filter = QComboBox()
        self.history_filter.setObjectName("historyFilter")
        self.history_filter.addItem("全部", None)
        for u in reference().units:
            self.history_filter.addItem(u.name, u.code)
        self.history_filter.addItem("市级任务包", package_keys.SCOPE_CITY)
        self.history_filter.currentIndexChanged.connect(lambda _i: self.refresh_history())
        self.history_table = list_table(HISTORY_HEADERS, "historyTable", stretch_last=False)
        self.history_table.horizontalHeader().setStretchLastSection(True)
        self.pins_table = list_table(PIN_HEADERS, "pinsTable", stretch_last=False)
        self.pins_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.repin_button = QPushButton("重新绑定公钥…")
        self.repin_button.setObjectName("repinButton")
        self.repin_button.clicked.connect(lambda: self.repin())
        if not authority.is_administrator(self.ctx.actor):
            self.repin_button.setEnabled(False)
            self.repin_button.setToolTip("只有管理员可以绑定公钥。")
        self.pin_status = QLabel()
        self.pin_status.setObjectName("pinStatus")
        self.pin_status.setWordWrap(True)
        self.pin_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("单位："))
        bar.addWidget(self.history_filter)
        bar.addStretch(1)
        pins_bar = QHBoxLayout()
        pins_label = QLabel("已绑定的公钥（管理员首次导入时绑定；对方重装程序后须电话核对指纹，由管理员重新绑定）")
        pins_label.setWordWrap(True)
        pins_bar.addWidget(pins_label, 1)
        pins_bar.addWidget(self.repin_button)
        layout = QVBoxLayout(w)
        layout.addLayout(bar)
        layout.addWidget(self.history_table, 3)
        layout.addLayout(pins_bar)
        layout.addWidget(self.pins_table, 2)
        layout.addWidget(self.pin_status)
        return w

    # -- refreshing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            me = package_keys.identity(self.ctx.db)
        except JzairError as exc:
            _say(self.key_label, html.escape(str(exc)), RED)
        else:
            self.key_label.setText(f"{me.display}　（生成于 {me.created_at:%Y-%m-%d}）")
        self.refresh_history()

    def refresh_history(self) -> None:
        rows = package_import.import_history(self.ctx.db, scope=self.history_filter.currentData())
        _fill(self.history_table, [
            (h.name, "任务包" if h.kind == "targets" else "报送包", h.month or "", h.sequence,
             f"{h.imported_at:%Y-%m-%d %H:%M}", h.imported_by, h.total("new"), h.total("changed"), h.total("deleted"),
             h.fingerprint_display[:19] + " …")
            for h in rows
        ], numeric=(3, 6, 7, 8))
        self.history_table.resizeColumnsToContents()
        pins = package_keys.list_pins(self.ctx.db)
        _fill(self.pins_table, [(p.name, p.display, p.source_label, f"{p.pinned_at:%Y-%m-%d %H:%M}", p.pinned_by)
                                for p in pins])
        for c in (0, 2, 3, 4):
            self.pins_table.resizeColumnToContents(c)
        for r in range(self.pins_table.rowCount()):
            self.pins_table.item(r, 1).setFont(_mono())

    # -- file dialogs (tests replace these) -------------------------------------------------------
    def _folder(self) -> str:
        folder = self.ctx.settings().value(SETTINGS_FOLDER, "")
        return str(folder) if folder and Path(str(folder)).is_dir() else str(Path.home())

    def _remember(self, path: Path) -> None:
        self.ctx.settings().setValue(SETTINGS_FOLDER, str(path.parent))

    def ask_save_path(self, title: str, name: str) -> Path | None:
        chosen, _f = QFileDialog.getSaveFileName(self, title, str(Path(self._folder()) / name), FILTER)
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == SUFFIX else path.with_name(path.name + SUFFIX)

    def ask_open_path(self) -> Path | None:
        chosen, _f = QFileDialog.getOpenFileName(self, "选择报送包", self._folder(), FILTER)
        return Path(chosen) if chosen else None

    # -- export ----------------------------------------------------------------------------------
    def export_county(self) -> None:
        unit_name, unit, month = self.unit_combo.currentText(), self.unit_combo.currentData(), self.month_combo.currentData()
        path = self.ask_save_path("保存报送包", f"{unit_name}-{month}-报送包{SUFFIX}")
        if path is None:
            return
        self._remember(path)
        db, actor = self.ctx.db, self.ctx.actor
        run_task(self, "正在导出报送包……",
                 lambda state: Changed(package_export.export_county_package(db, unit, month, path, actor=actor,
                                                                            state=state), Changes(packages=True)),
                 ctx=self.ctx, on_success=lambda done: self._exported(done.value))

    def export_targets(self) -> None:
        path = self.ask_save_path("保存任务包", f"市级任务包-{dt.date.today():%Y%m%d}{SUFFIX}")
        if path is None:
            return
        self._remember(path)
        db, actor = self.ctx.db, self.ctx.actor
        run_task(self, "正在导出任务包……",
                 lambda state: Changed(package_export.export_targets_package(db, path, actor=actor, state=state),
                                       Changes(packages=True)),
                 ctx=self.ctx, on_success=lambda done: self._exported(done.value))

    def _exported(self, result: package_export.ExportResult) -> None:
        self.last_export = result
        c = result.counts
        if result.kind == "county":
            records = sum(c.get(k, 0) for k in LEDGERS) - c.get("tombstones", 0)
            what = (f"{html.escape(result.unit_name or '')} {result.month} 报送包第 {result.sequence} 号：台账记录 {records:,} 条"
                    f"（另有已删除 {c.get('tombstones', 0):,} 条），月度数据 {c.get('monthly_figures', 0):,} 条，"
                    f"审计记录 {c.get('audit', 0):,} 条")
        else:
            what = (f"市级任务包第 {result.sequence} 号：任务目标 {c.get('county_targets', 0):,} 项，"
                    f"空气质量目标 {c.get('air_quality_targets', 0):,} 项")
        self.export_result.setText(
            f"<p style='color:{GREEN}'><b>已导出</b> {what}。</p>"
            f"<p>文件：{html.escape(str(result.path))}（{result.size / 1024:,.0f} KB）</p>"
            f"<p>签名公钥指纹：<span style='font-family:monospace'>{result.fingerprint_display}</span></p>")

    # -- import ----------------------------------------------------------------------------------
    def clear_preview(self) -> None:
        self.preview = None
        self.preview_box.setVisible(False)
        self.preview_header.setText("")
        self.preview_key.setText("")
        self.preview_table.setRowCount(0)
        self.preview_warnings.setText("")
        self.import_button.setEnabled(False)

    def choose_package(self, path: Path | None = None) -> None:
        path = path or self.ask_open_path()
        if path is None:
            return
        self._remember(path)
        self.clear_preview()
        self.file_label.setText(html.escape(str(path)))
        _say(self.import_status, "正在校验……")
        db, actor = self.ctx.db, self.ctx.actor
        run_task(self, "正在校验报送包……",
                 lambda state: package_import.import_package(db, path, actor=actor, dry_run=True, state=state),
                 on_success=self._previewed, on_error=self._refused)

    def _refused(self, exc: BaseException) -> None:
        self.clear_preview()
        if isinstance(exc, JzairError):
            _say(self.import_status, "<b>未导入：</b>" + html.escape(str(exc)).replace("\n", "<br>")
                 + "<br>本机数据库未做任何改动。", RED)
        else:
            self.import_status.setText("")
            show_user_error(self, exc)

    def _previewed(self, result: ImportResult) -> None:
        p = result.preview
        self.preview = p
        who = f"{html.escape(p.unit_name or '')} {p.month} " if p.unit_name else ""
        self.preview_header.setText(
            f"<b>{who}{p.kind_label}第 {p.sequence} 号</b>　{html.escape(p.created_at.replace('T', ' '))} "
            f"由“{html.escape(p.created_by)}”导出（程序版本 {html.escape(p.app_version)}）")
        if p.pin == "pinned":
            state, colour = "与本机已绑定的公钥一致", GREEN
        else:
            state, colour = "首次导入：确认导入后将绑定此公钥，请先与对方电话核对指纹", ORANGE
        self.preview_key.setText(
            f"签名公钥指纹：<span style='font-family:monospace'>{p.fingerprint_display}</span>"
            f"<br><span style='color:{colour}'>{state}</span>")
        self.preview_box.setVisible(True)
        self.preview_table.setVisible(p.already_imported is None)
        if p.already_imported is not None:
            _say(self.import_status, f"该报送包已于 {p.already_imported:%Y-%m-%d %H:%M} 导入过，内容完全相同，无需再次导入。",
                 GREEN)
            return
        _fill(self.preview_table, [(c.title, f"{c.new:,}", f"{c.changed:,}", f"{c.deleted:,}", f"{c.unchanged:,}")
                                   for c in p.changes], numeric=(1, 2, 3, 4))
        for r, c in enumerate(p.changes):
            for col, (n, colour) in enumerate(((c.new, GREEN), (c.changed, ORANGE), (c.deleted, RED),
                                               (c.unchanged, GREY)), start=1):
                item = self.preview_table.item(r, col)
                item.setForeground(QBrush(QColor(colour if n else "#b0b0b0")))
                if n and col < 4:
                    bold = item.font()
                    bold.setBold(True)
                    item.setFont(bold)
        notes = ""
        if p.warnings:
            items = "".join(f"<li>{html.escape(w)}</li>" for w in p.warnings)
            notes = f"<span style='color:{ORANGE}'>提示（不影响导入）：</span><ul>{items}</ul>"
        if p.chain == "fork":
            notes = (f"<p style='color:{RED}'><b>审计链分叉：</b>{html.escape(p.chain_note)}</p>"
                     "<p>确认导入时须填写原因。</p>" + notes)
        elif p.chain_note:
            notes = f"<p style='color:{ORANGE}'>{html.escape(p.chain_note)}</p>" + notes
        self.preview_warnings.setText(notes)
        ledgers = [c for c in p.changes if c.key in LEDGERS]
        if ledgers:
            summary = (f"台账记录新增 {sum(c.new for c in ledgers):,} 条、修改 {sum(c.changed for c in ledgers):,} 条、"
                       f"删除 {sum(c.deleted for c in ledgers):,} 条，共 {p.total_changes:,} 处改动")
        else:
            summary = f"共 {p.total_changes:,} 处改动"
        if p.chain == "fork":
            _say(self.import_status, f"<b>校验通过，但审计链分叉</b>（见右侧说明）：{summary}。"
                                     "电话核实后点“确认导入”并填写原因。", ORANGE)
        else:
            _say(self.import_status, f"<b>校验通过</b>（签名、校验值、序号和每条记录）：{summary}。确认无误后点“确认导入”。",
                 GREEN)
        self.import_button.setEnabled(True)

    def import_chosen(self) -> None:
        if self.preview is None:
            return
        path = self.preview.path
        reason = None
        if self.preview.chain == "fork":
            reason = self.ask_fork_reason(self.preview)
            if not reason:
                return
        self.import_button.setEnabled(False)
        _say(self.import_status, "正在导入……")
        db, actor = self.ctx.db, self.ctx.actor

        def work(state: TaskState) -> Changed[ImportResult]:
            result = package_import.import_package(db, path, actor=actor, state=state, accept_fork=reason)
            return Changed(result, EVERYTHING if result.imported else NOTHING)

        run_task(self, "正在导入报送包……", work, ctx=self.ctx,
                 on_success=lambda done: self._imported(done.value), on_error=self._refused)

    def ask_fork_reason(self, preview: ImportPreview) -> str | None:
        """The reason for accepting a county's forked audit chain (recorded in the audit trail); None: cancelled."""
        text, ok = QInputDialog.getMultiLineText(
            self, "接受审计链分叉",
            f"{preview.chain_note}\n\n请填写原因（如“县里硬盘损坏，从备份恢复，已电话核实”），原因将记入审计记录：")
        text = text.strip()
        return text if ok and text else None

    def _imported(self, result: ImportResult) -> None:
        p = result.preview
        if result.imported:
            text = f"已导入{html.escape(p.source_name or '')}{p.kind_label}第 {p.sequence} 号：共 {p.total_changes:,} 处改动。"
        else:
            text = "该报送包已经导入过，未做任何改动。"
        self.clear_preview()
        _say(self.import_status, text, GREEN)
        self.refresh_history()

    # -- pins ------------------------------------------------------------------------------------
    def repin(self) -> None:
        row = self.pins_table.currentRow()
        scope = None
        if row >= 0:
            pins = package_keys.list_pins(self.ctx.db)
            scope = pins[row].scope if row < len(pins) else None
        dialog = RepinDialog(self.ctx, self, scope=scope)
        if self.exec_dialog(dialog):
            self.refresh_history()
            result = dialog.result_pin
            if result is not None and result.changed:
                old = format_fingerprint(result.previous) if result.previous else "（未绑定）"
                _say(self.pin_status, "<br>".join(html.escape(t) for t in (
                    f"{result.pin.name}的公钥已重新绑定（已记入审计记录）。", f"原指纹：{old}",
                    f"新指纹：{result.pin.display}")), GREEN)

    def exec_dialog(self, dialog: QDialog) -> bool:
        return dialog.exec() == QDialog.DialogCode.Accepted


def make_page(ctx: GuiContext) -> PackagesPage:
    return PackagesPage(ctx)
