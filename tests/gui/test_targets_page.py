"""任务分解 page with pytest-qt on a real database: mismatch flag, editing and saving, refusals, Excel."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

from jzair_desktop.domain.reference import reference
from jzair_desktop.gui.pages.targets import PROBLEM, TargetsPage, make_page
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.targets import TargetEntry, set_targets, target_table
from tests.gui import pyside_guard
from tests.gui.grid_page_helpers import delete_deferred_widgets, record_message_boxes, show_page

pyside_guard.apply()

YC, TG, YS = "140702", "140703", "140721"


@pytest.fixture(autouse=True)
def _delete_widgets(qapp):
    yield
    delete_deferred_widgets()


@pytest.fixture
def boxes(monkeypatch):
    shown = record_message_boxes(monkeypatch)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


def open_page(qtbot, db, actor=BUILTIN_ADMIN) -> TargetsPage:
    page = show_page(qtbot, make_page, db, actor)
    assert isinstance(page, TargetsPage)
    return page


def stored(db, indicator: str) -> dict[str, float | None]:
    t = next(t for t in target_table(db) if t.indicator == indicator)
    return {u.unit_code: u.value for u in t.units}


def check_cell(page: TargetsPage, indicator: str):
    m = page.model
    return m.index(m.row_of(indicator), m.check_column)


def split_exactly(db, indicator: str, total: int) -> None:
    """Every unit gets a share; the last one takes the remainder so that the sum is the city target."""
    units = reference().units
    share = total // len(units)
    entries = [TargetEntry(indicator, u.code, share) for u in units[:-1]]
    entries.append(TargetEntry(indicator, units[-1].code, total - share * (len(units) - 1)))
    set_targets(db, BUILTIN_ADMIN, entries)


def test_the_page_lists_every_indicator_with_city_target_sum_and_check(qtbot, db, boxes):
    split_exactly(db, "trucks.eliminated", 8869)
    page = open_page(qtbot, db)
    m = page.model
    assert m.rowCount() == len(reference().indicators)
    assert m.headerData(0, Qt.Orientation.Horizontal) == "市级目标"
    assert [m.headerData(c, Qt.Orientation.Horizontal) for c in range(1, 13)] == [u.name for u in reference().units]
    row = m.row_of("trucks.eliminated")
    assert m.headerData(row, Qt.Orientation.Vertical) == "国三及以下营运柴油货车淘汰（辆）"
    assert m.data(m.index(row, 0)) == "8,869"
    assert m.data(m.index(row, m.sum_column)) == "8,869"
    assert m.data(check_cell(page, "trucks.eliminated")) == "一致"
    # Nothing split yet: 未分解 in every unit cell, and the check says so.
    heat = m.row_of("heating.total")
    assert m.data(m.index(heat, 1)) == "未分解"
    assert m.data(check_cell(page, "heating.total")) == "未分解"
    # 'all_found' and rate rows are read-only.
    for key in ("boilers.coal_lt35", "dust.sweeping"):
        assert not (m.flags(m.index(m.row_of(key), 1)) & Qt.ItemFlag.ItemIsEditable)
    # issue 17: 市城区's own limit (75 %) for 榆次区; 65 % is the county towns' limit
    assert m.data(m.index(m.row_of("dust.sweeping"), 1)) == "≥75"
    assert m.data(m.index(m.row_of("dust.sweeping"), 2)) == "无任务"
    assert m.data(m.index(m.row_of("dust.sweeping_county"), 2)) == "≥65"
    assert boxes == []


def test_a_split_that_does_not_add_up_is_flagged_red(qtbot, db, boxes):
    split_exactly(db, "kilns.kiln", 107)
    set_targets(db, BUILTIN_ADMIN, [TargetEntry("kilns.kiln", YC, 50)])  # the sum is now off
    page = open_page(qtbot, db)
    m = page.model
    index = check_cell(page, "kilns.kiln")
    assert m.data(index).startswith("不一致")
    assert m.data(index, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM
    assert m.data(index, Qt.ItemDataRole.FontRole).bold()
    # Typing the right value clears the flag before saving; a partial split is flagged too.
    old = stored(db, "kilns.kiln")[YC]
    need = 107 - (sum(stored(db, "kilns.kiln").values()) - 50)
    assert old == 50
    page.set_cell("kilns.kiln", YC, str(int(need)))
    assert m.data(index) == "一致"
    page.set_cell("kilns.kiln", TG, "")
    assert "部分未分解" in m.data(index) and m.data(index, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM


def test_editing_a_cell_and_saving_persists_it(qtbot, db, boxes):
    page = open_page(qtbot, db)
    m = page.model
    index = m.index(m.row_of("trucks.eliminated"), m.column_of(YS))
    # Type into the cell as a user does: the editor opens, the text goes in, Enter commits.
    page.table.setCurrentIndex(index)
    page.table.edit(index)
    editor = page.table.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "1,234")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(m.pending))  # the delegate commits on the next turn of the event loop
    assert m.pending == {("trucks.eliminated", YS): "1,234"}
    assert page.save_button.isEnabled()
    with qtbot.waitSignal(page.ctx.signals.changed) as changed:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert changed.args == [Changes(targets=True), page]
    assert stored(db, "trucks.eliminated")[YS] == 1234
    assert m.pending == {} and not page.save_button.isEnabled()
    assert m.data(index) == "1,234"
    assert "已保存" in page.status_line.text()
    # Clearing a cell (blank) removes the target again: 未分解.
    page.set_cell("trucks.eliminated", YS, "")
    assert page.save()
    assert stored(db, "trucks.eliminated")[YS] is None
    assert boxes == []


def test_a_negative_value_is_refused_with_the_cells_problem_and_nothing_is_written(qtbot, db, boxes):
    split_exactly(db, "heating.total", 84400)
    before = {t.indicator: t.units for t in target_table(db)}
    page = open_page(qtbot, db)
    m = page.model
    page.set_cell("heating.total", YC, "-5")
    page.set_cell("heating.gas", TG, "abc")
    page.set_cell("vocs.treatment", YS, "3")  # valid, but the save is all or nothing
    assert not page.save()
    assert {t.indicator: t.units for t in target_table(db)} == before
    bad = m.index(m.row_of("heating.total"), m.column_of(YC))
    assert m.data(bad, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM
    assert "不能为负数" in m.data(bad, Qt.ItemDataRole.ToolTipRole)
    text = m.index(m.row_of("heating.gas"), m.column_of(TG))
    assert "必须是数字" in m.data(text, Qt.ItemDataRole.ToolTipRole)
    ok = m.index(m.row_of("vocs.treatment"), m.column_of(YS))
    assert m.data(ok, Qt.ItemDataRole.BackgroundRole).color() != PROBLEM
    assert "有 2 处错误" in page.problem_label.text() and "不能为负数" in page.problem_label.text()
    assert page.table.currentIndex() == bad  # the first problem is brought into view
    assert len(m.pending) == 3  # the edits stay for correction
    # Correct the two cells: the save goes through and the problems disappear.
    page.set_cell("heating.total", YC, "5")
    page.set_cell("heating.gas", TG, "")
    assert m.problems == {}
    assert page.save()
    assert stored(db, "heating.total")[YC] == 5 and stored(db, "vocs.treatment")[YS] == 3
    assert boxes == []


def test_a_county_clerk_and_a_viewer_only_read(qtbot, db, boxes):
    for actor in (Actor("王五", "county_clerk", YC), Actor("赵六", "viewer")):
        page = open_page(qtbot, db, actor)
        m = page.model
        index = m.index(m.row_of("trucks.eliminated"), m.column_of(YC))
        assert not (m.flags(index) & Qt.ItemFlag.ItemIsEditable)
        assert not m.setData(index, "5")
        assert not page.save_button.isEnabled() and not page.import_button.isEnabled()
        assert page.read_only.isVisibleTo(page)
        assert not page.import_file("不存在.xlsx")
    assert stored(db, "trucks.eliminated")[YC] is None


def test_export_and_import_round_trip(qtbot, db, boxes, tmp_path, monkeypatch):
    split_exactly(db, "kilns.kiln", 107)
    exported = stored(db, "kilns.kiln")
    page = open_page(qtbot, db)
    target = tmp_path / "导出" / "任务分解表"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    written = target.with_suffix(".xlsx")
    assert written.is_file() and "已导出" in page.status_line.text()
    set_targets(db, BUILTIN_ADMIN, [TargetEntry("kilns.kiln", YC, 99)])
    page.reload()
    assert page.model.data(page.model.index(page.model.row_of("kilns.kiln"), page.model.column_of(YC))) == "99"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(written), ""))
    with qtbot.waitSignal(page.ctx.signals.changed):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert stored(db, "kilns.kiln") == exported  # the 99 is back to the exported value
    assert exported[YC] != 99
    assert page.model.data(check_cell(page, "kilns.kiln")) == "一致"
    assert "导入" in page.status_line.text()
    assert boxes == []


def test_a_workbook_with_a_negative_target_is_refused_whole(qtbot, db, boxes, tmp_path):
    split_exactly(db, "kilns.kiln", 107)
    page = open_page(qtbot, db)
    path = page.export_file(tmp_path / "分解.xlsx")
    wb = load_workbook(path)
    ws = wb["任务分解"]
    keys = [c.value for c in ws[2]]
    col = keys.index("kilns.kiln") + 1
    ws.cell(4, col).value = -1  # the first unit's row
    ws.cell(5, col).value = 50  # a valid change in the same file
    wb.save(path)
    before = stored(db, "kilns.kiln")
    assert not page.import_file(path)
    assert stored(db, "kilns.kiln") == before
    assert boxes and boxes[0][0] == "warning" and "负数" in boxes[0][2]
    assert "负数" in page.problem_label.text()
