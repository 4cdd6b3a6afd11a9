"""Backups in the desktop program: automatic backups, the last backup time in the status bar, and
restoring from a backup (the dialogs: gui/dialogs/backup.py; the 设置 page's box: gui/pages/settings_backup.py).

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

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.dialogs.backup import (
    ExitBackupWindow,
    RestoreConfirmDialog,
    confirm_foreign_backup,
    size_text,
    time_text,
)
from jzair_desktop.gui.tasks import Task, TaskState, publish, run_task, show_user_error, user_errors
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.backup import AutoBackupResult, BackupInfo, BackupSettings, RestoreResult
from jzair_desktop.services.changes import EVERYTHING
from jzair_desktop.services.database import Database

if TYPE_CHECKING:
    from jzair_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)

HOURLY_MS = 60 * 60 * 1000
EXIT_NOTE_KEY = "backup/exit_error"
CLEAN_KEY = "backup/clean_files"  # the database file as the program left it, right after its newest backup



def now_local() -> dt.datetime:
    return dt.datetime.now().astimezone()


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
        # A backup someone asked for (立即备份) is theirs: the service checks that they may (administrators
        # only) and audits it (by whom, to where), as for `jzair backup`; the routine ones are the program's.
        asked_by = None if quiet else self.ctx.actor

        def job(state: TaskState) -> AutoBackupResult:
            return backup_service.auto_backup(db, settings=settings, now=when, state=state, actor=asked_by)

        def succeeded(result: AutoBackupResult) -> None:
            self.last_error = result.extra_error
            self.last_error_short = "（未能复制到附加备份文件夹）"
            self.changed.emit()
            if not quiet:
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
