"""The main window: navigation on the left, pages on the right, the database in the status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from jzair_desktop import APP_TITLE, __version__
from jzair_desktop.domain.reference import reference
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.pages import PAGES, PageSpec

STYLE = """
QLabel#pageTitle { font-size: 16pt; font-weight: bold; padding: 4px 0 8px 0; }
QListWidget#nav { font-size: 11pt; border: none; background: #f3f5f7; outline: 0; }
QListWidget#nav::item { padding: 7px 10px; }
QListWidget#nav::item:selected { background: #1f5f9e; color: white; }
QListWidget#nav::item:disabled { color: #666; background: transparent; font-weight: bold; padding-top: 12px; }
"""


class MainWindow(QMainWindow):
    closing = Signal()  # the window accepted its close event (the exit backup hooks in here)

    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(APP_TITLE)
        self.setStyleSheet(STYLE)
        self._pages: dict[str, QWidget] = {}
        self._rows: dict[str, int] = {}

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack = QStackedWidget()
        section = None
        for spec in PAGES:
            if spec.section != section:
                section = spec.section
                head = QListWidgetItem(section)
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                self.nav.addItem(head)
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
            self._rows[spec.key] = self.nav.count() - 1
        self.nav.currentItemChanged.connect(self._on_nav)

        splitter = QSplitter()
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 1030])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self._build_menus()
        self.db_label = QLabel(f"数据库：{ctx.db.location}")
        self.db_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.db_label, 1)
        self.user_label = QLabel(f"用户：{ctx.actor.name}")
        self.statusBar().addPermanentWidget(self.user_label)
        self.resize(1200, 780)
        self._restore_state()

    # -- pages -----------------------------------------------------------------------------------
    def spec(self, key: str) -> PageSpec:
        return next(s for s in PAGES if s.key == key)

    def page(self, key: str) -> QWidget:
        """The page widget for `key`, created on first use."""
        if key not in self._pages:
            widget = self.spec(key).create(self.ctx)
            widget.setObjectName(f"page_{key}")
            self._pages[key] = widget
            self.stack.addWidget(widget)
        return self._pages[key]

    def show_page(self, key: str) -> QWidget:
        self.nav.setCurrentRow(self._rows[key])
        return self._pages[key]

    def close_pages(self) -> None:
        """Delete every page (before the database is replaced); `reopen_pages` builds them anew."""
        for widget in self._pages.values():
            self.stack.removeWidget(widget)
            widget.deleteLater()
        self._pages.clear()

    def reopen_pages(self) -> None:
        self._on_nav(self.nav.currentItem(), None)

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _on_nav(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        key = current.data(Qt.ItemDataRole.UserRole)
        if key is None:
            return
        widget = self.page(key)
        self.stack.setCurrentWidget(widget)
        self.setWindowTitle(f"{self.spec(key).title} - {APP_TITLE}")

    # -- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        quit_action = QAction("退出(&X)", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        go_menu = self.menuBar().addMenu("转到(&G)")
        for n, spec in enumerate(PAGES, start=1):
            action = QAction(spec.title, self)
            if n <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, k=spec.key: self.show_page(k))
            go_menu.addAction(action)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        about = QAction("关于(&A)", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def about_text(self) -> str:
        plan = reference().plan
        return (
            f"<h3>{APP_TITLE}</h3>"
            f"<p>版本 {__version__}</p>"
            f"<p>依据《{plan.title}》（{plan.document_no}）建立的离线台账、进度与月报工具，"
            "供各县（区、市）填报员和市大气污染防治工作领导组办公室使用。</p>"
            f"<p>数据库：{self.ctx.db.location}</p>"
            "<p>界面与报告字体：文泉驿微米黑（Apache License 2.0）。</p>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, f"关于 {APP_TITLE}", self.about_text())

    # -- state -----------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        s = self.ctx.settings()
        geometry = s.value("main/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = s.value("main/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = s.value("main/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        key = s.value("main/page", "heating")
        self.show_page(key if key in self._rows else "heating")

    def save_state(self) -> None:
        s = self.ctx.settings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/splitter", self.splitter.saveState())
        if self.current_key():
            s.setValue("main/page", self.current_key())
        s.sync()

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802
        self.save_state()
        super().closeEvent(event)
        if event.isAccepted():
            self.closing.emit()
