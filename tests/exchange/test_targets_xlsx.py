"""The target split as .xlsx (services.targets_excel over exchange.targets_xlsx): round trip and cell-by-cell checks."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.exchange.targets_xlsx import SHEET
from jzair_desktop.services import targets
from jzair_desktop.services import targets_excel as tx
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.storage.engine import read_session


def stored(db) -> dict:
    with read_session(db.engine) as s:
        return targets.stored_targets(s)


@pytest.fixture
def split_db(db):
    weights = {u.code: float(len(u.name)) for u in reference().units}
    targets.split_city_targets(db, weights, BUILTIN_ADMIN)
    targets.set_target(db, BUILTIN_ADMIN, "coking.capacity_cut", "介休市", "12.5")
    targets.set_target(db, BUILTIN_ADMIN, "heating.other", "祁县", "")  # one 未分解 cell
    return db


def test_round_trip(split_db, tmp_path):
    before = stored(split_db)
    path = tx.export_targets(split_db, tmp_path / "任务分解表.xlsx")
    targets.clear_all_targets(split_db, BUILTIN_ADMIN)
    assert stored(split_db) == {}
    result = tx.import_targets(split_db, BUILTIN_ADMIN, path)
    assert stored(split_db) == before
    assert result.set == len(before)
    assert result.cells == len(targets.splittable_indicators()) * len(reference().units)


def test_export_layout(split_db, tmp_path):
    path = tx.export_targets(split_db, tmp_path / "分解.xlsx")
    ws = load_workbook(path)[SHEET]
    inds = targets.splittable_indicators()
    units = reference().units
    assert ws["A2"].value == "指标代码" and ws["C2"].value == inds[0].key
    assert ws["A3"].value == "县（区、市）" and ws["C3"].value == "散煤治理（户）"
    assert [ws.cell(4 + i, 1).value for i in range(len(units))] == [u.name for u in units]
    total_row = 4 + len(units)
    assert ws.cell(total_row, 1).value == "合计"
    assert ws.cell(total_row, 3).value == f"=SUM(C4:C{total_row - 1})"
    assert ws.cell(total_row + 1, 1).value == "市级目标"
    assert ws.cell(total_row + 1, 3).value == 84400
    assert ws.cell(total_row + 2, 1).value == "核对"
    qi = next(i for i, u in enumerate(units) if u.name == "祁县")
    other = next(j for j, ind in enumerate(inds) if ind.key == "heating.other")
    assert ws.cell(4 + qi, 3 + other).value is None  # 未分解 stays blank
    keys = {ind.key for ind in inds}
    assert "boilers.coal_lt35" not in keys and "dust.sweeping" not in keys


def _edit(path, changes):
    wb = load_workbook(path)
    ws = wb[SHEET]
    for ref_, value in changes.items():
        ws[ref_] = value
    wb.save(path)


def test_import_edits_and_blank_clears(split_db, tmp_path):
    path = tx.export_targets(split_db, tmp_path / "分解.xlsx")
    _edit(path, {"C4": 5000, "D4": None, "A5": "140703", "B5": None})  # 太谷区 by code
    tx.import_targets(split_db, BUILTIN_ADMIN, path)
    now = stored(split_db)
    assert now[("heating.total", "140702")] == 5000
    assert ("heating.gas", "140702") not in now


def test_import_reports_every_bad_cell_and_writes_nothing(split_db, tmp_path):
    before = stored(split_db)
    path = tx.export_targets(split_db, tmp_path / "坏表.xlsx")
    _edit(path, {"C4": -5, "D5": "很多", "E6": 10.5, "A7": "东城区"})
    with pytest.raises(ValidationFailed) as err:
        tx.import_targets(split_db, BUILTIN_ADMIN, path)
    message = str(err.value)
    assert "未导入任何数据" in message
    problems = err.value.problems
    assert len(problems) == 4
    assert any("第7行" in p and "东城区" in p for p in problems)
    assert any("第4行“散煤治理（户）”列" in p and "不能为负数" in p for p in problems)
    assert any("第5行“气代煤（户）”列" in p and "必须是数字" in p for p in problems)
    assert any("第6行“电代煤（户）”列" in p and "必须是整数" in p for p in problems)
    assert all(p.startswith("文件“坏表.xlsx”") for p in problems)
    assert stored(split_db) == before


def test_import_refuses_columns_that_are_not_split(db, tmp_path):
    path = tx.export_targets(db, tmp_path / "列.xlsx")
    _edit(path, {"C2": None, "C3": "35蒸吨以下燃煤锅炉淘汰（台）", "C4": 3,
                 "D2": None, "D3": "不存在的指标"})
    with pytest.raises(ValidationFailed) as err:
        tx.import_targets(db, BUILTIN_ADMIN, path)
    assert any("无需分解" in p for p in err.value.problems)
    assert any("未知的指标" in p and "第3行“不存在的指标”列" in p for p in err.value.problems)
    assert stored(db) == {}


def test_import_duplicate_unit_row(db, tmp_path):
    path = tx.export_targets(db, tmp_path / "重复.xlsx")
    _edit(path, {"A5": "榆次区", "C4": 1, "C5": 2})
    with pytest.raises(ValidationFailed, match="重复"):
        tx.import_targets(db, BUILTIN_ADMIN, path)
    assert stored(db) == {}


def test_import_bad_files(db, tmp_path):
    with pytest.raises(JzairError, match="找不到文件"):
        tx.import_targets(db, BUILTIN_ADMIN, tmp_path / "无.xlsx")
    junk = tmp_path / "乱码.xlsx"
    junk.write_bytes(b"\x00\x01\x02\x03 not a workbook")  # plain text would be read as a CSV file now
    with pytest.raises(JzairError, match="不是表格文件"):
        tx.import_targets(db, BUILTIN_ADMIN, junk)
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "随便什么"
    empty = tmp_path / "无表头.xlsx"
    wb.save(empty)
    with pytest.raises(JzairError, match="找不到表头行"):
        tx.import_targets(db, BUILTIN_ADMIN, empty)
    clerk = Actor(name="填报员", role="county_clerk", unit_code="140702")
    with pytest.raises(PermissionDenied):
        tx.import_targets(db, clerk, empty)
