"""Data packages (报送包) on real SQLite files: export, import, round trip, re-import, pins, targets, permissions.

The bad packages (each refused with a message naming the reason, the city database byte-for-byte
unchanged) are in test_package_refusals.py; the twelve-county scenario in test_packages_e2e.py.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import accounts, air, audit, audit_verify, ledgers, monthly, submission, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.services.packages import keys as keys
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityMonth,
    AirQualityTarget,
    AuditEntry,
    Closeout,
    CountyTarget,
    MonthlyFigure,
    MonthSubmission,
    PackageAuditEntry,
)
from tests.services.admin_helpers import raw
from tests.services.package_helpers import (
    TAIGU,
    TODAY,
    YUCI,
    county_db,
    file_sha256,
    fresh_db,
    private_key_of,
    read_any,
    remake,
    typed_rows,
)

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


def export_yuci(county, tmp_path, name: str = "榆次区.jzpkg"):
    return export.export_county_package(county, YUCI, MONTH, tmp_path / name, actor=BUILTIN_ADMIN)


def unit_rows(db, key: str) -> list[dict]:
    model = LEDGER_MODELS[key]
    return typed_rows(db, model, model.unit_code == YUCI)


def unit_closeouts(db) -> list[dict]:
    out = []
    with read_session(db.engine) as s:
        for key, model in LEDGER_MODELS.items():
            uuids = select(model.uuid).where(model.unit_code == YUCI)
            out += [(c.ledger, c.record_uuid, c.reviewer, c.closed_at, c.closed_by)
                    for c in s.scalars(select(Closeout).where(Closeout.ledger == key, Closeout.record_uuid.in_(uuids)))]
    return sorted(out)


def the_rest(db) -> dict[str, list]:
    """Everything of the unit besides the ledgers, field by field."""
    return {
        "closeouts": unit_closeouts(db),
        "figures": typed_rows(db, MonthlyFigure, MonthlyFigure.unit_code == YUCI),
        "air": typed_rows(db, AirQualityMonth, AirQualityMonth.area == YUCI),
        "submissions": typed_rows(db, MonthSubmission, MonthSubmission.unit_code == YUCI),
    }


# --- export ---------------------------------------------------------------------------------------


def test_export_writes_a_complete_signed_package(county, tmp_path):
    result = export_yuci(county, tmp_path)
    pkg = jzpkg.read_package(result.path, schema_revision=migrate.head_revision())
    m = pkg.manifest
    assert (m["format"], m["format_version"], m["kind"]) == ("jzair-package", 1, "county")
    assert (m["unit_code"], m["unit_name"], m["month"], m["sequence"]) == (YUCI, "榆次区", MONTH, 1)
    assert m["schema_revision"] == migrate.head_revision() and m["created_by"] == BUILTIN_ADMIN.name
    # Since the chain head is anchored in packages and milestones travel, the optional members are always written.
    assert set(m["members"]) == {*jzpkg.MEMBERS["county"], jzpkg.CHAIN_MEMBER, jzpkg.MILESTONES_MEMBER}
    assert m["counts"]["milestones"] == len(pkg.rows(jzpkg.MILESTONES_MEMBER)) == 1  # 榆次区's 露天矿山摸底 (demo)
    assert pkg.rows(jzpkg.MILESTONES_MEMBER)[0]["indicator"] == "mines.survey"
    me = keys.identity(county)
    assert pkg.fingerprint == me.fingerprint == result.fingerprint and pkg.public_key == me.public_key
    for key in LEDGER_KEYS:
        lines = pkg.rows(f"{key}.jsonl")
        assert len(lines) == len(unit_rows(county, key)) == m["counts"][key] == m["members"][f"{key}.jsonl"]["records"]
        assert all(line["unit_code"] == YUCI for line in lines if "deleted_at" not in line)
    assert sum(m["counts"][k] for k in LEDGER_KEYS) > 100
    assert m["counts"]["closeouts"] >= 1 and m["counts"]["monthly_figures"] > 0 and m["counts"]["audit"] > 0
    with read_session(county.engine) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "package_export"))
    assert entry.unit_code == YUCI and result.manifest_sha256[:16] in entry.detail


@pytest.mark.slow
def test_each_export_of_a_unit_takes_the_next_sequence(county, tmp_path):
    first = export_yuci(county, tmp_path, "a.jzpkg")
    second = export_yuci(county, tmp_path, "b.jzpkg")
    other = export.export_county_package(county, TAIGU, MONTH, tmp_path / "c.jzpkg", actor=BUILTIN_ADMIN)
    assert (first.sequence, second.sequence, other.sequence) == (1, 2, 1)
    assert first.fingerprint == second.fingerprint  # one installation, one key


def test_export_leaves_no_temporary_file_and_replaces_an_old_package(county, tmp_path):
    out = tmp_path / "发送" / "榆次区.jzpkg"
    out.parent.mkdir()
    out.write_bytes(b"old")
    export.export_county_package(county, YUCI, MONTH, out, actor=BUILTIN_ADMIN)
    assert [p.name for p in out.parent.iterdir()] == ["榆次区.jzpkg"]
    assert jzpkg.read_package(out, schema_revision=migrate.head_revision()).sequence == 1


def test_an_unknown_month_or_unit_is_refused_before_anything_is_written(county, tmp_path):
    before = file_sha256(county)
    with pytest.raises(Exception, match="不在可上报的范围内"):
        export.export_county_package(county, YUCI, "2019-05", tmp_path / "x.jzpkg", actor=BUILTIN_ADMIN)
    with pytest.raises(Exception, match="未知|找不到"):
        export.export_county_package(county, "火星县", MONTH, tmp_path / "x.jzpkg", actor=BUILTIN_ADMIN)
    assert file_sha256(county) == before and not (tmp_path / "x.jzpkg").exists()


# --- import ---------------------------------------------------------------------------------------


def test_preview_says_what_would_change_and_writes_nothing(county, city, tmp_path):
    result = export_yuci(county, tmp_path)
    before = file_sha256(city)
    preview = imp.preview_package(city, result.path, actor=BUILTIN_ADMIN)
    assert file_sha256(city) == before
    assert preview.pin == "first" and preview.already_imported is None
    by_key = {c.key: c for c in preview.changes}
    for key in LEDGER_KEYS:
        assert (by_key[key].new, by_key[key].changed, by_key[key].deleted) == (len(unit_rows(county, key)), 0, 0)
    assert by_key["audit"].new == result.counts["audit"]


@pytest.mark.slow
def test_round_trip_keeps_every_field(county, city, tmp_path):
    first = export_yuci(county, tmp_path, "1.jzpkg")
    assert imp.import_package(city, first.path, actor=BUILTIN_ADMIN).imported
    for key in LEDGER_KEYS:
        assert unit_rows(city, key) == unit_rows(county, key), key
    assert the_rest(city) == the_rest(county)

    # The county works on: a change, a deletion, a record added and deleted before the city sees it,
    # a submitted month.
    heating = unit_rows(county, "heating")
    changed, gone = heating[0], heating[1]
    ledgers.update_record(county, "heating", changed["uuid"], {**{k: changed[k] for k in
                          ("unit_code", "township", "village", "id_number", "method", "status", "done_date",
                           "keeps_coal_stove")}, "householder": "改名后的户主"}, actor=BUILTIN_ADMIN, today=TODAY)
    ledgers.delete_record(county, "heating", gone["uuid"], actor=BUILTIN_ADMIN)
    fleeting = ledgers.create_record(county, "trucks", raw("trucks", 901), actor=BUILTIN_ADMIN, today=TODAY).uuid
    ledgers.delete_record(county, "trucks", fleeting, actor=BUILTIN_ADMIN)
    air.set_air_quality(county, BUILTIN_ADMIN, YUCI, "2020-11", pm25=61.5)
    submission.submit_month(county, YUCI, "2020-11", BUILTIN_ADMIN, today=TODAY)

    second = export_yuci(county, tmp_path, "2.jzpkg")
    preview = imp.preview_package(city, second.path, actor=BUILTIN_ADMIN)
    by_key = {c.key: c for c in preview.changes}
    assert (by_key["heating"].new, by_key["heating"].changed, by_key["heating"].deleted) == (0, 1, 1)
    assert (by_key["trucks"].new, by_key["trucks"].deleted) == (0, 0)  # never seen, deleted: nothing to do
    assert by_key["submissions"].new == 1 and by_key["air_quality"].changed == 1
    assert preview.pin == "pinned"
    assert imp.import_package(city, second.path, actor=BUILTIN_ADMIN).imported

    county_trucks = [r for r in unit_rows(county, "trucks") if r["uuid"] != fleeting]
    assert unit_rows(city, "trucks") == county_trucks
    for key in ("heating", "boilers", "kilns", "vocs"):
        assert unit_rows(city, key) == unit_rows(county, key), key
    deleted = next(r for r in unit_rows(city, "heating") if r["uuid"] == gone["uuid"])
    assert deleted["deleted_at"] is not None and deleted["deleted_by"] == BUILTIN_ADMIN.name
    assert next(r for r in unit_rows(city, "heating") if r["uuid"] == changed["uuid"])["householder"] == "改名后的户主"
    assert the_rest(city) == the_rest(county)

    # The county's audit entries of the unit are kept apart, exactly; the city's own chain stays intact.
    with read_session(county.engine) as s:
        county_entries = {e.hash: (e.seq, e.action, e.after_json) for e in
                          s.scalars(select(AuditEntry).where(AuditEntry.unit_code == YUCI))}
    with read_session(city.engine) as s:
        kept = {e.hash: (e.seq, e.action, e.after_json) for e in s.scalars(select(PackageAuditEntry))}
    assert set(county_entries) - set(kept) == {  # only the export entry of package 2 itself is newer
        h for h, (_, action, _) in county_entries.items() if action == "package_export"} - set(kept)
    assert all(kept[h] == county_entries[h] for h in kept)
    report = audit_verify.verify(city)
    assert report.ok, [f.message for f in report.findings[:5]]


def test_importing_the_same_package_twice_changes_nothing(county, city, tmp_path):
    result = export_yuci(county, tmp_path)
    imp.import_package(city, result.path, actor=BUILTIN_ADMIN)
    before = file_sha256(city)
    again = imp.import_package(city, result.path, actor=BUILTIN_ADMIN)
    assert not again.imported and again.preview.already_imported is not None
    assert file_sha256(city) == before
    assert len(imp.import_history(city)) == 1


@pytest.mark.slow
def test_a_new_package_without_changes_imports_nothing_but_its_history(county, city, tmp_path):
    imp.import_package(city, export_yuci(county, tmp_path, "1.jzpkg").path, actor=BUILTIN_ADMIN)
    before = {key: unit_rows(city, key) for key in LEDGER_KEYS}
    result = imp.import_package(city, export_yuci(county, tmp_path, "2.jzpkg").path, actor=BUILTIN_ADMIN)
    assert result.imported
    ledgers_changes = [c for c in result.preview.changes if c.key in LEDGER_KEYS]
    assert sum(c.total_changes for c in ledgers_changes) == 0 and all(c.unchanged for c in ledgers_changes)
    assert {key: unit_rows(city, key) for key in LEDGER_KEYS} == before
    assert [h.sequence for h in imp.import_history(city)] == [2, 1]


def test_the_citys_own_records_of_other_units_are_never_touched(county, city, tmp_path):
    ledgers.create_record(city, "heating", raw("heating", 7, unit=TAIGU), actor=BUILTIN_ADMIN, today=TODAY)
    monthly.set_figure(city, BUILTIN_ADMIN, TAIGU, "nonroad.inspection", "2020-11", 3)  # (新能源公交 is not 太谷区's)
    taigu = {key: typed_rows(city, LEDGER_MODELS[key], LEDGER_MODELS[key].unit_code == TAIGU) for key in LEDGER_KEYS}
    figures = typed_rows(city, MonthlyFigure, MonthlyFigure.unit_code == TAIGU)
    imp.import_package(city, export_yuci(county, tmp_path).path, actor=BUILTIN_ADMIN)
    assert {key: typed_rows(city, LEDGER_MODELS[key], LEDGER_MODELS[key].unit_code == TAIGU)
            for key in LEDGER_KEYS} == taigu
    assert typed_rows(city, MonthlyFigure, MonthlyFigure.unit_code == TAIGU) == figures


def test_a_record_that_duplicates_another_units_record_is_imported_with_a_warning(county, city, tmp_path):
    truck = unit_rows(county, "trucks")[0]
    other = raw("trucks", 3, unit=TAIGU, vin=truck["vin"])
    ledgers.create_record(city, "trucks", other, actor=BUILTIN_ADMIN, today=TODAY)
    preview = imp.preview_package(city, export_yuci(county, tmp_path).path, actor=BUILTIN_ADMIN)
    assert any("太谷区" in w and "相同车辆识别代号" in w for w in preview.warnings)


@pytest.mark.slow
def test_the_history_and_pins_say_who_imported_what(county, city, tmp_path):
    result = export_yuci(county, tmp_path)
    imp.import_package(city, result.path, actor=BUILTIN_ADMIN)
    [row] = imp.import_history(city, scope=YUCI)
    assert (row.name, row.month, row.sequence, row.fingerprint) == ("榆次区", MONTH, 1, result.fingerprint)
    assert row.manifest_sha256 == result.manifest_sha256 and row.imported_by == BUILTIN_ADMIN.name
    assert row.total("new") == sum(len(unit_rows(county, k)) for k in LEDGER_KEYS)
    [pin] = keys.list_pins(city)
    assert (pin.scope, pin.fingerprint, pin.source) == (YUCI, result.fingerprint, "first_import")
    with read_session(city.engine) as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.ledger == "packages"))]
    assert actions == ["package_pin", "package_import"]
    assert audit.action_label("package_import") == "导入报送包"


# --- pins -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_package_signed_by_another_key_is_refused_until_a_city_admin_re_pins(county, city, tmp_path):
    imp.import_package(city, export_yuci(county, tmp_path, "1.jzpkg").path, actor=BUILTIN_ADMIN)
    second = export_yuci(county, tmp_path, "2.jzpkg").path
    stranger = jzpkg.new_private_key()
    forged = remake(second, tmp_path / "重装后.jzpkg", private_key=stranger)
    new_fp = jzpkg.fingerprint_of(jzpkg.public_key_of(stranger))
    with pytest.raises(PackageError, match="签名公钥与本机为榆次区绑定的公钥不一致") as info:
        imp.import_package(city, forged, actor=BUILTIN_ADMIN)
    assert jzpkg.format_fingerprint(new_fp) in str(info.value)

    pinned = keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, fingerprint=jzpkg.format_fingerprint(new_fp).lower(),
                          reason="县里重装了电脑，已电话核对指纹")
    assert pinned.changed and pinned.previous == keys.identity(county).fingerprint
    assert imp.import_package(city, forged, actor=BUILTIN_ADMIN).imported
    with read_session(city.engine) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "package_pin", AuditEntry.user_name ==
                                                  BUILTIN_ADMIN.name).order_by(AuditEntry.seq.desc()))
    assert "电话核对" in entry.detail and json.loads(entry.after_json)["fingerprint"] == new_fp
    # and now the old key is the stranger
    with pytest.raises(PackageError, match="不一致"):
        imp.import_package(city, export_yuci(county, tmp_path, "3.jzpkg").path, actor=BUILTIN_ADMIN)


def test_re_pin_from_a_package_file_checks_it_first(county, city, tmp_path):
    first = export_yuci(county, tmp_path, "1.jzpkg").path
    result = keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, package=first)
    assert result.pin.fingerprint == keys.identity(county).fingerprint and result.pin.source == "package"
    again = keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, package=first)
    assert not again.changed
    with pytest.raises(Exception, match="不是太谷区的报送包"):
        keys.pin_key(city, TAIGU, actor=BUILTIN_ADMIN, package=first)
    broken = tmp_path / "坏.jzpkg"
    broken.write_bytes(first.read_bytes()[:500])
    with pytest.raises(PackageError, match="损坏"):
        keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, package=broken)
    with pytest.raises(Exception, match="公钥指纹格式不正确"):
        keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, fingerprint="1234 5678")


# --- permissions ----------------------------------------------------------------------------------


def _with_accounts(db) -> dict[str, Actor]:
    accounts.add_user(db, BUILTIN_ADMIN, "王主任", "city_admin", "admin-pass-1")
    admin = Actor("王主任", "city_admin")
    accounts.add_user(db, admin, "李四", "county_clerk", "yuci-pass-1", unit=YUCI)
    accounts.add_user(db, admin, "赵六", "county_clerk", "taigu-pass-1", unit=TAIGU)
    accounts.add_user(db, admin, "钱七", "viewer", "viewer-pass-1")
    return {"admin": admin, "yuci": Actor("李四", "county_clerk", YUCI), "taigu": Actor("赵六", "county_clerk", TAIGU),
            "viewer": Actor("钱七", "viewer")}


@pytest.mark.slow
def test_who_may_export_import_and_pin(county, city, tmp_path):
    people = _with_accounts(county)
    result = export.export_county_package(county, YUCI, MONTH, tmp_path / "a.jzpkg", actor=people["yuci"])
    assert result.sequence == 1
    with pytest.raises(PermissionDenied, match="只能填报本县"):
        export.export_county_package(county, YUCI, MONTH, tmp_path / "b.jzpkg", actor=people["taigu"])
    with pytest.raises(PermissionDenied):
        export.export_county_package(county, YUCI, MONTH, tmp_path / "b.jzpkg", actor=people["viewer"])
    with pytest.raises(PermissionDenied, match="只有市级管理员"):
        export.export_targets_package(county, tmp_path / "t.jzpkg", actor=people["yuci"])

    city_people = _with_accounts(city)
    before = file_sha256(city)
    with pytest.raises(PermissionDenied, match="只有市级管理员可以导入县级报送包"):
        imp.import_package(city, result.path, actor=city_people["yuci"])
    with pytest.raises(PermissionDenied, match="只有管理员可以绑定或重新绑定"):
        keys.pin_key(city, YUCI, actor=city_people["yuci"], fingerprint="a" * 64)
    assert file_sha256(city) == before
    assert imp.import_package(city, result.path, actor=city_people["admin"]).imported


# --- targets --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_targets_package_gives_the_county_the_citys_targets(demo_template, city, tmp_path):
    county = county_db(demo_template, tmp_path / "县", YUCI, keep_targets=False)
    targets.split_city_targets(city, {u: 1.0 for u in (YUCI, TAIGU)}, BUILTIN_ADMIN)
    air.set_air_quality_target(city, BUILTIN_ADMIN, YUCI, "2020-10", "2020-12", pm25_max=55, heavy_days_max=3)
    out = export.export_targets_package(city, tmp_path / "任务包.jzpkg", actor=BUILTIN_ADMIN)
    assert out.kind == "targets" and out.counts["county_targets"] > 0

    preview = imp.preview_package(county, out.path, actor=BUILTIN_ADMIN)
    assert preview.kind == "targets" and preview.pin == "first" and preview.unit_name is None
    assert {c.key: c.new for c in preview.changes}["county_targets"] == out.counts["county_targets"]
    assert imp.import_package(county, out.path, actor=BUILTIN_ADMIN).imported
    cols = ("indicator_key", "unit_code", "value")
    with read_session(county.engine) as s:
        county_targets = sorted(s.execute(select(*[getattr(CountyTarget, c) for c in cols])).all())
    with read_session(city.engine) as s:
        city_targets = sorted(s.execute(select(*[getattr(CountyTarget, c) for c in cols])).all())
    assert county_targets == city_targets
    assert typed_rows(county, AirQualityTarget) == typed_rows(city, AirQualityTarget)
    assert [p.scope for p in keys.list_pins(county)] == ["city"]

    before = file_sha256(county)
    assert not imp.import_package(county, out.path, actor=BUILTIN_ADMIN).imported
    assert file_sha256(county) == before

    # A later split replaces the county's copy entirely (targets cleared at the city are cleared there too).
    targets.clear_all_targets(city, BUILTIN_ADMIN)
    targets.set_target(city, BUILTIN_ADMIN, "trucks.eliminated", YUCI, 120)
    out2 = export.export_targets_package(city, tmp_path / "任务包2.jzpkg", actor=BUILTIN_ADMIN)
    imp.import_package(county, out2.path, actor=BUILTIN_ADMIN)
    with read_session(county.engine) as s:
        assert s.execute(select(CountyTarget.indicator_key, CountyTarget.unit_code, CountyTarget.value)).all() == [
            ("trucks.eliminated", YUCI, 120.0)]
    county.dispose()


@pytest.mark.slow
def test_only_the_administrator_imports_the_targets_package(demo_template, city, tmp_path):
    """Changed on purpose (issue 16 finding 1): a clerk no longer imports targets (nor pins the city key)."""
    county = county_db(demo_template, tmp_path / "县", YUCI, keep_targets=False)
    people = _with_accounts(county)
    out = export.export_targets_package(city, tmp_path / "任务包.jzpkg", actor=BUILTIN_ADMIN)
    for who in ("viewer", "yuci"):
        with pytest.raises(PermissionDenied, match="只有管理员可以导入市级任务包"):
            imp.import_package(county, out.path, actor=people[who])
    assert keys.list_pins(county) == []
    assert imp.import_package(county, out.path, actor=people["admin"]).imported
    county.dispose()


def test_a_targets_package_from_another_city_key_is_refused(demo_template, city, tmp_path):
    county = county_db(demo_template, tmp_path / "县", YUCI, keep_targets=False)
    imp.import_package(county, export.export_targets_package(city, tmp_path / "1.jzpkg", actor=BUILTIN_ADMIN).path,
                       actor=BUILTIN_ADMIN)
    second = export.export_targets_package(city, tmp_path / "2.jzpkg", actor=BUILTIN_ADMIN).path
    forged = remake(second, tmp_path / "伪造.jzpkg")
    before = file_sha256(county)
    with pytest.raises(PackageError, match="市级（任务包）绑定的公钥不一致"):
        imp.import_package(county, forged, actor=BUILTIN_ADMIN)
    assert file_sha256(county) == before
    assert read_any(forged)["manifest"]["sequence"] == 2
    county.dispose()


@pytest.mark.slow
def test_a_reinstalled_county_starts_its_numbering_again_once_re_pinned(demo_template, county, city, tmp_path):
    for name in ("1.jzpkg", "2.jzpkg"):
        imp.import_package(city, export_yuci(county, tmp_path, name).path, actor=BUILTIN_ADMIN)
    reinstalled = county_db(demo_template, tmp_path / "重装后", YUCI)  # a new installation: new key, sequence 1
    fresh = export_yuci(reinstalled, tmp_path, "重装后第1号.jzpkg")
    assert fresh.sequence == 1 and fresh.fingerprint != keys.identity(county).fingerprint
    with pytest.raises(PackageError, match="不一致"):
        imp.import_package(city, fresh.path, actor=BUILTIN_ADMIN)
    keys.pin_key(city, YUCI, actor=BUILTIN_ADMIN, package=fresh.path, reason="重装")
    assert imp.import_package(city, fresh.path, actor=BUILTIN_ADMIN).imported
    assert [(h.sequence, h.fingerprint == fresh.fingerprint) for h in imp.import_history(city)] == [
        (1, True), (2, False), (1, False)]
    with pytest.raises(PackageError, match="序号 1 不大于.*重复发送"):  # the new key's own numbering is guarded from now on
        imp.import_package(city, remake(fresh.path, tmp_path / "重放.jzpkg", private_key=private_key_of(reinstalled),
                                        manifest=lambda m: m.update(sequence=1, created_by="别人")),
                           actor=BUILTIN_ADMIN)
    reinstalled.dispose()
