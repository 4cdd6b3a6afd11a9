"""The import wizard and the targets page with files other than .xlsx: the file dialogs offer every accepted
type, a GBK CSV and an .ods go through every page of the wizard, an Excel 5/95 file stays on the first page
with its message. Screenshots go to /tmp/shots/formats/."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QWizard

from jzair_desktop.exchange.spreadsheet import IMPORT_FILTER
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.excel import open_import_wizard
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.ledgers import count_records
from tests.exchange import samples

SHOTS = Path("/tmp/shots/formats")
TIMEOUT = 30_000
FILES = Path(__file__).parents[1] / "exchange" / "office_files"


@pytest.fixture(autouse=True)
def _fonts(qapp):
    from jzair_desktop.gui.qtsetup import register_font

    register_font(qapp)


@pytest.fixture
def ctx(db):
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


def open_wizard(qtbot, ctx, key="heating"):
    wizard = open_import_wizard(None, ctx, key)
    qtbot.addWidget(wizard)
    qtbot.waitExposed(wizard)
    return wizard


def go_next(qtbot, wizard, expected_page):
    wizard.next()
    qtbot.waitUntil(lambda: wizard.job is None and wizard.currentPage() is expected_page, timeout=TIMEOUT)


def test_the_file_dialog_lists_every_accepted_type(qtbot, ctx, monkeypatch):
    seen = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (seen.append(a[3]), ("", ""))[1])
    wizard = open_wizard(qtbot, ctx)
    wizard.file_page.browse()
    assert seen == [IMPORT_FILTER]
    assert seen[0].startswith("所有表格文件 (*.xlsx *.xlsm *.xls *.xlsb *.et *.ods *.csv *.txt)")
    shot(wizard, "wizard_1_file_page")


@pytest.mark.parametrize("name", ["heating-libreoffice-gbk.csv", "heating-libreoffice.ods", "heating-libreoffice.et"])
def test_a_file_of_another_suite_goes_through_every_page(qtbot, ctx, db, name):
    wizard = open_wizard(qtbot, ctx)
    wizard.file_page.path_edit.setText(str(FILES / name))
    wizard.file_page.unit_combo.setCurrentIndex(wizard.file_page.unit_combo.findData("140702"))
    go_next(qtbot, wizard, wizard.preview_page)
    assert wizard.preview_page.preview.rowCount() == 12
    shot(wizard, f"wizard_2_preview_{Path(name).suffix[1:]}")
    go_next(qtbot, wizard, wizard.check_page)
    assert "新增 <b>12</b> 条" in wizard.check_page.counts.text()
    go_next(qtbot, wizard, wizard.done_page)
    assert count_records(db, "heating") == 12
    shot(wizard, f"wizard_4_done_{Path(name).suffix[1:]}")


def test_an_excel_95_file_stays_on_the_first_page_with_what_to_do(qtbot, ctx, tmp_path):
    path = tmp_path / "九五年台账.xls"
    path.write_bytes(samples._cfb({"Book": bytes(4096)}))
    wizard = open_wizard(qtbot, ctx)
    wizard.file_page.path_edit.setText(str(path))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.job is None and wizard.file_page.message.isVisible(), timeout=TIMEOUT)
    assert wizard.currentPage() is wizard.file_page
    text = wizard.file_page.message.text()
    assert "九五年台账.xls" in text and "Excel 5.0/95" in text and "另存为" in text
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    shot(wizard, "wizard_1_excel95_error")


def test_targets_page_offers_every_type(qtbot, ctx, monkeypatch):
    from jzair_desktop.gui.pages.targets import TargetsPage

    seen = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (seen.append(a[3]), ("", ""))[1])
    page = TargetsPage(ctx)
    qtbot.addWidget(page)
    assert page.import_file() is False
    assert seen == [IMPORT_FILTER]
