"""Copy and paste with Excel / WPS: real clipboard contents (tab-separated text and HTML tables) through real
widgets on a real database. A paste into a grid is checked cell by cell, refused whole, undone with Ctrl+Z."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QMimeData, Qt
from PySide6.QtGui import QGuiApplication

from jzair_desktop.gui.pages import figures as figures_page
from jzair_desktop.gui.pages import targets as targets_page
from jzair_desktop.gui.widgets.clipboard import clipboard_block, parse_html_table, parse_tsv, to_html, to_tsv
from jzair_desktop.services import monthly
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.monthly import FigureEntry, set_figures
from tests.gui import pyside_guard
from tests.gui.grid_page_helpers import delete_deferred_widgets, record_message_boxes, show_page

pyside_guard.apply()

YC, TG = "140702", "140703"
IND = "nonroad.inspection"  # a count every unit reports


@pytest.fixture(autouse=True)
def _delete_widgets(qapp):
    yield
    delete_deferred_widgets()


@pytest.fixture
def boxes(monkeypatch):
    return record_message_boxes(monkeypatch)


def put_on_clipboard(*, text: str | None = None, html: str | None = None) -> None:
    mime = QMimeData()
    if text is not None:
        mime.setText(text)
    if html is not None:
        mime.setHtml(html)
    QGuiApplication.clipboard().setMimeData(mime)


def select(view, top_left, bottom_right=None) -> None:
    bottom_right = bottom_right or top_left
    view.selectionModel().select(QItemSelection(top_left, bottom_right), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    view.setCurrentIndex(top_left)
    view.selectionModel().select(QItemSelection(top_left, bottom_right), QItemSelectionModel.SelectionFlag.ClearAndSelect)


def figures_tab(qtbot, db, actor=BUILTIN_ADMIN):
    page = show_page(qtbot, figures_page.make_page, db, actor)
    tab = page.figures
    tab.indicator_combo.setCurrentIndex(tab.indicator_combo.findData(IND))
    return page, tab


def stored(db):
    return {(v.indicator, v.unit_code, v.month): v.value for v in monthly.list_figures(db)}


# --------------------------------------------------------------------------- the formats
def test_excel_text_with_quoted_cells_and_a_trailing_line_break():
    text = '榆次区\t"多行\r\n备注"\t12\r\n太谷区\t"说""明"\t\r\n'
    assert parse_tsv(text) == [["榆次区", "多行\n备注", "12"], ["太谷区", '说"明', ""]]


def test_a_wps_html_table_with_spans_and_entities():
    html = ("<html><head><style>td{mso-number-format:General}</style></head><body><!--StartFragment-->"
            "<table><tr><td colspan=2>晋中&nbsp;市</td><td>3</td></tr>"
            "<tr><td rowspan=2>榆次区</td><td>1,200</td><td>x&amp;y</td></tr>"
            "<tr><td>5<br>6</td><td></td></tr></table><table><tr><td>另一张</td></tr></table></body></html>")
    assert parse_html_table(html) == [["晋中 市", "", "3"], ["榆次区", "1,200", "x&y"], ["", "5\n6", ""]]


cell_text = st.text(alphabet=st.sampled_from(list('ab榆次"\t\n 1,.-')), max_size=6)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cell_text, min_size=1, max_size=4), min_size=1, max_size=4).filter(
    lambda rows: len({len(r) for r in rows}) == 1))
def test_tab_text_round_trips(rows):
    # A last row of one empty cell is "no row" in Excel's own text too; everything else comes back as written.
    if rows[-1] == [""]:
        rows = rows[:-1] or [["x"]]
    assert parse_tsv(to_tsv(rows)) == rows


html_cell = st.text(alphabet=st.sampled_from(list('ab榆<>&"\'1,.-#;')), max_size=6)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(html_cell, min_size=1, max_size=4), min_size=1, max_size=4).filter(
    lambda rows: len({len(r) for r in rows}) == 1),
    st.booleans())
def test_html_tables_round_trip(rows, with_header):
    header = [f"列{i}" for i in range(len(rows[0]))] if with_header else None
    assert parse_html_table(to_html(rows, header)) == ([header] if header else []) + rows


def test_html_is_read_only_when_no_text_is_offered(qapp):
    mime = QMimeData()
    mime.setHtml("<table><tr><td>7</td><td>8</td></tr></table>")
    assert clipboard_block(mime) == [["7", "8"]]
    mime.setText("1\t2\r\n")
    assert clipboard_block(mime) == [["1", "2"]]


# --------------------------------------------------------------------------- copy
def test_copy_puts_text_and_an_html_table_and_the_header_on_request(qtbot, db, boxes):
    set_figures(db, BUILTIN_ADMIN, [FigureEntry(YC, IND, "2020-10", 3), FigureEntry(TG, IND, "2020-11", 1200)])
    _page, tab = figures_tab(qtbot, db)
    m, view = tab.model, tab.table
    select(view, m.index_of(YC, "2020-10"), m.index_of(TG, "2020-11"))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    assert parse_tsv(mime.text()) == [["3", ""], ["", "1,200"]]
    assert parse_html_table(mime.html()) == [["3", ""], ["", "1,200"]]
    tab.paster.clipboard.act_copy_header.trigger()
    assert parse_tsv(QGuiApplication.clipboard().text())[0] == ["2020-10", "2020-11"]
    assert "<th>2020-10</th>" in QGuiApplication.clipboard().mimeData().html()


# --------------------------------------------------------------------------- paste into 月度数据
def test_a_block_from_excel_is_pasted_saved_and_undone_with_ctrl_z(qtbot, db, boxes):
    page, tab = figures_tab(qtbot, db)
    m, view = tab.model, tab.table
    select(view, m.index_of(YC, "2020-10"))
    put_on_clipboard(text="3\t4\r\n5\t\r\n")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert m.pending == {(IND, YC, "2020-10"): "3", (IND, YC, "2020-11"): "4", (IND, TG, "2020-10"): "5"}
    assert "尚未保存" in tab.status_line.text()
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert m.pending == {}
    assert "已撤销粘贴 2 行 × 2 列" in tab.status_line.text()
    # pasted again and saved: the values reach the database through the service
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert tab.save()
    assert stored(db) == {(IND, YC, "2020-10"): 3, (IND, YC, "2020-11"): 4, (IND, TG, "2020-10"): 5}
    assert not tab.paster.undo_stack.canUndo()  # a saved paste is not undone in the grid
    del page


def test_text_in_a_number_cell_refuses_the_whole_block_naming_the_cell(qtbot, db, boxes):
    _page, tab = figures_tab(qtbot, db)
    m, view = tab.model, tab.table
    select(view, m.index_of(YC, "2020-10"))
    put_on_clipboard(text="3\t四个\r\n-1\t2.5\r\n")
    assert tab.paster.clipboard.paste() is False
    assert m.pending == {}
    text = tab.problem_label.text()
    assert "粘贴未完成" in text and "没有粘贴任何内容" in text
    assert "第1行（榆次区）“2020-11”列" in text and "四个" in text  # text in a number cell
    assert "第2行（太谷区）“2020-10”列" in text and "负数" in text
    assert "第2行（太谷区）“2020-11”列" in text and "整数" in text


def test_a_block_wider_than_the_grid_is_refused_whole(qtbot, db, boxes):
    _page, tab = figures_tab(qtbot, db)
    m, view = tab.model, tab.table
    last = m.months[-1]
    select(view, m.index_of(YC, last))
    put_on_clipboard(text="1\t2\t3\t4\t5\r\n")
    assert tab.paster.clipboard.paste() is False
    assert m.pending == {}
    assert "1 行 × 5 列" in tab.problem_label.text() and "多出的行或列无处可放" in tab.problem_label.text()


def test_a_county_clerk_cannot_paste_into_another_units_row(qtbot, db, boxes):
    clerk = Actor("taigu01", "county_clerk", TG)
    _page, tab = figures_tab(qtbot, db, clerk)
    m, view = tab.model, tab.table
    select(view, m.index_of(YC, "2020-10"))  # 榆次区, then 太谷区 below
    put_on_clipboard(text="1\r\n2\r\n")
    assert tab.paster.clipboard.paste() is False
    assert m.pending == {}
    assert "第1行（榆次区）" in tab.problem_label.text() and "只能填报本县" in tab.problem_label.text()
    select(view, m.index_of(TG, "2020-10"))
    put_on_clipboard(text="2\r\n")
    assert tab.paster.clipboard.paste() is True
    assert m.pending == {(IND, TG, "2020-10"): "2"}


def test_air_quality_paste_checks_heavy_days_against_the_month(qtbot, db, boxes):
    page = show_page(qtbot, figures_page.make_page, db, BUILTIN_ADMIN)
    tab = page.air
    m = tab.model
    month = m.months[0]
    select(tab.table, m.index_of(figures_page.CITY_AREA, month, "pm25"))
    put_on_clipboard(text="80\t40\r\n")  # 40 heavy days in one month
    assert tab.paster.clipboard.paste() is False
    assert "重污染天数" in tab.problem_label.text() or "天数" in tab.problem_label.text()
    put_on_clipboard(text="80\t3\r\n")
    assert tab.paster.clipboard.paste() is True
    assert len(m.pending) == 2


# --------------------------------------------------------------------------- paste into 任务分解
def test_targets_take_a_wps_html_block_and_refuse_a_computed_column(qtbot, db, boxes):
    page = show_page(qtbot, targets_page.make_page, db, BUILTIN_ADMIN)
    assert isinstance(page, targets_page.TargetsPage)
    m = page.model
    row = m.row_of(IND)
    select(page.table, m.index(row, m.column_of(YC)))
    put_on_clipboard(html="<table><tr><td>40</td><td>30</td></tr></table>")  # WPS: HTML only
    assert page.paster.clipboard.paste() is True
    assert m.pending == {(IND, YC): "40", (IND, TG): "30"}
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert m.pending == {}
    # the last unit column and then 合计: the computed cell refuses the block
    select(page.table, m.index(row, m.sum_column - 1))
    put_on_clipboard(text="1\t2\r\n")
    assert page.paster.clipboard.paste() is False
    assert "“合计”列" in page.problem_label.text() and "不能填写" in page.problem_label.text()
    assert m.pending == {}


# --------------------------------------------------------------------------- ledger tables
def ledger_page(qtbot, db, actor=BUILTIN_ADMIN, key="heating"):
    from jzair_desktop.gui.context import DataSignals, GuiContext
    from jzair_desktop.gui.pages.ledger import make_ledger_page

    page = make_ledger_page(GuiContext(db=db, actor=actor, signals=DataSignals()), key)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    return page


def heating_block(n: int, *, header: bool = True, start: int = 0) -> list[list[str]]:
    from tests.exchange import samples

    rows = samples.clean_rows("heating", n, start=start)
    keys = list(rows[0])
    text = [[("" if r[k] is None else str(r[k])) for k in keys] for r in rows]
    return [keys, *text] if header else text


def wait_for_page(qtbot, wizard, page):
    qtbot.waitUntil(lambda: wizard.job is None and wizard.currentPage() is page, timeout=30_000)


def test_rows_pasted_from_an_excel_ledger_open_the_import_preview_and_import(qtbot, db, boxes):
    from jzair_desktop.services.ledgers import count_records

    page = ledger_page(qtbot, db)
    put_on_clipboard(text=to_tsv(heating_block(5)))
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    from jzair_desktop.gui.dialogs.excel import ImportWizard

    wizard = page.findChild(ImportWizard)
    assert wizard is not None
    wait_for_page(qtbot, wizard, wizard.preview_page)
    assert wizard.preview_page.preview.rowCount() == 5
    assert "数据 5 行" in wizard.preview_page.summary.text()
    wizard.next()
    wait_for_page(qtbot, wizard, wizard.check_page)
    assert "新增 <b>5</b> 条" in wizard.check_page.counts.text()
    assert count_records(db, "heating") == 0  # the preview and the check wrote nothing
    wizard.next()
    wait_for_page(qtbot, wizard, wizard.done_page)
    assert count_records(db, "heating") == 5
    # the same rows pasted again hit the duplicate rules of an import: updates, not new records
    put_on_clipboard(text=to_tsv(heating_block(5)))
    wizard.close()
    second = page.paste_rows()
    wait_for_page(qtbot, second, second.preview_page)
    second.next()
    wait_for_page(qtbot, second, second.check_page)
    assert "新增 <b>5</b> 条" not in second.check_page.counts.text()
    second.close()


def test_rows_without_a_header_take_the_tables_columns_and_bad_rows_are_named(qtbot, db, boxes):
    page = ledger_page(qtbot, db)
    block = heating_block(3, header=False)
    block[1][3] = ""  # 户主姓名 left empty
    wizard = page.paste_block(block)
    assert wizard is not None
    wait_for_page(qtbot, wizard, wizard.preview_page)
    wizard.next()
    wait_for_page(qtbot, wizard, wizard.check_page)
    problems = wizard.check_page.problems
    rows = [[problems.item(r, c).text() for c in range(3)] for r in range(problems.rowCount())]
    assert any(r[0] == "3" and r[1] == "户主姓名" for r in rows), rows  # header is row 1, the bad row is row 3
    wizard.close()


def test_a_viewer_cannot_paste_rows(qtbot, db, boxes):
    page = ledger_page(qtbot, db, Actor("查看员", "viewer"))
    assert page.paste_block(heating_block(2)) is None
    assert "只读用户" in page.status_line.text()


def test_a_ledger_copy_masks_the_id_number_for_a_viewer_only(qtbot, db, boxes):
    from tests.gui import ledger_samples

    ledger_samples.create(db, "heating", 1)
    whole = ledger_samples.heating(1)["id_number"]
    for actor, expect_whole in ((BUILTIN_ADMIN, True), (Actor("查看员", "viewer"), False),
                                (Actor("yuci01", "county_clerk", YC), True)):
        page = ledger_page(qtbot, db, actor)
        page.table.selectAll()
        page.clipboard.act_copy_header.trigger()
        rows = parse_tsv(QGuiApplication.clipboard().text())
        col = rows[0].index("身份证号")
        assert (rows[1][col] == whole) is expect_whole, (actor.role, rows[1][col])
        assert "*" in rows[1][col] or expect_whole
        html_rows = parse_html_table(QGuiApplication.clipboard().mimeData().html())
        assert html_rows[1][col] == rows[1][col]
        page.close()


def test_import_export_and_template_are_on_the_toolbar(qtbot, db, boxes):
    from PySide6.QtWidgets import QToolBar, QToolButton

    page = ledger_page(qtbot, db)
    tools = page.findChild(QToolBar, "ledgerTools")
    texts = [w.text() for w in (tools.widgetForAction(a) for a in tools.actions()) if isinstance(w, QToolButton)]
    assert {"导入", "导出", "模板"} <= set(texts)
    assert page.act_import in tools.actions() and page.act_import in page.more_menu.actions()


def test_a_county_clerk_cannot_paste_targets(qtbot, db, boxes):
    page = show_page(qtbot, targets_page.make_page, db, Actor("taigu01", "county_clerk", TG))
    m = page.model
    select(page.table, m.index(m.row_of(IND), m.column_of(TG)))
    put_on_clipboard(text="40\r\n")
    assert page.paster.clipboard.paste() is False
    assert "只有市级管理员可以分解任务目标" in page.problem_label.text()
    assert m.pending == {}
