"""The Excel import wizard driven programmatically (pytest-qt), plus export and template from the menu.

Screenshots of every page go to /tmp/shots/ (excel_wizard_*.png) for a person to look at.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWizard

from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs import excel as excel_dialogs
from jzair_desktop.gui.dialogs.excel import export_ledger, open_import_wizard, save_template
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.ledgers import count_records
from tests.exchange import samples

SHOTS = Path("/tmp/shots")
TIMEOUT = 30_000


def db_hash(path) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _fonts(qapp):
    from jzair_desktop.gui.qtsetup import register_font

    register_font(qapp)


@pytest.fixture
def ctx(db):
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def no_dialogs(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError(f"unexpected message box: {args[1:3]}")

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, boom)


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"excel_wizard_{name}.png"))


def open_wizard(qtbot, ctx, key="heating", **kw):
    wizard = open_import_wizard(None, ctx, key, **kw)
    assert wizard is not None
    qtbot.addWidget(wizard)
    qtbot.waitExposed(wizard)
    return wizard


def go_next(qtbot, wizard, expected_page):
    wizard.next()
    qtbot.waitUntil(lambda: wizard.job is None and wizard.currentPage() is expected_page, timeout=TIMEOUT)


def test_import_messy_ledger_through_every_page(qtbot, ctx, db, tmp_path, no_dialogs):
    path = samples.messy_heating(tmp_path / "榆次区清洁取暖台账.xlsx")
    wizard = open_wizard(qtbot, ctx)
    assert wizard.currentPage() is wizard.file_page
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no file yet
    wizard.file_page.path_edit.setText(str(path))
    wizard.file_page.unit_combo.setCurrentIndex(wizard.file_page.unit_combo.findData("140702"))
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    shot(wizard, "1_file")

    go_next(qtbot, wizard, wizard.preview_page)
    page = wizard.preview_page
    mapping = {page.mapping.item(r, 1).text(): page.mapping.item(r, 2).text() for r in range(page.mapping.rowCount())}
    assert mapping["序号"] == "忽略" and mapping["入户核查人"] == "忽略"
    assert mapping["户 主"] == "户主姓名" and mapping["县（市、区）"] == "县（区、市）"
    assert mapping["采暖面积 (平方米)"] == "采暖面积（平方米）"
    assert page.preview.rowCount() == 12 and page.preview.item(0, 0).text() == "4"
    assert "表头在第 3 行" in page.summary.text() and "第17行（合计行）" in page.summary.text()
    shot(wizard, "2_preview")

    go_next(qtbot, wizard, wizard.check_page)
    check = wizard.check_page
    assert "新增 <b>12</b> 条" in check.counts.text() and "检查通过" in check.counts.text()
    assert check.no_problems.isVisible() and not check.problems.isVisible()
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.isVisible() and commit.isEnabled() and commit.text() == "导入"
    assert count_records(db, "heating") == 0  # checking wrote nothing
    shot(wizard, "3_check_ok")

    with qtbot.waitSignal(ctx.signals.changed, timeout=TIMEOUT) as changed:
        go_next(qtbot, wizard, wizard.done_page)
    assert changed.args[0] == Changes.of(ledgers=["heating"])
    assert count_records(db, "heating") == 12
    assert "新增 12 条" in wizard.done_page.summary.text()
    shot(wizard, "4_done")


def test_file_with_errors_cannot_be_imported(qtbot, ctx, db, db_path, tmp_path, no_dialogs):
    rows = samples.clean_rows("trucks", 6, start=1)
    rows[1]["车辆识别代号"] = "LZZ1ABCDE0A123456"  # wrong check digit
    rows[2]["排放标准"] = "国五"
    rows[4]["淘汰日期"] = "2020-13-40"
    path = samples.write_dict_rows(tmp_path / "货车台账.xlsx", rows, title_rows=[["国三及以下营运柴油货车淘汰台账"]])
    before = db_hash(db_path)
    wizard = open_wizard(qtbot, ctx, "trucks")
    wizard.file_page.path_edit.setText(str(path))
    go_next(qtbot, wizard, wizard.preview_page)
    go_next(qtbot, wizard, wizard.check_page)
    check = wizard.check_page
    table = [[check.problems.item(r, c).text() for c in range(4)] for r in range(check.problems.rowCount())]
    assert [r[0] for r in table] == ["4", "5", "7"]
    assert table[1][1] == "排放标准" and "国三及以下" in table[1][2] and table[1][3] == "错误"
    assert "不能导入" in check.counts.text()
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()
    assert check.open_errors.isVisible() and (tmp_path / "货车台账.错误.xlsx").exists()
    shot(wizard, "3_check_errors")
    assert db_hash(db_path) == before


def test_unreadable_file_stays_on_the_first_page(qtbot, ctx, tmp_path, no_dialogs):
    wizard = open_wizard(qtbot, ctx)
    wizard.file_page.path_edit.setText(str(samples.encrypted_xlsx(tmp_path / "加密.xlsx")))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.job is None and wizard.file_page.message.isVisible(), timeout=TIMEOUT)
    assert wizard.currentPage() is wizard.file_page
    assert "加密.xlsx" in wizard.file_page.message.text() and "密码" in wizard.file_page.message.text()
    shot(wizard, "1_file_error")


@pytest.mark.slow
def test_cancel_while_importing_leaves_the_database_untouched(qtbot, ctx, db, db_path, tmp_path, no_dialogs):
    path = samples.write_clean(tmp_path / "大台账.xlsx", "heating", 3000, start=1)
    wizard = open_wizard(qtbot, ctx)
    wizard.file_page.path_edit.setText(str(path))
    go_next(qtbot, wizard, wizard.preview_page)
    go_next(qtbot, wizard, wizard.check_page)
    before = db_hash(db_path)
    wizard.next()  # 导入: starts the write in the background
    assert wizard.job is not None
    progress = wizard.findChildren(QProgressDialog)[-1]
    progress.canceled.emit()  # the user clicks 取消
    qtbot.waitUntil(lambda: wizard.job is None, timeout=TIMEOUT)
    assert wizard.currentPage() is wizard.check_page
    assert "已取消导入" in wizard.check_page.message.text()
    assert count_records(db, "heating") == 0 and db_hash(db_path) == before
    shot(wizard, "3_check_cancelled")


def test_clerk_imports_only_the_own_unit_and_viewer_cannot_open(qtbot, db, monkeypatch):
    clerk = GuiContext(db=db, actor=Actor("太谷填报员", "county_clerk", "140703"), signals=DataSignals())
    wizard = open_wizard(qtbot, clerk, "boilers")
    assert wizard.unit_code == "140703" and not wizard.file_page.unit_combo.isEnabled()
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    viewer = GuiContext(db=db, actor=Actor("查看员", "viewer"), signals=DataSignals())
    assert open_import_wizard(None, viewer, "boilers") is None
    assert warned and "只读" in warned[0]


def test_export_and_template_from_the_menu(qtbot, ctx, db, tmp_path, monkeypatch):
    from jzair_desktop.services.excel import import_ledger

    import_ledger(db, "kilns", samples.write_clean(tmp_path / "k.xlsx", "kilns", 7), "榆次区", actor=BUILTIN_ADMIN)
    from PySide6.QtGui import QDesktopServices

    from jzair_desktop.gui.widgets.saved_file import SavedFileBox

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)

    def boxes():
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, SavedFileBox) and w.isVisible()]

    job = export_ledger(None, ctx, "kilns", "140702", path=tmp_path / "导出的炉窑台账")
    assert job is not None
    qtbot.waitUntil(lambda: bool(boxes()), timeout=TIMEOUT)
    box = boxes()[0]
    assert (tmp_path / "导出的炉窑台账.xlsx").exists() and "7 条记录" in box.text()
    # The success message offers to open the file and its folder (the system's program is not started here).
    assert [b.text() for b in box.buttons()].count("打开文件") == 1 and box.open_folder.text() == "打开所在文件夹"
    box.open_file.click()
    assert [Path(p) for p in opened] == [tmp_path / "导出的炉窑台账.xlsx"] and not box.isVisible()
    saved = save_template(None, ctx, "kilns", path=tmp_path / "模板.xlsx")
    assert saved == tmp_path / "模板.xlsx" and saved.exists()
    box = boxes()[0]
    assert "导入模板" in box.text()
    box.open_folder.click()
    assert Path(opened[-1]) == tmp_path


def test_dialogs_ask_for_a_file_name(qtbot, ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(excel_dialogs.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert export_ledger(None, ctx, "vocs", None) is None  # the user cancelled the file dialog
    assert save_template(None, ctx, "vocs") is None
    target = tmp_path / "选的.xlsx"
    monkeypatch.setattr(excel_dialogs.QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    wizard = open_wizard(qtbot, ctx, "vocs")
    wizard.file_page.browse()
    assert wizard.file_page.path_edit.text() == str(target)


@pytest.mark.slow
def test_closing_while_reading_cancels_then_closes(qtbot, ctx, tmp_path, no_dialogs):
    from shiboken6 import isValid

    path = samples.write_clean(tmp_path / "台账.xlsx", "heating", 2000, start=1)
    wizard = open_import_wizard(None, ctx, "heating")  # deletes itself on close
    qtbot.waitExposed(wizard)
    wizard.file_page.path_edit.setText(str(path))
    wizard.next()
    assert wizard.job is not None
    wizard.reject()  # the window's close button or Esc while the file is being read
    assert wizard.isVisible()  # stays until the job has stopped
    qtbot.waitUntil(lambda: not isValid(wizard) or not wizard.isVisible(), timeout=TIMEOUT)
