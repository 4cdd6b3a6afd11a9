"""The 月报 page: pickers, generation off the GUI thread, preview, save as, open, print fallback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.pages import report as page_module
from jzair_desktop.gui.pages.report import ReportPage, default_month
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from tests.exchange import report_dataset as ds

SHOTS = Path("/tmp/shots")


@pytest.fixture
def filled(db):
    ds.build(db)
    return db


def make(qtbot, db, actor=BUILTIN_ADMIN) -> ReportPage:
    qtsetup.make_application()
    page = ReportPage(GuiContext(db=db, actor=actor, signals=DataSignals()))
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def choose(page: ReportPage, month: str, unit: str | None = None, letters: bool = False) -> None:
    page.month.setCurrentIndex(page.month.findData(month))
    page.unit.setCurrentIndex(page.unit.findData(unit))
    page.letters.setChecked(letters)


def generate(qtbot, page: ReportPage) -> None:
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.generate_button.isEnabled() and page.result is not None, timeout=30_000)


def test_pickers_offer_campaign_months_and_units(qtbot, filled):
    page = make(qtbot, filled)
    months = [page.month.itemData(i) for i in range(page.month.count())]
    assert months[0] == "2020-03" and months[-1] == "2021-03" and "2020-12" in months
    assert page.month.itemText(months.index("2020-12")) == "2020年12月"
    assert page.unit.count() == 13 and page.unit.itemData(0) is None and page.unit.itemText(1) == "榆次区"
    assert page.unit.isEnabled() and page.letters.isEnabled()
    assert not page.save_button.isEnabled() and not page.print_button.isEnabled()


def test_default_month_is_the_latest_ended_campaign_month():
    assert default_month(dt.date(2020, 12, 15)) == "2020-11"
    assert default_month(dt.date(2021, 1, 1)) == "2020-12"
    assert default_month(dt.date(2026, 5, 1)) == "2021-03"
    assert default_month(dt.date(2019, 1, 1)) == "2020-03"


def test_a_county_clerk_is_fixed_to_the_own_unit_without_letters(qtbot, filled):
    page = make(qtbot, filled, Actor("李四", "county_clerk", ds.YC))
    assert page.unit.count() == 1 and page.unit.currentText() == "榆次区" and not page.unit.isEnabled()
    assert not page.letters.isEnabled()
    choose(page, "2020-11", ds.YC)
    generate(qtbot, page)
    assert page.result.unit_name == "榆次区"


def test_generate_city_report_with_letters_and_preview(qtbot, filled):
    page = make(qtbot, filled)
    choose(page, "2020-11", None, letters=True)
    generate(qtbot, page)
    result = page.result
    assert result.path.exists() and result.path.parent.name == "reports"
    assert result.path.name == "晋中市攻坚行动月报_2020年11月_全市.pdf"
    assert len(pypdf.PdfReader(str(result.path)).pages) == result.pages
    assert f"共 {result.pages} 页" in page.status.text() and "预警函 12 份" in page.status.text()
    assert page.save_button.isEnabled() and page.open_button.isEnabled() and page.print_button.isEnabled()
    preview = page.summary.toPlainText()
    assert "晋中市秋冬季大气污染综合治理攻坚行动进展月报" in preview
    assert "国三及以下营运柴油货车淘汰" in preview and "逾期" in preview
    assert "预警：51 条" in preview
    if not page_module.HAS_QTPDF:
        assert "此处显示报告内容摘要" in preview
    SHOTS.mkdir(exist_ok=True)
    page.grab().save(str(SHOTS / "report_page_city.png"))


def test_changed_selection_or_data_marks_the_preview_as_stale(qtbot, filled):
    page = make(qtbot, filled)
    choose(page, "2020-11", ds.YC)
    generate(qtbot, page)
    assert "点“生成”更新" not in page.status.text()
    page.month.setCurrentIndex(page.month.findData("2020-12"))
    assert "所选月份或范围与下方报告不同" in page.status.text()
    page.month.setCurrentIndex(page.month.findData("2020-11"))
    assert "所选月份或范围与下方报告不同" not in page.status.text()
    page.ctx.signals.changed.emit("trucks")
    assert "数据已有变动" in page.status.text()
    preview = page.summary.toPlainText()
    assert "新能源公交替换（市建成区）\n10\n5\n50.0%" in preview  # the county's own target, not the city's 76
    SHOTS.mkdir(exist_ok=True)
    page.grab().save(str(SHOTS / "report_page_county.png"))


def test_save_as_copies_the_report(qtbot, filled, tmp_path, monkeypatch):
    page = make(qtbot, filled)
    choose(page, "2020-11", ds.YC)
    generate(qtbot, page)
    target = tmp_path / "另存的月报"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF 文件 (*.pdf)"))
    page.save_as()
    saved = tmp_path / "另存的月报.pdf"
    assert saved.read_bytes() == page.result.path.read_bytes()
    assert str(saved) in page.status.text()
    assert page.ctx.settings().value("report/save_dir") == str(tmp_path)


def test_save_as_refused_path_shows_the_error(qtbot, filled, tmp_path, monkeypatch):
    page = make(qtbot, filled)
    choose(page, "2020-11", None)
    generate(qtbot, page)
    shown = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "无" / "r.pdf"), ""))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    page.save_as()
    assert shown and "输出文件夹不存在" in shown[0]


def test_open_and_print_hand_the_file_to_the_system(qtbot, filled, monkeypatch):
    page = make(qtbot, filled)
    choose(page, "2020-11", ds.TG)
    generate(qtbot, page)
    opened = []
    monkeypatch.setattr(page_module.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    page.open_in_viewer()
    assert opened[-1].toLocalFile() == str(page.result.path)
    if page_module.HAS_QTPDF:
        pytest.skip("printing renders pages with QtPdf here")
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
    page.print_report()
    assert told and "QtPdf" in told[0] and "打印" in told[0]
    assert len(opened) == 2


def test_a_failed_generation_keeps_the_previous_report(qtbot, filled, monkeypatch):
    page = make(qtbot, filled)
    choose(page, "2020-11", None)
    generate(qtbot, page)
    first = page.result
    before = first.path.read_bytes()
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))

    def fail(*args, **kwargs):
        raise page_module.report_service.JzairError("模拟失败：磁盘已满")

    monkeypatch.setattr(page_module.report_service, "write_report", fail)
    page.generate_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "模拟失败" in shown[0]
    assert page.result is first and first.path.read_bytes() == before
    assert "下方仍是上次生成的报告" in page.status.text()
    assert page.generate_button.isEnabled()
