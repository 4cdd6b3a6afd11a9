"""Targets packages and the city key as an attacker tries them (issue 16 finding 1): a clerk with an
account cannot replace the targets of a city (or county) database, nor bind the city key to a key of
their choosing, not even on first sight; a re-pin keeps the old and the new fingerprint in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services import audit, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as package_import
from jzair_desktop.services.packages import keys as keys
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import CountyTarget
from tests.services.admin_helpers import fast_hasher, make_users  # noqa: F401
from tests.services.package_helpers import file_sha256, fresh_db

pytestmark = pytest.mark.usefixtures("fast_hasher")
YUCI = "140702"


@pytest.fixture
def city(tmp_path):
    db = fresh_db(tmp_path / "市" / "市级.sqlite3")
    targets.split_city_targets(db, {YUCI: 1.0}, BUILTIN_ADMIN)
    yield db
    db.dispose()


def _targets(db) -> list:  # noqa: ANN001
    with read_session(db.engine) as s:
        return sorted(s.execute(select(CountyTarget.indicator_key, CountyTarget.unit_code, CountyTarget.value)).all())


def test_attack_a_clerk_replaces_the_citys_targets_with_a_package_of_their_own_key(city, tmp_path):
    """The clerk makes a 任务包 on a database of their own (their key) and imports it at the city."""
    users = make_users(city)
    own = fresh_db(tmp_path / "自制" / "自制.sqlite3")
    targets.split_city_targets(own, {YUCI: 1.0, "140781": 5.0}, BUILTIN_ADMIN)
    forged = export.export_targets_package(own, tmp_path / "自制任务包.jzpkg", actor=BUILTIN_ADMIN).path
    own.dispose()
    before, sha = _targets(city), file_sha256(city)
    for who in ("yuci", "jiexiu", "viewer"):
        for dry_run in (True, False):
            with pytest.raises(PermissionDenied, match="只有管理员可以导入市级任务包"):
                package_import.import_package(city, forged, actor=users[who], dry_run=dry_run)
    assert _targets(city) == before and file_sha256(city) == sha
    assert keys.list_pins(city) == []  # no trust on first sight by someone who may not pin


def test_attack_a_clerk_pins_the_city_key_of_their_choice(city, tmp_path):
    users = make_users(city)
    sha = file_sha256(city)
    for who in ("yuci", "viewer"):
        for scope in (keys.SCOPE_CITY, YUCI):
            with pytest.raises(PermissionDenied, match="只有管理员可以绑定或重新绑定"):
                keys.pin_key(city, scope, actor=users[who], fingerprint="ab" * 32)
    assert file_sha256(city) == sha and keys.list_pins(city) == []


def test_attack_the_first_import_pins_only_through_the_permission_check(city, tmp_path):
    """record_pin is where every pin passes: a caller that forgets the check still cannot pin."""
    users = make_users(city)
    from jzair_desktop.storage.engine import write_session

    with pytest.raises(PermissionDenied), write_session(city.engine) as s:
        keys.record_pin(s, users["yuci"], keys.SCOPE_CITY, "cd" * 32, None, "first_import")
    assert keys.list_pins(city) == []


def test_a_re_pin_shows_and_audits_the_old_and_the_new_fingerprint(city, capsys, monkeypatch):
    users = make_users(city)
    first, second = "ab" * 32, "cd" * 32
    keys.pin_key(city, keys.SCOPE_CITY, actor=users["admin"], fingerprint=first)
    city.dispose()
    from jzair_desktop.cli import main as cli_main
    from tests.services.admin_helpers import PASSWORDS

    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    assert cli_main(["--db", str(city.path), "--user", "王主任", "package", "pin", "--city",
                     "--fingerprint", second, "--reason", "市里重装，电话核对"]) == 0
    out = capsys.readouterr().out
    assert "原公钥指纹：ABAB" in out and "已为市级（任务包）绑定公钥：CDCD" in out
    entry = next(e for e in audit.query_log(city, limit=20) if e.action == keys.ACTION_PIN and e.before)
    assert entry.before["fingerprint"] == first and entry.after["fingerprint"] == second
    assert "ABAB" in entry.detail and "CDCD" in entry.detail and entry.user_name == "王主任"
