"""`jzair init / plan / info / self-test` and the global database options."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jzair_desktop import __version__
from jzair_desktop.cli import main
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.storage import migrate

UNIT_NAMES = [
    "榆次区", "太谷区", "榆社县", "左权县", "和顺县", "昔阳县",
    "寿阳县", "祁县", "平遥县", "灵石县", "介休市", "晋中开发区",
]  # fmt: skip

PER_RECORD = None  # the due date of each record's own plan
ALL_FOUND = None  # the target is every matching record entered
CAMPAIGN_END = "2021-03-31"

# domain.md §4 (and the plan text for the rail target's year): key → (name, target, due, plan item, lead department).
LEDGER_INDICATORS = {
    "heating.total": ("散煤治理", 84400, "2020-10-31", "八", "市能源局"),
    "heating.gas": ("气代煤", 12100, "2020-10-31", "八", "市能源局"),
    "heating.electric": ("电代煤", 18100, "2020-10-31", "八", "市能源局"),
    "heating.central": ("集中供热", 52800, "2020-10-31", "八", "市能源局"),
    "heating.other": ("其他清洁能源", 1400, "2020-10-31", "八", "市能源局"),
    "trucks.eliminated": ("国三及以下营运柴油货车淘汰", 8869, "2020-12-31", "十三", "市交通局"),
    "boilers.coal_lt35": ("35蒸吨以下燃煤锅炉淘汰", ALL_FOUND, "2020-10-31", "十五", "市生态环境局"),
    # issue 17: every 牵头单位 the plan names for the task, and the plan's own words for the tasks
    "kilns.kiln": ("工业炉窑治理", 107, PER_RECORD, "十五", "市生态环境局、市工信局"),
    "kilns.fugitive": ("无组织排放治理", 32, PER_RECORD, "十五", "市生态环境局、市工信局"),
    "vocs.treatment": ("VOCs治理", 22, PER_RECORD, "十六", "市生态环境局、市工信局、市应急局"),
    "vocs.substitution": ("低VOCs含量涂料、油墨、胶粘剂替代", 68, PER_RECORD, "十六", "市生态环境局、市工信局、市应急局"),
    "vocs.vapor_monitor": ("油气回收自动监控设备安装、联网", 2, PER_RECORD, "十六", "市生态环境局、市工信局、市应急局"),
    "vocs.bypass": ("旁路排查整治", ALL_FOUND, "2021-03-31", "十六", "市生态环境局、市工信局、市应急局"),
}

# Monthly figures per county: name (a part of it) → (target, due, measure, compare, kind).
MONTHLY_INDICATORS = {
    "新能源公交替换": (76, CAMPAIGN_END, "count", "ge", "cumulative"),
    "非道路移动机械检测": (500, CAMPAIGN_END, "count", "ge", "cumulative"),
    "车用汽柴油抽检": (560, CAMPAIGN_END, "count", "ge", "cumulative"),
    "尿素抽检": (80, CAMPAIGN_END, "count", "ge", "cumulative"),
    "重点用车企业门禁联网": (121, "2020-10-31", "count", "ge", "cumulative"),
    "焦化产能压减": (428, CAMPAIGN_END, "count", "ge", "cumulative"),
    "露天矿山综合整治": (114, "2020-12-31", "count", "ge", "cumulative"),
    "矸石堆场治理": (21, CAMPAIGN_END, "count", "ge", "cumulative"),
    "责任主体灭失露天矿山治理": (43, CAMPAIGN_END, "count", "ge", "cumulative"),
    "秸秆综合利用率": (90, CAMPAIGN_END, "rate", "ge", "limit"),
    "城区机械化清扫率（市城区）": (75, CAMPAIGN_END, "rate", "ge", "limit"),
    "城区机械化清扫率（县城区）": (65, CAMPAIGN_END, "rate", "ge", "limit"),
    "降尘量": (9, CAMPAIGN_END, "rate", "le", "limit"),
    "民用煤煤质抽检覆盖率（月）": (20, CAMPAIGN_END, "rate", "ge", "limit"),
    "民用煤煤质抽检覆盖率（全年）": (100, "2020-12-31", "rate", "ge", "limit"),
    "铁路货运量较2017年增加": (1500, "2020-12-31", "count", "ge", "cumulative"),
}

# Milestones (issue 17): name (a part of it) → (due, the unit it concerns or 全市).
MILESTONES = {
    "新泰钢铁超低排放改造": ("2020-09-30", ["介休市"]),
    "新泰钢铁超低排放评估监测": ("2020-10-31", ["介休市"]),
    "阳泉煤业铁路专用线项目开工建设": ("2020-10-31", []),
    "企业搬迁：六曲香酒厂": (CAMPAIGN_END, ["祁县"]),
    "企业搬迁：会龙玻璃器皿有限公司": (CAMPAIGN_END, ["祁县"]),
    "露天矿山摸底排查、建立清单": ("2020-12-31", None),
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def initialised(tmp_path, capsys) -> Path:
    path = tmp_path / "台账.sqlite3"
    code, out, err = run(capsys, "--db", str(path), "init")
    assert code == 0, err
    return path


def test_init_creates_the_database_and_says_what_it_did(tmp_path, capsys):
    path = tmp_path / "新建.sqlite3"
    code, out, err = run(capsys, "--db", str(path), "init")
    assert (code, err) == (0, "")
    assert f"已创建数据库：{path}" in out
    assert f"→ {migrate.head_revision()}" in out
    assert "已载入计划基础数据：12 个县（区、市）" in out
    assert path.is_file()


def test_init_twice_changes_nothing(initialised, capsys):
    before = dump(initialised)
    code, out, err = run(capsys, "--db", str(initialised), "init")
    assert (code, err) == (0, "")
    assert "架构已是最新版本" in out and "未做改动" in out
    assert "已创建" not in out and "已载入" not in out and "已升级" not in out
    assert dump(initialised) == before
    assert [p.name for p in initialised.parent.iterdir() if "备份" in p.name] == []


def test_plan_json_has_every_indicator_of_the_plan(initialised, capsys):
    code, out, err = run(capsys, "--db", str(initialised), "plan", "--json")
    assert code == 0, err
    items = json.loads(out)
    by_key = {i["key"]: i for i in items}
    assert len(by_key) == len(items) == len(LEDGER_INDICATORS) + len(MONTHLY_INDICATORS) + len(MILESTONES) + 2
    # 十七's sites are counted from the 建筑工地 ledger (revision 0010): the supervised count and 六个百分之百.
    sites, six = by_key["dust.construction_sites"], by_key["sites.six_full"]
    assert (sites["source"], sites["target"], sites["kind"], sites["due"]) == ("ledger", 349, "cumulative", CAMPAIGN_END)
    assert (six["source"], six["target"], six["kind"], six["measure"], six["compare"]) == (
        "ledger", 100, "limit", "rate", "ge")
    assert sites["departments"] == six["departments"] == ["市住建局", "市城市管理局"]

    for key, (name, target, due, item, dept) in LEDGER_INDICATORS.items():
        got = by_key[key]
        assert name in got["name"], key
        assert got["source"] == "ledger", key
        assert got["target"] == target, key
        assert got["target_rule"] == ("all_found" if target is None else "fixed"), key
        assert got["due"] == due, key
        assert got["due_rule"] == ("per_record" if due is None else "fixed"), key
        assert (got["plan_item"], got["department"]) == (item, dept), key
        assert got["departments"] == dept.split("、") and got["kind"] == "cumulative", key

    monthly = [i for i in items if i["source"] == "monthly"]
    assert len(monthly) == len(MONTHLY_INDICATORS)
    for name, (target, due, measure, compare, kind) in MONTHLY_INDICATORS.items():
        [got] = [i for i in monthly if name in i["name"]]
        assert (got["target"], got["due"], got["measure"], got["compare"]) == (target, due, measure, compare), name
        assert got["kind"] == kind, name
    assert by_key["bus.new_energy"]["scope"] == ["榆次区", "晋中开发区"]
    assert by_key["rail.freight_increase"]["scope"] == []  # entered by the city office, not split
    assert by_key["coal.quality_sampling"]["departments"] == ["市能源局", "市市场监管局"]

    marks = [i for i in items if i["kind"] == "milestone"]
    assert len(marks) == len(MILESTONES)
    for name, (due, scope) in MILESTONES.items():
        [got] = [i for i in marks if name in i["name"]]
        assert (got["due"], got["scope"], got["target_text"]) == (due, scope, "按时完成"), name


def test_plan_table_is_in_chinese_with_targets(initialised, capsys):
    code, out, err = run(capsys, "--db", str(initialised), "plan")
    assert code == 0, err
    header = out.splitlines()[0]
    for word in ("指标", "类型", "单位", "目标", "时限", "方案条目", "牵头单位"):
        assert word in header
    assert "84,400" in out and "8,869" in out and "按台账计划完成日期" in out and "全部排查出的" in out


def test_info_json_structure(initialised, capsys):
    code, out, err = run(capsys, "--db", str(initialised), "info", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["version"] == __version__
    assert data["database"] == str(initialised)
    assert data["revision"] == migrate.head_revision()
    assert list(data["records"]) == list(LEDGER_KEYS) == ["heating", "trucks", "boilers", "kilns", "vocs", "sites",
                                                          "problems"]
    for key, per_unit in data["records"].items():
        assert list(per_unit) == UNIT_NAMES, key
        assert set(per_unit.values()) == {0}, key


def test_info_table(initialised, capsys):
    code, out, err = run(capsys, "--db", str(initialised), "info")
    assert code == 0, err
    assert f"程序版本：{__version__}" in out and f"数据库：{initialised}" in out
    assert all(name in out for name in UNIT_NAMES) and "合计" in out


def test_a_chinese_path_with_spaces(tmp_path, capsys):
    path = tmp_path / "晋中 数据" / "祁县 台账（2020）.sqlite3"
    code, out, err = run(capsys, "--db", str(path), "init")
    assert code == 0, err
    assert path.is_file()
    code, out, err = run(capsys, "--db", str(path), "info", "--json")
    assert code == 0 and json.loads(out)["database"] == str(path)


@pytest.mark.slow
def test_jzair_db_environment_variable(tmp_path, capsys, monkeypatch):
    path = tmp_path / "环境变量.sqlite3"
    monkeypatch.setenv("JZAIR_DB", str(path))
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert path.is_file()
    code, out, err = run(capsys, "info", "--json")
    assert json.loads(out)["database"] == str(path)
    # --db wins over JZAIR_DB
    other = tmp_path / "参数.sqlite3"
    run(capsys, "--db", str(other), "init")
    code, out, err = run(capsys, "--db", str(other), "info", "--json")
    assert json.loads(out)["database"] == str(other)


def test_db_url_any_sqlalchemy_url(tmp_path, capsys):
    path = tmp_path / "网址.sqlite3"
    url = "sqlite:///" + path.as_posix()
    code, out, err = run(capsys, "--db-url", url, "init")
    assert code == 0, err
    assert path.is_file()
    code, out, err = run(capsys, "--db", str(tmp_path / "不用.sqlite3"), "--db-url", url, "info", "--json")
    assert code == 0, err
    assert json.loads(out)["database"] == str(path)
    assert not (tmp_path / "不用.sqlite3").exists()


def test_default_database_lives_in_the_data_folder(capsys, _isolated_data_dir):
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert (_isolated_data_dir / "jzair.sqlite3").is_file()


def test_unknown_command_is_reported_in_chinese(capsys):
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    assert "错误：" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"jzair_desktop {__version__}"


def test_the_version_is_written_once_in_the_version_file():
    """pyproject.toml, the package's metadata and the program all read jzair_desktop/VERSION (the frozen build
    carries it as a data file, which the Windows upgrade test bumps in a copy of the build)."""
    import importlib.metadata
    import re
    import sys
    from pathlib import Path

    import jzair_desktop

    text = (Path(jzair_desktop.__file__).parent / "VERSION").read_text(encoding="ascii").strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", text)
    assert __version__ == text
    try:
        installed = importlib.metadata.version("jzair_desktop")
    except importlib.metadata.PackageNotFoundError:  # run from the source tree on PYTHONPATH (the Windows CI half)
        installed = None
    if installed is not None:
        assert installed == text
    else:
        assert sys.platform == "win32", "the package is installed by the README's test command"
    pyproject = (Path(jzair_desktop.__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'file = "jzair_desktop/VERSION"' in pyproject


@pytest.mark.slow
def test_self_test_runs_in_its_own_process(tmp_path):
    env = dict(os.environ, JZAIR_DATA_DIR=str(tmp_path), QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    env.pop("JZAIR_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "jzair_desktop", "self-test"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "自检通过" in proc.stdout
    assert "页面均可打开" in proc.stdout
    # It works on a temporary database: nothing is left in the user's data folder but the log.
    assert not (tmp_path / "jzair.sqlite3").exists()


def command_names() -> list[str]:
    from jzair_desktop.cli import build_parser

    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    return list(sub.choices)


@pytest.mark.parametrize("argv", [["--help"]] + [[name, "--help"] for name in command_names()])
def test_help_is_in_chinese(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：jzair")
    for english in ("usage:", "options:", "positional arguments:", "show this help message"):
        assert english not in out
    assert "显示帮助并退出" in out


LIGHT_START = """
import sys
import jzair_desktop.cli as cli
import jzair_desktop.gui.app as app
app.run_gui = lambda ctx: print("WINDOW", ctx.db_path) or 0
from jzair_desktop.cli import COMMAND_MODULES, main


def report(code):
    print("CODE", code)
    print("LOADED", *[m for m in (*COMMAND_MODULES, "openpyxl", "reportlab") if m in sys.modules])
    return code


# After the window the program ends at once (cli.end_process); a command returns from main.
cli.end_process = lambda code: sys.exit(report(code))
report(main(sys.argv[1:]))
"""


def run_light(tmp_path, *argv: str) -> str:
    env = dict(os.environ, JZAIR_DATA_DIR=str(tmp_path), QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-c", LIGHT_START, *argv], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_opening_the_window_loads_no_command_module(tmp_path):
    out = run_light(tmp_path, "--db", str(tmp_path / "窗口.sqlite3"))
    assert f"WINDOW {tmp_path / '窗口.sqlite3'}" in out and "CODE 0" in out
    assert out.splitlines()[-1] == "LOADED"


def test_version_needs_no_database_code(tmp_path):
    script = "import sys\nfrom jzair_desktop.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
    script += "print(sorted(m for m in ('sqlalchemy', 'alembic', 'PySide6') if m in sys.modules))\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, encoding="utf-8",
                          env=dict(os.environ, JZAIR_DATA_DIR=str(tmp_path), PYTHONIOENCODING="utf-8"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"jzair_desktop {__version__}", "[]"]
