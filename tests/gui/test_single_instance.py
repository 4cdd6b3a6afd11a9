"""Concurrent use in the GUI: one window per database file (a second one is told and can bring the first
forward), and a window shows what other programs wrote when it becomes active again."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QPushButton

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui import single_instance as si
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.focus_refresh import FocusRefresher, files_signature
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.changes import EVERYTHING
from jzair_desktop.storage.engine import make_engine, sqlite_url
from tests.storage.safety_helpers import REPO_ROOT, add_heating, child_argv, child_env


def ask_in_thread(qtbot, instance: si.SingleInstance) -> bool:
    """`ask_to_activate` from another thread while this one runs the event loop (as a second process would)."""
    result: dict[str, bool] = {}
    t = threading.Thread(target=lambda: result.setdefault("ok", instance.ask_to_activate(3000)))
    t.start()
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=5000)
    return result["ok"]


def symlinks_resolve(folder) -> bool:
    """Whether this system's symbolic links resolve (path and identity). Always on Linux and on Windows; not under
    Wine 8, whose symbolic links neither resolve in realpath nor stat (a gap of the test machine's Wine)."""
    target = folder / "探针目标"
    target.write_bytes(b"x")
    probe = folder / "探针链接"
    probe.symlink_to(target)
    try:
        return (os.path.realpath(probe) == os.path.realpath(target)
                and os.stat(probe).st_ino == os.stat(target).st_ino != 0)
    except OSError:
        return False
    finally:
        for f in (probe, target):  # Wine cannot always remove its own unresolvable link by name
            with contextlib.suppress(OSError):
                f.unlink()


def skip_without_resolving_symlinks(folder) -> None:
    if sys.platform == "win32" and not symlinks_resolve(folder):
        pytest.skip("this Windows does not resolve symbolic links (Wine 8); hard links and other spellings are tested")


def test_the_key_depends_on_the_database_path_only(tmp_path):
    (tmp_path / "sub").mkdir()
    a = si.instance_key(tmp_path / "台账.sqlite3")
    assert a == si.instance_key(str(tmp_path / "台账.sqlite3"))
    assert a == si.instance_key(tmp_path / "sub" / ".." / "台账.sqlite3")
    assert a != si.instance_key(tmp_path / "另一个.sqlite3")
    assert a.startswith("jzair-") and a.isascii() and len(a) < 40


def test_keys_follow_the_file_not_its_spelling(tmp_path):
    """A symbolic link and a hard link to the database name the same file: they get the same lock."""
    real = tmp_path / "台账.sqlite3"
    assert si.instance_keys(real) == [si.instance_key(real)]  # not there yet: its real path only
    real.write_bytes(b"x")
    skip_without_resolving_symlinks(tmp_path)
    link = tmp_path / "链接.sqlite3"
    link.symlink_to(real)
    hard = tmp_path / "硬链接.sqlite3"
    os.link(real, hard)
    keys = si.instance_keys(real)
    assert len(keys) == 2 and keys[0] == si.identity_key(real)
    assert si.instance_keys(link) == keys  # the link resolves to the same real path and identity
    assert si.identity_key(hard) == keys[0] and si.instance_key(hard) != keys[1]  # same file, other path
    other = tmp_path / "另一个.sqlite3"
    other.write_bytes(b"x")
    assert not set(si.instance_keys(other)) & set(keys)


@pytest.mark.parametrize("spelling", ["symlink", "hardlink", "dotdot"])
def test_another_spelling_of_the_open_database_cannot_open_a_second_window(qapp, tmp_path, monkeypatch, db, spelling):
    monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path / "data"))
    other = tmp_path / "别处"
    other.mkdir()
    if spelling == "symlink":
        skip_without_resolving_symlinks(other)
        alias = other / "链接.sqlite3"
        alias.symlink_to(db.path)
    elif spelling == "hardlink":
        alias = other / "硬链接.sqlite3"
        os.link(db.path, alias)
    else:
        alias = other / ".." / db.path.name
    first = si.claim_database(sqlite_url(db.path))
    assert first is not None and first.is_primary
    second = si.SingleInstance(si.instance_keys(alias))
    try:
        assert not second.acquire()
        assert second.blocked_key in first.keys
    finally:
        first.release()
    assert second.acquire()  # once the first has gone
    second.release()


def test_a_file_created_after_the_claim_gets_its_identity_lock(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "新.sqlite3"
    first = si.claim_database(sqlite_url(path))  # the file does not exist yet
    assert first is not None and len(first.keys) == 1
    path.write_bytes(b"x")  # the program creates the database
    assert first.add_key(si.identity_key(path))
    hard = tmp_path / "硬链接.sqlite3"
    os.link(path, hard)
    second = si.SingleInstance(si.instance_keys(hard))
    try:
        assert not second.acquire()
    finally:
        first.release()


def test_second_instance_is_refused_and_brings_the_first_forward(qapp, qtbot, tmp_path):
    key = si.instance_key(tmp_path / "台账.sqlite3")
    first = si.SingleInstance(key, lock_dir=tmp_path)
    second = si.SingleInstance(key, lock_dir=tmp_path)
    try:
        assert first.acquire() and first.is_primary
        assert not second.acquire() and not second.is_primary
        window = QMainWindow()
        qtbot.addWidget(window)
        window.show()
        window.showMinimized()
        first.activation_requested.connect(lambda: si.bring_forward(window))
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert ask_in_thread(qtbot, second)
        assert window.isVisible() and not window.isMinimized()
    finally:
        first.release()
        second.release()
    # once the first has gone, the next one is first
    third = si.SingleInstance(key, lock_dir=tmp_path)
    assert third.acquire()
    third.release()


def test_other_database_files_are_independent(qapp, tmp_path):
    a = si.SingleInstance(si.instance_key(tmp_path / "甲.sqlite3"), lock_dir=tmp_path)
    b = si.SingleInstance(si.instance_key(tmp_path / "乙.sqlite3"), lock_dir=tmp_path)
    try:
        assert a.acquire() and b.acquire()
    finally:
        a.release()
        b.release()


def test_nobody_answers_when_no_first_instance_listens(qapp, qtbot, tmp_path):
    lonely = si.SingleInstance(si.instance_key(tmp_path / "无人.sqlite3"), lock_dir=tmp_path)
    started = time.monotonic()
    assert not lonely.ask_to_activate(300)
    assert time.monotonic() - started < 3


HOLD_LOCK = """
import sys, time
from PySide6.QtCore import QLockFile
lock = QLockFile(sys.argv[1])
lock.setStaleLockTime(0)
assert lock.tryLock(0)
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_of_a_crashed_program_is_taken_over(qapp, tmp_path):
    key = si.instance_key(tmp_path / "台账.sqlite3")
    lock_path = tmp_path / f"{key}.lock"
    proc = subprocess.Popen([*child_argv(HOLD_LOCK), str(lock_path)], stdout=subprocess.PIPE, text=True,
                            cwd=REPO_ROOT, env=child_env())
    try:
        assert proc.stdout.readline().strip() == "locked"
        assert not si.SingleInstance(key, lock_dir=tmp_path).acquire()  # alive: it is the first
        proc.kill()  # the program crashes, its lock file stays behind
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert lock_path.exists()
    again = si.SingleInstance(key, lock_dir=tmp_path)
    assert again.acquire()
    again.release()


FIRST_INSTANCE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from jzair_desktop.gui.single_instance import SingleInstance, instance_key
app = QApplication([])
inst = SingleInstance(instance_key(sys.argv[1]), lock_dir=sys.argv[2])
assert inst.acquire()
inst.activation_requested.connect(lambda: (print("activated", flush=True), QTimer.singleShot(100, app.quit)))
QTimer.singleShot(20000, app.quit)
print("ready", flush=True)
app.exec()
"""


def test_a_second_program_is_told_and_the_first_comes_forward(qapp, qtbot, tmp_path, monkeypatch, db_path):
    """Two real processes: the first runs a window's claim on the file, the second starts on the same file."""
    lock_dir = tmp_path / "instances"
    proc = subprocess.Popen([*child_argv(FIRST_INSTANCE), str(db_path), str(lock_dir)], stdout=subprocess.PIPE,
                            text=True, cwd=REPO_ROOT, env=child_env())
    try:
        assert proc.stdout.readline().strip() == "ready"
        monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path))  # lock_dir is <data folder>/instances
        shown: list[str] = []

        def answer_switch() -> None:
            box = QApplication.activeModalWidget()
            assert isinstance(box, QMessageBox)
            shown.append(box.text())
            switch = next(b for b in box.buttons() if b.text() == "切换到已打开的窗口")
            switch.click()

        QTimer.singleShot(50, answer_switch)
        assert si.claim_database(sqlite_url(db_path)) is None
        assert proc.stdout.readline().strip() == "activated"
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert "已经在另一个窗口中打开了这个数据库" in shown[0] and str(db_path) in shown[0]
    assert "是否切换到已经打开的窗口" in shown[0]


def test_the_second_program_may_just_quit(qapp, tmp_path, monkeypatch, db_path):
    monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path))
    first = si.SingleInstance(si.instance_key(db_path))
    assert first.acquire()
    asked: list[bool] = []
    monkeypatch.setattr(si.SingleInstance, "ask_to_activate", lambda self, timeout_ms=3000: asked.append(True))
    # The first instance lives in this very thread, so it cannot answer; a real one says its window is open.
    monkeypatch.setattr(si.SingleInstance, "ask_state", lambda self, timeout_ms=1000: "running")

    def answer_quit() -> None:
        box = QApplication.activeModalWidget()
        next(b for b in box.buttons() if b.text() == "退出").click()

    QTimer.singleShot(50, answer_quit)
    try:
        assert si.claim_database(sqlite_url(db_path)) is None
    finally:
        first.release()
    assert not asked
    claimed = si.claim_database(sqlite_url(db_path))  # free again: this one is first
    assert claimed is not None and claimed.is_primary
    claimed.release()


# -- refresh on activation ------------------------------------------------------------------------------


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()
    add_heating(db.engine, 3, tag="本窗口")
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


def test_window_shows_what_another_program_wrote_when_it_becomes_active(qapp, qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    page = w.show_page("heating")
    hidden = w.page("trucks")  # a page that is not on screen refreshes when it is shown
    refresher = FocusRefresher(qapp, ctx, parent=w)
    assert page.model.rowCount() == 3
    emitted: list = []
    ctx.signals.changed.connect(lambda changes, _source: emitted.append(changes))

    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    other = make_engine(ctx.db.url)  # e.g. `jzair import` in a console, while the user is there
    try:
        add_heating(other, 4, tag="另一个程序")
    finally:
        other.dispose()
    assert page.model.rowCount() == 3
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    assert emitted == [EVERYTHING]
    assert page.model.rowCount() == 7
    assert "共 7 条" in page.count_label.text()
    assert hidden._stale  # noqa: SLF001 - refreshed when shown
    # coming back without any change in between costs nothing
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    assert emitted == [EVERYTHING]
    refresher.paused = True  # during a restore nothing may touch the database
    add_heating(ctx.db.engine, 1, tag="暂停")
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    assert emitted == [EVERYTHING]


def test_files_signature_sees_writes_to_the_wal(db):
    before = files_signature(db.path)
    assert before[0] is not None
    add_heating(db.engine, 1, tag="写")
    assert files_signature(db.path) != before
    assert files_signature(None) == ()


EXITING_FIRST = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from jzair_desktop.gui.single_instance import SingleInstance, instance_keys
app = QApplication([])
inst = SingleInstance(instance_keys(sys.argv[1]), lock_dir=sys.argv[2])
assert inst.acquire()
inst.set_exiting()  # its window has closed; the exit backup runs
QTimer.singleShot(int(sys.argv[3]), app.quit)
print("ready", flush=True)
app.exec()
inst.release()
print("released", flush=True)
"""


@pytest.mark.slow
def test_a_second_start_waits_for_a_first_that_is_finishing(qapp, qtbot, tmp_path, monkeypatch, db_path):
    """The first program's window has closed and it is still backing up: the second one is not told about
    a window that does not exist; it waits and then opens the database itself."""
    lock_dir = tmp_path / "instances"
    proc = subprocess.Popen([*child_argv(EXITING_FIRST), str(db_path), str(lock_dir), "2500"],
                            stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=child_env())
    try:
        assert proc.stdout.readline().strip() == "ready"
        monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path))
        probe = si.SingleInstance(si.instance_keys(db_path))
        assert not probe.acquire()
        assert probe.ask_state() == "exiting"
        assert not probe.ask_to_activate(1000)  # a finishing program does not come forward
        shown: list[str] = []
        monkeypatch.setattr(si, "tell_already_running", lambda *a: shown.append("told"))
        claimed = si.claim_database(sqlite_url(db_path))
        assert claimed is not None and claimed.is_primary
        assert proc.stdout.readline().strip() == "released"
        assert not shown
        claimed.release()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_waiting_for_a_finishing_first_can_be_cancelled(qapp, qtbot, tmp_path, monkeypatch, db_path):
    lock_dir = tmp_path / "instances"
    proc = subprocess.Popen([*child_argv(EXITING_FIRST), str(db_path), str(lock_dir), "30000"],
                            stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=child_env())
    try:
        assert proc.stdout.readline().strip() == "ready"
        monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path))
        seen: list[str] = []

        def cancel_when_shown() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, si.WaitForPrevious):
                QTimer.singleShot(100, cancel_when_shown)
                return
            seen.append(box.findChild(QLabel, "waitText").text())
            box.grab().save(str(shots_dir() / "wait_for_previous.png"))
            box.findChild(QPushButton, "waitCancel").click()

        QTimer.singleShot(100, cancel_when_shown)
        assert si.claim_database(sqlite_url(db_path)) is None
        assert seen and "正在退出" in seen[0] and str(db_path) in seen[0]
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def shots_dir():
    from pathlib import Path

    out = Path("/tmp/shots/guide")
    out.mkdir(parents=True, exist_ok=True)
    return out
