"""首次使用向导 (every page, cancel, finish as the city and as a county with its 任务包), the login at start,
切换用户, 锁定 and the idle lock, driven through real widgets. Screenshots go to /tmp/shots/setup/ at the
size a 1366×768 screen gives them."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox, QWizard

from jzair_desktop.gui import app as gui_app
from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs import setup_wizard
from jzair_desktop.gui.dialogs.login import LoginDialog
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.services import accounts, installation, targets
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.services.packages import export as package_export
from jzair_desktop.storage.engine import sqlite_url
from tests.services.admin_helpers import fast_hasher, snapshot  # noqa: F401

SHOTS = Path("/tmp/shots/setup")
SCREEN = (1366, 768)
PASSWORD = "Yuci-Office-77"


@pytest.fixture(autouse=True)
def _app(qapp):
    qtsetup.make_application()
    SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def boxes(monkeypatch):
    rec = types.SimpleNamespace(shown=[])
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, _k=kind, **k: rec.shown.append((_k, a[1], a[2])))
    return rec


def show(qtbot, widget):
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def fits_the_screen(widget) -> None:
    """The window and every label in it fit a 1366×768 screen (task bar and frame allowed for)."""
    assert widget.width() <= SCREEN[0] - 40 and widget.height() <= SCREEN[1] - 80, widget.size()
    for label in widget.findChildren(QLabel):
        if label.isVisible() and label.text() and not label.wordWrap():
            assert label.sizeHint().width() <= label.width() + 2, label.text()


def grab(widget, name: str) -> Path:
    QApplication.processEvents()
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def make_targets_package(folder: Path) -> tuple[Path, str]:
    city, _ = open_database(sqlite_url(folder / "市.sqlite3"), create=True)
    load_reference_data(city)
    targets.set_target(city, BUILTIN_ADMIN, "trucks.eliminated", "140702", 120)
    result = package_export.export_targets_package(city, folder / "任务包.jzpkg", actor=BUILTIN_ADMIN)
    city.dispose()
    return result.path, result.fingerprint


def test_every_page_then_cancel_leaves_the_database_unchanged(qtbot, db, db_path, boxes):
    before = snapshot(db_path)
    wizard = show(qtbot, setup_wizard.SetupWizard(db))
    assert wizard.button(QWizard.WizardButton.NextButton).text() == "下一步 >"
    page1 = wizard.unit_page
    assert not page1.isComplete()
    fits_the_screen(wizard)
    grab(wizard, "wizard-1-unit")
    page1.county.setChecked(True)
    assert not page1.isComplete()  # no unit chosen yet
    page1.unit.setCurrentIndex(page1.unit.findData("140702"))
    assert page1.isComplete()
    grab(wizard, "wizard-1-unit-county")
    wizard.next()

    page2 = wizard.admin_page
    assert wizard.currentPage() is page2 and not page2.isComplete()
    page2.name.setText("liyun")
    page2.display_name.setText("李云")
    page2.passwords.first.setText("liyun2020")
    assert "用户名" in page2.passwords.verdict.text() and not page2.isComplete()
    page2.passwords.first.setText("12345678")
    assert "全是数字" in page2.passwords.verdict.text()
    page2.passwords.first.setText("qwerty123")
    assert "常见" in page2.passwords.verdict.text()
    page2.passwords.first.setText(PASSWORD)
    page2.passwords.second.setText(PASSWORD[:-1])
    assert "不一致" in page2.passwords.verdict.text() and not page2.isComplete()
    page2.passwords.second.setText(PASSWORD)
    assert page2.isComplete() and page2.passwords.bar.value() >= 3
    fits_the_screen(wizard)
    grab(wizard, "wizard-2-admin")
    wizard.next()

    page3 = wizard.third_page
    assert wizard.currentPage() is page3 and page3.stack.currentIndex() == 0  # a county: the 任务包
    assert page3.later.isChecked() and page3.isComplete()
    page3.now.setChecked(True)
    assert not page3.isComplete()  # no file chosen
    fits_the_screen(wizard)
    grab(wizard, "wizard-3-county-targets")
    page3.later.setChecked(True)
    wizard.next()

    page4 = wizard.backup_page
    assert wizard.currentPage() is page4
    fits_the_screen(wizard)
    grab(wizard, "wizard-4-backup")

    # The city's third page: the key's fingerprint, made in memory only.
    wizard.back()
    wizard.back()
    wizard.back()
    page1.city.setChecked(True)
    wizard.next()
    wizard.next()
    assert page3.stack.currentIndex() == 1 and page3.key is not None
    assert page3.fingerprint_label.text().split() == page3.key.display.split()
    assert page3.fingerprint_label.text().count("\n") == 1  # two lines of eight groups
    fits_the_screen(wizard)
    grab(wizard, "wizard-3-city-key")

    wizard.reject()  # 取消
    assert wizard.result_ is None
    assert snapshot(db_path) == before
    assert installation.installation_of(db) is None


def test_cancelling_the_wizard_at_start_leaves_the_app_closed_and_asks_again(db, db_path, monkeypatch):
    before = snapshot(db_path)
    asked = []
    monkeypatch.setattr(setup_wizard, "run_setup", lambda db: asked.append(1))
    assert gui_app.start_session(db) is None
    assert gui_app.start_session(db) is None
    assert asked == [1, 1]
    assert snapshot(db_path) == before


def test_finish_as_the_city_stores_the_shown_key_and_logs_the_admin_in(qtbot, db, db_path, boxes, monkeypatch,
                                                                       fast_hasher, tmp_path):  # noqa: F811
    wizard = show(qtbot, setup_wizard.SetupWizard(db))
    wizard.unit_page.city.setChecked(True)
    wizard.next()
    wizard.admin_page.name.setText("wang")
    wizard.admin_page.passwords.first.setText(PASSWORD)
    wizard.admin_page.passwords.second.setText(PASSWORD)
    wizard.next()
    shown_key = wizard.third_page.key
    wizard.next()
    wizard.backup_page.extra.setText(str(tmp_path / "U盘"))
    wizard.accept()
    assert wizard.result() == QDialog.DialogCode.Accepted and not boxes.shown
    result = wizard.result_
    assert result.installation.is_city and result.fingerprint == shown_key.fingerprint
    assert backup_service.backup_settings().extra_folder == tmp_path / "U盘"
    assert accounts.get_user(db, "wang").role == "city_admin"

    monkeypatch.setattr(setup_wizard, "run_setup", lambda db: (result, PASSWORD))
    # start_session: the wizard's administrator is logged in (audited); no built-in administrator.
    fresh_db = db
    assert accounts.has_accounts(fresh_db)
    actor = accounts.authenticate(db, "wang", PASSWORD)
    assert actor.role == "city_admin"


def test_start_session_runs_the_wizard_then_works_as_its_administrator(db, monkeypatch, fast_hasher):  # noqa: F811
    def fake_wizard(db):
        result = installation.set_up(db, unit="榆次区", admin="liyun", password=PASSWORD)
        return result, PASSWORD

    monkeypatch.setattr(setup_wizard, "run_setup", fake_wizard)
    actor = gui_app.start_session(db)
    assert actor.name == "liyun" and actor.role == "county_admin" and actor.unit_code == "140702"


def test_finish_as_a_county_imports_the_package_and_refuses_another_key(qtbot, db, db_path, boxes, tmp_path,
                                                                        fast_hasher):  # noqa: F811
    package, fingerprint = make_targets_package(tmp_path)
    wizard = show(qtbot, setup_wizard.SetupWizard(db))
    wizard.unit_page.county.setChecked(True)
    wizard.unit_page.unit.setCurrentIndex(wizard.unit_page.unit.findData("140702"))
    wizard.next()
    wizard.admin_page.name.setText("liyun")
    wizard.admin_page.passwords.first.setText(PASSWORD)
    wizard.admin_page.passwords.second.setText(PASSWORD)
    wizard.next()
    wizard.third_page.now.setChecked(True)
    wizard.third_page.file.setText(str(package))
    wizard.third_page.fingerprint.setText("00" * 32)  # not the city's key
    grab(wizard, "wizard-3-county-targets-chosen")
    wizard.next()
    before = snapshot(db_path)
    wizard.accept()
    assert wizard.isVisible() and boxes.shown and "不是市大气办的公钥" in boxes.shown[-1][2]
    assert snapshot(db_path) == before  # nothing half-configured
    wizard.back()
    wizard.third_page.fingerprint.setText(fingerprint)
    wizard.next()
    wizard.accept()
    assert wizard.result() == QDialog.DialogCode.Accepted
    assert wizard.result_.targets_imported and installation.installation_of(db).unit == "140702"


# --- login, 切换用户, 锁定, idle lock --------------------------------------------------------------------


@pytest.fixture
def city(db, fast_hasher):  # noqa: F811
    installation.set_up(db, unit="city", admin="admin", password=PASSWORD)
    admin = accounts.authenticate(db, "admin", PASSWORD)
    accounts.add_user(db, admin, "yuci", "county_clerk", "Clerk-Pass-77", unit="榆次区", display_name="李四")
    return admin


def test_login_dialog_after_setup(qtbot, db, city):
    dialog = show(qtbot, LoginDialog(db, user="admin"))
    dialog.resize(460, 260)
    grab(dialog, "login")
    dialog.password.setText(PASSWORD)
    assert dialog.try_login() and dialog.actor.name == "admin"


@pytest.fixture
def window(qtbot, db, city):
    w = MainWindow(GuiContext(db=db, actor=city, signals=DataSignals()))
    qtbot.addWidget(w)
    w.resize(1366 - 40, 768 - 80)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_lock_hides_the_content_and_the_same_user_goes_on(qtbot, window):
    page = window.show_page("heating")
    assert window.lock_action.shortcut().toString() == "Ctrl+L"
    assert window.lock()
    assert window.locked and not window.splitter.isVisible() and not window.menuBar().isEnabled()
    assert window.lock_panel.name.text() == "admin" and "已锁定" in window.lock_panel.title.text()
    grab(window, "lock")
    window.lock_panel.password.setText("wrong-password")
    assert not window.lock_panel.try_login() and window.locked
    assert window.lock_panel.error.isVisible()
    window.lock_panel.password.setText(PASSWORD)
    assert window.lock_panel.try_login()
    assert not window.locked and window.splitter.isVisible() and window.menuBar().isEnabled()
    assert window.show_page("heating") is page  # the same pages, the same user


def test_switch_user_rebuilds_the_pages_for_the_new_user(qtbot, window):
    assert window.switch_action.shortcut().toString() == "Ctrl+Shift+L"
    window.show_page("heating")
    old_page = window.page("heating")
    window.switch_action.trigger()
    assert window.locked and window.lock_panel.name.text() == ""
    assert "切换用户" in window.lock_panel.title.text() and "admin" not in window.user_label.text()
    grab(window, "switch-user")
    window.lock_panel.name.setText("yuci")
    window.lock_panel.password.setText("Clerk-Pass-77")
    assert window.lock_panel.try_login()
    assert window.ctx.actor.name == "yuci" and window.ctx.actor.role == "county_clerk"
    assert "yuci" in window.user_label.text()
    new_page = window.show_page("heating")
    assert new_page is not old_page
    grab(window, "after-switch")


def test_a_dialog_open_when_locking_is_hidden_and_comes_back(qtbot, window):
    dialog = QDialog(window)
    dialog.setWindowTitle("记录")
    dialog.show()
    qtbot.waitExposed(dialog)
    window.lock()
    assert not dialog.isVisible()
    window.lock_panel.password.setText(PASSWORD)
    window.lock_panel.try_login()
    assert dialog.isVisible()


def test_idle_lock_after_the_configured_time(qtbot, window):
    from jzair_desktop.gui import lock

    assert lock.idle_minutes(window.ctx) == lock.DEFAULT_IDLE_MINUTES == 30
    assert window.idle.timer.isActive() and window.idle.timer.interval() == 30 * 60_000
    window.set_idle_lock(0)
    assert not window.idle.timer.isActive() and lock.idle_minutes(window.ctx) == 0
    window.set_idle_lock(5)
    assert window.idle.timer.interval() == 5 * 60_000
    window.idle.timer.setInterval(100)  # as if five minutes went by without input
    window.idle.timer.start()
    qtbot.waitUntil(lambda: window.locked, timeout=3000)
    assert not window.idle.timer.isActive()  # no lock over a lock


def test_input_restarts_the_idle_timer(qtbot, window):
    # Judged by the timer's remaining time, not by racing short waits (a loaded machine stretches them).
    timer = window.idle.timer
    timer.setInterval(60_000)
    timer.start()
    for _ in range(2):
        qtbot.wait(1500)
        before = timer.remainingTime()
        assert 0 <= before <= 59_500  # (a coarse timer: its remaining time is not exact to the millisecond)
        qtbot.keyClick(window.nav, Qt.Key.Key_Down)
        assert timer.remainingTime() > before  # the key press started the idle time again
    assert not window.locked
    timer.setInterval(300)
    timer.start()
    qtbot.waitUntil(lambda: window.locked, timeout=5000)


def test_settings_page_sets_the_idle_lock(qtbot, window):
    page = window.show_page("settings")
    assert page.idle.value() == 30 and page.idle.specialValueText() == "从不"
    page.idle.setValue(10)
    assert window.idle.timer.interval() == 10 * 60_000
    grab(window, "settings-idle-lock")


def test_never_set_up_window_has_no_lock(qtbot, db):
    w = MainWindow(GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals()))
    qtbot.addWidget(w)
    assert not w.lock_action.isEnabled() and not w.lock() and not w.idle.timer.isActive()


def test_users_page_on_a_county_installation_offers_its_roles_and_unit_only(qtbot, db, fast_hasher):  # noqa: F811
    from jzair_desktop.gui.pages.users import UsersPage

    installation.set_up(db, unit="榆次区", admin="liyun", password=PASSWORD)
    admin = accounts.authenticate(db, "liyun", PASSWORD)
    page = UsersPage(GuiContext(db=db, actor=admin, signals=DataSignals()))
    qtbot.addWidget(page)
    assert page.add_button.isEnabled()
    dialog = page.add_user(show=False)
    roles = [dialog.role.itemData(i) for i in range(dialog.role.count())]
    assert roles == ["county_admin", "county_clerk", "viewer"]
    assert [dialog.county.itemData(i) for i in range(dialog.county.count())] == ["140702"]
    dialog.name.setText("zhang")
    dialog.display_name.setText("张三")
    dialog.role.setCurrentIndex(roles.index("county_clerk"))
    dialog.passwords.first.setText("zhang123")
    assert "用户名" in dialog.passwords.verdict.text()
    dialog.passwords.first.setText("Zhang-Clerk-9")
    dialog.passwords.second.setText("Zhang-Clerk-9")
    assert dialog.submit()
    info = accounts.get_user(db, "zhang")
    assert (info.role, info.unit_code, info.display_name) == ("county_clerk", "140702", "张三")
