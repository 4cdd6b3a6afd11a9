"""The main window: navigation on the left, pages on the right, the database in the status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
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
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.change_watch import OTHERS_CHANGED
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.lock import (
    IdleWatcher,
    LockPanel,
    hide_dialogs,
    idle_minutes,
    lock_title,
    same_user,
    set_idle_minutes,
)
from jzair_desktop.gui.pages import PageSpec, all_pages
from jzair_desktop.gui.tasks import confirm_running_jobs
from jzair_desktop.gui.unsaved import confirm_unsaved
from jzair_desktop.services import accounts
from jzair_desktop.services.actor import BUILTIN_ADMIN, ROLES, Actor
from jzair_desktop.services.changes import Changes

STYLE = """
QLabel#pageTitle { font-size: 16pt; font-weight: bold; padding: 4px 0 8px 0; }
QListWidget#nav { font-size: 11pt; border: none; background: #f3f5f7; outline: 0; }
QListWidget#nav::item { padding: 7px 10px; }
QListWidget#nav::item:selected { background: #1f5f9e; color: white; }
QListWidget#nav::item:disabled { color: #666; background: transparent; font-weight: bold; padding-top: 12px; }
"""


MAXIMISE_BELOW_WIDTH = 1600  # screens narrower than this start maximised
FIRST_SIZE = (1440, 900)  # the first start's size on wider screens
TITLE_BAR = 32  # room above the client area for the window's title bar (frame not known before showing)


def first_geometry(available: QRect) -> tuple[QRect, bool]:
    """The window of the very first start on a screen's available area: (geometry, maximised).

    Screens narrower than MAXIMISE_BELOW_WIDTH: maximised (the geometry is the one to restore to: the
    available area less a margin). Wider ones: FIRST_SIZE, or less where the screen is lower, centred."""
    maximised = available.width() < MAXIMISE_BELOW_WIDTH
    if maximised:
        width, height = available.width() - 80, available.height() - 80 - TITLE_BAR
    else:
        width = min(FIRST_SIZE[0], available.width() - 80)
        height = min(FIRST_SIZE[1], available.height() - 80 - TITLE_BAR)
    rect = QRect(0, 0, max(width, 400), max(height, 300))
    rect.moveCenter(available.center())
    rect.moveTop(max(rect.top(), available.top() + TITLE_BAR))
    return rect, maximised


def fit_onto_screens(rect: QRect, screens: list[QRect], minimum: tuple[int, int] = (0, 0)) -> QRect | None:
    """None when the window `rect` (client area) still lies on one of the `screens` (available areas);
    else the rectangle moved, and shrunk where needed, onto the screen it overlaps most (else the first).

    A window lies on a screen when its title bar (the strip above the client area) can be reached there
    and the whole window fits into that screen's available area (a few pixels of tolerance)."""
    if not screens:
        return None
    outer = rect.adjusted(0, -TITLE_BAR, 0, 0)
    slack = 8
    for screen in screens:
        if screen.adjusted(-slack, -slack, slack, slack).contains(outer):
            return None

    def overlap(screen: QRect) -> int:
        common = screen.intersected(outer)
        return common.width() * common.height() if not common.isEmpty() else 0

    target = max(screens, key=overlap) if any(overlap(s) for s in screens) else screens[0]
    width = max(min(rect.width(), target.width()), minimum[0])
    height = max(min(rect.height(), target.height() - TITLE_BAR), minimum[1])
    left = max(min(max(rect.left(), target.left()), target.right() + 1 - width), target.left())
    top = max(min(max(rect.top(), target.top() + TITLE_BAR), target.bottom() + 1 - height), target.top() + TITLE_BAR)
    return QRect(left, top, width, height)


class MainWindow(QMainWindow):
    closing = Signal()  # the window accepted its close event (the exit backup hooks in here)

    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(APP_TITLE)
        self.setStyleSheet(STYLE)
        self.pages = all_pages()  # one page per registered ledger, then the others
        self._pages: dict[str, QWidget] = {}
        self._rows: dict[str, int] = {}
        self._leaving = False

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack = QStackedWidget()
        section = None
        for spec in self.pages:
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
        # The pages, or in their place the login of a locked window (锁定, 切换用户).
        self.shell = QStackedWidget()
        self.shell.setObjectName("shell")
        self.shell.addWidget(splitter)
        self.lock_panel = LockPanel(ctx)
        self.lock_panel.unlocked.connect(self.unlock)
        self.lock_panel.quit_requested.connect(self.close)
        self.shell.addWidget(self.lock_panel)
        self.setCentralWidget(self.shell)
        self._hidden_dialogs: list[QWidget] = []
        self.idle = IdleWatcher(idle_minutes(ctx) if self.has_accounts() else 0, self)
        self.idle.timed_out.connect(self.lock)

        self._build_menus()
        where = "数据库" if ctx.db.path is not None else "服务器数据库"
        self.db_label = QLabel(f"{where}：{ctx.db.location}")
        self.db_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.db_label, 1)
        self.user_label = QLabel()
        self._show_user()
        self.statusBar().addPermanentWidget(self.user_label)
        self._start_maximised = False
        ctx.signals.changed.connect(self.refresh_pages)
        self._restore_state()

    # -- pages -----------------------------------------------------------------------------------
    def spec(self, key: str) -> PageSpec:
        return next(s for s in self.pages if s.key == key)

    def page(self, key: str) -> QWidget:
        """The page widget for `key`, created on first use."""
        if key not in self._pages:
            widget = self.spec(key).create(self.ctx)
            widget.setObjectName(f"page_{key}")
            widget.setProperty("pageTitle", self.spec(key).title)
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

    def refresh_pages(self, changes: Changes, source: object = None) -> list[str]:
        """After an operation: every open page that shows some of `changes` (its `shows_changes`) refreshes
        (`apply_changes`; a page not on screen refreshes when it is shown). A page is left out when it made
        the change itself (`source` is the page or a part of it; a dialog it opened is not), since it has
        refreshed already. Returns the keys of the pages told."""
        told = []
        for key, page in list(self._pages.items()):
            if isinstance(source, QWidget) and (source is page or (not source.isWindow() and page.isAncestorOf(source))):
                continue
            shows = getattr(page, "shows_changes", None)
            if shows is not None and shows(changes):
                page.apply_changes(changes)
                told.append(key)
        if changes.others and told:  # another clerk's writes on the shared server (gui.change_watch)
            self.statusBar().showMessage(OTHERS_CHANGED, 15_000)
        return told

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _on_nav(self, current: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        key = current.data(Qt.ItemDataRole.UserRole)
        if key is None:
            return
        old = previous.data(Qt.ItemDataRole.UserRole) if previous is not None else None
        if old is not None and old != key and old in self._pages and not self._leaving:
            if not confirm_unsaved(self, [self._pages[old]], "切换页面"):
                self._leaving = True  # stay: select the previous page again without asking twice
                try:
                    self.nav.setCurrentItem(previous)
                finally:
                    self._leaving = False
                return
        widget = self.page(key)
        self.stack.setCurrentWidget(widget)
        self.setWindowTitle(f"{self.spec(key).title} - {APP_TITLE}")

    # -- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        self.switch_action = QAction("切换用户(&U)…", self)
        self.switch_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.switch_action.triggered.connect(self.switch_user)
        self.lock_action = QAction("锁定(&L)", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock)
        file_menu.addAction(self.switch_action)
        file_menu.addAction(self.lock_action)
        file_menu.addSeparator()
        quit_action = QAction("退出(&X)", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        go_menu = self.menuBar().addMenu("转到(&G)")
        for n, spec in enumerate(self.pages, start=1):
            action = QAction(spec.title, self)
            if n <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, k=spec.key: self.show_page(k))
            go_menu.addAction(action)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        guide = QAction("使用说明(&U)", self)
        guide.setObjectName("actionGuide")
        guide.triggered.connect(lambda: self.open_guide())
        help_menu.addAction(guide)
        page_help = QAction("本页说明(&P)", self)
        page_help.setObjectName("actionPageHelp")
        page_help.setShortcut(QKeySequence.StandardKey.HelpContents)  # F1
        page_help.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        page_help.triggered.connect(lambda: self.open_guide(for_page=True))
        help_menu.addAction(page_help)
        help_menu.addSeparator()
        about = QAction("关于(&A)", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def open_guide(self, *, for_page: bool = False) -> QWidget:
        """帮助 → 使用说明; with `for_page` (F1) at the section about the page on screen."""
        from jzair_desktop.gui.guide_window import open_guide, section_for_page

        return open_guide(self, section_for_page(self.current_key()) if for_page else None)

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

    # -- who works in the window: 锁定, 切换用户, idle lock ----------------------------------------
    def has_accounts(self) -> bool:
        return accounts.has_accounts(self.ctx.db)

    def _show_user(self) -> None:
        actor = self.ctx.actor
        shown = actor.name
        if actor != BUILTIN_ADMIN:
            try:
                shown = accounts.get_user(self.ctx.db, actor.name).shown_name
            except JzairError:
                pass
        self.user_label.setText(f"用户：{shown}（{ROLES.get(actor.role, actor.role)}）")
        can = actor != BUILTIN_ADMIN
        self.switch_action.setEnabled(can)
        self.lock_action.setEnabled(can)

    @property
    def locked(self) -> bool:
        return self.shell.currentWidget() is self.lock_panel

    def lock(self, *, switching: bool = False) -> bool:
        """Hide the window's content behind a login (False: nothing to lock, no account exists)."""
        if self.ctx.actor == BUILTIN_ADMIN or not self.has_accounts():
            return False
        if not self.locked:
            self._hidden_dialogs = hide_dialogs(self)
        self.idle.pause()
        self.lock_panel.prepare(switching=switching)
        self.shell.setCurrentWidget(self.lock_panel)
        self.menuBar().setEnabled(False)
        self.user_label.setText("用户：—（等待登录）" if switching else f"用户：{self.ctx.actor.name}（已锁定）")
        self.setWindowTitle(lock_title())
        return True

    def switch_user(self) -> bool:
        return self.lock(switching=True)

    def unlock(self, actor: Actor) -> None:
        """After a login on the lock panel: the same user goes on; another user gets the pages anew."""
        dialogs, self._hidden_dialogs = self._hidden_dialogs, []
        if same_user(actor, self.ctx.actor):
            for d in dialogs:
                d.show()
        else:
            for d in dialogs:
                d.reject()
            self.ctx.actor = actor
            self.close_pages()
            self.shell.setCurrentWidget(self.splitter)
            self.reopen_pages()
            self._show_user()
        self.shell.setCurrentWidget(self.splitter)
        self._show_user()
        self.menuBar().setEnabled(True)
        key = self.current_key()
        self.setWindowTitle(f"{self.spec(key).title} - {APP_TITLE}" if key else APP_TITLE)
        self.idle.set_minutes(idle_minutes(self.ctx))

    def set_idle_lock(self, minutes: int) -> None:
        set_idle_minutes(self.ctx, minutes)
        self.idle.set_minutes(minutes if self.has_accounts() else 0)

    # -- state -----------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        s = self.ctx.settings()
        geometry = s.value("main/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            screen = QGuiApplication.primaryScreen()
            rect, self._start_maximised = first_geometry(screen.availableGeometry()) if screen else (
                QRect(0, 0, 1200, 780), False)
            self.setGeometry(rect)
        state = s.value("main/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = s.value("main/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        first = self.pages[0].key  # the first ledger's page
        key = s.value(self._page_setting(), first)
        self.show_page(key if key in self._rows else first)

    def show_fitted(self) -> None:
        """Show the window on screen: the first start fitted to the screen (maximised below 1600 px wide),
        a remembered position that is off every screen now (a monitor unplugged) moved back onto one."""
        if self._start_maximised:
            self.showMaximized()
            return
        if not self.isMaximized() and not self.isFullScreen():
            minimum = self.minimumSizeHint().expandedTo(self.minimumSize())
            fixed = fit_onto_screens(self.geometry(), [s.availableGeometry() for s in QGuiApplication.screens()],
                                     (minimum.width(), minimum.height()))
            if fixed is not None:
                self.setGeometry(fixed)
        self.show()

    def save_state(self) -> None:
        s = self.ctx.settings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/splitter", self.splitter.saveState())
        if self.current_key():
            s.setValue(self._page_setting(), self.current_key())
        s.sync()

    def _page_setting(self) -> str:
        """The remembered start page is each user's own (a clerk and the city office share a machine)."""
        name = self.ctx.actor.name
        return f"main/page/{name.encode('utf-8').hex()}" if name else "main/page"

    # -- leaving ---------------------------------------------------------------------------------
    def confirm_leave(self, action: str = "关闭程序") -> bool:
        """Before closing (or switching user): every page's unsaved edits are saved or dropped as the user
        answers, and a running export or report is waited for or cancelled. False: stay."""
        if not confirm_unsaved(self, list(self._pages.values()), action, show=self._show_widget):
            return False
        return confirm_running_jobs(self, action)

    def _show_widget(self, widget: QWidget) -> None:
        for key, page in self._pages.items():
            if page is widget:
                self._leaving = True
                try:
                    self.show_page(key)
                finally:
                    self._leaving = False

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802
        if not self.confirm_leave("关闭程序"):
            event.ignore()
            return
        self.save_state()
        super().closeEvent(event)
        if event.isAccepted():
            self.closing.emit()
