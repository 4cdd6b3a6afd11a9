"""The entry form and small dialogs the way clerks use them: the 乡（镇）suggestion list taken with Enter,
errors that go as soon as a field is corrected, no red for a field only tabbed past, 保存 listing the
errors, Enter submitting small dialogs, confirmations that lock or delete data defaulting to 否, and the
start page remembered per user. pytest-qt on real widgets and a real database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.record_form import RecordForm
from jzair_desktop.services import accounts
from jzair_desktop.services.actor import BUILTIN_ADMIN
from tests.gui import ledger_samples as samples


@pytest.fixture
def ctx(db):
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)


def open_form(qtbot, ctx, key="heating") -> RecordForm:
    form = RecordForm(ctx, key)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(form.isActiveWindow)
    return form


def test_enter_in_the_open_suggestion_list_takes_the_entry_and_moves_on(qtbot, ctx):
    samples.create(ctx.db, "heating", 1, unit_code="140702", township="东阳镇")
    samples.create(ctx.db, "heating", 2, unit_code="140702", township="东赵乡")
    form = open_form(qtbot, ctx)
    form.fields["unit_code"].set_value("140702")
    line = form.fields["township"].line
    line.setFocus()
    line.insert("东")
    completer = line.completer()
    completer.complete()
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert popup.currentIndex().isValid()
    picked = popup.currentIndex().data()
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert line.text() == picked and picked in ("东阳镇", "东赵乡")
    assert not popup.isVisible()
    qtbot.waitUntil(lambda: form.focusWidget() is form.fields["village"].line)


def test_an_error_clears_as_the_field_is_corrected_not_when_focus_leaves(qtbot, ctx):
    form = open_form(qtbot, ctx, "trucks")
    good = samples.trucks(3)
    vin = form.fields["vin"].line
    vin.setFocus()
    vin.insert(good["vin"][:-1] + ("0" if good["vin"][-1] != "0" else "1"))
    form.fields["owner"].line.setFocus()
    qtbot.waitUntil(lambda: form.severity_of("vin") == "error")
    vin.setFocus()
    vin.setText(good["vin"])  # corrected while the cursor is still in the field
    assert form.focusWidget() is vin
    assert form.severity_of("vin") == ""


def test_tabbing_past_an_empty_required_field_is_not_red_until_save(qtbot, ctx):
    form = open_form(qtbot, ctx)
    householder = form.fields["householder"].line
    householder.setFocus()
    qtbot.keyClick(householder, Qt.Key.Key_Tab)
    qtbot.wait(20)
    assert form.severity_of("householder") == ""
    assert not form.save()
    assert form.severity_of("householder") == "error" and "必填" in form.message_of("householder")
    # 保存 lists every error under the form and puts the cursor on the first
    text = form.general.text()
    assert form.general.isVisible() and "未保存" in text
    assert "县（区、市）：" in text and "户主姓名：" in text
    assert text.index("县（区、市）：") < text.index("户主姓名：")
    assert form.focusWidget() is form.fields["unit_code"].focus_widget
    form.fields["unit_code"].set_value("140702")  # the list follows the corrections
    assert "县（区、市）：" not in form.general.text()


def test_enter_submits_the_add_user_dialog(qtbot, ctx):
    from jzair_desktop.gui.pages.users import AddUserDialog

    dialog = AddUserDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.name.setText("yuci02")
    fields = [w for w in dialog.findChildren(QLineEdit) if w.echoMode() == QLineEdit.EchoMode.Password]
    for w in fields:
        w.setText("Jinzhong#2020a")
    fields[-1].setFocus()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(fields[-1], Qt.Key.Key_Return)
    assert dialog.info is not None and any(u.name == "yuci02" for u in accounts.list_users(ctx.db))


@pytest.mark.parametrize("which", ["submit", "delete"])
def test_confirmations_that_lock_or_delete_default_to_no(qtbot, db, monkeypatch, which):
    """The real QMessageBox.question is opened; Enter (its default button) must answer 否."""
    monkeypatch.undo()  # the real question box
    seen = []

    def press_enter():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.append((box.windowTitle(), box.defaultButton().text()))
        qtbot.keyClick(box, Qt.Key.Key_Return)

    ctx = GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())
    if which == "submit":
        from jzair_desktop.gui.pages.submission import make_page

        page = make_page(ctx)
        qtbot.addWidget(page)
        page.show()
        QTimer.singleShot(200, press_enter)
        assert page.submit() is None
    else:
        from jzair_desktop.gui.pages.ledger import make_ledger_page
        from jzair_desktop.services.ledgers import count_records

        samples.create(db, "heating", 1)
        page = make_ledger_page(ctx, "heating")
        qtbot.addWidget(page)
        page.show()
        page.table.selectRow(0)
        QTimer.singleShot(200, press_enter)
        assert page.delete_selected() is False
        assert count_records(db, "heating") == 1
    assert seen and seen[0][1] in ("&No", "No", "否(&N)", "否")


def test_the_start_page_is_remembered_per_user(qtbot, db):
    from jzair_desktop.gui.main_window import MainWindow
    from jzair_desktop.services.actor import Actor

    def window(actor):
        w = MainWindow(GuiContext(db=db, actor=actor, signals=DataSignals()))
        qtbot.addWidget(w)
        return w

    clerk = Actor("taigu01", "county_clerk", "140703")
    first = window(BUILTIN_ADMIN)
    first.show_page("plan")
    first.save_state()
    second = window(clerk)
    second.show_page("trucks")
    second.save_state()
    assert window(BUILTIN_ADMIN).current_key() == "plan"
    assert window(clerk).current_key() == "trucks"
