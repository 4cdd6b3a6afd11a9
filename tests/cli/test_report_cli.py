"""`jzair report`: writes the month's PDF, refuses bad input with a Chinese message and a non-zero exit."""

from __future__ import annotations

import re

import pypdf
import pytest

from jzair_desktop.cli import main
from tests.dbtemplate import db_args
from tests.exchange import report_dataset as ds


def run(where, capsys, *args):
    capsys.readouterr()
    rc = main([*db_args(where), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def text_of(path) -> str:
    return " ".join(re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(str(path)).pages)


@pytest.fixture
def filled(db):
    ds.build(db)
    return db


@pytest.fixture
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("输出")


@pytest.mark.slow
def test_city_report(filled, db, outdir, capsys):
    out = outdir / "晋中市月报 2020年11月.pdf"
    rc, stdout, stderr = run(db, capsys, "report", "--month", "2020-11", "--out", str(out))
    assert rc == 0, stderr
    assert f"已生成全市2020年11月月报：{out}" in stdout
    pages = len(pypdf.PdfReader(str(out)).pages)
    assert f"共 {pages} 页" in stdout and "预警 6 条。" in stdout  # issue 17: unreported limits are 未报送, not lags
    text = text_of(out)
    assert "榆次区 10 2 5 50.0% 65.9% ▲滞后 2" in text
    assert f"第 {pages} 页 共 {pages} 页" in text


@pytest.mark.slow
def test_county_report_with_letters_by_code(filled, db, outdir, capsys):
    out = outdir / "yc.pdf"
    rc, stdout, _ = run(db, capsys, "report", "--month", "2020年11月", "--out", str(out), "--county", "140702",
                        "--letters")
    assert rc == 0
    assert "已生成榆次区2020年11月月报" in stdout and "预警函 1 份" in stdout
    text = text_of(out)
    assert "关于榆次区重点任务进展缓慢的预警函" in text  # issue 17: the plan's words (二十一)
    assert "东阳镇 30 30 0 100.0%" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2019-09"], "不在攻坚行动期间"),
        (["--month", "2020-1x"], "月份格式不正确"),
        (["--month", "2020-11", "--county", "太原市"], "未知的县（区、市）：“太原市”"),
    ],
)
def test_bad_month_or_unit(filled, db, outdir, capsys, args, message):
    out = outdir / "r.pdf"
    rc, stdout, stderr = run(db, capsys, "report", *args, "--out", str(out))
    assert rc != 0
    assert message in stderr and stderr.startswith("错误：")
    assert not out.exists()


@pytest.mark.slow
def test_unwritable_output_is_refused_and_an_old_report_survives(filled, db, outdir, capsys):
    rc, _, stderr = run(db, capsys, "report", "--month", "2020-11", "--out", str(outdir / "无此文件夹" / "r.pdf"))
    assert rc != 0 and "输出文件夹不存在" in stderr
    rc, _, stderr = run(db, capsys, "report", "--month", "2020-11", "--out", str(outdir / "r.docx"))
    assert rc != 0 and ".pdf" in stderr
    old = outdir / "old.pdf"
    assert run(db, capsys, "report", "--month", "2020-11", "--out", str(old))[0] == 0
    before = old.read_bytes()
    rc, _, stderr = run(db, capsys, "report", "--month", "2022-01", "--out", str(old))
    assert rc != 0 and old.read_bytes() == before


def test_missing_arguments_are_explained_in_chinese(db_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db_path), "report", "--month", "2020-11"])
    assert exc.value.code == 2
    assert "缺少必需的参数" in capsys.readouterr().err


def test_missing_database_is_refused(tmp_path, capsys):
    rc = main(["--db", str(tmp_path / "无.sqlite3"), "report", "--month", "2020-11", "--out", str(tmp_path / "r.pdf")])
    assert rc != 0
    assert "数据库文件不存在" in capsys.readouterr().err
