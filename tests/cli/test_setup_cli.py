"""`jzair setup`, `info --json`'s installation, the built-in administrator gone after set-up, logins for reads of
personal data and secrets, and a county installation that holds its own unit only — each refusal as the attack."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from jzair_desktop.cli import main
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import accounts, installation, ledgers, monthly, submission, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.database import Database
from jzair_desktop.services.packages import export as package_export
from tests.dbtemplate import db_args, fresh_database
from tests.services.admin_helpers import fast_hasher, raw, snapshot  # noqa: F401

YUCI, TAIGU = "140702", "140703"
PASSWORD = "Yuci-Office-77"


def fresh(path: Path) -> Database:
    return fresh_database(path)


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    return feed


@pytest.fixture
def city_package(tmp_path):
    """A 任务包 exported by a city database (its key's fingerprint) and one signed by another city's key."""
    out = {}
    for name in ("city", "other"):
        city = fresh(tmp_path / f"{name}.sqlite3")
        targets.set_target(city, BUILTIN_ADMIN, "trucks.eliminated", YUCI, 120)
        result = package_export.export_targets_package(city, tmp_path / f"{name}.jzpkg", actor=BUILTIN_ADMIN)
        out[name] = (result.path, result.fingerprint)
        city.dispose()
    return out


def without_logins(snap: dict) -> dict:
    """A snapshot with the audit entries of logins left out (a command's login is audited even when refused)."""
    return {**snap, "audit_log": [r for r in snap["audit_log"] if r[4] not in ("login", "login_failed")]}


def run(where: Path | Database, *args: str) -> int:
    return main([*db_args(where), *args])


@pytest.mark.slow
def test_setup_county_with_the_citys_package_then_the_builtin_admin_is_gone(
        db, db_path, city_package, stdin, capsys, monkeypatch, fast_hasher):  # noqa: F811
    assert run(db, "info", "--json") == 0
    assert json.loads(capsys.readouterr().out)["installation"] is None
    path, fingerprint = city_package["city"]
    stdin(f"{PASSWORD}\n")
    assert run(db, "setup", "--unit", "榆次区", "--admin", "liyun", "--display-name", "李云",
               "--targets", str(path), "--city-key", jzpkg.format_fingerprint(fingerprint)) == 0
    out = capsys.readouterr().out
    assert "已设置本机为：榆次区" in out and "县级管理员" in out and "已导入市大气办的任务包" in out
    assert run(db, "info", "--json") == 0
    assert json.loads(capsys.readouterr().out)["installation"] == {"unit": "榆次区"}
    assert accounts.get_user(db, "liyun").display_name == "李云"
    assert accounts.get_user(db, "liyun").role == "county_admin"
    assert verify(db).ok

    # No built-in administrator any more: changes and reads of personal data or secrets need --user.
    for args in (["backup", "--out", str(db_path.parent / "b.jzbak")], ["audit", "log"], ["audit", "verify"],
                 ["report", "--month", "2020-12", "--out", str(db_path.parent / "r.pdf")],
                 ["export", "heating", str(db_path.parent / "e.xlsx")], ["user", "list"],
                 ["figures", "set", "榆次区", "bus.new_energy", "2020-11",
                  "3"]):
        assert run(db, *args) == 4, args
        assert "--user" in capsys.readouterr().err
    assert not (db_path.parent / "b.jzbak").exists() and not (db_path.parent / "r.pdf").exists()
    # Reading the plan, info and --version need none.
    assert run(db, "plan") == 0
    assert run(db, "info") == 0
    assert "本机：榆次区" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        run(db, "--version")
    assert done.value.code == 0
    # The service refuses the built-in administrator too, whatever calls it.
    with pytest.raises(PermissionDenied, match="请先以账户登录"):
        ledgers.create_record(db, "heating", raw("heating", 1), actor=BUILTIN_ADMIN)

    # The administrator backs up; the backup is audited with where it went.
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    target = db_path.parent / "备份.jzbak"
    assert run(db, "--user", "liyun", "backup", "--out", str(target)) == 0
    assert target.exists()
    capsys.readouterr()
    assert run(db, "--user", "liyun", "audit", "log", "--action", "backup", "--json") == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries[0]["user"] == "liyun" and str(target) in entries[0]["detail"]
    assert verify(db).ok

    # Exports and reports are audited by the services themselves, so the GUI's paths are too (not only the CLI).
    from jzair_desktop.services import excel as excel_service
    from jzair_desktop.services import report as report_service

    clerk = accounts.authenticate(db, "liyun", PASSWORD)
    exported = excel_service.export_ledger(db, "heating", db_path.parent / "导出.xlsx", actor=clerk).path
    report = report_service.write_report(db, db_path.parent / "月报.pdf", "2020-12", "榆次区", actor=clerk).path
    for action, path in (("export", exported), ("report", report)):
        assert run(db, "--user", "liyun", "audit", "log", "--action", action, "--json") == 0
        entries = json.loads(capsys.readouterr().out)
        assert entries[0]["user"] == "liyun" and str(path) in entries[0]["detail"], action
    assert verify(db).ok


def test_setup_city_prints_the_key_fingerprint(db, db_path, stdin, capsys, monkeypatch, fast_hasher):  # noqa: F811
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    assert run(db, "setup", "--unit", "city", "--admin", "wang") == 0
    out = capsys.readouterr().out
    from jzair_desktop.services.packages import keys as package_keys

    assert jzpkg.format_fingerprint(package_keys.identity(db).fingerprint) in out and "读给各县" in out
    assert accounts.get_user(db, "wang").role == "city_admin"
    assert run(db, "info", "--json") == 0
    assert json.loads(capsys.readouterr().out)["installation"] == {"unit": "city"}


def test_setup_refusals_change_nothing(db, db_path, city_package, stdin, capsys, monkeypatch, fast_hasher):  # noqa: F811
    assert run(db, "info") == 0  # the first command marks the audit trail's start (app_meta)
    before = snapshot(db)
    cases = [
        (["--unit", "榆次", "--admin", "li"], PASSWORD, "没有名为“榆次”"),
        (["--unit", "北京市", "--admin", "li"], PASSWORD, "没有名为"),
        (["--unit", "榆次区", "--admin", "li"], "short1", "太短"),
        (["--unit", "榆次区", "--admin", "li"], "1234567890", "全是数字"),
        (["--unit", "榆次区", "--admin", "liyun2020"], "liyun2020", "用户名相同"),
        (["--unit", "榆次区", "--admin", "li"], "Password1", "太常见"),
        (["--unit", "榆次区", "--admin", "li", "--targets", str(city_package["other"][0]),
          "--city-key", city_package["city"][1]], PASSWORD, "不是市大气办的公钥"),
        (["--unit", "city", "--admin", "li", "--targets", str(city_package["city"][0])], PASSWORD, "不导入任务包"),
    ]
    for args, password, message in cases:
        stdin(f"{password}\n")
        assert run(db, "setup", *args) != 0, args
        assert message in capsys.readouterr().err, args
        assert snapshot(db) == before, args

    # Set up once; a second set-up (either kind) is refused and changes nothing.
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    assert run(db, "setup", "--unit", "city", "--admin", "wang") == 0
    capsys.readouterr()
    after = snapshot(db)
    for unit in ("city", "榆次区"):
        assert run(db, "setup", "--unit", unit, "--admin", "other") != 0
        assert "已经设置过" in capsys.readouterr().err
        assert snapshot(db) == after


def test_a_package_signed_by_another_key_than_the_pinned_one_is_refused_at_setup(
        db, db_path, city_package, fast_hasher):  # noqa: F811
    from jzair_desktop.services.packages import keys as package_keys

    package_keys.pin_key(db, package_keys.SCOPE_CITY, actor=BUILTIN_ADMIN, fingerprint=city_package["city"][1])
    before = snapshot(db)
    with pytest.raises(installation.SetupRefused, match="已绑定的市大气办公钥不一致"):
        installation.set_up(db, unit="榆次区", admin="li", password=PASSWORD, targets_package=city_package["other"][0])
    assert snapshot(db) == before


def test_a_county_package_is_not_a_targets_package(db, db_path, tmp_path, fast_hasher):  # noqa: F811
    other = fresh(tmp_path / "县.sqlite3")
    ledgers.create_record(other, "heating", raw("heating", 1, unit=YUCI), actor=BUILTIN_ADMIN)
    pkg = package_export.export_county_package(other, "榆次区", "2020-11", tmp_path / "县.jzpkg", actor=BUILTIN_ADMIN)
    before = snapshot(db)
    with pytest.raises(installation.SetupRefused, match="不是市大气办的任务包"):
        installation.set_up(db, unit="榆次区", admin="li", password=PASSWORD, targets_package=pkg.path)
    assert snapshot(db) == before


def test_a_county_setup_on_a_database_with_other_units_records_is_refused(db, db_path, fast_hasher):  # noqa: F811
    ledgers.create_record(db, "heating", raw("heating", 1, unit=TAIGU), actor=BUILTIN_ADMIN)
    before = snapshot(db)
    with pytest.raises(installation.SetupRefused, match="其他县（区、市）"):
        installation.set_up(db, unit="榆次区", admin="li", password=PASSWORD)
    assert snapshot(db) == before


def test_a_database_never_set_up_behaves_as_before(db, db_path, capsys):
    # The CLI acts as the built-in administrator: no --user, and reads are not refused.
    assert run(db, "figures", "set", "晋中开发区", "bus.new_energy", "2020-11",
               "3") == 0
    assert run(db, "audit", "log") == 0
    assert run(db, "backup", "--out", str(db_path.parent / "b.jzbak")) == 0
    assert installation.installation_of(db) is None


# --- a county installation holds its own unit only: attacks by its own administrator and clerk ----------------


@pytest.fixture
def county(db, fast_hasher):  # noqa: F811
    installation.set_up(db, unit="榆次区", admin="liyun", password=PASSWORD)
    admin = accounts.authenticate(db, "liyun", PASSWORD)
    accounts.add_user(db, admin, "clerk", "county_clerk", "Clerk-Pass-77", unit="榆次区")
    return {"admin": admin, "clerk": accounts.authenticate(db, "clerk", "Clerk-Pass-77")}


def test_county_administrator_cannot_write_another_units_records(db, db_path, county, tmp_path):
    admin = county["admin"]
    ledgers.create_record(db, "heating", raw("heating", 1), actor=admin)  # the own unit: fine
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="只能填报本县"):
        ledgers.create_record(db, "heating", raw("heating", 2, unit=TAIGU), actor=admin)
    # A forged actor with the city role (no such account can exist here) is stopped by the installation rule.
    forged = Actor("liyun", "city_admin")
    with pytest.raises(PermissionDenied):
        ledgers.create_record(db, "heating", raw("heating", 3, unit=TAIGU), actor=forged)
    with pytest.raises(JzairError, match="晋中开发区"):
        monthly.set_figure(db, admin, "晋中开发区", "bus.new_energy", "2020-11", 3)
    with pytest.raises(PermissionDenied, match="只保存本县"):  # the installation rule whatever the role
        monthly.set_figure(db, forged, "晋中开发区", "bus.new_energy", "2020-11", 3)
    with pytest.raises(PermissionDenied):
        submission.submit_month(db, "太谷区", "2020-11", admin, today=dt.date(2021, 1, 15))
    with pytest.raises(JzairError):
        accounts.add_user(db, admin, "taigu", "county_clerk", "Taigu-Pass-77", unit="太谷区")
    with pytest.raises(JzairError, match="不能添加市级管理员"):
        accounts.add_user(db, admin, "boss", "city_admin", "Boss-Pass-777")
    assert snapshot(db) == before


def test_county_installation_refuses_the_installation_rule_even_for_a_city_role(db, db_path, county):
    """The installation rule does not depend on the role: a city_admin actor is refused writes of 太谷区."""
    from jzair_desktop.storage.engine import write_session

    with write_session(db.engine) as s:
        with pytest.raises(PermissionDenied, match="只保存本县"):
            installation.check_write(s, Actor("x", "city_admin"), TAIGU)
        installation.check_write(s, Actor("x", "city_admin"), YUCI)


def test_county_import_of_another_units_workbook_is_refused(db, db_path, county, tmp_path, capsys, monkeypatch):
    from jzair_desktop.services import excel as excel_service

    assert run(db, "info") == 0  # the first command marks the audit trail's start (app_meta)
    before = snapshot(db)
    book = tmp_path / "太谷.xlsx"
    excel_service.save_template("heating", book)
    with pytest.raises(PermissionDenied):
        excel_service.import_ledger(db, "heating", book, "太谷区", actor=county["admin"])
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    assert run(db, "--user", "liyun", "import", "heating", str(book), "--county", "太谷区") != 0
    assert "太谷区" in capsys.readouterr().err
    assert without_logins(snapshot(db)) == without_logins(before)


def test_county_installation_refuses_county_packages(db, db_path, county, tmp_path):
    from jzair_desktop.services.packages import importer as package_import

    other = fresh(tmp_path / "太谷.sqlite3")
    ledgers.create_record(other, "heating", raw("heating", 1, unit=TAIGU), actor=BUILTIN_ADMIN)
    pkg = package_export.export_county_package(other, "太谷区", "2020-11", tmp_path / "太谷.jzpkg", actor=BUILTIN_ADMIN)
    before = snapshot(db)
    for who in (county["admin"], Actor("liyun", "city_admin")):
        with pytest.raises(PermissionDenied):
            package_import.import_package(db, pkg.path, actor=who)
    assert snapshot(db) == before
