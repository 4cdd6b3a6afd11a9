"""jzair template / import / export through the command line (cli.main and one real subprocess)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import openpyxl
import pytest

from jzair_desktop.cli import main
from jzair_desktop.domain.ledgers import LEDGER_KEYS, ledger
from tests.dbtemplate import cli_db_args
from tests.exchange import samples
from tests.services.admin_helpers import snapshot


def db_hash(db) -> str:
    """A digest of every row of every table (equal digests: nothing was written)."""
    return hashlib.sha256(repr(snapshot(db)).encode()).hexdigest()


@pytest.fixture
def run(db, capsys):
    """jzair --db <the test database> ARGS → (exit code, stdout, stderr)."""
    main([*cli_db_args(db), "info"])  # the first open by the CLI may record facts in app_meta
    capsys.readouterr()

    def _run(*args: str) -> tuple[int, str, str]:
        code = main([*cli_db_args(db), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_template(run, tmp_path, key):
    path = tmp_path / f"{key}模板.xlsx"
    code, out, _ = run("template", key, str(path))
    assert code == 0 and "已生成" in out
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == [c.header for c in ledger(key).columns]


def test_import_messy_ledger_then_again(run, tmp_path):
    path = samples.messy_heating(tmp_path / "榆次区台账.xlsx")
    code, out, err = run("import", "heating", str(path), "--county", "榆次区")
    assert code == 0, err
    assert "工作表“清洁取暖”，表头在第3行" in out
    assert "忽略了台账没有的列：序号、入户核查人。" in out
    assert "第17行 已跳过（合计行）" in out
    assert "导入完成：新增 12 条，修改 0 条，未变 0 条，跳过 3 行，有提示 0 条。" in out
    code, out, _ = run("import", "heating", str(path), "--county", "140702")
    assert code == 0 and "新增 0 条，修改 0 条，未变 12 条" in out


def test_import_with_errors_prints_one_line_per_problem_and_writes_nothing(run, db, tmp_path):
    rows = samples.clean_rows("heating", 6, start=1)
    rows[1]["身份证号"] = 1.40702196001e17
    rows[3]["改造方式"] = "烧柴"
    rows[4]["县（区、市）"] = "太谷区"
    path = samples.write_dict_rows(tmp_path / "有错的台账.xlsx", rows, title_rows=[["台账"]])
    before = db_hash(db)
    code, out, err = run("import", "heating", str(path), "--county", "榆次区")
    assert code == 1
    lines = [ln for ln in out.splitlines() if ln.startswith("第")]
    assert lines[0].startswith("第4行 身份证号：身份证号已被 Excel 转成数字")
    assert lines[1].startswith("第6行 改造方式：“烧柴”不在可选范围内，可选：气代煤、电代煤、集中供热、其他清洁能源")
    assert lines[2] == "第7行 县（区、市）：该行是“太谷区”的记录，本次导入的是“榆次区”。请删除该行，或按县（区、市）分别导入"
    assert len(lines) == 3
    assert "错误已标注在：" in out and (tmp_path / "有错的台账.错误.xlsx").exists()
    assert "导入未执行" in err and "Traceback" not in err
    assert db_hash(db) == before


def test_dry_run(run, db, tmp_path):
    before = db_hash(db)
    code, out, _ = run("import", "trucks", str(samples.messy_trucks(tmp_path / "货车.xlsx")), "--county", "榆次区",
                       "--dry-run")
    assert code == 0 and "检查通过（试运行，未写入数据库）：新增 8 条" in out
    assert db_hash(db) == before


BAD = {
    "corrupt": lambda p, t: samples.corrupt_zip(p, samples.write_clean(t / "好.xlsx", "heating", 2)),
    "encrypted": lambda p, t: samples.encrypted_xlsx(p),
    "xls": lambda p, t: samples.xls_as_xlsx(p),
    "csv": lambda p, t: samples.csv_as_xlsx(p),
    "empty": lambda p, t: samples.empty_workbook(p),
    "no-header": lambda p, t: samples.without_header(p),
    "huge": lambda p, t: samples.huge_xlsx(p, rows=1_000_000),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(BAD))
def test_bad_files_exit_non_zero_with_a_message_naming_the_file(run, db, tmp_path, kind):
    path = tmp_path / f"文件-{kind}.xlsx"
    BAD[kind](path, tmp_path)
    before = db_hash(db)
    code, out, err = run("import", "heating", str(path), "--county", "榆次区")
    assert code != 0
    assert err.startswith("错误：") and path.name in err and "Traceback" not in err
    assert db_hash(db) == before


def test_unknown_ledger_and_unit(run, tmp_path):
    code, _, err = run("import", "coal", str(tmp_path / "a.xlsx"), "--county", "榆次区")
    assert code != 0 and "未知的台账" in err
    path = samples.write_clean(tmp_path / "a.xlsx", "heating", 2)
    code, _, err = run("import", "heating", str(path), "--county", "北京")
    assert code != 0 and "未知的县（区、市）" in err


def test_export_then_import_zero_changes(run, tmp_path):
    run("import", "boilers", str(samples.messy_boilers(tmp_path / "锅炉.xlsx")), "--county", "榆次区")
    out_path = tmp_path / "导出 锅炉.xlsx"
    code, out, _ = run("export", "boilers", str(out_path), "--county", "榆次区")
    assert code == 0 and "6 条记录" in out
    code, out, _ = run("import", "boilers", str(out_path), "--county", "榆次区")
    assert code == 0 and "新增 0 条，修改 0 条，未变 6 条" in out


@pytest.mark.slow
def test_subprocess_with_chinese_paths(run, db, tmp_path):
    """The installed entry point, as a clerk runs it (no traceback, exit codes)."""
    path = samples.messy_vocs(tmp_path / "晋中 VOCs 台账.xlsx")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "jzair_desktop", *cli_db_args(db), "import", "vocs", str(path), "--county", "榆次区"]
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "导入完成：新增 5 条" in done.stdout
    bad = samples.csv_as_xlsx(tmp_path / "假的.xlsx")
    cmd[-3] = str(bad)
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert done.returncode == 2 and "假的.xlsx" in done.stderr and "Traceback" not in done.stderr
