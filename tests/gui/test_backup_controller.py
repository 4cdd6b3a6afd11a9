"""Backups in the desktop program: the status bar, the start-up/hourly/exit backups, the 设置 page's backup
box, and restoring from a backup through the GUI (confirmation, pages rebuilt, previous copy named)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLabel, QMessageBox, QPushButton

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.backup_controller import (
    EXIT_NOTE_KEY,
    HOURLY_MS,
    BackupController,
    actor_after_restore,
    changed_since,
)
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.backup import ExitBackupWindow, RestoreConfirmDialog
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.services import accounts, audit
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.backup import BackupSettings
from jzair_desktop.services.changes import EVERYTHING
from jzair_desktop.storage.engine import make_engine
from tests.services.admin_helpers import fast_hasher, make_users  # noqa: F401 - fast_hasher: a fixture
from tests.storage.safety_helpers import add_heating, add_sample_data, count_rows, integrity

SHOTS = Path("/tmp/shots")
T0 = dt.datetime(2026, 11, 28, 14, 5, 3).astimezone()
LEFT = Qt.MouseButton.LeftButton


class Clock:
    def __init__(self, when: dt.datetime) -> None:
        self.when = when

    def __call__(self) -> dt.datetime:
        return self.when


@pytest.fixture
def boxes(monkeypatch):
    """QMessageBox's static dialogs recorded instead of shown: (kind, title, text)."""
    seen: list[tuple[str, str, str]] = []

    def record(kind):
        def show(_parent, title, text, *args, **kwargs):
            seen.append((kind, title, text))
            return QMessageBox.StandardButton.Ok
        return show

    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, record(kind))
    return seen


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()
    add_sample_data(db.engine)  # 10 clean-heating records (7 + 3), 1 truck
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


def make_window(qtbot, ctx, *, page: str = "heating") -> MainWindow:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.show_page(page)
    return w


def backups() -> list[Path]:
    return [e.path for e in backup_service.list_backups(backup_service.default_backup_folder())]


def age_files(db_path: Path, seconds: float = 3600) -> None:
    """Set the database files' modification time into the past (as if unchanged for a while)."""
    past = time.time() - seconds
    for p in (db_path, db_path.with_name(db_path.name + "-wal")):
        if p.exists():
            os.utime(p, (past, past))


# -- status bar and automatic backups -----------------------------------------------------------------


def test_status_bar_shows_the_last_backup_time(qtbot, ctx):
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    assert controller.label.text() == "最近备份：尚无"
    assert controller.label in w.statusBar().findChildren(type(controller.label))
    backup_service.auto_backup(ctx.db, now=T0)
    controller.changed.emit()
    assert controller.label.text() == "最近备份：2026-11-28 14:05"
    assert str(backup_service.default_backup_folder()) in controller.label.toolTip()


def test_start_up_backup_when_none_today_then_hourly_checks(qtbot, ctx, monkeypatch, boxes):
    monkeypatch.setattr(BackupController, "START_DELAY_MS", 0)
    backup_service.auto_backup(ctx.db, now=T0 - dt.timedelta(days=1))  # yesterday's backup only
    w = make_window(qtbot, ctx)
    clock = Clock(T0)
    controller = BackupController(w, automatic=True, clock=clock)
    assert controller.timer.isActive() and controller.timer.interval() == HOURLY_MS
    qtbot.waitUntil(lambda: len(backups()) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: not controller.busy())
    qtbot.waitUntil(lambda: controller.label.text() == "最近备份：2026-11-28 14:05")
    # the hourly check on the same day does nothing …
    clock.when = T0 + dt.timedelta(hours=1)
    controller.timer.timeout.emit()
    qtbot.wait(200)
    assert len(backups()) == 2
    # … and after midnight makes the day's backup
    clock.when = T0 + dt.timedelta(days=1)
    controller.timer.timeout.emit()
    qtbot.waitUntil(lambda: len(backups()) == 3, timeout=10_000)
    qtbot.waitUntil(lambda: not controller.busy())
    assert not boxes  # automatic backups ask nothing and show no dialog
    info = backup_service.verify_backup(backups()[0])
    assert info.records["heating"] == 10


def test_a_failing_automatic_backup_shows_in_the_status_bar(qtbot, ctx, tmp_path, boxes):
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("x")
    backup_service.save_backup_settings(BackupSettings(folder=blocker), actor=BUILTIN_ADMIN)
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False, clock=Clock(T0))
    controller.automatic = True  # as installed, without the start-up timers
    controller.check_due()
    qtbot.waitUntil(lambda: "自动备份失败" in controller.label.text(), timeout=10_000)
    assert str(blocker) in controller.label.toolTip()
    assert not boxes


def test_a_missing_usb_drive_still_makes_the_main_backup(qtbot, ctx, tmp_path, boxes):
    usb = tmp_path / "U盘未插入"
    backup_service.save_backup_settings(BackupSettings(extra_folder=usb), actor=BUILTIN_ADMIN)
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False, clock=Clock(T0))
    controller.automatic = True
    controller.check_due()
    qtbot.waitUntil(lambda: "未能复制到附加备份文件夹" in controller.label.text(), timeout=10_000)
    assert len(backups()) == 1 and controller.label.text().startswith("最近备份：2026-11-28 14:05")
    assert str(usb) in controller.label.toolTip() and not boxes


def exit_window() -> ExitBackupWindow | None:
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, ExitBackupWindow) and w.isVisible()), None)


@pytest.fixture
def _earlier_exit_backups_ended(qapp):
    """A test's main window, closed when the test ends, may start an exit backup that runs on in its thread:
    let it end before this test looks for "the" exit window (a faster set-up used to meet the leftover one)."""
    deadline = time.monotonic() + 30
    while exit_window() is not None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert exit_window() is None, "an earlier test's exit backup did not end within 30 s"


@pytest.fixture(autouse=True)
def _isolated_data_dir(_earlier_exit_backups_ended, _isolated_data_dir):
    """This test's data folder, set only once an earlier test's exit backup has ended: that backup writes into
    the folder the environment names when it runs."""
    return _isolated_data_dir


def test_exit_backup_when_the_data_changed(qtbot, ctx):
    """The window closes at once; the backup runs under the “正在备份…” window, which closes at its end
    (the exit backup used to run synchronously inside the close: updated to the new rule on purpose)."""
    earlier = backup_service.auto_backup(ctx.db, now=dt.datetime.now().astimezone() - dt.timedelta(days=1))
    add_heating(ctx.db.engine, 2, tag="晚上")  # a change after the backup
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    controller.automatic = True
    with qtbot.waitSignal(controller.exit_finished, timeout=30_000):
        assert w.close()
        assert not w.isVisible()  # gone at once
        progress = exit_window()
        assert progress is not None and progress.windowTitle().endswith("正在备份")
    assert exit_window() is None
    assert len(backups()) == 2 and backups()[1] == earlier.backup.path
    assert backup_service.verify_backup(backups()[0]).records["heating"] == 12


def test_no_exit_backup_when_nothing_changed(qtbot, ctx):
    """Nothing to back up: no progress window, nothing runs, the program may end at once."""
    backup_service.auto_backup(ctx.db, now=dt.datetime.now().astimezone() - dt.timedelta(minutes=5))
    w = make_window(qtbot, ctx)
    age_files(ctx.db.path)  # written long before the backup
    controller = BackupController(w, automatic=False)
    controller.automatic = True
    finished: list[bool] = []
    controller.exit_finished.connect(lambda: finished.append(True))
    assert w.close()
    assert exit_window() is None and controller.exit_window is None and not controller.busy()
    qtbot.wait(200)
    assert len(backups()) == 1 and not finished


def test_the_exit_backup_window_can_cancel_and_keeps_the_earlier_backups(qtbot, ctx, tmp_path):
    """取消 while the exit backup still waits for the day's backup to finish: no new backup is made, the
    earlier ones stay, and the program ends."""
    import threading

    earlier = backup_service.auto_backup(ctx.db, now=dt.datetime.now().astimezone() - dt.timedelta(days=1))
    add_heating(ctx.db.engine, 1, tag="改动")
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    controller.automatic = True
    from jzair_desktop.gui import tasks

    def days_backup(state: tasks.TaskState) -> None:  # the day's backup, still being made until cancelled
        while True:
            time.sleep(0.02)
            state.check_cancelled()

    day = tasks.Task(days_backup, tasks.TaskState(), "正在备份数据库…")
    threading.Thread(target=day.run, daemon=True).start()
    controller._backup_job = day  # noqa: SLF001
    assert controller.busy() and not day.ended
    with qtbot.waitSignal(controller.exit_finished, timeout=20_000):
        assert w.close()
        progress = exit_window()
        assert progress is not None
        qtbot.waitUntil(lambda: "当天的自动备份" in progress.step.text(), timeout=5000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "guide").mkdir(exist_ok=True)
        progress.grab().save(str(SHOTS / "guide" / "exit_backup_window.png"))
        qtbot.mouseClick(progress.cancel_button, LEFT)
        assert progress.step.text() == "正在取消…" and not progress.cancel_button.isEnabled()
    assert exit_window() is None
    assert backups() == [earlier.backup.path]
    assert ctx.settings().value(EXIT_NOTE_KEY) is None  # a cancel is no failure to report
    assert day.wait(5) and day.ended  # the day's backup was cancelled too


def test_closing_the_progress_window_cancels_rather_than_hides(qtbot):
    window = ExitBackupWindow()
    qtbot.addWidget(window)
    window.show()
    asked: list[bool] = []
    window.cancel_requested.connect(lambda: asked.append(True))
    window.close()
    assert window.isVisible() and asked == [True]
    window.set_progress(500, 1000, "正在压缩…")
    assert window.bar.value() == 500 and window.step.text() == "正在压缩…"
    window.finish()
    assert not window.isVisible()


def test_changed_since_compares_file_times_with_the_backup_name(tmp_path):
    f = tmp_path / "a.sqlite3"
    f.write_text("x")
    age_files(f, 600)
    assert changed_since(f, None)
    assert not changed_since(f, dt.datetime.now() - dt.timedelta(minutes=5))
    assert changed_since(f, dt.datetime.now() - dt.timedelta(minutes=15))
    wal = tmp_path / "a.sqlite3-wal"
    wal.write_text("y")  # a write just now, in the -wal file
    assert changed_since(f, dt.datetime.now() - dt.timedelta(minutes=5))


def test_a_failed_exit_backup_never_blocks_closing_and_is_noted_at_the_next_start(qtbot, ctx, tmp_path, boxes):
    blocker = tmp_path / "满了"
    blocker.write_text("x")
    backup_service.save_backup_settings(BackupSettings(folder=blocker), actor=BUILTIN_ADMIN)
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    controller.automatic = True
    with qtbot.waitSignal(controller.exit_finished, timeout=20_000):
        assert w.close()  # closes although the backup failed
        assert not w.isVisible()
    assert exit_window() is None
    assert not boxes  # nothing asked or shown while closing
    assert str(blocker) in str(ctx.settings().value(EXIT_NOTE_KEY))

    w2 = make_window(qtbot, ctx)
    controller = BackupController(w2, automatic=False)
    note = controller.show_exit_note()
    assert note is not None and note.isVisible() and not note.isModal()
    assert "上次退出程序时" in note.text() and str(blocker) in note.text()
    assert ctx.settings().value(EXIT_NOTE_KEY) is None  # shown once
    note.close()
    assert controller.show_exit_note() is None


def test_install_makes_the_controller_automatic_once(qtbot, ctx, monkeypatch):
    monkeypatch.setattr(BackupController, "START_DELAY_MS", 60_000)
    w = make_window(qtbot, ctx, page="settings")  # the settings page made a manual controller
    w.page("settings").backup_box.controller()
    manual = w.findChild(BackupController, "backupController")
    assert manual is not None and not manual.automatic
    installed = BackupController.install(w)
    assert installed is manual and installed.automatic and installed.timer.isActive()
    assert BackupController.install(w) is installed
    assert len(w.findChildren(BackupController)) == 1


# -- the 设置 page --------------------------------------------------------------------------------------


def test_settings_page_saves_keep_counts_and_the_extra_folder(qtbot, ctx, tmp_path, monkeypatch, boxes):
    w = make_window(qtbot, ctx, page="settings")
    box = w.page("settings").backup_box
    assert box.keep_daily.value() == 14 and box.keep_monthly.value() == 12
    assert box.folder_label.text() == str(backup_service.default_backup_folder())
    box.keep_daily.setValue(30)
    box.keep_monthly.setValue(24)
    qtbot.waitUntil(lambda: backup_service.backup_settings().keep_daily == 30, timeout=3000)
    usb = tmp_path / "U盘" / "台账备份"
    usb.mkdir(parents=True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    qtbot.mouseClick(box.findChild(QPushButton, "chooseExtra"), LEFT)
    settings = backup_service.backup_settings()
    assert (settings.keep_daily, settings.keep_monthly, settings.extra_folder) == (30, 24, usb)
    assert box.extra_edit.text() == str(usb)

    qtbot.mouseClick(box.backup_button, LEFT)  # 立即备份
    qtbot.waitUntil(lambda: any(k == "information" for k, _t, _m in boxes), timeout=10_000)
    kind, title, text = boxes[-1]
    assert title == "备份完成" and "已复制到附加备份文件夹" in text
    assert len(backups()) == 1 and len(list(usb.glob("jzair-*.jzbak"))) == 1
    qtbot.waitUntil(lambda: box.last_label.text().startswith(dt.date.today().isoformat()))
    status = w.findChild(BackupController, "backupController").label.text()
    assert status.startswith("最近备份：" + dt.date.today().isoformat())

    box.clear_extra.click()
    assert backup_service.backup_settings().extra_folder is None


def test_settings_page_screenshot(qtbot, ctx, tmp_path):
    backup_service.auto_backup(ctx.db, now=T0)
    usb = tmp_path / "U盘" / "台账备份"
    usb.mkdir(parents=True)
    backup_service.save_backup_settings(BackupSettings(extra_folder=usb), actor=BUILTIN_ADMIN)
    w = make_window(qtbot, ctx, page="settings")
    w.resize(1200, 780)
    qtbot.wait(50)
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(SHOTS / "safety_settings.png"))
    box = w.page("settings").backup_box
    assert box.isVisible() and box.last_label.text() == "2026-11-28 14:05"
    assert box.extra_edit.text() == str(usb)


def test_a_malformed_settings_file_is_named_on_the_page(qtbot, ctx):
    backup_service.settings_file().write_text("{not json", encoding="utf-8")
    w = make_window(qtbot, ctx, page="settings")
    box = w.page("settings").backup_box
    assert box.problem.isVisible() and "备份设置文件有误" in box.problem.text()
    assert box.keep_daily.value() == 14


def test_a_viewer_cannot_restore_back_up_or_move_the_backups(qtbot, db, boxes, tmp_path):
    """Changed on purpose: 立即备份 and the backup folders are administrators' acts now (a backup is the whole
    database); before, a viewer could set a USB drive as the extra folder and press 立即备份."""
    qtsetup.make_application()
    viewer = GuiContext(db=db, actor=Actor(name="查看员", role="viewer"), signals=DataSignals())
    w = make_window(qtbot, viewer, page="settings")
    box = w.page("settings").backup_box
    assert not box.restore_button.isEnabled() and not box.backup_button.isEnabled()
    assert not box.choose_extra_button.isEnabled() and not box.keep_daily.isEnabled()
    assert "只有管理员" in box.backup_button.toolTip()
    Path("/tmp/shots/trust").mkdir(parents=True, exist_ok=True)
    box.grab().save("/tmp/shots/trust/settings-backup-viewer.png")
    # The disabled controls are not the defence: the same calls, made directly, are refused by the service.
    box.extra_edit.setText(str(tmp_path / "U盘"))
    assert not box.save()
    assert any("不能更改备份设置" in m for _k, _t, m in boxes)
    BackupController(w, automatic=False).run_backup(parent=w)
    qtbot.waitUntil(lambda: any("不能备份数据库" in m for _k, _t, m in boxes), timeout=15_000)
    assert not backup_service.list_backups(backup_service.backup_settings().backup_folder())


# -- restore --------------------------------------------------------------------------------------------


@pytest.fixture
def confirm(monkeypatch):
    """RestoreConfirmDialog.exec: remember the dialog, answer with `answer[0]`."""
    seen: list[RestoreConfirmDialog] = []
    answer = [QDialog.DialogCode.Accepted]

    def exec_(self):
        seen.append(self)
        return answer[0]

    monkeypatch.setattr(RestoreConfirmDialog, "exec", exec_)
    return seen, answer


def heating_count_shown(w: MainWindow) -> int:
    return w.page("heating").model.rowCount()


def test_restore_from_the_gui(qtbot, ctx, boxes, confirm):
    seen, _answer = confirm
    info = backup_service.auto_backup(ctx.db, now=T0).backup  # 10 heating records
    add_heating(ctx.db.engine, 5, tag="恢复后丢失")
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    assert heating_count_shown(w) == 15
    old_db = ctx.db
    changes = []
    ctx.signals.changed.connect(lambda published, _source: changes.append(published))

    controller.restore_from(info.path)
    qtbot.waitUntil(lambda: any(t == "恢复完成" for _k, t, _m in boxes), timeout=15_000)
    dialog = seen[0]
    assert dialog.table.objectName() == "recordCounts" and dialog.table.item(0, 1).text() == "10"
    assert dialog.table.item(0, 2).text() == "15"
    text = next(m for _k, t, m in boxes if t == "恢复完成")
    previous = next(ctx.db.path.parent.glob("台账.恢复前-*.sqlite3"))
    assert str(previous) in text and "恢复前的数据库已另存为" in text
    assert count_rows(previous) == 15  # the data of before the restore is kept
    assert integrity(ctx.db.path) == "ok"
    assert count_rows(ctx.db.path) == 10
    assert ctx.db is not old_db  # opened again
    assert heating_count_shown(w) == 10  # pages rebuilt on the restored database
    assert w.current_key() == "heating" and w.stack.currentWidget() is w.page("heating")
    assert EVERYTHING in changes
    assert w.centralWidget().isEnabled() and not controller.restoring
    assert [k for k, _t, _m in boxes] == ["information"]
    last = audit.query_log(ctx.db, limit=1)[0]  # the restored trail says who restored which backup
    assert (last.action, last.user_name) == ("db_restore", ctx.actor.name) and info.path.name in last.detail


def test_restore_cancelled_changes_nothing(qtbot, ctx, boxes, confirm):
    seen, answer = confirm
    answer[0] = QDialog.DialogCode.Rejected
    info = backup_service.auto_backup(ctx.db, now=T0).backup
    add_heating(ctx.db.engine, 5, tag="保留")
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    controller.restore_from(info.path)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    qtbot.wait(100)
    assert count_rows(ctx.db.path) == 15 and not boxes
    assert not list(ctx.db.path.parent.glob("*.恢复前-*"))


def test_restore_while_another_program_has_the_database_open_is_refused(qtbot, ctx, boxes, confirm, monkeypatch):
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "200")
    info = backup_service.auto_backup(ctx.db, now=T0).backup
    add_heating(ctx.db.engine, 5, tag="保留")
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    other = sqlite3.connect(ctx.db.path)  # e.g. a `jzair import` reading it right now
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM heating").fetchone()
    try:
        controller.restore_from(info.path)
        qtbot.waitUntil(lambda: any(t == "恢复未完成" for _k, t, _m in boxes), timeout=15_000)
    finally:
        other.close()
    kind, _title, text = next(b for b in boxes if b[1] == "恢复未完成")
    assert kind == "warning" and "数据库正被另一个程序" in text and "当前数据库没有改动" in text
    assert count_rows(ctx.db.path) == 15 and integrity(ctx.db.path) == "ok"
    assert heating_count_shown(w) == 15  # the pages came back, on the unchanged database
    assert w.centralWidget().isEnabled()


def test_a_damaged_backup_is_refused_before_anything_is_asked(qtbot, ctx, boxes, confirm, tmp_path):
    seen, _answer = confirm
    info = backup_service.auto_backup(ctx.db, now=T0).backup
    data = bytearray(info.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "坏的备份.jzbak"
    bad.write_bytes(bytes(data))
    w = make_window(qtbot, ctx)
    BackupController(w, automatic=False).restore_from(bad)
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    assert not seen
    kind, _t, text = boxes[0]
    assert kind == "warning" and "坏的备份.jzbak" in text


def test_restore_confirmation_shows_the_manifest(qtbot, ctx):
    info = backup_service.auto_backup(ctx.db, now=T0).backup
    add_heating(ctx.db.engine, 5, tag="新")
    w = make_window(qtbot, ctx)
    from jzair_desktop.gui.backup_controller import current_counts

    dialog = RestoreConfirmDialog(backup_service.verify_backup(info.path), current_counts(ctx.db), ctx.db.location, w)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    def text(name: str) -> str:
        return dialog.findChild(QLabel, name).text()

    assert text("backupTime") == "2026-11-28 14:05:03"
    assert text("appVersion") == info.app_version
    assert text("schemaRevision").startswith(info.schema_revision) and "与本程序相同" in text("schemaRevision")
    assert text("target") == ctx.db.location
    assert "恢复前" in text("restoreNote")
    rows = {dialog.table.item(r, 0).text(): (dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text())
            for r in range(dialog.table.rowCount())}
    assert rows["清洁取暖"] == ("10", "15") and rows["柴油货车"] == ("1", "1") and rows["合计"] == ("11", "16")
    assert dialog.cancel_button.isDefault() and not dialog.restore_button.isDefault()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "safety_restore_confirm.png"))


def test_the_user_goes_on_after_a_restore_only_if_the_restored_accounts_agree(db):
    assert actor_after_restore(db, BUILTIN_ADMIN) == BUILTIN_ADMIN
    assert actor_after_restore(db, Actor(name="张三", role="county_clerk", unit_code="140702")) == BUILTIN_ADMIN
    accounts.add_user(db, BUILTIN_ADMIN, "王主任", "city_admin", "Jinzhong#2020")
    assert actor_after_restore(db, BUILTIN_ADMIN) is None  # accounts appeared: log in
    me = Actor(name="王主任", role="city_admin")
    assert actor_after_restore(db, me) == me
    assert actor_after_restore(db, Actor(name="王主任", role="viewer")) is None
    assert actor_after_restore(db, Actor(name="李四", role="city_admin")) is None


def test_restore_with_another_engine_open_in_this_process_is_refused_and_harmless(db, monkeypatch):
    """What the GUI relies on: every engine must be disposed; an open one makes restore refuse cleanly."""
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "100")
    info = backup_service.make_backup(db)
    other = make_engine(db.url)
    with other.connect() as conn:  # its transaction (begun by the engine's hook) holds a read lock
        conn.exec_driver_sql("SELECT count(*) FROM heating").fetchone()
        with pytest.raises(Exception) as err:
            backup_service.restore_backup(db.url, info.path)
    other.dispose()
    assert "数据库正被另一个程序" in str(err.value)


# -- restore as an attacker tries it (issue 16 finding 2, issue 22) ------------------------------------


@pytest.mark.usefixtures("fast_hasher")
def test_attack_a_clerk_restoring_through_the_gui_is_refused_and_stays_a_clerk(qtbot, ctx, boxes, confirm):
    """Reproduced through 设置 → 从备份恢复…: the clerk restored an account-less backup and went on as 系统管理员."""
    no_accounts = backup_service.auto_backup(ctx.db, now=T0).backup  # made before any account existed
    users = make_users(ctx.db)
    clerk_ctx = GuiContext(db=ctx.db, actor=users["yuci"], signals=DataSignals())
    w = make_window(qtbot, clerk_ctx, page="settings")
    assert not w.page("settings").backup_box.restore_button.isEnabled()
    controller = BackupController(w, automatic=False)
    before = count_rows(ctx.db.path)
    controller.restore_confirmed(no_accounts.path)  # the button is off: called directly, as a link would
    qtbot.waitUntil(lambda: any(t == "恢复未完成" for _k, t, _m in boxes), timeout=15_000)
    assert "只有管理员可以恢复数据库" in next(m for _k, t, m in boxes if t == "恢复未完成")
    assert clerk_ctx.actor == users["yuci"] and count_rows(clerk_ctx.db.path) == before
    assert not list(ctx.db.path.parent.glob("*.恢复前-*"))
    # the administrator is refused the account-less backup too
    admin_ctx = GuiContext(db=clerk_ctx.db, actor=users["admin"], signals=DataSignals())
    w2 = make_window(qtbot, admin_ctx, page="settings")
    BackupController(w2, automatic=False).restore_confirmed(no_accounts.path)
    qtbot.waitUntil(lambda: sum(t == "恢复未完成" for _k, t, _m in boxes) == 2, timeout=15_000)
    assert "该备份中没有任何用户账户" in [m for _k, t, m in boxes if t == "恢复未完成"][-1]
    assert admin_ctx.actor == users["admin"]


@pytest.mark.slow
def test_a_backup_of_another_installation_asks_the_administrator_again(qtbot, ctx, boxes, confirm, tmp_path,
                                                                       monkeypatch):
    from jzair_desktop.gui import backup_controller
    from jzair_desktop.gui.dialogs import backup as backup_dialogs
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.services.packages import keys as package_keys
    from jzair_desktop.storage.engine import sqlite_url

    package_keys.identity(ctx.db)
    other, _ = open_database(sqlite_url(tmp_path / "其他" / "台账.sqlite3"), create=True)
    load_reference_data(other)
    package_keys.identity(other)
    foreign = backup_service.make_backup(other, tmp_path / "其他安装.jzbak")
    other.dispose()
    asked = []

    def answer(parent, exc):  # noqa: ANN001
        asked.append(str(exc))
        box = backup_dialogs.foreign_backup_box(parent, exc)
        assert box.defaultButton() is not box.yes_button  # a stray Enter does not restore
        box.show()
        Path("/tmp/shots/trust").mkdir(parents=True, exist_ok=True)
        box.grab().save("/tmp/shots/trust/restore-foreign-confirm.png")
        box.close()
        return len(asked) == 1

    monkeypatch.setattr(backup_controller, "confirm_foreign_backup", answer)
    w = make_window(qtbot, ctx, page="settings")
    BackupController(w, automatic=False).restore_confirmed(foreign.path)
    qtbot.waitUntil(lambda: any(t == "恢复完成" for _k, t, _m in boxes), timeout=20_000)
    assert asked and "备份来自另一台安装" in asked[0]
    assert count_rows(ctx.db.path) == 0  # the other installation's (empty) data, confirmed explicitly


def test_closing_the_database_after_the_exit_backup_does_not_make_the_next_exit_back_up(qtbot, ctx):
    """Closing folds the -wal file into the database file, which makes it newer than the backup; the
    next exit still knows that nothing changed, and the one after a real change does back up."""
    from jzair_desktop.services.database import open_database

    add_heating(ctx.db.engine, 3, tag="改动")
    w = make_window(qtbot, ctx)
    controller = BackupController(w, automatic=False)
    controller.automatic = True
    with qtbot.waitSignal(controller.exit_finished, timeout=30_000):
        assert w.close()
    made = backups()
    assert len(made) == 1
    ctx.db.dispose()  # as run_gui does after the event loop
    time.sleep(0.05)
    controller.remember_clean_files()
    assert changed_since(ctx.db.path, backup_service.last_backup_time(backup_service.default_backup_folder()))

    ctx.db, _ = open_database(ctx.db.url)  # the next start
    w2 = make_window(qtbot, ctx)
    again = BackupController(w2, automatic=False)
    again.automatic = True
    assert not again.exit_backup_due()
    add_heating(ctx.db.engine, 1, tag="再改")
    assert again.exit_backup_due()
    again.automatic = False  # no exit backup when the test closes the window
