"""审计日志: the audit trail with filters (user, action, object, dates, record), the values before and
after of the selected entry, and an integrity check (`audit verify`) run in the background."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import run_task, show_user_error, user_errors
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.gui.widgets.common import fill_change_rows, list_table
from jzair_desktop.gui.widgets.date_input import DateInput
from jzair_desktop.services import audit, audit_text
from jzair_desktop.services.audit_anchor import Anchor, read_anchor
from jzair_desktop.services.audit_verify import VerifyReport, verify
from jzair_desktop.services.changes import Changes

ALL = "全部"
LIMIT = 1000
HEADERS = ("序号", "时间", "用户", "操作", "对象", "县（区、市）", "记录", "说明")
SUBJECTS = audit_text.SUBJECTS
ANCHOR_FILTER = "报送包、备份或月报 (*.jzpkg *.jzbak *.pdf);;所有文件 (*)"
FAILED_ACTIONS = ("login_failed", "lockout")
STYLE = """
QLabel#auditCount { color: #333; }
QLabel#verifyState { padding: 2px 6px; }
"""


class AuditPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rows: list[audit.AuditRow] = []
        self.setStyleSheet(STYLE)
        title = QLabel("审计日志")
        title.setObjectName("pageTitle")
        sub = QLabel("每一次新增、修改、删除、恢复、导入、上报、解锁、销号和登录都记录在此，"
                     "每条记录带有前一条的校验值（哈希链），在程序之外改动数据库可被“校验完整性”发现。")
        sub.setWordWrap(True)

        self.user_combo = QComboBox()
        self.user_combo.setObjectName("userFilter")
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("actionFilter")
        self.action_combo.addItem(ALL, "")
        for code, label in audit.ACTIONS.items():
            self.action_combo.addItem(label, code)
        self.subject_combo = QComboBox()
        self.subject_combo.setObjectName("subjectFilter")
        self.subject_combo.addItem(ALL, "")
        for code, label in SUBJECTS.items():
            self.subject_combo.addItem(label, code)
        self.date_from = DateInput(placeholder="起")
        self.date_to = DateInput(placeholder="止")
        for w in (self.date_from, self.date_to):
            w.setFixedWidth(130)
        self.record_edit = QLineEdit()
        self.record_edit.setObjectName("recordFilter")
        self.record_edit.setPlaceholderText("记录编号")
        self.record_edit.setClearButtonEnabled(True)
        self.query_button = QPushButton("查询")
        self.query_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton("校验完整性")
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.setToolTip("检查审计记录链是否完整，以及各台账记录是否与其最新审计状态一致")
        self.verify_button.clicked.connect(self.run_verify)
        self.against_button = QPushButton("对照文件核验…")
        self.against_button.setObjectName("verifyAgainstButton")
        self.against_button.setToolTip("核对审计链是否仍包含本机导出的报送包、备份或打印的月报所记录的审计链位置"
                                       "（可发现被整体改写或截断的审计记录）")
        self.against_button.clicked.connect(lambda: self.verify_against())
        self.verify_state = QLabel()
        self.verify_state.setObjectName("verifyState")
        self.verify_state.setWordWrap(True)

        bar = QHBoxLayout()
        for label, w in (("用户", self.user_combo), ("操作", self.action_combo), ("对象", self.subject_combo)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
            bar.addSpacing(6)
        bar.addWidget(QLabel("日期"))
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.date_to)
        bar.addSpacing(6)
        bar.addWidget(self.record_edit, 1)
        bar.addWidget(self.query_button)

        self.table = list_table(HEADERS, "auditTable")
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.detail = QTableWidget(0, 3)
        self.detail.setObjectName("auditDetail")
        enable_copy(self.detail)
        self.detail.setHorizontalHeaderLabels(("字段", "修改前", "修改后"))
        self.detail.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detail.verticalHeader().setVisible(False)
        self.detail.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.detail.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.detail.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setSizes([420, 200])

        self.count_label = QLabel()
        self.count_label.setObjectName("auditCount")
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.verify_state, 2)
        bottom.addWidget(self.verify_button)
        bottom.addWidget(self.against_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(sub)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        for combo in (self.user_combo, self.action_combo, self.subject_combo):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        for w in (self.date_from, self.date_to):
            w.dateChanged.connect(lambda _d: self.refresh())
        self.record_edit.returnPressed.connect(self.refresh)
        self._fill_users()
        self.refresh()

    def _fill_users(self) -> None:
        current = self.user_combo.currentData()
        self.user_combo.blockSignals(True)
        self.user_combo.clear()
        self.user_combo.addItem(ALL, "")
        for name in audit.user_names(self.ctx.db):
            self.user_combo.addItem(name, name)
        i = self.user_combo.findData(current)
        self.user_combo.setCurrentIndex(max(0, i))
        self.user_combo.blockSignals(False)

    @staticmethod
    def shows_changes(changes: Changes) -> bool:
        return bool(changes)  # every write is audited

    def apply_changes(self, _changes: Changes | None = None) -> None:
        self._stale()

    def _stale(self) -> None:
        if self.isVisible():
            self.refresh()

    def query(self) -> audit.AuditQuery:
        return audit.AuditQuery(
            record_uuid=self.record_edit.text().strip() or None,
            user_name=self.user_combo.currentData() or None,
            action=self.action_combo.currentData() or None,
            ledger=self.subject_combo.currentData() or None,
            since=self.date_from.date(),
            until=self.date_to.date(),
        )

    def refresh(self) -> None:
        self._fill_users()
        self.rows = audit.query_log(self.ctx.db, self.query(), limit=LIMIT, actor=self.ctx.actor)
        labels = audit_text.record_labels(self.ctx.db, self.rows)
        t = self.table
        t.setRowCount(len(self.rows))
        for r, e in enumerate(self.rows):
            text = audit_text.describe(e, labels)
            values = (str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.user_name, e.action_label,
                      text.subject, text.unit, text.record, text.note)
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if e.action in FAILED_ACTIONS:
                    item.setForeground(QBrush(QColor("#c62828")))
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        t.setColumnWidth(6, min(t.columnWidth(6), 260))
        more = f"（只显示最新的 {LIMIT} 条，请用筛选条件缩小范围）" if len(self.rows) == LIMIT else ""
        self.count_label.setText(f"共 {len(self.rows)} 条{more}")
        if self.rows:
            t.selectRow(0)
        self._show_selected()  # also when the selected row number stays the same

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        t = self.detail
        if not rows:
            t.setRowCount(0)
            return
        e = self.rows[rows[0].row()]
        fill_change_rows(t, audit_text.detail_rows(e, mask_personal=not self.ctx.actor.can_see_personal_data))

    # -- integrity check ---------------------------------------------------------------------------
    def run_verify(self, against: list[Anchor] | None = None) -> None:
        for b in (self.verify_button, self.against_button):
            b.setEnabled(False)
        self.verify_state.setStyleSheet("")
        self.verify_state.setText("正在校验…")
        db = self.ctx.db

        def done(report: VerifyReport) -> None:
            for b in (self.verify_button, self.against_button):
                b.setEnabled(True)
            self.show_report(report)

        def failed(exc: BaseException) -> None:
            for b in (self.verify_button, self.against_button):
                b.setEnabled(True)
            self.verify_state.setText("")
            show_user_error(self, exc, "校验未完成")

        run_task(self, "正在校验审计记录…", lambda state: verify(db, state=state, against=against),
                 on_success=done, on_error=failed)

    def verify_against(self, path: str | None = None) -> None:
        """Verify, and check the chain against the head recorded in a package, backup or report PDF."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择报送包、备份或月报", "", ANCHOR_FILTER)
            if not path:
                return
        with user_errors(self, "无法核验") as outcome:
            anchor = read_anchor(path)
        if outcome.failed:
            return
        self.run_verify([anchor])

    def show_report(self, report: VerifyReport) -> None:
        if report.ok:
            self.verify_state.setStyleSheet("color: #2e7d32;")
            self.verify_state.setToolTip("")
            head = f"（{report.head.short}）" if report.head else ""
            tables = f"及 {report.rows:,} 行月度数据、空气质量和任务目标" if report.rows else ""
            anchors = "".join(f"；与{a.source}记录的审计链位置一致" for a in report.anchors)
            self.verify_state.setText(f"审计记录完整{head}：{report.entries:,} 条审计记录，{report.records:,} 条台账记录"
                                      f"{tables}均一致{anchors}。")
            return
        self.verify_state.setStyleSheet("color: #c62828; font-weight: bold;")
        # One line here (the label sits in the bottom bar); the problems themselves in the box and the tooltip.
        self.verify_state.setText(f"校验未通过：发现 {len(report.findings)}{'+' if report.truncated else ''} 处问题，"
                                  "详见提示框（鼠标停留在此可查看第一处）。")
        self.verify_state.setToolTip(report.first.message)
        lines = [f.message for f in report.findings[:12]]
        more = f"\n……另有 {len(report.findings) - 12} 处" if len(report.findings) > 12 else ""
        QMessageBox.warning(self, "审计校验未通过",
                            "数据库在程序之外被改动过：\n\n" + "\n\n".join(lines) + more)


def make_page(ctx: GuiContext) -> AuditPage:
    return AuditPage(ctx)
