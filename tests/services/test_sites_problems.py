"""The 建筑工地 (sites) and 问题清单 (problems) ledgers, defined in the registry only, through every path:
validation (bad input first), a messy workbook and a GBK CSV, export round trip, progress (the supervised
site count, 六个百分之百 as a limit), overdue problems as warnings and in the 预警函, the report's sections,
a county package to the city, and the migration of the typed 建筑工地动态监管 figures."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from jzair_desktop.domain.ledgers import LEDGERS, PROBLEMS, SITES
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services import closeout, progress, report
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services import targets as targets_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.excel import ImportRejected
from jzair_desktop.services.ledgers import count_records
from jzair_desktop.services.packages import export as package_export
from jzair_desktop.services.packages import importer as package_import
from jzair_desktop.services.problems import PROBLEMS_KIND, overdue_problems, problem_figures
from jzair_desktop.storage import models
from jzair_desktop.storage.engine import read_session
from tests.dbtemplate import cli_db_args
from tests.exchange.test_pdf_report import pdf_pages, squash
from tests.services.package_helpers import fresh_db, typed_rows
from tests.services.test_closeout import photo

TODAY = dt.date(2021, 3, 31)
YUCI, QIXIAN = "140702", "140727"
CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code=YUCI)
SIX = ("fence", "cover", "wet_work", "paving", "washing", "sealed_transport")


def site(n: int, **over: Any) -> dict[str, Any]:
    rec = {"unit_code": "榆次区", "project_name": f"锦绣园小区{n}期", "builder": "晋中锦绣房地产开发有限公司",
           "contractor": "山西建工集团有限公司", "start_date": "2020-05-10", "status": "在建",
           **dict.fromkeys(SIX, "是"), "online_monitor": "是", "video": "否"}
    rec.update(over)
    return rec


def problem(n: int, **over: Any) -> dict[str, Any]:
    rec = {"unit_code": "榆次区", "source": "督察", "document_no": "晋环督〔2020〕15号",
           "description": f"东阳镇某砖厂原料堆场未封闭{n}", "department": "榆次区生态环境局",
           "found_date": "2020-10-20", "due_date": "2020-11-30", "status": "整改中"}
    rec.update(over)
    return rec


def errors_of(ledger_key: str, raw: dict[str, Any]) -> dict[str, str]:
    return {p.field: p.message for p in check_record(ledger_key, raw, today=TODAY).errors}


def add(db, ledger_key: str, raw: dict[str, Any], actor: Actor = BUILTIN_ADMIN):
    return ledger_service.create_record(db, ledger_key, raw, actor=actor, today=TODAY)


# --- bad input ----------------------------------------------------------------------------------------


def test_a_site_in_construction_must_state_every_item_of_the_six():
    errs = errors_of("sites", site(1, cover=None, washing=""))
    assert set(errs) == {"cover", "washing"}
    assert errs["cover"] == "在建工地必须逐项填写“六个百分之百”：物料堆放覆盖填“是”或“否”"
    # A site stopped or finished need not (the items concern work going on).
    assert errors_of("sites", site(1, status="停工", cover=None)) == {}


def test_bad_site_values_are_named_with_their_reason():
    errs = errors_of("sites", site(1, status="施工中", fence="也许", start_date="2021-05-01", floor_area="-3",
                                   project_name=" "))
    assert "在建" in errs["status"] and "已销号" in errs["status"]  # the closed list is named
    assert "是" in errs["fence"] and "否" in errs["fence"]
    assert "晚于今天" in errs["start_date"]
    assert "floor_area" in errs and errs["project_name"] == "必填，不能为空"


def test_bad_problem_values_are_named_with_their_reason():
    errs = errors_of("problems", problem(1, source="群众举报", due_date="2020-10-01", status="已整改"))
    assert "三年行动计划" in errs["source"]
    assert errs["due_date"] == "整改时限 2020-10-01 早于发现（交办）日期 2020-10-20"
    assert errs["done_date"] == "状态为“已整改”时必须填写整改完成日期"
    assert errors_of("problems", problem(1, done_date="2021-04-02", status="已整改"))["done_date"].endswith(
        "实际完成的日期不能在将来")


def test_a_problem_without_a_due_date_is_due_at_the_end_of_2020_and_a_found_one_is_warned():
    checked = check_record("problems", problem(1, source="三年行动计划", due_date=None, found_date=None),
                           today=TODAY)
    assert checked.ok and checked.values["due_date"] == dt.date(2020, 12, 31)
    assert not checked.warnings
    found = check_record("problems", problem(1, due_date=None, document_no=None, found_date=None), today=TODAY)
    assert found.ok and {p.field for p in found.warnings} == {"due_date", "document_no"}


def test_a_refused_write_writes_nothing(db):
    with pytest.raises(Exception) as caught:
        add(db, "sites", site(1, paving=None))
    assert "路面硬化" in str(caught.value)
    add(db, "sites", site(1))
    with pytest.raises(Exception) as dup:
        add(db, "sites", site(1, address="另一个地址"))
    assert "相同项目名称" in str(dup.value)
    assert count_records(db, "sites") == 1


def test_a_county_clerk_cannot_write_another_units_site(db):
    with pytest.raises(PermissionDenied, match="只能填报本县（区、市）的数据，不能修改“祁县”的记录"):
        add(db, "sites", site(1, unit_code="祁县"), actor=CLERK)
    assert count_records(db, "sites") == 0


# --- Excel and CSV --------------------------------------------------------------------------------------


def messy_sites_workbook(path, rows: list[list[Any]]):
    """What a 住建局 keeps: a merged title, a date line, the header with its own words, a 合计 row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工地台账"
    header = ["序号", "县(市、区)", "工程名称", "项目地址", "建设单位", "施工企业", "开工时间", "施工状态",
              "建筑面积（平方米）", "围挡", "物料覆盖", "湿法作业", "道路硬化", "车辆冲洗", "密闭运输", "扬尘在线监测",
              "视频监控", "备注"]
    ws.append(["榆次区建筑工地扬尘治理动态管理台账"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(["填报单位：榆次区住建局", None, None, None, None, None, "填报日期：2021年3月25日"])
    ws.append(header)
    for i, r in enumerate(rows, start=1):
        ws.append([i, *r])
    ws.append([None] * len(header))
    ws.append(["合 计", None, f"{len(rows)}个"])
    wb.save(path)
    return path


def sites_rows(n: int) -> list[list[Any]]:
    out = []
    for i in range(1, n + 1):
        status = "在建" if i % 4 else "停工"
        six = ["是", "√", "是", "是", "是" if i != 3 else "否", "是"]
        out.append(["榆 次 区", f"榆次区第{i}号地块住宅项目", f"迎宾街{i}号", "晋中城投公司", "山西建工集团有限公司",
                    dt.datetime(2020, 4, i) if i % 2 else f"2020年4月{i}日", status, f"{12000 + i:,}", *six,
                    "是", "否", None])
    return out


def test_a_messy_workbook_imports_and_its_export_reimports_unchanged(db, tmp_path):
    path = messy_sites_workbook(tmp_path / "榆次区工地台账.xlsx", sites_rows(8))
    first = excel_service.import_ledger(db, "sites", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert first.written and first.new == 8 and first.header_row == 3
    [rec3] = [r for r in ledger_service.list_records(db, "sites") if r.values["project_name"] == "榆次区第3号地块住宅项目"]
    assert rec3.values["washing"] == "否" and rec3.values["cover"] == "是" and rec3.values["floor_area"] == 12003
    assert rec3.values["start_date"] == dt.date(2020, 4, 3)
    out = excel_service.export_ledger(db, "sites", tmp_path / "导出.xlsx", actor=CLERK, unit_code=YUCI)
    assert out.rows == 8
    back = excel_service.import_ledger(db, "sites", out.path, "榆次区", actor=CLERK, today=TODAY)
    assert (back.new, back.changed, back.unchanged) == (0, 0, 8)


def test_a_workbook_with_bad_rows_is_refused_whole_naming_row_and_field(db, tmp_path):
    rows = sites_rows(4)
    rows[1][8] = None  # 围挡 of a site 在建: row 5 of the sheet
    rows[2][1] = rows[0][1]  # the same project twice
    rows[3][6] = "施工中"
    path = messy_sites_workbook(tmp_path / "有错.xlsx", rows)
    with pytest.raises(ImportRejected) as caught:
        excel_service.import_ledger(db, "sites", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    texts = [e.text() for e in caught.value.report.errors]
    assert any(t.startswith("第5行 围挡：在建工地必须逐项填写“六个百分之百”：工地周边围挡") for t in texts), texts
    assert any("第6行" in t and "相同项目名称" in t for t in texts), texts
    assert any(t.startswith("第7行 施工状态：“施工中”不在可选范围内") for t in texts), texts
    assert count_records(db, "sites") == 0


def test_a_gbk_csv_of_problems_imports(db, tmp_path):
    lines = [
        "榆次区问题清单（销号台账）,,,,,,,,",
        "序号,区县,问题来源,交办文号,问题描述,责任单位,交办日期,整改期限,完成情况,完成日期",
        "1,榆次区,督察,晋环督〔2020〕15号,东阳镇砖厂堆场未封闭,榆次区生态环境局,2020/10/20,2020.11.30,已整改,2020-11-25",
        "2,榆次区,三年行动计划,,城中村散煤清零未完成,榆次区能源局,,,整改中,",
        "合计,,,,,,,,,",
    ]
    path = tmp_path / "问题清单.csv"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    result = excel_service.import_ledger(db, "problems", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert result.written and result.new == 2
    by_desc = {r.values["description"]: r.values for r in ledger_service.list_records(db, "problems")}
    assert by_desc["东阳镇砖厂堆场未封闭"]["due_date"] == dt.date(2020, 11, 30)
    assert by_desc["城中村散煤清零未完成"]["due_date"] == dt.date(2020, 12, 31)  # (十八)'s date when blank


# --- progress and warnings ----------------------------------------------------------------------------------


def test_the_supervised_site_count_and_the_six_rate(db, tmp_path):
    for n in range(1, 5):
        add(db, "sites", site(n))
    add(db, "sites", site(5, cover="否", sealed_transport="否"))
    add(db, "sites", site(6, status="停工"))
    closed = add(db, "sites", site(7, status="完工")).uuid
    closeout.close_out(db, "sites", closed, "张审核", BUILTIN_ADMIN, evidence=[photo(tmp_path / "验收.jpg")])
    assert ledger_service.get_record(db, "sites", closed).values["status"] == "已销号"  # left supervision
    add(db, "sites", site(8, start_date="2021-03-20"))  # started after 2021-02-28
    add(db, "sites", site(1, unit_code="祁县"))
    with read_session(db.engine) as s:
        rows = {(r.indicator, r.unit_code): r for r in progress.progress_rows(
            s, TODAY, indicators=["dust.construction_sites", "sites.six_full"])}
        feb = {(r.indicator, r.unit_code): r for r in progress.progress_rows(
            s, dt.date(2021, 2, 28), indicators=["dust.construction_sites"])}
    assert rows[("dust.construction_sites", YUCI)].done == 7
    assert feb[("dust.construction_sites", YUCI)].done == 6
    six = rows[("sites.six_full", YUCI)]
    assert six.kind == "limit" and six.status == "not_met" and six.done == pytest.approx(100 * 5 / 6)
    assert six.met_text == ""  # judged as the ledger stands: no months counted
    assert rows[("sites.six_full", QIXIAN)].status == "met"
    assert rows[("sites.six_full", "140721")].status == "no_data"  # no site 在建
    city = rows[("sites.six_full", "140700")]
    assert city.status == "not_met" and (city.months_met, city.months_reported) == (1, 2)
    assert any(w.indicator == "sites.six_full" and w.unit_code == YUCI for w in progress.warnings(db, TODAY))


def test_overdue_problems_raise_a_warning_per_unit_and_go_into_the_letter(db):
    add(db, "problems", problem(1))  # due 2020-11-30, 整改中: overdue
    add(db, "problems", problem(2, due_date="2021-04-30"))  # open, not yet due
    add(db, "problems", problem(3, status="已整改", done_date="2020-11-20"))
    add(db, "problems", problem(4, status="已整改", done_date="2020-12-05"))  # late, but done
    add(db, "problems", problem(1, unit_code="祁县", status="已整改", done_date="2020-11-25"))
    warnings = [w for w in progress.warnings(db, TODAY) if w.kind == PROBLEMS_KIND]
    assert [(w.unit_code, w.done, w.target, w.status, w.due) for w in warnings] == [
        (YUCI, 1.0, 3.0, "overdue", dt.date(2020, 11, 30))]
    assert all(w.kind != PROBLEMS_KIND for w in progress.warnings(db, dt.date(2020, 11, 30)))  # due that day
    data = report.build_report_data(db, "2021-03", letters=True)
    [letter] = [x for x in data.letters if x.unit_code == YUCI]
    [item] = [w for w in letter.items if w.is_problems]
    assert item.gap_text() == "1项超过整改时限仍未整改（已到期3项）" and item.done_text() == "逾期1项"
    with read_session(db.engine) as s:
        total, items = overdue_problems(s, TODAY)
        figs = {f.unit_code: f for f in problem_figures(s, "2020-11")}
    assert total == 1 and items[0].description == "东阳镇某砖厂原料堆场未封闭1" and items[0].overdue_days == 121
    yuci = figs[YUCI]
    assert (yuci.total, yuci.opened, yuci.closed, yuci.done, yuci.overdue) == (4, 0, 1, 1, 0)


# --- report -----------------------------------------------------------------------------------------------


def test_the_report_has_the_sites_and_problems_sections(db, tmp_path):
    for n in range(1, 4):
        add(db, "sites", site(n))
    add(db, "sites", site(4, cover="否"))
    add(db, "problems", problem(1))
    add(db, "problems", problem(2, found_date="2021-03-05", due_date="2021-04-30"))
    city = squash(" ".join(pdf_pages(report.write_report(db, tmp_path / "全市.pdf", "2021-03").path)))
    assert "四、建筑工地" in city and "全市动态监管建筑工地4个（目标349个）" in city
    assert "锦绣园小区4期" in city and "物料堆放覆盖" in city
    assert "问题清单" in city and "超过整改时限仍未整改的问题：1项" in city
    assert "东阳镇某砖厂原料堆场未封闭1" in city
    county = squash(" ".join(pdf_pages(report.write_report(db, tmp_path / "榆次区.pdf", "2021-03", "榆次区").path)))
    assert "榆次区动态监管建筑工地4个" in county and "锦绣园小区4期" in county
    assert "榆次区问题清单" in county


# --- package and migration ----------------------------------------------------------------------------------


def test_a_county_package_carries_both_ledgers_to_the_city(tmp_path):
    county = fresh_db(tmp_path / "县" / "榆次区.sqlite3")
    city = fresh_db(tmp_path / "市" / "市级.sqlite3")
    try:
        for n in range(1, 4):
            add(county, "sites", site(n))
            add(county, "problems", problem(n))
        exported = package_export.export_county_package(county, YUCI, "2021-03", tmp_path / "榆次区.jzpkg",
                                                        actor=BUILTIN_ADMIN)
        assert exported.counts["sites"] == 3 and exported.counts["problems"] == 3
        result = package_import.import_package(city, exported.path, actor=BUILTIN_ADMIN)
        assert result.imported
        for key in ("sites", "problems"):
            model = models.LEDGER_MODELS[key]
            live = model.deleted_at.is_(None)
            assert typed_rows(city, model, live) == typed_rows(county, model, live)
    finally:
        county.dispose()
        city.dispose()


def test_the_registry_defines_both_ledgers_with_their_pages_and_members():
    assert LEDGERS["sites"] is SITES and LEDGERS["problems"] is PROBLEMS
    assert SITES.natural_keys == (("unit_code", "project_name"),)
    assert SITES.member == "sites.jsonl" and PROBLEMS.member == "problems.jsonl"
    assert targets_service.rule_of(reference().indicator("dust.construction_sites")) == "split"


def test_the_migration_keeps_the_typed_site_figures(tmp_path):
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url
    from tests.storage.test_migrations import migrate_to

    path = tmp_path / "旧版.sqlite3"
    migrate_to(path, "0007")
    old, _ = open_database(sqlite_url(path), upgrade=False)
    try:
        load_reference_data(old)
    finally:
        old.dispose()
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO monthly_figures VALUES (?, ?, ?, ?, '2020-12-01 09:00:00', '榆次填报员')",
            [(YUCI, "dust.construction_sites", "2020-10", 30.0), (YUCI, "dust.construction_sites", "2020-11", 12.0),
             (YUCI, "nonroad.inspection", "2020-11", 40.0)])
    con.close()
    database, _ = open_database(sqlite_url(path))
    try:
        with read_session(database.engine) as s:
            kept = s.execute(select(models.RetiredMonthlyFigure.month, models.RetiredMonthlyFigure.value,
                                    models.RetiredMonthlyFigure.updated_by)).all()
            left = s.execute(select(models.MonthlyFigure.indicator_key)).scalars().all()
        assert sorted(kept) == [("2020-10", 30.0, "榆次填报员"), ("2020-11", 12.0, "榆次填报员")]
        assert left == ["nonroad.inspection"]
    finally:
        database.dispose()


def test_the_cli_warning_list_shows_overdue_problems(db, capsys):
    from jzair_desktop.cli import main as cli_main

    add(db, "problems", problem(1))
    add(db, "problems", problem(2, due_date="2021-04-30"))
    assert cli_main([*cli_db_args(db), "warnings", "--as-of", "2021-03-31"]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "逾期未整改问题" in x]
    assert "榆次区" in line and "逾期" in line and "未分解" not in line
