"""Backups in the desktop program: automatic backups, the last backup time in the status bar, the backup
part of the 设置 page, and restoring from a backup.

Automatic backups (services.backup.auto_backup: backup folder, extra folder such as a USB drive, rotation
keeping 14 daily and 12 monthly copies by default):
  - at start, when there is no backup of today yet (a moment after the window shows, off the GUI thread),
    and again at every hourly check while the program stays open (a day may change under it);
  - on exit, when the database files changed since the newest backup. The main window closes at once;
    the backup then runs off the GUI thread under a small "正在备份…" window with 取消 (a cancelled exit
    backup leaves every earlier backup as it was), and the program ends when it is done. With nothing to
    back up no window appears and the program ends at once. A failed exit backup never keeps the program
    from ending: it is logged and shown as a note at the next start.

Restore (设置 → 从备份恢复…): the backup is checked completely off the GUI thread, its manifest shown next
to the current record counts, and after confirmation the pages are closed, the engine disposed (restore
needs the only connection to the file), `restore_backup` runs off the GUI thread, then the database is
opened again, the user checked against the restored accounts, and the pages built anew.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import Task, TaskState, publish, run_task, show_user_error, user_errors
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.backup import AutoBackupResult, BackupInfo, BackupSettings, RestoreResult
from jzair_desktop.services.changes import EVERYTHING
from jzair_desktop.services.database import Database, head_revision

if TYPE_CHECKING:
    from jzair_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)

HOURLY_MS = 60 * 60 * 1000
EXIT_NOTE_KEY = "backup/exit_error"
CLEAN_KEY = "backup/clean_files"  # the database file as the program left it, right after its newest backup


def now_local() -> dt.datetime:
    return dt.datetime.now().astimezone()


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


def main_file_state(db_file: Path | None) -> str | None:
    """Size and modification time (ns) of the database file itself, or None when it cannot be read."""
    try:
        st = db_file.stat() if db_file is not None else None
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}" if st is not None else None


def wal_is_empty(db_file: Path) -> bool:
    """No transaction was written to the -wal file since it was opened (missing or 0 bytes)."""
    try:
        return db_file.with_name(db_file.name + "-wal").stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def changed_since(db_file: Path | None, last_backup: dt.datetime | None) -> bool:
    """Whether the database files were written after the newest backup was started (naive local time).

    Backup names carry whole seconds rounded down, so a write in the same second counts as a change.
    """
    if db_file is None or last_backup is None:
        return True
    newest = 0.0
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return dt.datetime.fromtimestamp(newest) >= last_backup


# --------------------------------------------------------------------------------------------------
# The controller: one per main window


class BackupController(QObject):
    """Automatic backups, the status bar label, 立即备份 and restore for one main window. GUI thread only."""

    changed = Signal()  # a backup was made, a restore done, or the settings changed
    exit_finished = Signal()  # the exit backup ended (made, cancelled or failed): the program may end
    START_DELAY_MS = 3000  # the start-up check waits until the window is up and idle

    def __init__(self, window: MainWindow, *, automatic: bool = True,
                 clock: Callable[[], dt.datetime] = now_local) -> None:
        super().__init__(window)
        self.setObjectName("backupController")
        self.window = window
        self.automatic = automatic
        self.clock = clock
        self.restoring = False
        self.last_error: str | None = None  # the last automatic backup's failure in this session
        self.last_error_short = ""  # what the status bar says about it
        self._backup_job: Task | None = None  # the running (or last) backup job: its handle says when it ended
        self.exit_window: ExitBackupWindow | None = None
        self._exit_state: TaskState | None = None
        self._left_clean = False  # the newest backup holds what the database holds as the program ends
        self.label = QLabel()
        self.label.setObjectName("backupStatus")
        self.label.setContentsMargins(16, 0, 4, 0)
        window.statusBar().addPermanentWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setInterval(HOURLY_MS)
        self.timer.timeout.connect(self.check_due)
        self.changed.connect(self.refresh_status)
        window.closing.connect(self.backup_on_exit)  # does nothing unless automatic
        self.refresh_status()
        if automatic:
            self.start()

    @property
    def ctx(self) -> GuiContext:
        return self.window.ctx

    @classmethod
    def of(cls, widget: QWidget) -> BackupController | None:
        """The controller of the main window that holds `widget` (None outside a main window)."""
        from jzair_desktop.gui.main_window import MainWindow

        window = widget.window()
        if not isinstance(window, MainWindow):
            return None
        found = window.findChild(BackupController, "backupController")
        return found if found is not None else cls(window, automatic=False)

    @classmethod
    def install(cls, window: MainWindow) -> BackupController:
        """Automatic backups for the program's main window (the composition root calls this)."""
        found = window.findChild(BackupController, "backupController")
        if found is None:
            return cls(window, automatic=True)
        if not found.automatic:
            found.automatic = True
            found.start()
        return found

    def start(self) -> None:
        self.timer.start()
        QTimer.singleShot(self.START_DELAY_MS, self.check_due)
        QTimer.singleShot(0, self.show_exit_note)

    # -- status -----------------------------------------------------------------------------------
    def settings(self) -> BackupSettings:
        return backup_service.backup_settings()

    def last_backup(self) -> dt.datetime | None:
        return backup_service.last_backup_time(self.settings().backup_folder())

    def refresh_status(self) -> None:
        try:
            folder = self.settings().backup_folder()
            text = f"最近备份：{time_text(backup_service.last_backup_time(folder))}"
            tip = f"备份文件夹：{folder}"
        except JzairError as exc:
            text, tip = "最近备份：无法读取", str(exc)
        if self.last_error:
            text += self.last_error_short
            tip = f"{self.last_error}\n\n{tip}"
            self.label.setStyleSheet("color: #c62828;")
        else:
            self.label.setStyleSheet("")
        self.label.setText(text)
        self.label.setToolTip(tip)

    # -- automatic backups ------------------------------------------------------------------------
    def busy(self) -> bool:
        return self._backup_job is not None and not self._backup_job.ended

    def check_due(self) -> None:
        """The daily backup, if there is none of today yet (start-up and hourly)."""
        if not self.automatic or self.restoring or self.busy() or self.ctx.db.path is None:
            return
        try:
            settings = self.settings()
            due = backup_service.auto_backup_due(settings.backup_folder(), self.clock())
        except JzairError as exc:
            self._auto_failed(exc)
            return
        if due:
            self.run_backup(settings, quiet=True)

    def run_backup(self, settings: BackupSettings | None = None, *, quiet: bool = False,
                   parent: QWidget | None = None) -> None:
        """`auto_backup` off the GUI thread. `quiet`: no progress dialog, failures in the status bar."""
        if self.busy():
            if not quiet:
                QMessageBox.information(parent or self.window, "备份", "正在备份，请稍候。")
            return
        try:
            settings = settings or self.settings()
        except JzairError as exc:
            if quiet:
                self._auto_failed(exc)
            else:
                show_user_error(parent or self.window, exc, "备份未完成")
            return
        db, when = self.ctx.db, self.clock()

        def job(state: TaskState) -> AutoBackupResult:
            return backup_service.auto_backup(db, settings=settings, now=when, state=state)

        def succeeded(result: AutoBackupResult) -> None:
            self.last_error = result.extra_error
            self.last_error_short = "（未能复制到附加备份文件夹）"
            self.changed.emit()
            if not quiet:
                # A backup someone asked for is audited (by whom, to where), as `jzair backup` is.
                try:
                    backup_service.audit_backup(db, self.ctx.actor, [p for p in (result.backup.path, result.extra_copy)
                                                                     if p is not None])
                except JzairError as exc:
                    log.warning("backup not audited: %s", exc)
                QMessageBox.information(parent or self.window, "备份完成", backup_done_text(result))

        def failed(exc: BaseException) -> None:
            if quiet:
                self._auto_failed(exc)
            else:
                show_user_error(parent or self.window, exc, "备份未完成")

        def cancelled() -> None:
            log.info("backup cancelled")
            if not quiet:
                QMessageBox.information(parent or self.window, "备份", "已取消备份，之前的备份都没有改动。")

        # A backup stops at its next step when cancelled and leaves the earlier backups as they were.
        self._backup_job = run_task(parent or self.window, "正在备份数据库…", job, on_success=succeeded,
                                    on_error=failed, on_cancel=cancelled, show_progress=not quiet)

    def _auto_failed(self, exc: BaseException) -> None:
        log.error("automatic backup failed: %s", exc, exc_info=not isinstance(exc, JzairError))
        self.last_error = f"自动备份失败：{exc}"
        self.last_error_short = "（自动备份失败）"
        self.changed.emit()

    def exit_backup_due(self) -> bool:
        """Whether the database changed since the newest backup (a cheap look at file times and names).

        Closing the database after a backup folds the -wal file into the database file, which makes the
        file newer than the backup without any change to the data: the file as it was left then is
        remembered (`remember_clean_files`), and a file still in that state with nothing written to its
        -wal since is unchanged."""
        try:
            folder = self.settings().backup_folder()
            last = backup_service.last_backup_time(folder)
        except JzairError as exc:
            log.error("exit backup: cannot read the backup settings: %s", exc)
            self._note_for_next_start(str(exc))
            return False
        path = self.ctx.db.path
        if last is not None and path is not None and wal_is_empty(path):
            clean = str(self.ctx.settings().value(CLEAN_KEY) or "")
            if clean and clean == f"{last.isoformat()}|{path}|{main_file_state(path)}":
                return False
        return changed_since(path, last)

    def remember_clean_files(self) -> None:
        """After the program let go of the database: if the newest backup holds what the file holds (no
        change since, or the exit backup just made), remember the file's state for the next exit."""
        if not self._left_clean or self.ctx.db.path is None:
            return
        try:
            last = backup_service.last_backup_time(self.settings().backup_folder())
        except JzairError:
            return
        if last is None:
            return
        s = self.ctx.settings()
        s.setValue(CLEAN_KEY, f"{last.isoformat()}|{self.ctx.db.path}|{main_file_state(self.ctx.db.path)}")
        s.sync()

    def backup_on_exit(self) -> None:
        """When the main window closes. Nothing to back up: nothing happens, the program ends at once.
        Else the exit backup runs off the GUI thread under the "正在备份…" window (which keeps the program
        alive until `exit_finished`). Never raises: a failure is noted for the next start."""
        if not self.automatic or self.restoring or self.ctx.db.path is None:
            return
        self.timer.stop()
        running = self._backup_job if self.busy() else None
        if running is None and not self.exit_backup_due():
            log.info("exit backup skipped: nothing changed since the newest backup")
            self._left_clean = True
            return
        self.exit_window = ExitBackupWindow()
        self.exit_window.cancel_requested.connect(self._cancel_exit_backup)
        self.exit_window.show()
        db, clock = self.ctx.db, self.clock

        def job(state: TaskState) -> AutoBackupResult | None:
            if running is not None:  # the day's backup is still being made: finish it first
                state.progress(0, 0, "正在完成当天的自动备份…", force=True)
                while not running.wait(0.05):
                    state.check_cancelled()
                if not changed_since(db.path, backup_service.last_backup_time(self.settings().backup_folder())):
                    return None
            return backup_service.auto_backup(db, settings=self.settings(), now=clock(), state=state)

        task = run_task(None, "正在备份…", job, on_success=self._exit_backup_done, on_error=self._exit_backup_failed,
                        on_cancel=self._exit_backup_cancelled, on_progress=self.exit_window.set_progress,
                        show_progress=False)
        self._exit_state = task.state

    def _cancel_exit_backup(self) -> None:
        for state in (self._exit_state, self._backup_job.state if self._backup_job is not None else None):
            if state is not None:
                state.cancel()

    def _exit_backup_done(self, result: AutoBackupResult | None) -> None:
        if result is not None:
            log.info("exit backup written to %s", result.backup.path)
            if result.extra_error:
                self._note_for_next_start(result.extra_error)
        self._left_clean = True
        self._end_exit()

    def _exit_backup_failed(self, exc: BaseException) -> None:
        trace = None if isinstance(exc, JzairError) else (type(exc), exc, exc.__traceback__)
        log.error("exit backup failed: %s", exc, exc_info=trace)
        self._note_for_next_start(str(exc))
        self._end_exit()

    def _exit_backup_cancelled(self) -> None:
        log.info("exit backup cancelled by the user; the earlier backups are kept")
        self._end_exit()

    def _end_exit(self) -> None:
        if not shiboken6.isValid(self):  # the window and this controller were destroyed while the backup ran
            log.info("exit backup ended after its window was destroyed")
            return
        if self.exit_window is not None:
            self.exit_window.finish()
        self.exit_finished.emit()

    def _note_for_next_start(self, message: str) -> None:
        s = self.ctx.settings()
        s.setValue(EXIT_NOTE_KEY, f"{time_text(self.clock())}|{message}")
        s.sync()

    def show_exit_note(self) -> QMessageBox | None:
        """The non-blocking note about a failed exit backup of the previous session, if there was one."""
        s = self.ctx.settings()
        raw = s.value(EXIT_NOTE_KEY)
        if not raw:
            return None
        s.remove(EXIT_NOTE_KEY)
        s.sync()
        when, _, message = str(raw).partition("|")
        box = QMessageBox(
            QMessageBox.Icon.Warning, f"{APP_TITLE} - 自动备份",
            f"上次退出程序时（{when}）的自动备份没有完成：\n{message}\n\n"
            "数据库本身没有受到影响。可以在“设置”页点击“立即备份”再备份一次。",
            QMessageBox.StandardButton.Ok, self.window,
        )
        box.setObjectName("exitBackupNote")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        return box

    # -- restore ----------------------------------------------------------------------------------
    def can_restore(self) -> bool:
        return backup_service.may_restore(self.ctx.actor)

    def choose_and_restore(self, parent: QWidget | None = None) -> None:
        parent = parent or self.window
        try:
            folder = self.settings().backup_folder()
        except JzairError:
            folder = backup_service.default_backup_folder()
        file, _ = QFileDialog.getOpenFileName(
            parent, "选择要恢复的备份文件", str(folder if folder.is_dir() else Path.home()),
            "备份文件 (*.jzbak);;所有文件 (*)",
        )
        if file:
            self.restore_from(Path(file), parent)

    def restore_from(self, file: Path, parent: QWidget | None = None) -> None:
        """Check `file`, show what it holds, and restore it after confirmation."""
        parent = parent or self.window
        if not self.can_restore():
            QMessageBox.warning(parent, "从备份恢复", f"只有管理员可以恢复数据库；用户“{self.ctx.actor.name}”不能。")
            return
        db = self.ctx.db

        def check(_state: object) -> tuple[BackupInfo, dict[str, int] | None]:
            info = backup_service.verify_backup(file)
            return info, current_counts(db)

        run_task(self.window, "正在检查备份文件…", check, cancellable=False,
                 on_success=lambda result: self._confirm(*result))

    def _confirm(self, info: BackupInfo, current: dict[str, int] | None) -> None:
        dialog = RestoreConfirmDialog(info, current, self.ctx.db.location, self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.restore_confirmed(info.path)

    def restore_confirmed(self, file: Path, *, allow_foreign: bool = False) -> None:
        """Close the pages, let go of the database and restore `file` (off the GUI thread). The service
        checks who restores what; a backup of another installation comes back as ForeignBackupError and
        is restored only after the administrator confirms it here."""
        if self.busy():
            self._backup_job.wait(120)
        self.restoring = True
        self.timer.stop()
        self._pause_refresher(True)
        self.window.close_pages()
        self.window.centralWidget().setEnabled(False)
        url, actor = self.ctx.db.url, self.ctx.actor
        self.ctx.db.dispose()
        run_task(
            self.window, "正在恢复数据库…",
            lambda _state: backup_service.restore_backup(url, file, actor=actor, allow_foreign=allow_foreign),
            cancellable=False, on_success=self._restored, on_error=lambda exc: self._restore_failed(exc, file),
        )

    def _pause_refresher(self, paused: bool) -> None:
        from jzair_desktop.gui.focus_refresh import FocusRefresher

        refresher = self.window.findChild(FocusRefresher, "focusRefresher")
        if refresher is not None:
            refresher.paused = paused
            if not paused:
                refresher.mark_seen()

    def _reopen(self) -> bool:
        """Open the database again after a restore (or a failed one); False if the window must close."""
        from jzair_desktop.services.database import load_reference_data, open_database

        old = self.ctx.db
        with user_errors(self.window, f"{APP_TITLE} - 无法打开数据库", critical=True) as outcome:
            db, _ = open_database(old.url, create=False)
            load_reference_data(db)
        if outcome.failed:
            return False
        self.ctx.db = db
        old.dispose()
        actor = actor_after_restore(db, self.ctx.actor)
        if actor is None:
            actor = login_again(db)
            if actor is None:
                return False
        self.ctx.actor = actor
        label = getattr(self.window, "user_label", None)
        if isinstance(label, QLabel):
            label.setText(f"用户：{actor.name}")
        return True

    def _finish(self) -> bool:
        self.restoring = False
        self.window.centralWidget().setEnabled(True)
        if not self._reopen():
            self.automatic = False  # no exit backup of a database this window no longer works on
            self.window.close()
            return False
        self.window.reopen_pages()
        self._pause_refresher(False)
        if self.automatic:
            self.timer.start()
        self.changed.emit()
        publish(self.ctx, EVERYTHING)
        return True

    def _restored(self, result: RestoreResult) -> None:
        log.info("restored %s from %s", result.database, result.backup.path)
        if self._finish():
            QMessageBox.information(self.window, "恢复完成", restore_done_text(result))

    def _restore_failed(self, exc: BaseException, file: Path | None = None) -> None:
        if not self._finish():
            return
        if isinstance(exc, backup_service.ForeignBackupError) and file is not None:
            if confirm_foreign_backup(self.window, exc):
                self.restore_confirmed(file, allow_foreign=True)
            return
        show_user_error(self.window, exc, "恢复未完成")


# --------------------------------------------------------------------------------------------------
# The exit backup's window


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


# --------------------------------------------------------------------------------------------------
# Texts and small helpers


def backup_done_text(result: AutoBackupResult) -> str:
    info = result.backup
    lines = [f"已备份到：{info.path}", f"大小：{size_text(info.size)}，已通过完整性检查。"]
    if result.extra_copy is not None:
        lines.append(f"已复制到附加备份文件夹：{result.extra_copy}")
    if result.extra_error is not None:
        lines.append(f"注意：{result.extra_error}")
    if result.pruned:
        lines.append(f"按保留规则删除了 {len(result.pruned)} 份较早的备份。")
    lines += [f"注意：{reason}" for _path, reason in result.prune_failed]
    return "\n".join(lines)


def restore_done_text(result: RestoreResult) -> str:
    lines = [
        f"已用 {time_text(result.backup.created_at, seconds=True)} 的备份恢复数据库：",
        str(result.database),
    ]
    if result.previous_copy is not None:
        lines += ["", "恢复前的数据库已另存为：", str(result.previous_copy),
                  "（如需找回其中的数据，可以保留这份文件；确认不需要后可自行删除。）"]
    if result.migrated:
        lines += ["", f"备份的数据库架构已从 {result.revision_restored} 升级到 {result.revision}。"]
    return "\n".join(lines)


def current_counts(db: Database) -> dict[str, int] | None:
    """Live records per ledger of the current database (None if it cannot be read)."""
    from jzair_desktop.services.info import record_counts

    try:
        return {key: sum(units.values()) for key, units in record_counts(db).items()}
    except Exception:  # noqa: BLE001 - a broken current database is a reason to restore, not to stop
        log.warning("could not count the records of the current database", exc_info=True)
        return None


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


def actor_after_restore(db: Database, actor: Actor) -> Actor | None:
    """The user who may go on working after a restore, or None when they must log in again (the restored
    accounts differ: no such user, another role or unit, disabled; or accounts appeared)."""
    from jzair_desktop.services import accounts

    if not accounts.has_accounts(db):
        return BUILTIN_ADMIN
    if actor == BUILTIN_ADMIN:
        return None
    try:
        user = accounts.get_user(db, actor.name)
    except JzairError:
        return None
    if user.disabled or user.role != actor.role or user.unit_code != actor.unit_code:
        return None
    return actor


def login_again(db: Database) -> Actor | None:
    from jzair_desktop.gui.app import start_session

    QMessageBox.information(
        None, APP_TITLE, "恢复的数据库中的用户账户与当前登录的用户不一致，请重新登录。"
    )
    with user_errors(None, f"{APP_TITLE} - 无法打开数据库", critical=True) as outcome:
        return start_session(db)
    if outcome.failed:
        return None


# --------------------------------------------------------------------------------------------------
# The restore confirmation


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


# --------------------------------------------------------------------------------------------------
# The 设置 page's backup box


class BackupSettingsBox(QGroupBox):
    """数据备份: last backup, folders, how many copies to keep, 立即备份 and 从备份恢复…"""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__("数据备份", parent)
        self.setObjectName("backupBox")
        self.ctx = ctx
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
        choose = QPushButton("选择…")
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
            self.clear_extra.setEnabled(settings.extra_folder is not None)
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
            backup_service.save_backup_settings(self.current_settings())
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
