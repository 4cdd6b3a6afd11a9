"""The read commands run by a county clerk: the own unit by default, another unit refused (each tried as the
attack), and ledgers named in Chinese wherever a ledger is named."""

from __future__ import annotations

import json

import openpyxl
import pytest

from jzair_desktop.cli import main
from jzair_desktop.services import accounts, air
from jzair_desktop.services.actor import BUILTIN_ADMIN
from tests.dbtemplate import db_args
from tests.exchange import report_dataset as ds
from tests.services.admin_helpers import fast_hasher  # noqa: F401 - fixture

PASSWORD = "Taigu-Pass-2020"
REFUSED = "只能查看本县（区、市）（太谷区）"


@pytest.fixture
def county_db(db, fast_hasher, monkeypatch):  # noqa: F811
    """The report dataset (榆次区 and 太谷区 records, targets, figures, air quality) with a city administrator,
    a 太谷区 clerk (taigu01) and a viewer."""
    ds.build(db)
    air.set_air_quality(db, BUILTIN_ADMIN, "太谷区", "2020-11", pm25=55, heavy_days=1)
    admin = accounts.add_user(db, BUILTIN_ADMIN, "city01", "city_admin", PASSWORD).actor()
    accounts.add_user(db, admin, "taigu01", "county_clerk", PASSWORD, unit="太谷区")
    accounts.add_user(db, admin, "viewer01", "viewer", PASSWORD)
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    return db


def run(where, capsys, user, *args):
    capsys.readouterr()
    pre = ["--user", user] if user else []
    try:
        rc = main([*db_args(where), *pre, *args])
    except SystemExit as exc:  # argparse refused an argument
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


# --- every read command naming another unit, run by the 太谷区 clerk: refused, nothing written ----------------

ATTACKS = [
    ("export", "heating", "{tmp}/榆次区.xlsx", "--county", "榆次区"),
    ("export", "柴油货车", "{tmp}/榆次区.xlsx", "--county", "140702"),
    ("report", "--month", "2020-11", "--out", "{tmp}/榆次区.pdf", "--county", "榆次区"),
    ("report", "--month", "2020-11", "--out", "{tmp}/全市.pdf"),
    ("progress", "--county", "榆次区"),
    ("figures", "show", "--county", "榆次区"),
    ("figures", "show", "--county", "全市"),
    ("air", "show", "--area", "榆次区"),
    ("air", "show", "--area", "市城区"),
    ("targets", "export", "{tmp}/任务分解.xlsx"),
    ("submissions", "--county", "榆次区"),
]


@pytest.mark.parametrize("argv", ATTACKS, ids=[" ".join(a[:2]) + f"-{i}" for i, a in enumerate(ATTACKS)])
def test_clerk_naming_another_unit_is_refused(county_db, capsys, tmp_path, argv):
    tmp_path = tmp_path / "输出"
    tmp_path.mkdir()
    argv = [a.format(tmp=tmp_path) for a in argv]
    rc, out, err = run(county_db, capsys, "taigu01", *argv)
    assert rc != 0, out
    assert REFUSED in err or "只能生成本县" in err, err
    assert "榆次区" not in out
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_reported_case_export_heating_for_yuci(county_db, capsys, tmp_path_factory):
    """`jzair --user taigu01 export heating yuci.xlsx --county 榆次区` wrote 太谷区's records while printing
    （榆次区）: now refused, and without --county the clerk's own unit is exported and named."""
    tmp_path = tmp_path_factory.mktemp("输出")
    rc, out, err = run(county_db, capsys, "taigu01", "export", "heating", str(tmp_path / "yuci.xlsx"), "--county", "榆次区")
    assert rc != 0 and REFUSED in err and "榆次区" in err
    assert not (tmp_path / "yuci.xlsx").exists()
    rc, out, err = run(county_db, capsys, "taigu01", "export", "柴油货车", str(tmp_path / "own.xlsx"))
    assert rc == 0, err
    assert "（太谷区）4 条记录" in out
    ws = openpyxl.load_workbook(tmp_path / "own.xlsx").worksheets[0]
    units = {r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert units == {"太谷区"}
    rc, out, err = run(county_db, capsys, "taigu01", "export", "trucks", str(tmp_path / "own2.xlsx"), "--county", "太谷区")
    assert rc == 0 and "（太谷区）4 条记录" in out


def test_city_admin_reads_the_unit_named(county_db, capsys, tmp_path):
    rc, out, err = run(county_db, capsys, "city01", "export", "清洁取暖", str(tmp_path / "yuci.xlsx"), "--county", "榆次区")
    assert rc == 0, err
    assert "已导出“清洁取暖散煤替代台账”（榆次区）55 条记录" in out
    rc, out, _ = run(county_db, capsys, "city01", "progress", "--county", "榆次区", "--json")
    assert rc == 0 and {r["unit_code"] for r in json.loads(out)} == {"140702"}


def _json(county_db, capsys, *argv):
    rc, out, err = run(county_db, capsys, "taigu01", *argv, "--json")
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.slow
def test_clerk_defaults_to_the_own_unit(county_db, capsys, tmp_path):
    assert {r["unit_code"] for r in _json(county_db, capsys, "progress")} == {"140703"}
    assert {r["unit_code"] for r in _json(county_db, capsys, "progress", "--county", "太谷区")} == {"140703"}
    assert {r["unit_code"] for r in _json(county_db, capsys, "warnings")} <= {"140703"}
    assert {r["unit_code"] for r in _json(county_db, capsys, "milestone", "show")} <= {"140703"}
    assert _json(county_db, capsys, "figures", "show") == []  # 榆次区's figures are not shown
    air = _json(county_db, capsys, "air", "show")
    assert [a["area"] for a in air] == ["太谷区"]
    assert {a["area_code"] for a in _json(county_db, capsys, "air", "bases")} == {"140703"}
    assert {a["area_code"] for a in _json(county_db, capsys, "air", "progress", "--as-of", "2020-11-30")} <= {"140703"}
    table = _json(county_db, capsys, "targets", "show")
    assert {u["unit_code"] for t in table for u in t["targets"]} == {"140703"}
    rc, out, err = run(county_db, capsys, "taigu01", "submissions")
    assert rc == 0 and "榆次区" not in out, err
    rc, out, err = run(county_db, capsys, "taigu01", "audit", "log", "--limit", "0")
    assert rc == 0 and "榆次区" not in out, err
    rc, out, err = run(county_db, capsys, "taigu01", "report", "--month", "2020-11", "--county", "太谷区", "--out",
                       str(tmp_path / "太谷区.pdf"))
    assert rc == 0, err


def test_without_a_user_the_public_reads_are_as_before(county_db, capsys):
    rc, out, err = run(county_db, capsys, None, "progress", "--county", "榆次区", "--json")
    assert rc == 0 and {r["unit_code"] for r in json.loads(out)} == {"140702"}


@pytest.mark.parametrize("name", ["清洁取暖", "清洁取暖散煤替代台账", "柴油货车", "锅炉综合整治", "工业炉窑", "VOCs治理",
                                  "vocs", "Heating"])
def test_template_accepts_chinese_ledger_names(county_db, capsys, tmp_path, name):
    rc, out, err = run(county_db, capsys, None, "template", name, str(tmp_path / "模板.xlsx"))
    assert rc == 0, err
    assert (tmp_path / "模板.xlsx").exists()


def test_chinese_ledger_names_in_audit_and_closeout(county_db, capsys):
    rc, out, err = run(county_db, capsys, "city01", "audit", "log", "--ledger", "柴油货车", "--json")
    assert rc == 0, err
    assert {r["ledger"] for r in json.loads(out)} <= {"trucks"}
    rc, out, err = run(county_db, capsys, "city01", "audit", "log", "--ledger", "火车")
    assert rc == 2 and "未知的台账：“火车”" in err and "清洁取暖（heating）" in err
    rc, out, err = run(county_db, capsys, "city01", "closeout", "柴油货车", "x", "--reviewer", "张三")
    assert rc == 2 and "不能用于此命令" in err  # trucks have no 销号
    rc, out, err = run(county_db, capsys, "city01", "import", "清洁取暖", "不存在.xlsx", "--county", "榆次区")
    assert rc != 0 and "不存在.xlsx" in err


def test_unknown_ledger_is_named_in_chinese(county_db, capsys, tmp_path):
    rc, out, err = run(county_db, capsys, None, "template", "火车", str(tmp_path / "x.xlsx"))
    assert rc != 0 and "未知的台账：“火车”" in err


def test_a_clerks_template_offers_the_own_unit_only(county_db, capsys, tmp_path):
    rc, out, err = run(county_db, capsys, "taigu01", "template", "清洁取暖", str(tmp_path / "模板.xlsx"))
    assert rc == 0, err
    wb = openpyxl.load_workbook(tmp_path / "模板.xlsx")
    lists = [dv.formula1 for dv in wb.worksheets[0].data_validations.dataValidation]
    assert '"太谷区"' in lists
    rc, out, err = run(county_db, capsys, "city01", "template", "清洁取暖", str(tmp_path / "全市.xlsx"))
    lists = [dv.formula1 for dv in openpyxl.load_workbook(tmp_path / "全市.xlsx").worksheets[0].data_validations.dataValidation]
    assert '"太谷区"' not in lists and any("榆次区" in (f or "") for f in lists)
