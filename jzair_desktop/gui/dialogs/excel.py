"""Excel from the ledger page's menu: the import wizard, export and the blank template.

The ledger page calls exactly these three:
    open_import_wizard(parent, ctx, ledger_key) -> ImportWizard | None
    export_ledger(parent, ctx, ledger_key, unit_code) -> job | None
    save_template(parent, ctx, ledger_key) -> Path | None

The wizard: 选择文件 → 预览与列对应 → 检查结果 → 完成. Reading, checking and writing run off the GUI
thread through gui.tasks.run_task (progress bar with 取消); the write is one transaction in
services.excel.apply_import, so a cancel or an error leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.excel_import import SheetData
from jzair_desktop.exchange.spreadsheet import CSV, IMPORT_FILTER
from jzair_desktop.exchange.xlsx_common import MAX_DATA_ROWS
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import run_task, user_errors
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.gui.widgets.common import save_file_path
from jzair_desktop.gui.widgets.saved_file import show_saved_file
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.changes import Changed, Changes
from jzair_desktop.services.excel import ImportPlan, ImportRejected, ImportReport

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
MAX_SHOWN_PROBLEMS = 2000
ERROR_COLOR = "#c62828"
WARNING_COLOR = "#a65f00"
XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
SETTINGS_DIR = "excel/last_dir"


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def _item(text: Any, *, color: str | None = None, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(_display(text))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if color:
        item.setForeground(QColor(color))
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    enable_copy(table)
    return table


def _last_dir(ctx: GuiContext) -> str:
    value = ctx.settings().value(SETTINGS_DIR, "")
    return str(value) if value and Path(str(value)).is_dir() else str(Path.home())


def _remember_dir(ctx: GuiContext, path: Path) -> None:
    ctx.settings().setValue(SETTINGS_DIR, str(path.parent))


# --- the wizard --------------------------------------------------------------------------------------


class _Page(QWizardPage):
    """A page whose 下一步 may first run a background task; the task's success moves on."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

    def show_message(self, text: str, color: str = ERROR_COLOR) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {color};")
        self.message.setVisible(bool(text))


class FilePage(_Page):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        d = wizard.d
        self.setTitle(f"导入{d.sheet_title}：选择文件")
        self.setSubTitle(
            "选择县（区、市）报来的台账：Excel（.xlsx .xls）、WPS（.et）、LibreOffice（.ods）或 CSV 文本均可。"
            "表头可以在前30行的任意位置，上面可以有标题行。"
        )
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("台账文件路径")
        self.path_edit.textChanged.connect(self.completeChanged)
        browse = QPushButton("浏览…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.unit_combo = QComboBox()
        for unit in reference().units:
            self.unit_combo.addItem(unit.name, unit.code)
        actor = wizard.ctx.actor
        if actor.own_unit:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(actor.unit_code))
            self.unit_combo.setEnabled(False)
        elif wizard.unit_code_hint:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(wizard.unit_code_hint))
        form = QFormLayout()
        form.addRow("文件：", row)
        form.addRow("导入到：", self.unit_combo)
        hint = QLabel(
            "导入时逐行检查；有任何错误都不会写入，错误会标注在同一文件夹下的“文件名.错误.xlsx”中。"
            f"已有的记录按唯一标识更新。单个文件最多 {MAX_DATA_ROWS:,} 行。"
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "选择台账文件", _last_dir(self.w.ctx), IMPORT_FILTER)
        if name:
            self.path_edit.setText(name)

    @property
    def path(self) -> Path:
        return Path(self.path_edit.text().strip().strip('"'))

    @property
    def unit_code(self) -> str:
        return str(self.unit_combo.currentData())

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return bool(self.path_edit.text().strip())

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        key = (str(self.path), self.unit_code)
        if self.w.data is not None and self.w.data_key == key:
            return True
        self.show_message("")
        path, ledger_key = self.path, self.w.d.key

        def done(data: SheetData) -> None:
            self.w.data, self.w.data_key, self.w.plan = data, key, None
            _remember_dir(self.w.ctx, path)
            self.w.next()

        self.w.start(
            "正在读取文件…",
            lambda state: excel_service.read_import_file(path, ledger_key, state=state),
            done, self,
        )
        return False


class PreviewPage(_Page):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("预览与列对应")
        self.setSubTitle("核对文件中的列对应到台账的哪一列；“忽略”的列不会导入。下面是文件的前几行。")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.mapping = _table(["列", "文件中的表头", "对应台账列", "说明"])
        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(self.preview.fontMetrics().height() + 8)
        self.preview.setAlternatingRowColors(True)
        enable_copy(self.preview)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("列对应："))
        layout.addWidget(self.mapping, 2)
        layout.addWidget(QLabel(f"前 {PREVIEW_ROWS} 行："))
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.message)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        data = self.w.data
        assert data is not None
        self.show_message("")
        d = self.w.d
        skipped = "、".join(f"第{s.row}行（{s.reason}）" for s in data.skipped[:8])
        if len(data.skipped) > 8:
            skipped += f" 等 {len(data.skipped)} 行"
        lines = [
            f"文件“{data.path.name}”（{data.format_text}），"
            + (f"工作表“{data.sheet_name}”，" if data.format != CSV else "")
            + f"表头在第 {data.header_row} 行，数据 {len(data.rows):,} 行。",
        ]
        if skipped:
            lines.append(f"将跳过：{skipped}。")
        if data.missing:
            lines.append("文件中没有这些列：" + "、".join(data.missing) + "。")
        if not data.has_unit_column:
            lines.append(f"文件中没有“县（区、市）”列，全部按“{self.w.unit_name}”导入。")
        self.summary.setText("\n".join(lines))

        self.mapping.setRowCount(len(data.columns))
        for r, c in enumerate(data.columns):
            target = c.match.header if c.used and c.match else "忽略"
            color = None if c.used else "#888888"
            self.mapping.setItem(r, 0, _item(c.letter, color=color))
            self.mapping.setItem(r, 1, _item(c.header.replace("\n", " "), color=color))
            self.mapping.setItem(r, 2, _item(target, color=color))
            self.mapping.setItem(r, 3, _item(c.match.note if c.used and c.match else "台账没有此列", color=color))
        self.mapping.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.mapping.horizontalHeader().setStretchLastSection(True)

        used = data.used_columns
        self.preview.clear()
        self.preview.setColumnCount(len(used) + 1)
        self.preview.setHorizontalHeaderLabels(["行", *(d.column(c.match.key).header for c in used if c.match)])
        rows = data.preview(PREVIEW_ROWS)
        self.preview.setRowCount(len(rows))
        for r, (excel_row, cells) in enumerate(rows):
            self.preview.setItem(r, 0, _item(excel_row, align_right=True))
            for k, c in enumerate(used, 1):
                self.preview.setItem(r, k, _item(cells[c.index] if c.index < len(cells) else None))
        self.preview.resizeColumnsToContents()

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        if self.w.plan is not None:
            return True
        self.show_message("")
        data, unit_code, ctx = self.w.data, self.w.unit_code, self.w.ctx

        def check(state) -> ImportPlan:  # noqa: ANN001
            plan = excel_service.check_import(ctx.db, data, unit_code, actor=ctx.actor, state=state)
            if not plan.report.ok:
                excel_service.write_error_file(plan, state=state)
            return plan

        def done(plan: ImportPlan) -> None:
            self.w.plan = plan
            self.w.next()

        self.w.start("正在检查…", check, done, self)
        return False


class CheckPage(_Page):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("检查结果")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "导入")
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        self.problems = _table(["行", "列", "原因", "类型"])
        self.no_problems = QLabel("没有发现错误或提示。")
        self.no_problems.setStyleSheet("color: #2e7d32;")
        self.open_errors = QPushButton("打开错误标注文件")
        self.open_errors.clicked.connect(self.open_error_file)
        self.open_errors.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.no_problems)
        layout.addStretch(0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_errors)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.show_message("")
        self.show_report(self.w.report)

    def show_report(self, report: ImportReport | None) -> None:
        if report is None:
            return
        n_err = len(report.errors)
        lead = "无错误的行中" if n_err else ""
        counts = (
            f"数据 <b>{report.total_rows:,}</b> 行，{lead}新增 <b>{report.new:,}</b> 条，修改 <b>{report.changed:,}</b> 条，"
            f"未变 <b>{report.unchanged:,}</b> 条，跳过 <b>{report.skipped:,}</b> 行，有提示 <b>{report.warned:,}</b> 条"
        )
        if n_err:
            rows = len({p.row for p in report.errors})
            where = f"错误已标注在：{report.error_file}" if report.error_file else (report.error_file_problem or "")
            verdict = (
                f"<p style='color:{ERROR_COLOR}'><b>有 {n_err:,} 处错误（涉及 {rows:,} 行），不能导入。</b>"
                f"请改正文件后重新导入。{where}</p>"
            )
            self.setSubTitle("文件中有错误，整个文件都不会导入。")
        else:
            verdict = f"<p>检查通过。点击“导入”写入“{report.unit_name}”的台账（全部写入，或一条也不写入）。</p>"
            self.setSubTitle("检查通过，可以导入。")
        self.counts.setText(counts + "。" + verdict)
        shown = report.problems[:MAX_SHOWN_PROBLEMS]
        self.problems.setRowCount(len(shown))
        for r, p in enumerate(shown):
            color = ERROR_COLOR if p.is_error else WARNING_COLOR
            self.problems.setItem(r, 0, _item(p.row or "", align_right=True))
            self.problems.setItem(r, 1, _item(p.column))
            self.problems.setItem(r, 2, _item(p.message))
            self.problems.setItem(r, 3, _item("错误" if p.is_error else "提示", color=color))
        header = self.problems.horizontalHeader()
        for col in (0, 1, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems.setVisible(bool(shown))
        self.no_problems.setVisible(not shown)
        if len(report.problems) > MAX_SHOWN_PROBLEMS:
            self.show_message(
                f"共 {len(report.problems):,} 条，这里只显示前 {MAX_SHOWN_PROBLEMS:,} 条；全部见错误标注文件。", WARNING_COLOR
            )
        self.open_errors.setVisible(report.error_file is not None)
        self.completeChanged.emit()

    def open_error_file(self) -> None:
        report = self.w.report
        if report is not None and report.error_file is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.error_file)))

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        report = self.w.report
        return report is not None and report.ok and not self.w.written

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        if self.w.written:
            return True
        plan, ctx = self.w.plan, self.w.ctx
        assert plan is not None
        self.show_message("")

        def done(_result: Changed[ImportReport]) -> None:
            self.w.written = True
            self.w.next()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ImportRejected):
                self.show_report(exc.report)
                self.show_message("数据库中的记录在检查之后有了变化，重新检查发现错误，没有导入任何记录。")
            elif isinstance(exc, JzairError):
                self.show_message(f"没有导入任何记录：{exc}")
            else:
                log.error("import failed", exc_info=exc)
                self.show_message(f"发生了意外错误，没有导入任何记录：{type(exc).__name__}: {exc}")
            self.completeChanged.emit()

        def cancelled() -> None:
            self.show_message("已取消导入，数据库没有任何改动。", WARNING_COLOR)

        self.w.start(
            "正在导入…",
            lambda state: Changed(excel_service.apply_import(ctx.db, plan, actor=ctx.actor, state=state),
                                  Changes.of(ledgers=[plan.ledger.key])),
            done, self, on_error=failed, on_cancel=cancelled,
        )
        return False


class DonePage(_Page):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("导入完成")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        report = self.w.report
        assert report is not None
        self.summary.setText(
            f"已导入“{report.path.name}”到“{report.unit_name}”的{self.w.d.sheet_title}。\n\n{report.summary()}。"
        )


class ImportWizard(QWizard):
    """The import wizard of one ledger. Background work goes through run_task; `job` is the running one."""

    def __init__(self, ctx: GuiContext, ledger_key: str, parent: QWidget | None = None, *, unit_code: str | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.d = ledger(ledger_key)
        self.unit_code_hint = unit_code
        self.data: SheetData | None = None
        self.data_key: tuple[str, str] | None = None
        self.plan: ImportPlan | None = None
        self.written = False
        self.job: Any = None
        self._close_when_idle = False
        self.setWindowTitle(f"从 Excel 导入 — {self.d.sheet_title}")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        self.setButtonText(QWizard.WizardButton.FinishButton, "完成")
        self.file_page = FilePage(self)
        self.preview_page = PreviewPage(self)
        self.check_page = CheckPage(self)
        self.done_page = DonePage(self)
        for page in (self.file_page, self.preview_page, self.check_page, self.done_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_changed)
        self.resize(900, 640)

    @property
    def unit_code(self) -> str:
        return self.file_page.unit_code

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name

    @property
    def report(self) -> ImportReport | None:
        return self.plan.report if self.plan is not None else None

    def _page_changed(self, page_id: int) -> None:
        # Going back to the file page (another file or unit) or the preview means checking again.
        page = self.page(page_id)
        if page is self.preview_page or page is self.file_page:
            self.plan = None

    def start(self, label, fn, on_success, page: _Page, *, on_error=None, on_cancel=None) -> None:  # noqa: ANN001
        """Run `fn(state)` in the background; errors show on `page` (no message boxes)."""

        def finished(result: Any) -> None:
            if self._idle():
                on_success(result)

        def error(exc: BaseException) -> None:
            if not self._idle():
                return
            if on_error is not None:
                on_error(exc)
            elif isinstance(exc, JzairError):
                page.show_message(str(exc))
            else:
                log.error("excel task failed", exc_info=exc)
                page.show_message(f"发生了意外错误：{type(exc).__name__}: {exc}")

        def cancelled() -> None:
            if not self._idle():
                return
            if on_cancel is not None:
                on_cancel()
            else:
                page.show_message("已取消。", WARNING_COLOR)

        self.setEnabled(False)
        self.job = run_task(self, label, fn, ctx=self.ctx, on_success=finished, on_error=error, on_cancel=cancelled)

    def reject(self) -> None:
        if self.job is not None:
            # Cancel the running work (its transaction rolls back) and close once it has stopped.
            self._close_when_idle = True
            self.job.state.cancel()
            return
        super().reject()

    def _idle(self) -> bool:
        """The background job ended: re-enable, or close if the user asked to while it ran."""
        self.job = None
        self.setEnabled(True)
        if self._close_when_idle:
            super().reject()
            return False
        return True


def open_import_wizard(
    parent: QWidget | None, ctx: GuiContext, ledger_key: str, *, unit_code: str | None = None
) -> ImportWizard | None:
    """Open the import wizard (window-modal, not blocking). None when the user may not import."""
    actor = ctx.actor
    if not actor.can_write():
        QMessageBox.warning(parent, "不能导入", f"用户“{actor.name}”是只读用户，不能导入数据。")
        return None
    wizard = ImportWizard(ctx, ledger_key, parent, unit_code=unit_code)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    wizard.setWindowModality(Qt.WindowModality.WindowModal)
    wizard.show()
    return wizard


# --- export and template -----------------------------------------------------------------------------


def _xlsx_destination(
    parent: QWidget | None, title: str, default_name: str, ctx: GuiContext, path: Path | str | None
) -> Path | None:
    """`path`, or the file name asked for (None when cancelled), ending in .xlsx."""
    return save_file_path(parent, title, Path(_last_dir(ctx)) / default_name, XLSX_FILTER, ".xlsx", path)


def export_ledger(
    parent: QWidget | None, ctx: GuiContext, ledger_key: str, unit_code: str | None, *, path: Path | str | None = None
) -> Any:
    """Ask for a file name (unless `path`), then export in the background. Returns the job, or None."""
    d = ledger(ledger_key)
    actor = ctx.actor
    if actor.is_county:
        unit_code = actor.own_unit
    scope = reference().unit_by_code(unit_code).name if unit_code else "全市"
    dest = _xlsx_destination(parent, "导出台账", f"{d.sheet_title}-{scope}-{dt.date.today():%Y%m%d}.xlsx", ctx, path)
    if dest is None:
        return None

    def done(result: excel_service.ExportResult) -> None:
        _remember_dir(ctx, result.path)
        note = "\n身份证号已隐去中间数字（只读用户）。" if result.masked else ""
        show_saved_file(parent, "导出完成", f"已导出{d.sheet_title}（{scope}）{result.rows:,} 条记录：\n{result.path}{note}",
                        result.path)

    return run_task(
        parent, "正在导出…",
        lambda state: excel_service.export_ledger(ctx.db, d.key, dest, actor=actor, unit_code=unit_code, state=state),
        on_success=done,
    )


def save_template(parent: QWidget | None, ctx: GuiContext, ledger_key: str, *, path: Path | str | None = None) -> Path | None:
    """Ask for a file name (unless `path`) and save the blank import template there."""
    d = ledger(ledger_key)
    dest = _xlsx_destination(parent, "保存导入模板", f"{d.sheet_title}-导入模板.xlsx", ctx, path)
    if dest is None:
        return None
    with user_errors(parent, "未保存") as outcome:
        saved = excel_service.save_template(d.key, dest, actor=ctx.actor)
    if outcome.failed:
        return None
    _remember_dir(ctx, saved)
    show_saved_file(parent, "模板已保存", f"已保存“{d.sheet_title}”导入模板：\n{saved}", saved)
    return saved
