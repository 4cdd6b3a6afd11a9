"""The ledger page: filters and search update the count, sort, delete with confirmation and undo, forms."""

from __future__ import annotations

import sys
import types

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.domain.validation import check_record
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.pages.ledger import LedgerPage, make_ledger_page
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from tests.gui import ledger_samples as samples
from tests.gui.shot_helpers import shoot, use_app_font


@pytest.fixture
def ctx(db):
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def boxes(monkeypatch):
    """Every message box is recorded instead of shown; `question` answers from `answers` (default 是)."""
    rec = types.SimpleNamespace(shown=[], asked=[], answer=QMessageBox.StandardButton.Yes)

    def show(kind):
        return lambda *a, **k: rec.shown.append((kind, a[1], a[2]))

    def ask(*a, **k):
        rec.asked.append(a[2])
        return rec.answer

    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, show(kind))
    monkeypatch.setattr(QMessageBox, "question", ask)
    return rec


def seed_heating(db) -> None:
    """12 households: 8 in 榆次区 (4 done in October, 4 under way), 4 in 祁县 (done in December)."""
    rows = []
    for n in range(12):
        if n < 8:
            done = n % 2 == 0
            raw = samples.heating(n, unit_code="140702", householder=f"榆次户{n:02d}",
                                  status="已完工" if done else "施工中", done_date="2020-10-10" if done else "")
        else:
            raw = samples.heating(n, unit_code="140727", township="昭馀镇", householder=f"祁县户{n:02d}",
                                  status="已验收", done_date="2020-12-20")
        checked = check_record("heating", raw, today=samples.TODAY)
        assert checked.ok, checked.errors
        rows.append(checked.values)
    with ledger_service.write_records(db) as s:
        ledger_service.insert_many(s, "heating", rows, actor=BUILTIN_ADMIN)


def open_page(qtbot, ctx, key="heating") -> LedgerPage:
    page = make_ledger_page(ctx, key)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    return page


def settle(qtbot, page: LedgerPage) -> None:
    """Wait until the page's delete, restore or undo (run off the GUI thread) has shown its outcome."""
    qtbot.waitUntil(lambda: not page.busy(), timeout=10_000)


def column_texts(page: LedgerPage, key: str) -> list[str]:
    m = page.model
    c = m.ledger.keys.index(key)
    return [m.data(m.index(r, c)) for r in range(m.rowCount())]


def test_page_shows_counts_and_filters_by_unit_status_and_date(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    assert page.count_label.text() == "显示 12 条 / 共 12 条"
    page.unit_combo.setCurrentIndex(page.unit_combo.findData("140702"))
    assert page.count_label.text() == "显示 8 条 / 共 12 条"
    page.status_combo.setCurrentIndex(page.status_combo.findData("已完工"))
    assert page.count_label.text() == "显示 4 条 / 共 12 条"
    page.unit_combo.setCurrentIndex(0)  # 全部
    page.status_combo.setCurrentIndex(0)
    page.date_from.setText("2020-11-01")
    assert page.count_label.text() == "显示 4 条 / 共 12 条"  # only 祁县's December dates
    page.date_to.setText("2020/12/1")
    assert page.count_label.text() == "显示 0 条 / 共 12 条"
    assert page.empty_hint.isVisible() and "筛选" in page.empty_hint.text()
    page.date_from.clear()
    page.date_to.clear()
    assert page.count_label.text() == "显示 12 条 / 共 12 条"
    assert not boxes.shown


def test_status_filter_of_trucks_is_the_elimination_method(qtbot, ctx, boxes):
    samples.create(ctx.db, "trucks", 1, method="注销")
    samples.create(ctx.db, "trucks", 2)
    page = open_page(qtbot, ctx, "trucks")
    assert page.filter_key == "method"
    assert [page.status_combo.itemText(i) for i in range(page.status_combo.count())] == [
        "全部", "报废拆解", "注销", "转出"]
    page.status_combo.setCurrentIndex(page.status_combo.findData("注销"))
    assert page.count_label.text() == "显示 1 条 / 共 2 条"


def test_search_is_debounced_and_updates_the_count(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    page.search.setText("祁县户")
    assert page.count_label.text() == "显示 12 条 / 共 12 条"  # not yet: the search waits for typing to pause
    qtbot.waitUntil(lambda: page.count_label.text() == "显示 4 条 / 共 12 条", timeout=2000)
    page.search.setText("榆次户03")
    qtbot.waitUntil(lambda: page.count_label.text() == "显示 1 条 / 共 12 条", timeout=2000)
    page.search.clear()
    qtbot.waitUntil(lambda: page.count_label.text() == "显示 12 条 / 共 12 条", timeout=2000)


def test_sort_by_a_column_header_changes_the_order(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    names = column_texts(page, "householder")
    assert names[0] == "榆次户00"
    col = page.model.ledger.keys.index("householder")
    page.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert column_texts(page, "householder") == sorted(names, reverse=True)
    page.table.sortByColumn(page.model.ledger.keys.index("done_date"), Qt.SortOrder.AscendingOrder)
    dates = [d for d in column_texts(page, "done_date") if d]
    assert dates == sorted(dates) and column_texts(page, "done_date")[-1] == ""  # empty dates last


def test_id_number_is_masked_in_the_table_and_full_in_the_form(qtbot, ctx, boxes):
    uuid = samples.create(ctx.db, "heating", 1)
    full = ledger_service.get_record(ctx.db, "heating", uuid).values["id_number"]
    page = open_page(qtbot, ctx)
    shown = column_texts(page, "id_number")[0]
    assert shown == full[:6] + "********" + full[-4:]
    page.select_row(0)
    form = page.edit_current()
    assert form is not None
    assert form.fields["id_number"].line.text() == full
    form.done(0)


def test_delete_asks_first_and_undo_restores(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    page.select_row(2)
    victim = page.model.record(2)
    boxes.answer = QMessageBox.StandardButton.No
    assert not page.delete_selected()
    assert boxes.asked and "榆次户02" in boxes.asked[-1]
    assert ledger_service.count_records(ctx.db, "heating") == 12
    boxes.answer = QMessageBox.StandardButton.Yes
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)  # the Delete key on the table
    settle(qtbot, page)
    assert ledger_service.count_records(ctx.db, "heating") == 11
    assert page.count_label.text() == "显示 11 条 / 共 11 条"
    assert victim.id not in page.model.ids
    assert page.selected_ids() == [page.model.record_id(2)]  # the next row takes its place
    assert page.act_undo.isEnabled() and "榆次户02" in page.act_undo.toolTip()
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, page)
    assert ledger_service.count_records(ctx.db, "heating") == 12
    assert page.count_label.text() == "显示 12 条 / 共 12 条"
    assert page.selected_ids() == [victim.id]
    assert not page.act_undo.isEnabled()
    assert not boxes.shown


def test_delete_of_several_rows_and_the_recycle_bin(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    page.table.selectRow(0)
    page.table.selectionModel().select(
        page.model.index(1, 0),
        page.table.selectionModel().SelectionFlag.Select | page.table.selectionModel().SelectionFlag.Rows,
    )
    assert len(page.selected_ids()) == 2
    assert page.delete_selected()
    settle(qtbot, page)
    assert "2 条" in boxes.asked[-1]
    assert page.count_label.text() == "显示 10 条 / 共 10 条"
    page.trash.setChecked(True)
    assert page.count_label.text() == "回收站：显示 2 条 / 共 2 条"
    assert not page.act_delete.isEnabled() and page.act_restore.isVisible()
    page.select_row(0)
    assert page.restore_selected()
    settle(qtbot, page)
    assert page.count_label.text() == "回收站：显示 1 条 / 共 1 条"
    page.trash.setChecked(False)
    assert page.count_label.text() == "显示 11 条 / 共 11 条"


def test_undo_of_an_edit_puts_the_old_values_back(qtbot, ctx, boxes):
    uuid = samples.create(ctx.db, "heating", 1)
    page = open_page(qtbot, ctx)
    page.select_row(0)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # Enter edits
    form = page.form
    assert form is not None and form.record is not None
    form.fields["householder"].line.setText("李秀英")
    form.fields["status"].set_value("已验收")
    assert form.save()
    assert column_texts(page, "householder") == ["李秀英"]
    assert "修改" in page.status_line.text()
    assert page.undo()
    settle(qtbot, page)
    rec = ledger_service.get_record(ctx.db, "heating", uuid)
    assert (rec.values["householder"], rec.values["status"]) == ("王建国1", "已完工")
    assert column_texts(page, "householder") == ["王建国1"]


def test_new_record_prefills_from_the_previous_one_and_undo_removes_it(qtbot, ctx, boxes):
    page = open_page(qtbot, ctx)
    form = page.new_record()
    assert form is not None
    for key, value in samples.heating(1, unit_code="140728", township="古陶镇", village="西关村").items():
        form.fields[key].set_value(value)
    assert form.save()
    assert page.count_label.text() == "显示 1 条 / 共 1 条"
    assert page.selected_ids() == [page.model.record_id(0)]
    form2 = page.new_record()
    values = form2.values()
    assert (values["unit_code"], values["township"], values["village"]) == ("140728", "古陶镇", "西关村")
    assert values["householder"] == ""
    form2.done(0)
    assert page.undo()  # undo of the creation deletes it again
    settle(qtbot, page)
    assert page.count_label.text() == "显示 0 条 / 共 0 条"
    assert "还没有记录" in page.empty_hint.text()


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_each_ledger_page_opens_and_adds_a_record_through_the_form(qtbot, ctx, boxes, key):
    page = open_page(qtbot, ctx, key)
    assert page.count_label.text() == "显示 0 条 / 共 0 条"
    assert page.model.columnCount() == len(page.ledger.columns)
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Ctrl+N
    form = page.form
    assert form is not None and form.isVisible()
    for field, value in samples.SAMPLES[key](1).items():
        form.fields[field].set_value(value)
    assert form.save(), [form.message_of(k) for k in form.fields]
    assert page.count_label.text() == "显示 1 条 / 共 1 条"
    assert not boxes.shown


@pytest.mark.slow
def test_other_pages_hear_about_changes(qtbot, ctx, boxes, monkeypatch):
    """The page publishes what it changed; the main window refreshes the other pages that show it."""
    from jzair_desktop.gui.main_window import MainWindow
    from jzair_desktop.gui.tasks import publish
    from jzair_desktop.services.changes import EVERYTHING, Changes

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    page = window.show_page("heating")
    trucks, dashboard = window.page("trucks"), window.page("dashboard")
    heard: dict[str, list] = {"trucks": [], "dashboard": []}
    monkeypatch.setattr(trucks, "apply_changes", heard["trucks"].append)
    monkeypatch.setattr(dashboard, "apply_changes", heard["dashboard"].append)
    form = page.new_record()
    for key, value in samples.heating(1).items():
        form.fields[key].set_value(value)
    with qtbot.waitSignal(ctx.signals.changed) as blocker:
        assert form.save()
    assert blocker.args == [Changes.of(ledgers=["heating"]), page]
    assert page.count_label.text() == "显示 1 条 / 共 1 条"
    assert heard == {"trucks": [], "dashboard": [Changes.of(ledgers=["heating"])]}
    samples.create(ctx.db, "heating", 2)  # written elsewhere (an import, another window)
    publish(ctx, EVERYTHING)
    assert page.count_label.text() == "显示 2 条 / 共 2 条"
    window.close()


def test_filters_and_column_widths_are_remembered_per_ledger(qtbot, ctx, boxes):
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    page.unit_combo.setCurrentIndex(page.unit_combo.findData("140727"))
    page.date_from.setText("2020-12-01")
    header = page.table.horizontalHeader()
    header.resizeSection(3, 222)
    header.moveSection(3, 0)
    page.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    page.close()  # settings are saved when the page hides
    again = open_page(qtbot, ctx)
    assert again.unit_combo.currentData() == "140727"
    assert again.date_from.text() == "2020-12-01"
    assert again.count_label.text() == "显示 4 条 / 共 12 条"
    h = again.table.horizontalHeader()
    assert h.sectionSize(3) == 222 and h.visualIndex(3) == 0
    assert again.model.query.sort == "householder" and again.model.query.descending
    trucks = open_page(qtbot, ctx, "trucks")
    assert trucks.unit_combo.currentData() == ""  # another ledger, its own filter


def test_a_county_clerk_is_fixed_to_the_own_unit(qtbot, db, boxes):
    seed_heating(db)
    clerk = Actor(name="祁县填报员", role="county_clerk", unit_code="140727")
    page = open_page(qtbot, GuiContext(db=db, actor=clerk, signals=DataSignals()))
    assert page.unit_combo.currentData() == "140727" and not page.unit_combo.isEnabled()
    assert page.count_label.text() == "显示 4 条 / 共 4 条"


def test_a_viewer_cannot_write(qtbot, db, boxes):
    seed_heating(db)
    viewer = Actor(name="查看者", role="viewer")
    page = open_page(qtbot, GuiContext(db=db, actor=viewer, signals=DataSignals()))
    page.select_row(0)
    assert not page.act_new.isEnabled() and not page.act_delete.isEnabled() and not page.act_edit.isEnabled()
    assert page.new_record() is None and not page.delete_selected()


def test_service_errors_are_shown_in_a_message_box(qtbot, ctx, boxes):
    uuid = samples.create(ctx.db, "heating", 1)
    page = open_page(qtbot, ctx)
    page.select_row(0)
    ledger_service.delete_record(ctx.db, "heating", uuid, actor=BUILTIN_ADMIN)
    samples.create(ctx.db, "heating", 2, id_number=samples.heating(1)["id_number"])
    page.trash.setChecked(True)
    page.select_row(0)
    assert page.restore_selected()  # runs off the GUI thread: refused there (the same 身份证号 is live again)
    settle(qtbot, page)
    assert ledger_service.count_records(ctx.db, "heating") == 1
    kind, title, text = boxes.shown[-1]
    assert kind == "warning" and title == "恢复失败" and "身份证号" in text


def test_excel_actions_call_the_excel_dialogs(qtbot, ctx, boxes, monkeypatch):
    calls = []
    fake = types.ModuleType("jzair_desktop.gui.dialogs.excel")
    fake.open_import_wizard = lambda parent, c, key: calls.append(("import", key))
    fake.export_ledger = lambda parent, c, key, unit: calls.append(("export", key, unit))
    fake.save_template = lambda parent, c, key: calls.append(("template", key))
    monkeypatch.setitem(sys.modules, "jzair_desktop.gui.dialogs.excel", fake)
    import jzair_desktop.gui.dialogs as dialogs_pkg

    monkeypatch.setattr(dialogs_pkg, "excel", fake, raising=False)
    page = open_page(qtbot, ctx, "trucks")
    page.unit_combo.setCurrentIndex(page.unit_combo.findData("140727"))
    page.act_import.trigger()
    page.act_export.trigger()
    page.act_template.trigger()
    assert calls == [("import", "trucks"), ("export", "trucks", "140727"), ("template", "trucks")]
    assert [a.text() for a in page.more_menu.actions()][:3] == ["从Excel导入…", "导出Excel…", "下载空白模板…"]


def test_deleting_a_closed_out_record_asks_the_reason_and_undo_restores(qtbot, ctx, boxes, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    uuid = samples.create(ctx.db, "boilers", 1)
    samples.close_out(ctx.db, "boilers", uuid, tmp_path)
    page = open_page(qtbot, ctx, "boilers")
    page.select_row(0)
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: asked.append(a[2]) or ("重复录入", True))
    assert page.delete_selected()
    settle(qtbot, page)
    assert asked and "原因" in asked[0]
    assert ledger_service.count_records(ctx.db, "boilers") == 0
    assert page.undo()
    settle(qtbot, page)
    rec = ledger_service.get_record(ctx.db, "boilers", uuid)
    assert rec.deleted_at is None and rec.values["status"] == "已销号"
    assert not boxes.shown


def test_pasting_a_page_of_text_into_the_search_is_refused_with_a_word_not_a_crash(qtbot, ctx, boxes):
    from PySide6.QtGui import QGuiApplication

    from jzair_desktop.services.ledgers import SEARCH_MAX_CHARS

    use_app_font()
    seed_heating(ctx.db)
    page = open_page(qtbot, ctx)
    assert f"最多{SEARCH_MAX_CHARS}字" in page.search.placeholderText()
    QGuiApplication.clipboard().setText("晋中市榆次区东阳镇车辋村" * 1500)  # ~18,000 characters
    page.search.setFocus()
    page.search.paste()
    assert page.search.text() == ""  # refused whole, not cut
    assert page.search_limit.counter.isVisible() and str(SEARCH_MAX_CHARS) in page.search_limit.counter.text()
    shoot(page, "search_refused_paste")
    page.search.setText("榆次户03")
    qtbot.waitUntil(lambda: page.count_label.text() == "显示 1 条 / 共 12 条", timeout=2000)
    assert not page.search_limit.counter.isVisible()
    page.search.setText("户" * (SEARCH_MAX_CHARS - 5))
    qtbot.waitUntil(lambda: page.count_label.text() == "显示 0 条 / 共 12 条", timeout=2000)
    assert page.search_limit.counter.text() == f"{SEARCH_MAX_CHARS - 5}/{SEARCH_MAX_CHARS} 字"
    shoot(page, "search_limit")
    # A text set from code past the box's limit still gets a message, never a database error.
    page.search.blockSignals(True)
    page.search.setText("晋" * 20_000)
    page.search.blockSignals(False)
    page.apply_filters()
    kind, title, text = boxes.shown[-1]
    assert kind == "warning" and "搜索内容过长" in text
