"""A ledger defined here only (施工工地扬尘治理) goes through everything a ledger goes through: the entry
form's validation, the Excel template, import and export, the ledger table model, progress, the monthly
report and a package round trip, with no code outside its definition.

The definition is registered for each test's duration (domain.ledgers.registered); its table is the
model storage.models.ledger_model makes from the definition (storage.models.registered_model), created
in the test's database file by the fixture where a real ledger has its Alembic migration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile
from typing import Any

import openpyxl
import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from jzair_desktop.domain import ledgers
from jzair_desktop.domain.ledgers import (
    ACTUAL,
    COUNTY,
    ERROR,
    PLANNED,
    REMARKS,
    STATUS_ITEM,
    Breakdown,
    Column,
    DuplicateRule,
    LedgerDef,
)
from jzair_desktop.domain.reference import CITY_CODE, Indicator, reference
from jzair_desktop.domain.validation import check_record
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.excel_template import INSTRUCTIONS_SHEET
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.record_form import RecordForm
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.models.ledger_table import LedgerTableModel
from jzair_desktop.gui.pages import all_pages
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services import report
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.breakdown import ledger_breakdown
from jzair_desktop.services.excel import ImportRejected
from jzair_desktop.services.ledgers import RecordQuery, count_records
from jzair_desktop.services.packages import export as package_export
from jzair_desktop.services.packages import importer as package_import
from jzair_desktop.services.progress import progress_rows
from jzair_desktop.storage import models
from jzair_desktop.storage.engine import read_session
from tests.exchange.test_pdf_report import pdf_pages, squash
from tests.services.package_helpers import fresh_db, typed_rows

TODAY = dt.date(2021, 3, 31)
YUCI = "140702"
CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code=YUCI)
VIEWER = Actor(name="查看员", role="viewer")


def _check_sites(v: dict[str, Any], add) -> None:
    if v.get("fenced") == "否" and v.get("status") in ("已完成", "已销号"):
        add("fenced", "未全封闭围挡的工地不能填为已完成")


SITES = LedgerDef(
    key="dust_sites",
    title="施工扬尘",
    sheet_title="建筑施工工地扬尘治理台账",
    columns=(
        COUNTY,
        Column("site_name", "工地名称", "text", required=True, aliases=("项目名称",), width=24),
        Column("permit_no", "施工许可证号", "text", required=True, aliases=("许可证号",), width=18, max_length=40),
        Column("area_m2", "占地面积（平方米）", "float", width=12, value_range=(0.0, 10_000_000.0), range_unit="平方米"),
        Column("fenced", "全封闭围挡", "bool", required=True, choices_key="yes_no", width=10),
        PLANNED,
        ACTUAL,
        STATUS_ITEM,
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已完成", "已销号"),
    done_date_field="actual_date",
    planned_date_field="planned_date",
    township_field=None,
    label_field="site_name",
    duplicate_rules=(DuplicateRule(("permit_no",), ERROR, "相同施工许可证号"),),
    check=_check_sites,
    import_rules=("工地未全封闭围挡的，状态不能填为已完成或已销号。",),
    item_detail=lambda rec: f"许可证 {rec.permit_no}，{'已' if rec.fenced == '是' else '未'}围挡",
    breakdown=Breakdown("施工扬尘：围挡 × 状态", "fenced", "status", "此后完成"),
    member="dust_site_records.jsonl",  # not "<key>.jsonl": the member is the definition's word
)

INDICATOR = Indicator(
    key="dust_sites.done", name="施工工地扬尘治理", unit="个", target=4, target_rule="fixed",
    due=dt.date(2021, 3, 31), due_rule="fixed", plan_item="测试", department="市住建局", source="ledger",
    ledger=SITES.key, filter={}, sort_order=999,
)


def row(i: int, **over: Any) -> dict[str, Any]:
    """A workbook row by header."""
    values = {
        "县（区、市）": "榆次区", "工地名称": f"第{i}号工地", "施工许可证号": f"XK-2020-{i:04d}",
        "占地面积（平方米）": 1000 + i, "全封闭围挡": "是", "计划完成日期": "2020-12-31",
        "实际完成日期": "2021-01-15" if i % 2 else None, "状态": "已完成" if i % 2 else "施工中", "备注": None,
    }
    values.update(over)
    return values


def write_rows(path, rows: list[dict[str, Any]]):
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = list(rows[0])
    ws.append(headers)
    for r in rows:
        ws.append([r[h] for h in headers])
    wb.save(path)
    return path


@pytest.fixture
def sites_model():
    with ledgers.registered(SITES), models.registered_model(SITES) as model:
        yield model
    assert SITES.key not in ledgers.LEDGERS and SITES.key not in models.LEDGER_MODELS
    assert SITES.key not in models.Base.metadata.tables


def with_sites_table(db, model):
    model.__table__.create(db.engine)  # what the ledger's migration does for a real ledger
    return db


@pytest.fixture
def sites_db(db, sites_model):
    return with_sites_table(db, sites_model)


def import_rows(db, path, actor=BUILTIN_ADMIN, unit="榆次区"):
    return excel_service.import_ledger(db, SITES.key, path, unit, actor=actor, today=TODAY)


# --- validation -------------------------------------------------------------------------------------


def test_check_record_applies_the_columns_and_the_definitions_own_check(sites_model):
    ok = check_record(SITES.key, {"unit_code": "榆次区", "site_name": "东城工地", "permit_no": "XK-1",
                                  "fenced": "是", "planned_date": "2020-12-31", "status": "施工中"}, today=TODAY)
    assert ok.ok and ok.values["unit_code"] == YUCI and ok.values["planned_date"] == dt.date(2020, 12, 31)
    bad = check_record(SITES.key, {"unit_code": "榆次区", "site_name": "东城工地", "fenced": "否",
                                   "planned_date": "2020-12-31", "status": "已完成", "actual_date": "2021-01-02",
                                   "area_m2": "-5"}, today=TODAY)
    by_field = {p.field: p.message for p in bad.errors}
    assert by_field["fenced"] == "未全封闭围挡的工地不能填为已完成"
    assert by_field["permit_no"] == "必填，不能为空"
    assert "area_m2" in by_field  # the column's range
    # The common rules of every ledger apply too: a done status needs its date.
    done = check_record(SITES.key, {"unit_code": "榆次区", "site_name": "西城工地", "permit_no": "XK-2",
                                    "fenced": "是", "planned_date": "2020-12-31", "status": "已完成"}, today=TODAY)
    assert [p.field for p in done.errors] == ["actual_date"]


def test_the_entry_form_shows_the_definitions_check_and_saves(qtbot, sites_db, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    form = RecordForm(GuiContext(db=sites_db, actor=BUILTIN_ADMIN, signals=DataSignals()), SITES.key)
    qtbot.addWidget(form)
    form.show()
    values = {"unit_code": YUCI, "site_name": "东城工地", "permit_no": "XK-9", "fenced": "否",
              "planned_date": "2020-12-31", "actual_date": "2021-01-02", "status": "已完成"}
    for key, value in values.items():
        form.fields[key].set_value(value)
    assert not form.save()
    assert "围挡" in form.message_of("fenced") and form.severity_of("fenced") == "error"
    assert count_records(sites_db, SITES.key) == 0
    form.fields["fenced"].set_value("是")
    assert form.save()
    [rec] = ledger_service.list_records(sites_db, SITES.key)
    assert (rec.values["site_name"], rec.values["fenced"], rec.values["unit_code"]) == ("东城工地", "是", YUCI)


# --- Excel ------------------------------------------------------------------------------------------


def test_the_template_has_the_columns_and_the_definitions_rules(sites_model, tmp_path):
    path = excel_service.save_template(SITES.key, tmp_path / "施工扬尘模板.xlsx")
    wb = openpyxl.load_workbook(path)
    data = wb[[n for n in wb.sheetnames if n != INSTRUCTIONS_SHEET][0]]
    headers = [c.value for c in next(data.iter_rows(max_row=1))]
    assert headers == [c.header for c in SITES.columns]
    text = "\n".join(str(c.value) for r in wb[INSTRUCTIONS_SHEET].iter_rows() for c in r if c.value)
    assert "工地未全封闭围挡的，状态不能填为已完成或已销号。" in text
    assert "施工许可证号相同的记录（相同施工许可证号）视为重复登记，不能导入。" in text


def test_import_export_and_reimport(sites_db, tmp_path):
    first = import_rows(sites_db, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 11)]))
    assert first.written and first.new == 10
    assert count_records(sites_db, SITES.key, RecordQuery(unit_code=YUCI)) == 10

    # The natural key is the duplicate rule's field: a changed row updates its record.
    changed = [row(i) for i in range(1, 11)]
    changed[1]["备注"] = "已复查"
    again = import_rows(sites_db, write_rows(tmp_path / "工地二.xlsx", changed))
    assert (again.new, again.changed, again.unchanged) == (0, 1, 9)

    out = excel_service.export_ledger(sites_db, SITES.key, tmp_path / "导出.xlsx", actor=CLERK, unit_code=YUCI)
    assert out.rows == 10
    back = import_rows(sites_db, out.path, actor=CLERK)
    assert (back.new, back.changed, back.unchanged, back.skipped) == (0, 0, 10, 0)


def test_an_import_with_a_duplicate_or_the_definitions_error_writes_nothing(sites_db, tmp_path):
    rows = [row(1), row(2, 施工许可证号="XK-2020-0001"), row(3, 全封闭围挡="否")]
    with pytest.raises(ImportRejected) as caught:
        import_rows(sites_db, write_rows(tmp_path / "有错.xlsx", rows))
    text = "\n".join(e.text() for e in caught.value.report.errors)
    assert "相同施工许可证号" in text and "未全封闭围挡的工地不能填为已完成" in text
    assert count_records(sites_db, SITES.key) == 0


# --- GUI model and pages ----------------------------------------------------------------------------


def test_the_table_model_pages_and_filter(qtmodeltester, sites_db, tmp_path):
    import_rows(sites_db, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 21)]))
    model = LedgerTableModel(sites_db, SITES.key, actor=BUILTIN_ADMIN)
    assert model.rowCount() == 20 and model.columnCount() == len(SITES.columns)
    qtmodeltester.check(model, force_py=True)
    name_col = SITES.keys.index("site_name")
    shown = {model.index(r, name_col).data() for r in range(model.rowCount())}
    assert "第7号工地" in shown
    done = LedgerTableModel(sites_db, SITES.key, query=RecordQuery(filters={SITES.filter_field: "已完成"}))
    assert done.rowCount() == 10
    assert SITES.key in [p.key for p in all_pages()]  # its page is built from the registry


def test_the_main_window_has_its_page(qtbot, sites_db, tmp_path):
    import_rows(sites_db, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 4)]))
    window = MainWindow(GuiContext(db=sites_db, actor=CLERK, signals=DataSignals()))
    qtbot.addWidget(window)
    window.show()
    assert window.spec(SITES.key).title == SITES.title
    window.show_page(SITES.key)
    page = window.page(SITES.key)
    assert window.stack.currentWidget() is page
    assert page.model.rowCount() == 3 and page.filter_key == "status"


# --- progress, breakdown, report ---------------------------------------------------------------------


def test_progress_counts_the_done_records(sites_db, tmp_path):
    import_rows(sites_db, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 8)]))
    ref = dataclasses.replace(reference(), indicators=(*reference().indicators, INDICATOR))
    with read_session(sites_db.engine) as s:
        rows = progress_rows(s, TODAY, ref=ref, indicators=[INDICATOR.key])
    by_unit = {r.unit_code: r for r in rows}
    assert by_unit[YUCI].done == 4  # rows 1, 3, 5, 7 are 已完成
    assert by_unit[CITY_CODE].done == 4
    chart = ledger_breakdown(sites_db, SITES.key, TODAY)
    assert chart.count("是", "已完成") == 4 and chart.count("是", "施工中") == 3


def test_the_monthly_report_lists_its_open_items_with_the_definitions_detail(sites_db, tmp_path):
    import_rows(sites_db, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 5)]))
    with read_session(sites_db.engine) as s:
        groups = report.open_items(s, YUCI, TODAY, reference())
    [group] = [g for g in groups if g.ledger == SITES.key]
    assert group.total == 2 and group.title == SITES.sheet_title
    assert [(i.label, i.detail) for i in group.items] == [
        ("第2号工地", "许可证 XK-2020-0002，已围挡"), ("第4号工地", "许可证 XK-2020-0004，已围挡")]
    out = report.write_report(sites_db, tmp_path / "榆次区月报.pdf", "2021-03", YUCI).path
    text = squash(" ".join(pdf_pages(out)))
    assert SITES.sheet_title in text and "许可证XK-2020-0004，已围挡" in text


# --- packages ---------------------------------------------------------------------------------------


def test_a_county_package_carries_the_ledger_to_the_city(sites_model, tmp_path):
    county = with_sites_table(fresh_db(tmp_path / "县" / "榆次区.sqlite3"), sites_model)
    city = with_sites_table(fresh_db(tmp_path / "市" / "市级.sqlite3"), sites_model)
    try:
        import_rows(county, write_rows(tmp_path / "工地.xlsx", [row(i) for i in range(1, 6)]))
        [gone] = [r.uuid for r in ledger_service.list_records(county, SITES.key) if r.values["site_name"] == "第5号工地"]
        ledger_service.delete_record(county, SITES.key, gone, actor=BUILTIN_ADMIN)
        exported = package_export.export_county_package(county, YUCI, "2021-03", tmp_path / "榆次区.jzpkg",
                                                        actor=BUILTIN_ADMIN)
        pkg = exported.path
        assert exported.counts[SITES.key] == 5 and exported.counts["tombstones"] == 1
        with zipfile.ZipFile(pkg) as z:
            assert SITES.member in z.namelist() and SITES.member in jzpkg.MEMBERS[jzpkg.KIND_COUNTY]
        result = package_import.import_package(city, pkg, actor=BUILTIN_ADMIN)
        assert result.imported
        [change] = [c for c in result.preview.changes if c.key == SITES.key]
        assert change.new == 4

        model = models.LEDGER_MODELS[SITES.key]
        live = model.deleted_at.is_(None)
        assert typed_rows(city, model, live) == typed_rows(county, model, live)
        with read_session(city.engine) as s:
            assert s.scalar(select(model.uuid).where(model.uuid == gone)) is None  # a tombstone of nothing
        # Importing it again changes nothing.
        again = package_import.import_package(city, pkg, actor=BUILTIN_ADMIN)
        assert not again.imported or all(c.new == c.changed == c.deleted == 0 for c in again.preview.changes)
    finally:
        county.dispose()
        city.dispose()
