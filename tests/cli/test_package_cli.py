"""`jzair package …` on real database files: key, export, dry run, import, re-import, refusals (exit code,
message, database file unchanged), pin, pins, history, targets; and the commands in a child process with
Chinese paths."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import ledgers
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.services.admin_helpers import raw
from tests.services.package_helpers import TODAY, read_any, remake

YUCI = "140702"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    assert not Path(str(path) + "-wal").exists()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def county(tmp_path, capsys) -> Path:
    path = tmp_path / "县里" / "榆次区.sqlite3"
    assert run(capsys, "--db", str(path), "init")[0] == 0
    db, _ = open_database(sqlite_url(path))
    for n in range(2):
        for key in LEDGER_KEYS:
            ledgers.create_record(db, key, raw(key, n), actor=BUILTIN_ADMIN, today=TODAY)
    db.dispose()
    return path


@pytest.fixture
def city(tmp_path, capsys) -> Path:
    path = tmp_path / "市里" / "市级.sqlite3"
    assert run(capsys, "--db", str(path), "init")[0] == 0
    return path


def test_init_makes_the_key_and_package_key_prints_it(county, capsys):
    code, out, err = run(capsys, "--db", str(county), "package", "key")
    assert (code, err) == (0, "")
    groups = out.splitlines()[0].removeprefix("本机报送包公钥指纹：").split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    code, out, _ = run(capsys, "--db", str(county), "package", "key", "--json")
    data = json.loads(out)
    assert jzpkg.format_fingerprint(data["fingerprint"]) == " ".join(groups)
    assert data["fingerprint"] == hashlib.sha256(bytes.fromhex(data["public_key"])).hexdigest()


@pytest.mark.slow
def test_export_import_and_import_again(county, city, tmp_path, capsys):
    pkg = tmp_path / "U盘" / "榆次区 2020年12月.jzpkg"
    code, out, err = run(capsys, "--db", str(county), "package", "export", "--county", "榆次区", "--month", "2020-12",
                         "--out", str(pkg))
    assert (code, err) == (0, "")
    assert "已导出榆次区 2020-12 县级报送包第 1 号" in out and "清洁取暖 2" in out and "签名公钥指纹" in out

    run(capsys, "--db", str(city), "package", "pins")  # the first command on a database settles it
    before = digest(city)
    code, out, err = run(capsys, "--db", str(city), "package", "import", str(pkg), "--dry-run")
    assert code == 0 and "首次导入" in out and "试运行，未写入数据库" in out
    assert digest(city) == before
    code, out, err = run(capsys, "--db", str(city), "package", "import", str(pkg))
    assert (code, err) == (0, "") and "导入完成" in out
    lines = [line for line in out.splitlines() if line.startswith("清洁取暖")]
    assert lines and lines[0].split()[1:] == ["2", "0", "0", "0"]

    after = digest(city)
    code, out, err = run(capsys, "--db", str(city), "package", "import", str(pkg))
    assert code == 0 and "导入过，内容完全相同，未做任何改动" in out
    assert digest(city) == after

    code, out, _ = run(capsys, "--db", str(city), "package", "history", "--json")
    [row] = json.loads(out)
    assert (row["name"], row["month"], row["sequence"]) == ("榆次区", "2020-12", 1)
    code, out, _ = run(capsys, "--db", str(city), "package", "pins")
    assert "榆次区" in out and "首次导入时绑定" in out


def test_a_refused_package_exits_2_with_the_reason_and_leaves_the_file_alone(county, city, tmp_path, capsys):
    pkg = tmp_path / "榆次区.jzpkg"
    run(capsys, "--db", str(county), "package", "export", "--county", YUCI, "--month", "2020-12", "--out", str(pkg))
    forged = remake(pkg, tmp_path / "伪造.jzpkg", manifest=lambda m: m.update(sequence=9))
    run(capsys, "--db", str(city), "package", "import", str(pkg))
    before = digest(city)
    code, out, err = run(capsys, "--db", str(city), "package", "import", str(forged))
    assert code == 2 and out == ""
    assert err.startswith("错误：报送包“伪造.jzpkg”被拒绝：签名公钥与本机为榆次区绑定的公钥不一致")
    assert digest(city) == before

    fp = read_any(forged)["manifest"]["signer"]["fingerprint"]
    code, out, err = run(capsys, "--db", str(city), "package", "pin", "--county", "榆次区", "--fingerprint",
                         jzpkg.format_fingerprint(fp), "--reason", "电话核对")
    assert code == 0 and "已为榆次区绑定公钥" in out and "原公钥指纹" in out
    code, out, err = run(capsys, "--db", str(city), "package", "import", str(forged))
    assert code == 0 and "导入完成" in out


def test_targets_package_from_city_to_county(county, city, tmp_path, capsys):
    assert run(capsys, "--db", str(city), "targets", "set", "trucks.eliminated", "榆次区", "120")[0] == 0
    pkg = tmp_path / "任务包.jzpkg"
    code, out, err = run(capsys, "--db", str(city), "package", "targets", "--out", str(pkg))
    assert (code, err) == (0, "") and "市级任务包第 1 号" in out and "任务目标 1 项" in out
    code, out, err = run(capsys, "--db", str(county), "package", "import", str(pkg))
    assert code == 0 and "市级任务包第 1 号" in out and "导入完成" in out
    code, out, _ = run(capsys, "--db", str(county), "targets", "show", "--json")
    trucks = next(i for i in json.loads(out) if i["indicator"] == "trucks.eliminated")
    assert next(t for t in trucks["targets"] if t["unit_code"] == YUCI)["target"] == 120.0
    code, out, _ = run(capsys, "--db", str(county), "package", "pins", "--json")
    assert [p["scope"] for p in json.loads(out)] == ["city"]


def test_bad_arguments_are_explained(county, capsys, tmp_path):
    code, out, err = run(capsys, "--db", str(county), "package", "export", "--county", "榆次区", "--month", "2030-01",
                         "--out", str(tmp_path / "x.jzpkg"))
    assert code == 2 and "不在可上报的范围内" in err
    code, out, err = run(capsys, "--db", str(county), "package", "import", str(tmp_path / "没有这个文件.jzpkg"))
    assert code == 2 and "找不到报送包文件" in err
    code, out, err = run(capsys, "--db", str(county), "package", "pin", "--county", "榆次区", "--fingerprint", "12")
    assert code == 2 and "公钥指纹格式不正确" in err


@pytest.mark.slow
def test_the_commands_in_a_child_process_with_chinese_paths(county, city, tmp_path):
    env = dict(os.environ, JZAIR_DATA_DIR=str(tmp_path / "数据"), PYTHONIOENCODING="utf-8")
    pkg = tmp_path / "报送包 目录" / "榆次区（12月）.jzpkg"

    def jzair(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "jzair_desktop", *argv], capture_output=True, text=True,
                              encoding="utf-8", env=env, timeout=120)

    done = jzair("--db", str(county), "package", "export", "--county", "榆次区", "--month", "2020-12", "--out", str(pkg))
    assert done.returncode == 0, done.stderr
    done = jzair("--db", str(city), "package", "import", str(pkg), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["imported"] and result["unit_name"] == "榆次区"
    assert {c["key"]: c["new"] for c in result["changes"]}["heating"] == 2
    bad = tmp_path / "坏.jzpkg"
    bad.write_bytes(pkg.read_bytes()[:200])
    before = digest(city)
    done = jzair("--db", str(city), "package", "import", str(bad))
    assert done.returncode == 2 and "文件已损坏或不完整" in done.stderr
    assert digest(city) == before
