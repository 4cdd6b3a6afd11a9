"""Import and export through services/excel.py on a real SQLite file: counts, re-import, round trip,
all-or-nothing, cancel, permissions, personal data."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import openpyxl
import pytest

from jzair_desktop.domain.ledgers import LEDGER_KEYS, ledger
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.exchange.excel_template import INSTRUCTIONS_SHEET
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.excel import ExcelFileError, ImportRejected
from jzair_desktop.services.ledgers import RecordQuery, count_records, list_records
from jzair_desktop.taskstate import Cancelled, TaskState
from tests.exchange import samples

TODAY = dt.date(2021, 3, 31)
CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code="140702")
OTHER_CLERK = Actor(name="太谷填报员", role="county_clerk", unit_code="140703")
VIEWER = Actor(name="查看员", role="viewer")


def db_hash(path) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def do_import(db, key, path, unit="榆次区", actor=BUILTIN_ADMIN, **kw):
    return excel_service.import_ledger(db, key, path, unit, actor=actor, today=TODAY, **kw)


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_messy_ledger_imports_then_reimports_unchanged(db, tmp_path, key):
    path = samples.MESSY[key](tmp_path / f"{key}.xlsx")
    first = do_import(db, key, path)
    assert first.written and first.new > 0 and first.changed == first.unchanged == 0
    assert count_records(db, key) == first.new
    again = do_import(db, key, path)
    assert (again.new, again.changed, again.unchanged) == (0, 0, first.new)
    assert again.skipped == first.skipped


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_export_then_import_reports_zero_changes(db, tmp_path, key):
    do_import(db, key, samples.write_clean(tmp_path / "源.xlsx", key, 25, start=1))
    do_import(db, key, samples.MESSY[key](tmp_path / "乱.xlsx", "太谷区", start=500), unit="太谷区")
    out = tmp_path / f"导出-{key}.xlsx"
    result = excel_service.export_ledger(db, key, out, actor=CLERK, unit_code="140702")
    assert result.rows == count_records(db, key, RecordQuery(unit_code="140702")) and not result.masked
    report = do_import(db, key, out, actor=CLERK)
    assert (report.new, report.changed, report.skipped) == (0, 0, 0)
    assert report.unchanged == result.rows and report.errors == []


def test_reimport_of_a_grown_ledger(db, tmp_path):
    rows = samples.clean_rows("heating", 20, start=1)
    do_import(db, "heating", samples.write_dict_rows(tmp_path / "第一版.xlsx", rows))
    grown = [dict(r) for r in rows] + samples.clean_rows("heating", 5, start=101)
    grown[0]["状态"] = "已验收"
    grown[4]["采暖面积（平方米）"] = 150.0
    grown[7]["备注"] = "复核后修改"
    report = do_import(db, "heating", samples.write_dict_rows(tmp_path / "第二版.xlsx", grown))
    assert (report.new, report.changed, report.unchanged) == (5, 3, 17)
    assert count_records(db, "heating") == 25
    by_id = {r.values["id_number"]: r.values for r in list_records(db, "heating", limit=100)}
    assert by_id[samples.make_id(1)]["status"] == "已验收"
    assert by_id[samples.make_id(5)]["area_m2"] == 150.0
    assert by_id[samples.make_id(8)]["remarks"] == "复核后修改"


def test_household_without_id_number_matches_by_place_and_name(db, tmp_path):
    rows = samples.clean_rows("heating", 3, start=1)
    for r in rows:
        r["身份证号"] = None
    do_import(db, "heating", samples.write_dict_rows(tmp_path / "无证号.xlsx", rows))
    rows[1]["身份证号"] = samples.make_id(2)  # the clerk adds the number later
    report = do_import(db, "heating", samples.write_dict_rows(tmp_path / "补证号.xlsx", rows))
    assert (report.new, report.changed, report.unchanged) == (0, 1, 2)


def test_columns_missing_from_the_file_are_left_alone(db, tmp_path):
    rows = samples.clean_rows("heating", 4, start=1)
    do_import(db, "heating", samples.write_dict_rows(tmp_path / "全.xlsx", rows))
    for r in rows:
        del r["联系电话"], r["备注"]
    report = do_import(db, "heating", samples.write_dict_rows(tmp_path / "少列.xlsx", rows))
    assert (report.new, report.changed, report.unchanged) == (0, 0, 4)
    assert any("联系电话" in n for n in report.notes)
    assert all(r.values["phone"] for r in list_records(db, "heating"))


def test_any_error_writes_nothing(db, db_path, tmp_path):
    do_import(db, "heating", samples.write_clean(tmp_path / "已有.xlsx", "heating", 10, start=1))
    before = db_hash(db_path)
    rows = samples.clean_rows("heating", 60, start=1)  # 10 to update, 50 new …
    rows[3]["状态"] = "已验收"
    rows[57]["身份证号"] = rows[57]["身份证号"][:-1] + ("0" if rows[57]["身份证号"][-1] != "0" else "1")  # … one bad
    path = samples.write_dict_rows(tmp_path / "有错.xlsx", rows)
    with pytest.raises(ImportRejected) as err:
        do_import(db, "heating", path)
    report = err.value.report
    assert [p.text() for p in report.errors] == ["第59行 身份证号：校验位不正确，请核对号码（可能有输错的数字）"]
    assert (report.new, report.changed, report.unchanged) == (49, 1, 9)
    assert report.error_file == tmp_path / "有错.错误.xlsx" and report.error_file.exists()
    assert db_hash(db_path) == before


def test_dry_run_writes_nothing(db, db_path, tmp_path):
    before = db_hash(db_path)
    report = do_import(db, "trucks", samples.messy_trucks(tmp_path / "t.xlsx"), dry_run=True)
    assert report.dry_run and not report.written and report.new == 8
    assert db_hash(db_path) == before


def test_duplicate_of_a_record_in_another_county(db, tmp_path):
    do_import(db, "trucks", samples.write_clean(tmp_path / "太谷.xlsx", "trucks", 3, unit="太谷区"), unit="太谷区")
    rows = samples.clean_rows("trucks", 2, start=2)  # row 2 is the 太谷区 truck with index 2
    with pytest.raises(ImportRejected) as err:
        do_import(db, "trucks", samples.write_dict_rows(tmp_path / "榆次.xlsx", rows))
    texts = [p.text() for p in err.value.report.errors]
    assert texts == [
        f"第2行 车辆识别代号：与已有记录（太谷区 {samples.make_plate(2)}）重复（相同车辆识别代号），一个对象只能登记一次"
    ]


def test_database_changed_between_check_and_write(db, db_path, tmp_path):
    path = samples.write_clean(tmp_path / "a.xlsx", "trucks", 4)
    data = excel_service.read_import_file(path, "trucks")
    plan = excel_service.check_import(db, data, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert plan.report.ok and plan.report.new == 4
    # Meanwhile another user imports one of the same trucks in another county.
    do_import(db, "trucks", samples.write_clean(tmp_path / "b.xlsx", "trucks", 1, unit="太谷区"), unit="太谷区")
    before = db_hash(db_path)
    with pytest.raises(ImportRejected) as err:
        excel_service.apply_import(db, plan, actor=BUILTIN_ADMIN)
    assert len(err.value.report.errors) == 1 and "太谷区" in err.value.report.errors[0].message
    assert db_hash(db_path) == before


@pytest.mark.slow
def test_cancel_while_writing_rolls_back(db, db_path, tmp_path):
    do_import(db, "heating", samples.write_clean(tmp_path / "已有.xlsx", "heating", 5, start=1))
    before = db_hash(db_path)
    seen = []

    def listener(done, total, text):
        seen.append(text)
        if text == "正在提交…":  # every row has been sent to the database, the commit is next
            state.cancel()

    state = TaskState(listener)
    path = samples.write_clean(tmp_path / "大.xlsx", "heating", 3000, start=1)
    with pytest.raises(Cancelled):
        excel_service.import_ledger(db, "heating", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY, state=state)
    assert "正在写入数据库…" in seen and seen[-1] == "正在提交…"
    assert db_hash(db_path) == before


def test_permissions(db, db_path, tmp_path):
    path = samples.write_clean(tmp_path / "榆次.xlsx", "boilers", 3)
    before = db_hash(db_path)
    with pytest.raises(PermissionDenied):
        do_import(db, "boilers", path, actor=OTHER_CLERK)
    with pytest.raises(PermissionDenied):
        do_import(db, "boilers", path, actor=VIEWER)
    assert db_hash(db_path) == before
    assert do_import(db, "boilers", path, actor=CLERK).new == 3


def test_export_masks_personal_data_for_viewers_only(db, tmp_path):
    do_import(db, "heating", samples.write_clean(tmp_path / "a.xlsx", "heating", 3, start=1))
    do_import(db, "heating", samples.write_clean(tmp_path / "b.xlsx", "heating", 2, unit="太谷区", start=50),
              unit="太谷区")
    viewer = excel_service.export_ledger(db, "heating", tmp_path / "v.xlsx", actor=VIEWER)
    clerk = excel_service.export_ledger(db, "heating", tmp_path / "c.xlsx", actor=CLERK)  # own unit, whatever asked
    admin = excel_service.export_ledger(db, "heating", tmp_path / "a2.xlsx", actor=BUILTIN_ADMIN)
    assert (viewer.rows, viewer.masked, clerk.rows, clerk.masked, admin.rows) == (5, True, 3, False, 5)
    ids_v = [r[4].value for r in openpyxl.load_workbook(tmp_path / "v.xlsx").active.iter_rows(min_row=2)]
    ids_c = [r[4].value for r in openpyxl.load_workbook(tmp_path / "c.xlsx").active.iter_rows(min_row=2)]
    assert ids_v[0] == samples.make_id(1)[:6] + "********" + samples.make_id(1)[-4:]
    assert ids_c == [samples.make_id(i) for i in (1, 2, 3)]


def test_export_layout_matches_the_template(db, tmp_path):
    do_import(db, "vocs", samples.write_clean(tmp_path / "a.xlsx", "vocs", 5))
    excel_service.save_template("vocs", tmp_path / "模板.xlsx")
    excel_service.export_ledger(db, "vocs", tmp_path / "导出.xlsx", actor=BUILTIN_ADMIN)
    tpl = openpyxl.load_workbook(tmp_path / "模板.xlsx")
    exp = openpyxl.load_workbook(tmp_path / "导出.xlsx")
    assert tpl.sheetnames == exp.sheetnames
    t, e = tpl.worksheets[0], exp.worksheets[0]
    assert [c.value for c in t[1]] == [c.value for c in e[1]] == [c.header for c in ledger("vocs").columns]
    assert [c.fill.fgColor.rgb for c in t[1]] == [c.fill.fgColor.rgb for c in e[1]]
    assert t.freeze_panes == e.freeze_panes == "A2"
    assert [(v.sqref, v.formula1) for v in t.data_validations.dataValidation] == [
        (v.sqref, v.formula1) for v in e.data_validations.dataValidation
    ]
    assert e.max_row == 6 and e["H2"].number_format == "yyyy-mm-dd"
    assert INSTRUCTIONS_SHEET in exp.sheetnames


def test_file_errors_surface_as_excel_file_error(db, tmp_path):
    with pytest.raises(ExcelFileError, match="坏.xlsx"):
        do_import(db, "heating", samples.csv_as_xlsx(tmp_path / "坏.xlsx"))


def test_export_needs_xlsx_name(db, tmp_path):
    with pytest.raises(Exception, match=r"\.xlsx"):
        excel_service.export_ledger(db, "heating", tmp_path / "a.csv", actor=BUILTIN_ADMIN)


def test_cancelled_export_leaves_no_file(db, tmp_path):
    do_import(db, "heating", samples.write_clean(tmp_path / "a.xlsx", "heating", 1200, start=1))
    state = TaskState(lambda done, total, text: state.cancel() if done >= 500 else None)
    with pytest.raises(Cancelled):
        excel_service.export_ledger(db, "heating", tmp_path / "导出.xlsx", actor=BUILTIN_ADMIN, state=state)
    assert not (tmp_path / "导出.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")] == []


def test_submitted_month_and_closed_records_are_reported_per_row(db, db_path, tmp_path):
    from jzair_desktop.services.submission import submit_month

    rows = samples.clean_rows("heating", 4, start=1)  # done dates in October 2020 (row 4 施工中, no date)
    do_import(db, "heating", samples.write_dict_rows(tmp_path / "a.xlsx", rows))
    submit_month(db, "榆次区", "2020-10", BUILTIN_ADMIN, today=TODAY)
    rows[0]["备注"] = "上报后又改"  # a record dated in the submitted month
    rows[2]["备注"] = "施工中的可以改"  # not dated: not locked
    kilns = samples.clean_rows("kilns", 2, start=1)
    kilns[0]["状态"] = "已销号"
    kilns[0]["实际完成日期"] = dt.date(2020, 11, 20)
    before = db_hash(db_path)
    with pytest.raises(ImportRejected) as err:
        do_import(db, "heating", samples.write_dict_rows(tmp_path / "b.xlsx", rows))
    texts = [p.text() for p in err.value.report.errors]
    assert len(texts) == 1 and texts[0].startswith("第2行 ") and "已上报" in texts[0]
    with pytest.raises(ImportRejected) as err:
        do_import(db, "kilns", samples.write_dict_rows(tmp_path / "k.xlsx", kilns))
    texts = [p.text() for p in err.value.report.errors]
    assert len(texts) == 1 and texts[0].startswith("第2行 ") and "销号" in texts[0]
    assert db_hash(db_path) == before
