"""月报: generate the monthly PDF report of the city or a unit, preview it, save it, open it, print it.

Generation runs off the GUI thread (gui.tasks.run_task) and writes the PDF into the user's data folder
(reports/); 另存为 copies it elsewhere. The preview shows the PDF's own pages (rendered by PDFium through
pypdfium2, gui.widgets.pdf_preview; PySide6-Essentials has no QtPdf) beside a short summary of the
figures. 打印 asks for a printer (QPrintDialog) and paints the rendered pages onto it (gui.printing).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import paths
from jzair_desktop.domain.months import default_month, plan_months
from jzair_desktop.domain.reference import CITY_NAME, reference
from jzair_desktop.exchange.pdf_common import (
    STATUS_SYMBOL,
    fmt_date_cn,
    fmt_month_cn,
    fmt_percent,
)
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.printing import prepare_a4, print_pdf
from jzair_desktop.gui.tasks import run_task, show_user_error
from jzair_desktop.gui.widgets.pdf_preview import PdfPreview
from jzair_desktop.gui.widgets.saved_file import show_saved_file
from jzair_desktop.services import report as report_service
from jzair_desktop.services.changes import Changes

STATUS_COLOURS = {"done": "#2e7d32", "on_track": "#2e7d32", "behind": "#9a6b00", "overdue": "#c62828",
                  "no_target": "#777777", "met": "#2e7d32", "not_met": "#c62828", "no_data": "#777777",
                  "pending": "#2e7d32"}
PREVIEW_WARNINGS = 20


def reports_dir() -> Path:
    folder = paths.data_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def summary_html(result: report_service.ReportResult) -> str:
    """A short summary beside the page preview: completion and status per indicator, the warnings."""
    d = result.data
    e = html.escape
    parts = [
        f"<p style='margin:0'><b>{e(d.unit_name)}　{e(fmt_month_cn(d.month))}</b></p>",
        f"<p style='color:#444;margin-top:2px'>数据截至 {e(fmt_date_cn(d.as_of))}<br>"
        f"共 {result.pages} 页，{result.size / 1024:,.0f} KB</p>",
        "<h4 style='margin-bottom:2px'>台账类任务</h4>",
        _table(
            ["任务", "完成率", "状态"],
            [[i.name, fmt_percent(i.overall.completion), _status(i.overall.status, i.overall.status_label)]
             for i in d.overview],
        ),
        "<h4 style='margin-bottom:2px'>月度填报指标</h4>",
        _table(
            ["指标", "完成率", "状态"],
            [[i.name, fmt_percent(i.overall.completion), _status(i.overall.status, i.overall.status_label)]
             for i in d.monthly],
        ),
    ]
    n_over = sum(1 for w in d.warnings if w.status == "overdue")
    parts.append(f"<h4 style='margin-bottom:2px'>预警：{len(d.warnings)} 条（逾期 {n_over} 条）</h4>")
    if d.warnings:
        shown = d.warnings[:PREVIEW_WARNINGS]
        parts.append(_table(
            ["县（区、市）", "任务", "状态"],
            [[w.county, w.name, _status(w.status, w.status_label)] for w in shown],
            numeric=(),
        ))
        if len(d.warnings) > len(shown):
            parts.append(f"<p>另有 {len(d.warnings) - len(shown)} 条，见报告。</p>")
    if d.letters:
        parts.append(f"<h4 style='margin-bottom:2px'>预警函：{len(d.letters)} 份</h4>"
                     f"<p>{e('、'.join(x.unit_name for x in d.letters))}</p>")
    return "".join(parts)


def _status(status: str, label: str) -> str:
    colour = STATUS_COLOURS.get(status, "#333")
    return f"<span style='color:{colour}'>{html.escape(STATUS_SYMBOL.get(status, '') + label)}</span>"


def _table(headers: list[str], rows: list[list[str]], *, numeric: tuple[int, ...] = (1,)) -> str:
    """An HTML table; the `numeric` columns are right-aligned."""
    head = "".join(f"<th style='background:#e3e3e3'>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for k, value in enumerate(row):
            text = value if value.startswith("<span") else html.escape(value)
            align = "right" if k in numeric else "left"
            cells.append(f"<td align='{align}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return ("<table border='1' cellspacing='0' cellpadding='3' style='border-collapse:collapse'>"
            f"<tr>{head}</tr>{''.join(body)}</table>")


class ReportPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.result: report_service.ReportResult | None = None
        self._result_key: tuple[str, str | None, bool] | None = None
        self._base_status = ""
        self._data_moved = False
        ref = reference()
        clerk = ctx.actor.is_county

        title = QLabel("月报")
        title.setObjectName("pageTitle")
        intro = QLabel(
            "按月生成晋中市秋冬季大气污染综合治理攻坚行动进展月报（PDF）。数据截至所选月份最后一天，"
            "已上报的月份采用上报时锁定的数据。"
        )
        intro.setWordWrap(True)

        self.month = QComboBox()
        for m in plan_months():
            self.month.addItem(fmt_month_cn(m), m)
        self.month.setCurrentIndex(max(0, self.month.findData(default_month())))
        self.unit = QComboBox()
        if clerk:
            own = ref.unit_by_code(ctx.actor.unit_code)
            self.unit.addItem(own.name, own.code)
            self.unit.setEnabled(False)
            self.unit.setToolTip("县级填报员只能生成本县（区、市）的月报。")
        else:
            self.unit.addItem(f"{CITY_NAME}（市级月报）", None)
            for u in ref.units:
                self.unit.addItem(u.name, u.code)
        self.letters = QCheckBox("附预警函")
        self.letters.setToolTip("每个进度滞后的县（区、市）附一页预警函。")
        if not ctx.actor.is_city:
            self.letters.setEnabled(False)
            self.letters.setToolTip("只有市级管理员可以生成预警函。")
        self.generate_button = QPushButton("生成")
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("月份："))
        controls.addWidget(self.month)
        controls.addSpacing(12)
        controls.addWidget(QLabel("范围："))
        controls.addWidget(self.unit)
        controls.addSpacing(12)
        controls.addWidget(self.letters)
        controls.addSpacing(12)
        controls.addWidget(self.generate_button)
        controls.addStretch(1)

        self.status = QLabel("尚未生成。选择月份和范围后点“生成”。")
        self.status.setWordWrap(True)
        self.save_button = QPushButton("另存为…")
        self.open_button = QPushButton("用系统阅读器打开")
        self.print_button = QPushButton("打印…")
        self.save_button.clicked.connect(self.save_as)
        self.open_button.clicked.connect(self.open_in_viewer)
        self.print_button.clicked.connect(self.print_report)
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        for b in (self.save_button, self.open_button, self.print_button):
            actions.addWidget(b)

        self.preview = PdfPreview()
        self.page_info = QLabel("")
        self.page_info.setStyleSheet("color: #555;")
        self.preview.page_changed.connect(lambda cur, n: self.page_info.setText(f"第 {cur} 页，共 {n} 页"))
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.setSpacing(2)
        preview_layout.addWidget(self.preview, 1)
        preview_layout.addWidget(self.page_info, 0, Qt.AlignmentFlag.AlignRight)
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary.setPlaceholderText("生成后在此显示报告摘要。")
        self.summary.setMinimumWidth(220)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(preview_box)
        self.splitter.addWidget(self.summary)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([760, 320])
        self._printer: QPrinter | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addLayout(actions)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()
        self.month.currentIndexChanged.connect(self._selection_changed)
        self.unit.currentIndexChanged.connect(self._selection_changed)
        self.letters.toggled.connect(self._selection_changed)

    # ------------------------------------------------------------------ generating
    def selected(self) -> tuple[str, str | None, bool]:
        return self.month.currentData(), self.unit.currentData(), self.letters.isChecked()

    def output_path(self) -> Path:
        month, unit, _ = self.selected()
        name = CITY_NAME if unit is None else reference().unit_by_code(unit).name
        return reports_dir() / report_service.default_file_name(month, name)

    def generate(self) -> None:
        key = self.selected()
        month, unit, letters = key
        out = self.output_path()
        db, actor = self.ctx.db, self.ctx.actor
        self.generate_button.setEnabled(False)
        self.status.setText("正在生成……")

        def work(state):  # noqa: ANN001, ANN202 - runs on a pool thread
            return report_service.write_report(db, out, month, unit, letters=letters, actor=actor, state=state)

        run_task(self, "正在生成月报……", work, on_success=lambda r: self._generated(r, key),
                 on_error=self._failed, on_cancel=self._cancelled)

    def _generated(self, result: report_service.ReportResult, key: tuple[str, str | None, bool]) -> None:
        self.result, self._result_key, self._data_moved = result, key, False
        self.generate_button.setEnabled(True)
        extra = f"，预警函 {result.letters} 份" if result.letters else ""
        frozen = f"；采用上报数据：{'、'.join(result.frozen_units)}" if result.frozen_units else ""
        self._base_status = (
            f"已生成{result.unit_name}{fmt_month_cn(result.month)}月报：共 {result.pages} 页，"
            f"{result.size / 1024:,.0f} KB；预警 {result.warnings} 条{extra}{frozen}。"
        )
        self._show_status()
        self.status.setToolTip(str(result.path))
        self._show_preview(result)
        self._update_buttons()

    def _show_status(self) -> None:
        notes = []
        if self.result is not None and self.selected() != self._result_key:
            notes.append("所选月份或范围与下方报告不同，点“生成”更新")
        if self._data_moved:
            notes.append("数据已有变动，重新生成可得到最新内容")
        self.status.setText(self._base_status + ("（" + "；".join(notes) + "。）" if notes else ""))

    def _failed(self, exc: BaseException) -> None:
        self.generate_button.setEnabled(True)
        self.status.setText("生成失败。" if self.result is None else "生成失败，下方仍是上次生成的报告。")
        show_user_error(self, exc, "生成月报失败")

    def _cancelled(self) -> None:
        self.generate_button.setEnabled(True)
        self.status.setText("已取消生成。" if self.result is None else "已取消生成，下方仍是上次生成的报告。")

    # ------------------------------------------------------------------ preview
    def _show_preview(self, result: report_service.ReportResult) -> None:
        self.page_info.setText(f"共 {result.pages} 页")
        self.preview.load(result.path)
        self.summary.setHtml(summary_html(result))

    # ------------------------------------------------------------------ save, open, print
    def _update_buttons(self) -> None:
        ready = self.result is not None and self.result.path.exists()
        for b in (self.save_button, self.open_button, self.print_button):
            b.setEnabled(ready)
        self.print_button.setEnabled(ready and self._printer is None)

    def _selection_changed(self) -> None:
        if self.result is not None:
            self._show_status()

    @staticmethod
    def shows_changes(changes: Changes) -> bool:
        return changes.progress()

    def apply_changes(self, _changes: Changes | None = None) -> None:
        """The data moved since the report on screen was made: say so (it is not redrawn by itself)."""
        if self.result is not None:
            self._data_moved = True
            self._show_status()

    def save_as(self) -> None:
        if self.result is None:
            return
        settings = self.ctx.settings()
        folder = str(settings.value("report/save_dir", "") or Path.home())
        start = str(Path(folder) / report_service.default_file_name(self.result.month, self.result.unit_name))
        name, _ = QFileDialog.getSaveFileName(self, "另存月报", start, "PDF 文件 (*.pdf)")
        if not name:
            return
        dest = Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf")
        try:
            saved = report_service.save_copy(self.result.path, dest)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_user_error(self, exc, "保存失败")
            return
        settings.setValue("report/save_dir", str(saved.parent))
        self.status.setText(f"已保存到：{saved}")
        show_saved_file(self, "月报已保存", f"已保存月报：\n{saved}", saved)

    def open_in_viewer(self) -> None:
        if self.result is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.path))):
            QMessageBox.warning(self, "无法打开", f"没有找到可以打开 PDF 的程序。报告文件在：\n{self.result.path}")

    def print_report(self) -> None:
        """Ask for a printer and print the report on it."""
        if self.result is None or self._printer is not None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        prepare_a4(printer, title=self.result.path.stem)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印月报")
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, self.result.pages)
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Paint the report's pages onto `printer` off the GUI thread (no dialog: tests print to a PDF)."""
        if self.result is None or self._printer is not None:
            return
        self._printer = printer  # kept alive until the job ends
        self.print_button.setEnabled(False)
        path = self.result.path
        to_file = printer.outputFileName()

        def work(state):  # noqa: ANN001, ANN202 - runs on a pool thread
            return print_pdf(path, printer, state=state)

        def done(sheets: int) -> None:
            self._print_ended()
            where = f"已打印到文件：{to_file}" if to_file else f"已发送到打印机“{printer.printerName()}”"
            self.status.setText(f"{where}，共 {sheets} 页。")

        def failed(exc: BaseException) -> None:
            self._print_ended()
            show_user_error(self, exc, "打印失败")

        def cancelled() -> None:
            self._print_ended()
            self.status.setText("已取消打印。")

        run_task(self, "正在打印……", work, on_success=done, on_error=failed, on_cancel=cancelled)

    def _print_ended(self) -> None:
        self._printer = None
        self._update_buttons()


def make_page(ctx: GuiContext) -> ReportPage:
    return ReportPage(ctx)

