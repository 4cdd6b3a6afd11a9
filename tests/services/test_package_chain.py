"""The county's audit chain anchored at the city (issue 16 finding 4): every county package carries the
county's chain head, signed with it; the city keeps the heads it received and refuses, with a clear
message, a package whose chain does not extend the last one (a county that restored an older backup, or
rewrote or cut its trail), unless a city administrator accepts the fork with a reason, which is audited.
A county whose own audit check fails cannot export. Packages of an older version (no head) are accepted
with a warning only while no head was received from that county."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import audit, audit_verify, ledgers
from jzair_desktop.services import backup as bk
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_anchor import HEAD_KEY
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import PackageAuditEntry, PackageCounter, PackageImport
from tests.services.admin_helpers import snapshot, sql
from tests.services.package_helpers import YUCI, county_db, fresh_db, private_key_of, remake

MONTH = "2020-12"


@pytest.fixture
def county(demo_template, tmp_path):
    db = county_db(demo_template, tmp_path / "榆次区", YUCI)
    yield db
    db.dispose()


@pytest.fixture
def city(tmp_path):
    db = fresh_db(tmp_path / "市" / "市级.sqlite3")
    yield db
    db.dispose()


def export_yuci(county, tmp_path, name):
    return export.export_county_package(county, YUCI, MONTH, tmp_path / name, actor=BUILTIN_ADMIN)


def change_a_record(county, remarks: str) -> None:
    row = ledgers.list_records(county, "trucks", limit=1)[0]
    ledgers.update_record(county, "trucks", row.uuid, {**row.values, "remarks": remarks}, actor=BUILTIN_ADMIN)


def imports(city):
    with read_session(city.engine) as s:
        return list(s.scalars(select(PackageImport).order_by(PackageImport.id)))


@pytest.mark.slow
def test_the_city_keeps_each_head_and_takes_a_chain_that_extends_it(county, city, tmp_path):
    first = export_yuci(county, tmp_path, "1.jzpkg")
    head1 = jzpkg.read_package(first.path, schema_revision=_rev()).manifest[HEAD_KEY]
    assert imp.import_package(city, first.path, actor=BUILTIN_ADMIN).preview.chain == "first"
    change_a_record(county, "第二次报送前修改")
    second = export_yuci(county, tmp_path, "2.jzpkg")
    result = imp.import_package(city, second.path, actor=BUILTIN_ADMIN)
    assert result.imported and result.preview.chain == "extends" and result.preview.chain_note == ""
    rows = imports(city)
    assert (rows[0].chain_seq, rows[0].chain_hash) == (head1["seq"], head1["hash"])
    assert rows[1].chain_seq > rows[0].chain_seq and rows[1].fork_reason is None
    assert audit_verify.verify(city).ok


@pytest.mark.slow
def test_a_county_that_restored_an_older_backup_is_refused_until_the_fork_is_accepted_with_a_reason(
        county, city, tmp_path):
    imp.import_package(city, export_yuci(county, tmp_path, "1.jzpkg").path, actor=BUILTIN_ADMIN)
    older = bk.make_backup(county, tmp_path / "较早的备份.jzbak").path
    change_a_record(county, "恢复前的修改")
    imp.import_package(city, export_yuci(county, tmp_path, "2.jzpkg").path, actor=BUILTIN_ADMIN)
    county_path = county.path
    county.dispose()
    bk.restore_backup(county_path, older)  # the county goes back to before package 2
    change_a_record(county, "恢复后的另一处修改")
    export_yuci(county, tmp_path, "重2.jzpkg")  # the restored counter hands out 2 again …
    forked = export_yuci(county, tmp_path, "重3.jzpkg").path  # … and 3, newer than what the city has
    city.dispose()
    before = snapshot(city.path)
    with pytest.raises(PackageError) as err:
        imp.import_package(city, forked, actor=BUILTIN_ADMIN)
    message = str(err.value)
    assert "审计链与本机上次收到的不衔接（分叉）" in message and "报送包第 2 号" in message
    assert "--accept-fork" in message and "审计链 #" in message
    city.dispose()
    assert snapshot(city.path) == before  # refused: nothing written
    preview = imp.preview_package(city, forked, actor=BUILTIN_ADMIN)
    assert preview.chain == "fork" and "分叉" in preview.chain_note
    with pytest.raises(PackageError):
        imp.import_package(city, forked, actor=BUILTIN_ADMIN, accept_fork="   ")  # a blank reason is none

    reason = "榆次区硬盘损坏，从11月的备份恢复，已电话核实"
    result = imp.import_package(city, forked, actor=BUILTIN_ADMIN, accept_fork=reason)
    assert result.imported and result.preview.chain == "fork"
    last = imports(city)[-1]
    assert last.fork_reason == reason
    entry = next(e for e in audit.query_log(city, limit=5) if e.action == "chain_fork")
    assert reason in entry.detail and entry.user_name == BUILTIN_ADMIN.name and entry.unit_code == YUCI
    assert entry.before["seq"] == imports(city)[1].chain_seq and entry.after["seq"] == last.chain_seq
    with read_session(city.engine) as s:  # the old branch's entries are kept, marked, never merged
        superseded = s.scalars(select(PackageAuditEntry).where(PackageAuditEntry.superseded_by == last.id)).all()
    assert superseded and all("恢复后" not in (e.after_json or "") for e in superseded)
    assert any("恢复前的修改" in (e.after_json or "") for e in superseded)
    assert audit_verify.verify(city).ok


@pytest.mark.slow
def test_a_county_whose_own_audit_check_fails_cannot_export(county, tmp_path):
    row = ledgers.list_records(county, "trucks", limit=1)[0]
    sql(county.path, "UPDATE trucks SET owner = '改过的车主' WHERE uuid = ?", (row.uuid,))
    with pytest.raises(JzairError) as err:
        export_yuci(county, tmp_path, "不应导出.jzpkg")
    assert "本机审计校验未通过" in str(err.value) and row.uuid in str(err.value) and "车主" in str(err.value)
    assert not (tmp_path / "不应导出.jzpkg").exists()
    with read_session(county.engine) as s:
        assert s.get(PackageCounter, YUCI) is None  # no sequence number taken


def _legacy(src, dst, key):
    """The same package as an older version wrote it: no head, no chain member."""
    def strip(members):
        members.pop(jzpkg.CHAIN_MEMBER)

    def manifest(m):
        m.pop(HEAD_KEY)
        m["counts"].pop("audit_chain", None)

    return remake(src, dst, private_key=key, members=strip, manifest=manifest)


@pytest.mark.slow
def test_a_package_without_a_head_is_taken_with_a_warning_only_until_a_head_was_received(county, city, tmp_path):
    first = export_yuci(county, tmp_path, "1.jzpkg").path
    one = _legacy(first, tmp_path / "旧版1.jzpkg", private_key_of(county))
    result = imp.import_package(city, one, actor=BUILTIN_ADMIN)
    assert result.imported and result.preview.chain == "legacy" and "旧版本程序导出" in result.preview.chain_note
    assert imports(city)[-1].chain_seq is None
    assert imp.import_package(city, export_yuci(county, tmp_path, "2.jzpkg").path, actor=BUILTIN_ADMIN).imported
    three = _legacy(export_yuci(county, tmp_path, "3.jzpkg").path, tmp_path / "旧版3.jzpkg", private_key_of(county))
    with pytest.raises(PackageError, match="没有审计链位置，但本机已收到过榆次区带审计链位置的报送包"):
        imp.import_package(city, three, actor=BUILTIN_ADMIN)


def test_a_chain_member_that_disagrees_with_the_signed_head_is_refused(county, city, tmp_path):
    src = export_yuci(county, tmp_path, "1.jzpkg").path
    key = private_key_of(county)

    def shorter(members):
        lines = members[jzpkg.CHAIN_MEMBER].splitlines(keepends=True)
        members[jzpkg.CHAIN_MEMBER] = b"".join(lines[:-1])

    bad = remake(src, tmp_path / "链不符.jzpkg", private_key=key, members=shorter)
    with pytest.raises(PackageError, match="审计链文件的末尾.*与清单中的审计链位置.*不符"):
        imp.import_package(city, bad, actor=BUILTIN_ADMIN)


def _rev():
    from jzair_desktop.storage import migrate

    return migrate.head_revision()
