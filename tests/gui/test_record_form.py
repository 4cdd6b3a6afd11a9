"""The entry form: fields from the registry, inline errors and warnings, keyboard flow, 保存并新增."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QMessageBox

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.record_form import RecordForm
from jzair_desktop.gui.widgets.date_input import DateInput
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.ledgers import RecordQuery
from tests.gui import ledger_samples as samples


@pytest.fixture
def ctx(db):
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch):
    """Closing a form with typed text asks first; at teardown the answer is 'discard'."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)


@pytest.fixture
def no_dialogs(monkeypatch):
    """Fail loudly if a message box would open; tests that expect one patch it themselves."""
    calls = []

    def boom(*args, **kwargs):
        calls.append(args)
        raise AssertionError(f"unexpected message box: {args[1:3]}")

    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, boom)
    return calls


def open_form(qtbot, ctx, key="heating", **kwargs) -> RecordForm:
    form = RecordForm(ctx, key, **kwargs)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(form.isActiveWindow)  # focus events and shortcuts need the active window
    return form


def fill(form: RecordForm, values: dict) -> None:
    for key, value in values.items():
        form.fields[key].set_value(value)


def count(db, key="heating") -> int:
    return ledger_service.count_records(db, key)


def test_fields_follow_the_registry(qtbot, ctx):
    form = open_form(qtbot, ctx)
    d = ledger("heating")
    assert list(form.fields) == list(d.keys)
    assert isinstance(form.fields["unit_code"].widget, QComboBox)
    method = form.fields["method"].combo
    assert method is not None and not method.isEditable()
    assert [method.itemText(i) for i in range(method.count())] == list(d.column("method").choices)
    stove = form.fields["keeps_coal_stove"].combo  # optional closed list: an empty choice first
    assert [stove.itemText(i) for i in range(stove.count())] == ["", "是", "否"]
    assert isinstance(form.fields["done_date"].widget, DateInput)
    assert isinstance(form.fields["householder"].widget, QLineEdit)
    assert "编辑" not in form.windowTitle() and form.save_new_button.isVisible()


def test_the_form_creates_a_record(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    saved = []
    form.saved.connect(saved.append)
    fill(form, samples.heating(1))
    with qtbot.waitSignal(form.finished):
        assert form.save()
    assert count(ctx.db) == 1
    assert saved[0].created and saved[0].label == "户主姓名 王建国1"
    rec = ledger_service.get_record(ctx.db, "heating", saved[0].uuid)
    assert rec.values["householder"] == "王建国1"
    assert rec.values["subsidy_yuan"] == 12000.0
    assert rec.values["done_date"].isoformat() == "2020-10-15"


def test_typing_into_fields_and_tab_enter_flow(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    unit = form.fields["unit_code"].combo
    unit.setCurrentIndex(unit.findData("140702"))
    township = form.fields["township"].line
    township.setFocus()
    township.insert("东阳镇")  # QTest types ASCII only; an input method would insert the text like this
    qtbot.keyClick(township, Qt.Key.Key_Return)
    assert form.focusWidget() is form.fields["village"].line
    form.fields["village"].line.insert("南关村")
    qtbot.keyClick(form.fields["village"].line, Qt.Key.Key_Tab)
    assert form.focusWidget() is form.fields["householder"].line
    assert form.values()["township"] == "东阳镇"
    assert form.values()["village"] == "南关村"


def test_bad_vin_shows_an_inline_error_and_keeps_the_text(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx, "trucks")
    good = samples.trucks(3)
    bad_vin = good["vin"][:8] + ("0" if good["vin"][8] != "0" else "1") + good["vin"][9:]
    fill(form, {**good, "vin": ""})
    vin_line = form.fields["vin"].line
    vin_line.setFocus()
    qtbot.keyClicks(vin_line, bad_vin)
    form.fields["owner"].line.setFocus()  # focus-out checks the field
    qtbot.waitUntil(lambda: form.severity_of("vin") == "error")
    assert "校验位" in form.message_of("vin")
    assert form.message_of("plate") == ""  # other fields keep quiet
    # Saving refuses, keeps everything typed, and puts the cursor on the field.
    assert not form.save()
    assert count(ctx.db, "trucks") == 0
    assert vin_line.text() == bad_vin
    assert form.values()["owner"] == good["owner"]
    assert form.focusWidget() is vin_line
    assert form.isVisible()
    # Fixing it clears the message and saves.
    vin_line.setText(good["vin"])
    form.validate()
    assert form.message_of("vin") == ""
    assert form.save()
    assert count(ctx.db, "trucks") == 1


def test_required_fields_are_reported_on_save(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    assert not form.save()
    for key in ("unit_code", "township", "village", "householder", "method", "status"):
        assert form.severity_of(key) == "error", key
        assert "必填" in form.message_of(key)
    assert form.severity_of("phone") == ""
    assert count(ctx.db) == 0


def test_warnings_are_amber_and_do_not_block(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    saved = []
    form.saved.connect(saved.append)
    fill(form, samples.heating(2, keeps_coal_stove="否"))
    form.validate(show_all=True)
    assert form.severity_of("keeps_coal_stove") == "warning"
    assert "采暖季" in form.message_of("keeps_coal_stove")
    assert form.save()
    assert count(ctx.db) == 1
    assert saved[0].warnings and saved[0].warnings[0].field == "keeps_coal_stove"


def test_duplicate_id_number_is_an_inline_error_from_the_database(qtbot, ctx, no_dialogs):
    samples.create(ctx.db, "heating", 7)
    form = open_form(qtbot, ctx)
    fill(form, samples.heating(8, id_number=samples.heating(7)["id_number"]))
    assert not form.save()
    assert form.severity_of("id_number") == "error"
    assert "重复" in form.message_of("id_number")
    assert count(ctx.db) == 1


def test_save_and_new_keeps_unit_township_village(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    fill(form, samples.heating(1, unit_code="140728", township="古陶镇", village="西关村"))
    assert form.save_and_new()
    assert form.isVisible()
    values = form.values()
    assert (values["unit_code"], values["township"], values["village"]) == ("140728", "古陶镇", "西关村")
    assert values["householder"] == "" and values["id_number"] == "" and values["status"] == ""
    assert "已保存" in form.status.text()
    qtbot.waitUntil(lambda: form.focusWidget() is form.fields["householder"].line)
    assert form.message_of("householder") == ""  # a fresh record is not nagged before it is touched
    fill(form, {k: v for k, v in samples.heating(2).items() if k not in ("unit_code", "township", "village")})
    with qtbot.waitSignal(form.finished):
        assert form.save()
    rows = ledger_service.list_records(ctx.db, "heating", RecordQuery(sort="householder"))
    assert [(r.values["village"], r.values["unit_code"]) for r in rows] == [("西关村", "140728")] * 2


def test_ctrl_s_and_enter_on_the_last_field_save(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx)
    fill(form, samples.heating(4))
    remarks = form.fields["remarks"].line
    remarks.setFocus()
    with qtbot.waitSignal(form.finished):
        qtbot.keyClick(remarks, Qt.Key.Key_Return)
    assert count(ctx.db) == 1
    form2 = open_form(qtbot, ctx)
    fill(form2, samples.heating(5))
    form2.fields["householder"].line.setFocus()
    with qtbot.waitSignal(form2.finished):
        qtbot.keyClick(form2.fields["householder"].line, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert count(ctx.db) == 2


def test_edit_form_shows_the_full_id_number(qtbot, ctx, no_dialogs):
    uuid = samples.create(ctx.db, "heating", 3)
    rec = ledger_service.get_record(ctx.db, "heating", uuid)
    form = open_form(qtbot, ctx, record=rec)
    assert form.fields["id_number"].line.text() == rec.values["id_number"]
    assert "*" not in form.fields["id_number"].line.text()
    assert form.fields["subsidy_yuan"].line.text() == "12000"
    assert form.fields["done_date"].date.text() == "2020-10-15"
    assert not form.save_new_button.isVisible()
    saved = []
    form.saved.connect(saved.append)
    form.fields["householder"].line.setText("李秀英")
    assert form.save()
    assert saved[0].old_values["householder"] == "王建国3" and not saved[0].created
    assert ledger_service.get_record(ctx.db, "heating", uuid).values["householder"] == "李秀英"


def test_township_suggestions_come_from_the_unit(qtbot, ctx):
    samples.create(ctx.db, "heating", 1, unit_code="140702", township="东阳镇")
    samples.create(ctx.db, "heating", 2, unit_code="140728", township="古陶镇")
    form = open_form(qtbot, ctx)
    form.fields["unit_code"].set_value("140728")
    completer = form.fields["township"].line.completer()
    assert completer.model().stringList() == ["古陶镇"]


def test_a_clerk_cannot_change_the_unit(qtbot, db, no_dialogs):
    clerk = Actor(name="平遥填报员", role="county_clerk", unit_code="140728")
    ctx = GuiContext(db=db, actor=clerk, signals=DataSignals())
    form = open_form(qtbot, ctx, prefill={"unit_code": "140702"})
    assert form.values()["unit_code"] == "140728"
    assert not form.fields["unit_code"].widget.isEnabled()


def test_permission_errors_show_a_message_and_keep_the_text(qtbot, db, monkeypatch):
    viewer = Actor(name="查看者", role="viewer")
    ctx = GuiContext(db=db, actor=viewer, signals=DataSignals())
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    form = open_form(qtbot, ctx)
    fill(form, samples.heating(1))
    assert not form.save()
    assert shown and "只读" in shown[0]
    assert form.values()["householder"] == "王建国1"


def test_cancel_asks_before_dropping_typed_text(qtbot, ctx, monkeypatch):
    answers = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.append(a[2]) or QMessageBox.StandardButton.No)
    form = open_form(qtbot, ctx)
    form.fields["householder"].line.setText("张三")
    form.reject()
    assert answers and form.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    form.reject()
    assert not form.isVisible()
    assert count(ctx.db) == 0


def test_date_input_accepts_empty_and_chinese_dates(qtbot):
    w = DateInput()
    qtbot.addWidget(w)
    assert w.date() is None and w.is_valid()
    w.setText("2020年11月3日")
    assert w.date().isoformat() == "2020-11-03"
    w.setText("2020-13-45")
    assert w.date() is None and not w.is_valid()
    w.show_calendar()
    from PySide6.QtCore import QDate

    w.calendar.clicked.emit(QDate(2020, 12, 1))
    assert w.text() == "2020-12-01"


def test_choosing_closed_out_in_the_form_is_an_inline_error(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx, "boilers")
    fill(form, samples.boilers(1, status="已销号"))
    assert not form.save()
    assert form.severity_of("status") == "error" and "佐证材料" in form.message_of("status")
    assert count(ctx.db, "boilers") == 0


def test_a_closed_out_record_needs_a_reason_from_the_city_admin(qtbot, ctx, no_dialogs, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    uuid = samples.create(ctx.db, "boilers", 1)
    samples.close_out(ctx.db, "boilers", uuid, tmp_path)
    form = open_form(qtbot, ctx, "boilers", record=ledger_service.get_record(ctx.db, "boilers", uuid))
    assert form.closed and not form.read_only
    assert "原因" in form.findChild(QLabel, "formHint").text()
    form.fields["org_name"].line.setText("平遥县第一中学")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))  # 取消
    assert not form.save()
    assert ledger_service.get_record(ctx.db, "boilers", uuid).values["org_name"] == "平遥县第1中学"
    assert form.fields["org_name"].line.text() == "平遥县第一中学"  # nothing typed is lost
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("单位名称写错", True))
    saved = []
    form.saved.connect(saved.append)
    assert form.save()
    assert ledger_service.get_record(ctx.db, "boilers", uuid).values["org_name"] == "平遥县第一中学"
    assert saved[0].reason == "单位名称写错"


def test_a_closed_out_record_is_read_only_for_a_clerk(qtbot, db, no_dialogs, tmp_path):
    uuid = samples.create(db, "boilers", 1)
    samples.close_out(db, "boilers", uuid, tmp_path)
    clerk = Actor(name="平遥填报员", role="county_clerk", unit_code="140728")
    ctx = GuiContext(db=db, actor=clerk, signals=DataSignals())
    form = open_form(qtbot, ctx, "boilers", record=ledger_service.get_record(db, "boilers", uuid))
    assert form.read_only
    assert not form.fields["org_name"].widget.isEnabled() and not form.save_button.isEnabled()
    assert "只读" in form.findChild(QLabel, "formHint").text()
    assert not form.save()


def test_save_and_new_puts_column_defaults_back(qtbot, ctx, no_dialogs):
    form = open_form(qtbot, ctx, "trucks")
    assert form.values()["usage"] == "营运"  # the registry's default for a new record
    fill(form, samples.trucks(1))
    assert form.save_and_new()
    values = form.values()
    assert values["usage"] == "营运" and values["plate"] == "" and values["unit_code"] == "140727"


def test_long_text_stops_at_the_limit_and_a_long_paste_is_refused_not_cut(qtbot, ctx, no_dialogs):
    """Issue 22, item 5: 100,000 characters pasted into 户主姓名 or 备注 were saved cut to 40 / 500."""
    from PySide6.QtGui import QGuiApplication

    from tests.gui.shot_helpers import shoot, use_app_font

    use_app_font()
    form = open_form(qtbot, ctx)
    fill(form, samples.heating(1))
    name, remarks = form.fields["householder"], form.fields["remarks"]
    assert name.limit.limit == 40 and remarks.limit.limit == 500
    QGuiApplication.clipboard().setText("王" * 100_000)
    for editor, before in ((name, name.line.text()), (remarks, "")):
        editor.line.setFocus()
        editor.line.selectAll()
        editor.line.paste()
        assert editor.line.text() == before  # refused whole: nothing cut
        assert editor.limit.counter.isVisible() and "未录入" in editor.limit.counter.text()
    # Typing stops at the limit, and the counter says so near it.
    remarks.line.setText("备" * 399)
    assert not remarks.limit.counter.isVisible()
    remarks.line.setText("备" * 450)
    assert remarks.limit.counter.text() == "450/500 字"
    remarks.line.setText("备" * 500)
    assert remarks.limit.counter.text() == "500/500 字，已达上限"
    remarks.line.setFocus()
    remarks.line.end(False)
    qtbot.keyClicks(remarks.line, "x")
    assert len(remarks.line.text()) == 500
    shoot(form, "record_form_counter")
    assert form.save()
    [row] = ledger_service.list_records(ctx.db, "heating")
    assert row.values["remarks"] == "备" * 500 and row.values["householder"] == samples.heating(1)["householder"]
