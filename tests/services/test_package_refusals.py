"""Bad packages: each one is refused with a Chinese message naming the reason, by the dry run and by the
import alike, and the city database file is byte-for-byte what it was (SHA-256 of the file, read after
every connection is closed, so that SQLite's WAL file is checkpointed and gone).

The city has already imported the county's first package (the county's key is pinned); the bad ones
are made from the county's genuine second package.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import ledgers
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from tests.services.admin_helpers import raw, vin
from tests.services.package_helpers import (
    TAIGU,
    TODAY,
    YUCI,
    county_db,
    edit_lines,
    file_sha256,
    fresh_db,
    member_data_offset,
    open_db,
    patch_declared_size,
    private_key_of,
    remake,
    rezip,
)


@dataclass
class Setup:
    county: Database
    city: Database
    folder: Path
    first: Path  # imported into the city already
    second: Path  # genuine, not yet imported

    def out(self, name: str) -> Path:
        return self.folder / name

    def signed_by_county(self, name: str, **changes) -> Path:  # noqa: ANN003
        return remake(self.second, self.out(name), private_key=private_key_of(self.county), **changes)


@pytest.fixture(scope="module")
def prepared(demo_template, tmp_path_factory):
    """County and city after the first package went in, and the genuine second package (files, closed)."""
    folder = tmp_path_factory.mktemp("prepared")
    county = county_db(demo_template, folder / "县", YUCI)
    city = fresh_db(folder / "市" / "市级.sqlite3")
    first = export.export_county_package(county, YUCI, "2020-11", folder / "第1号.jzpkg", actor=BUILTIN_ADMIN)
    imp.import_package(city, first.path, actor=BUILTIN_ADMIN)
    export.export_county_package(county, YUCI, "2020-12", folder / "第2号.jzpkg", actor=BUILTIN_ADMIN)
    county.dispose()
    city.dispose()
    return folder


@pytest.fixture
def setup(prepared, tmp_path):
    """A copy of `prepared` of the test's own."""
    shutil.copytree(prepared, tmp_path, dirs_exist_ok=True)
    county = open_db(tmp_path / "县" / f"县-{YUCI}.sqlite3")
    city = open_db(tmp_path / "市" / "市级.sqlite3")
    yield Setup(county, city, tmp_path, tmp_path / "第1号.jzpkg", tmp_path / "第2号.jzpkg")
    county.dispose()
    city.dispose()


def flip(path: Path, out: Path, offset: int) -> Path:
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x01
    out.write_bytes(bytes(blob))
    return out


# --- the bad packages -----------------------------------------------------------------------------


def truncated(s: Setup) -> Path:
    out = s.out("截断.jzpkg")
    out.write_bytes(s.second.read_bytes()[: s.second.stat().st_size // 2])
    return out


def tail_cut(s: Setup) -> Path:
    out = s.out("缺尾.jzpkg")
    out.write_bytes(s.second.read_bytes()[:-30])
    return out


def bit_flipped_in_a_ledger(s: Setup) -> Path:
    offset, length = member_data_offset(s.second, "heating.jsonl")
    return flip(s.second, s.out("翻转.jzpkg"), offset + length // 2)


def bit_flipped_in_the_signature(s: Setup) -> Path:
    offset, _ = member_data_offset(s.second, jzpkg.SIGNATURE)
    return flip(s.second, s.out("翻转签名.jzpkg"), offset + 10)


def not_a_zip(s: Setup) -> Path:
    out = s.out("不是压缩包.jzpkg")
    out.write_text("这不是报送包，而是一段文字。" * 20, encoding="utf-8")
    return out


def empty(s: Setup) -> Path:
    out = s.out("空文件.jzpkg")
    out.write_bytes(b"")
    return out


def dot_dot_name(s: Setup) -> Path:
    return rezip(s.second, s.out("上级目录.jzpkg"), rename={"heating.jsonl": "../heating.jsonl"})


def absolute_name(s: Setup) -> Path:
    return rezip(s.second, s.out("绝对路径.jzpkg"), add={"/etc/cron.d/jzair": b"* * * * * root true\n"})


def windows_drive_name(s: Setup) -> Path:
    return rezip(s.second, s.out("盘符.jzpkg"), add={"C:/Windows/Temp/x.jsonl": b"{}\n"})


def backslash_name(s: Setup) -> Path:
    return rezip(s.second, s.out("反斜杠.jzpkg"), rename={"vocs.jsonl": "..\\vocs.jsonl"})


def high_ratio_bomb(s: Setup) -> Path:
    out = s.out("压缩炸弹.jzpkg")
    with zipfile.ZipFile(s.second) as zin, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                                           compresslevel=9) as zout:
        for info in zin.infolist():
            body = b" " * (40 * 1024 * 1024) if info.filename == "audit.jsonl" else zin.read(info.filename)
            zout.writestr(info.filename, body)
    return out


def huge_unpacked_size(s: Setup) -> Path:
    out = rezip(s.second, s.out("超大.jzpkg"))
    patch_declared_size(out, "audit.jsonl", 300 * 1024 * 1024)
    return out


def other_schema_revision(s: Setup) -> Path:
    return s.signed_by_county("旧架构.jzpkg", manifest=lambda m: m.update(schema_revision="0002"))


def other_format_version(s: Setup) -> Path:
    return s.signed_by_county("新格式.jzpkg", manifest=lambda m: m.update(format_version=2))


def manifest_edited(s: Setup) -> Path:
    with zipfile.ZipFile(s.second) as zf:
        raw_manifest = zf.read(jzpkg.MANIFEST)
    edited = raw_manifest.replace('"unit_name": "榆次区"'.encode(), '"unit_name": "榆次县"'.encode())
    assert edited != raw_manifest
    return rezip(s.second, s.out("改清单.jzpkg"), replace={jzpkg.MANIFEST: edited})


def member_edited(s: Setup) -> Path:
    with zipfile.ZipFile(s.second) as zf:
        body = zf.read("heating.jsonl")
    at = body.index(b'"householder":"') + len(b'"householder":"')
    edited = body[:at] + "假".encode() + body[at + 3:]
    assert len(edited) == len(body) and edited != body
    return rezip(s.second, s.out("改内容.jzpkg"), replace={"heating.jsonl": edited})


def signed_by_a_stranger(s: Setup) -> Path:
    return remake(s.second, s.out("他人签名.jzpkg"))


def older_package(s: Setup) -> Path:
    """Package 2 after package 3 went in (an identical re-import of an imported one is no refusal: see
    test_packages.test_importing_the_same_package_twice_changes_nothing)."""
    third = export.export_county_package(s.county, YUCI, "2020-12", s.out("第3号.jzpkg"), actor=BUILTIN_ADMIN)
    imp.import_package(s.city, third.path, actor=BUILTIN_ADMIN)
    return s.second


def same_sequence_other_content(s: Setup) -> Path:
    imp.import_package(s.city, s.second, actor=BUILTIN_ADMIN)

    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "heating.jsonl", lambda rows: rows[0].update(remarks="重放时偷改的备注"))

    return s.signed_by_county("同号不同内容.jzpkg", members=change)


def extra_member(s: Setup) -> Path:
    return rezip(s.second, s.out("多文件.jzpkg"), add={"readme.txt": b"hello"})


def missing_member(s: Setup) -> Path:
    return rezip(s.second, s.out("少文件.jzpkg"), drop=("vocs.jsonl",))


def record_of_another_unit(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "heating.jsonl", lambda rows: rows[0].update(unit_code=TAIGU))

    return s.signed_by_county("别县记录.jzpkg", members=change)


def invalid_record(s: Setup) -> Path:
    bad_vin = vin(7)[:8] + ("0" if vin(7)[8] != "0" else "1") + vin(7)[9:]

    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "trucks.jsonl", lambda rows: rows[0].update(vin=bad_vin))

    return s.signed_by_county("坏记录.jzpkg", members=change)


def wrong_type(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "heating.jsonl", lambda rows: rows[0].update(area_m2="很大"))

    return s.signed_by_county("类型错.jzpkg", members=change)


def broken_json_line(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        data["boilers.jsonl"] += b"{not json\n"

    return s.signed_by_county("坏行.jzpkg", members=change)


def audit_entry_tampered(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "audit.jsonl", lambda rows: rows[3].update(user_name="别人"))

    return s.signed_by_county("改审计.jzpkg", members=change)


def uuid_of_another_units_record(s: Setup) -> Path:
    theirs = ledgers.create_record(s.city, "heating", raw("heating", 5, unit=TAIGU), actor=BUILTIN_ADMIN,
                                   today=TODAY).uuid

    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "heating.jsonl", lambda rows: rows[0].update(uuid=theirs))

    return s.signed_by_county("占用编号.jzpkg", members=change)


def unknown_unit(s: Setup) -> Path:
    return s.signed_by_county("未知县.jzpkg", manifest=lambda m: m.update(unit_code="149999"))


def exported_by_the_city_itself(s: Setup) -> Path:
    return export.export_county_package(s.city, TAIGU, "2020-12", s.out("本机.jzpkg"), actor=BUILTIN_ADMIN).path


def absurd_monthly_figure(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "monthly_figures.jsonl", lambda rows: rows[0].update(value=1e308))

    return s.signed_by_county("月度数据1e308.jzpkg", members=change)


def overflowing_number_literal(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "monthly_figures.jsonl", lambda rows: rows[0].update(value=12345.5))
        data["monthly_figures.jsonl"] = data["monthly_figures.jsonl"].replace(b"12345.5", b"1e400", 1)

    return s.signed_by_county("溢出.jzpkg", members=change)


def absurd_record_amount(s: Setup) -> Path:
    def change(data: dict[str, bytes]) -> None:
        edit_lines(data, "heating.jsonl", lambda rows: rows[0].update(subsidy_yuan=1e300))

    return s.signed_by_county("补贴1e300.jzpkg", members=change)


def _frozen(change_row: Callable[[dict], None]) -> Callable[[dict[str, bytes]], None]:
    def change(data: dict[str, bytes]) -> None:
        def edit(rows: list[dict]) -> None:
            # A submission of 2020-11 with sane figures, then one number changed.
            figures = {"source": "progress", "unit_code": YUCI, "month": "2020-11", "as_of": "2020-11-30",
                       "indicators": [{"indicator": "bus.new_energy", "unit_code": YUCI, "target": 10.0,
                                       "done": 3.0, "completion": 0.3, "schedule": 0.5, "status": "behind"}],
                       "records": {}}
            change_row(figures["indicators"][0])
            rows[:] = [{"unit_code": YUCI, "month": "2020-11", "version": 1, "status": "submitted",
                        "submitted_at": "2020-12-01T09:00:00", "submitted_by": "榆次填报员",
                        "figures_json": json.dumps(figures, ensure_ascii=False),  # allows Infinity, as an attacker would
                        "unlocked_at": None, "unlocked_by": None, "unlock_reason": None}]

        edit_lines(data, "submissions.jsonl", edit)

    return change


def infinity_frozen_in_a_submission(s: Setup) -> Path:
    return s.signed_by_county("冻结无穷大.jzpkg", members=_frozen(lambda r: r.update(done=float("inf"))))


def nan_frozen_in_a_submission(s: Setup) -> Path:
    return s.signed_by_county("冻结NaN.jzpkg", members=_frozen(lambda r: r.update(completion=float("nan"))))


def huge_number_frozen_in_a_submission(s: Setup) -> Path:
    return s.signed_by_county("冻结1e300.jzpkg", members=_frozen(lambda r: r.update(done=1e300)))


CASES: dict[str, tuple[Callable[[Setup], Path], str]] = {
    "absurd_monthly_figure": (absurd_monthly_figure, "monthly_figures.jsonl 第 1 行.*(数值过大|超出合理范围)"),
    "overflowing_number_literal": (overflowing_number_literal, "monthly_figures.jsonl 第 1 行不是有效的 JSON"),
    "absurd_record_amount": (absurd_record_amount, "(?s)heating.jsonl 第 1 行.*补贴金额.*(数值过大|超出合理范围)"),
    "infinity_frozen_in_a_submission": (infinity_frozen_in_a_submission, "submissions.jsonl 第 1 行.*冻结的进度数据"),
    "nan_frozen_in_a_submission": (nan_frozen_in_a_submission, "submissions.jsonl 第 1 行.*冻结的进度数据"),
    "huge_number_frozen_in_a_submission": (huge_number_frozen_in_a_submission,
                                           "submissions.jsonl 第 1 行.*冻结的进度数据中 indicators\\[0\\].done"),
    "truncated": (truncated, "文件已损坏或不完整"),
    "tail_cut": (tail_cut, "文件已损坏或不完整"),
    "bit_flipped_in_a_ledger": (bit_flipped_in_a_ledger, "文件已损坏或不完整"),
    "bit_flipped_in_the_signature": (bit_flipped_in_the_signature, "文件已损坏或不完整"),
    "not_a_zip": (not_a_zip, "文件已损坏或不完整"),
    "empty": (empty, "文件是空的"),
    "dot_dot_name": (dot_dot_name, "不安全的文件路径“../heating.jsonl”"),
    "absolute_name": (absolute_name, "不安全的文件路径“/etc/cron.d/jzair”"),
    "windows_drive_name": (windows_drive_name, "不安全的文件路径“C:/Windows"),
    "backslash_name": (backslash_name, "不安全的文件路径"),
    "high_ratio_bomb": (high_ratio_bomb, "压缩比约为 \\d+ 倍，超过 100 倍上限"),
    "huge_unpacked_size": (huge_unpacked_size, "解压后总大小 \\d+ MB 超过 200 MB 上限"),
    "other_schema_revision": (other_schema_revision, "数据库架构版本不同：报送包由架构版本 0002"),
    "other_format_version": (other_format_version, "格式版本为 2"),
    "manifest_edited": (manifest_edited, "数字签名无效"),
    "member_edited": (member_edited, "heating.jsonl 的校验值（SHA-256）与清单不符"),
    "signed_by_a_stranger": (signed_by_a_stranger, "签名公钥与本机为榆次区绑定的公钥不一致"),
    "older_package": (older_package, "序号 2 不大于.*最新序号 3.*旧的"),
    "same_sequence_other_content": (same_sequence_other_content, "序号 2 不大于.*重复发送"),
    "extra_member": (extra_member, "不应有的文件：readme.txt"),
    "missing_member": (missing_member, "缺少文件：vocs.jsonl"),
    "record_of_another_unit": (record_of_another_unit, "heating.jsonl 第 1 行.*属于县（区、市）代码 140703"),
    "invalid_record": (invalid_record, "(?s)台账记录有 1 处不符合校验规则.*trucks.jsonl 第 1 行.*车辆识别代号"),
    "wrong_type": (wrong_type, "heating.jsonl 第 1 行：字段 area_m2 应为数字"),
    "broken_json_line": (broken_json_line, "boilers.jsonl 第 \\d+ 行不是有效的 JSON"),
    "audit_entry_tampered": (audit_entry_tampered, "audit.jsonl 第 4 行.*与其校验值不符"),
    "uuid_of_another_units_record": (uuid_of_another_units_record, "在本机属于太谷区"),
    "unknown_unit": (unknown_unit, "149999 不是本市的县"),
    "exported_by_the_city_itself": (exported_by_the_city_itself, "由本机导出"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_package_is_refused_and_the_city_database_is_unchanged(setup, case):
    build, reason = CASES[case]
    path = build(setup)
    before = file_sha256(setup.city)
    history = imp.import_history(setup.city)
    for dry_run in (True, False):
        with pytest.raises(PackageError, match=reason) as info:
            imp.import_package(setup.city, path, actor=BUILTIN_ADMIN, dry_run=dry_run)
        assert path.name in str(info.value) and "被拒绝" in str(info.value)
        assert file_sha256(setup.city) == before
    assert imp.import_history(setup.city) == history
    # and the genuine package still goes in afterwards (nothing was half-done), unless it was the replay case
    if case not in ("older_package", "same_sequence_other_content"):
        assert imp.import_package(setup.city, setup.second, actor=BUILTIN_ADMIN).imported


@pytest.mark.slow
def test_a_bomb_is_refused_without_unpacking_it(setup, monkeypatch):
    """The size checks come from the zip's directory: no member of a bomb is ever read."""
    path = high_ratio_bomb(setup)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(PackageError, match="压缩炸弹"):
        imp.preview_package(setup.city, path, actor=BUILTIN_ADMIN)
    assert opened == []


def test_the_unchanged_check_itself_sees_a_change(setup):
    """file_sha256 is not blind: a real import changes the file's digest."""
    before = file_sha256(setup.city)
    imp.import_package(setup.city, setup.second, actor=BUILTIN_ADMIN)
    assert file_sha256(setup.city) != before
