"""The package file format on its own (no database): writing and reading, fingerprints, member names,
JSON Lines, and damage anywhere in the file (Hypothesis)."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError

REV = "0003"
KEY = bytes(range(32))  # a fixed private key: the tests are deterministic

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)
json_rows = st.lists(st.dictionaries(st.text(min_size=1, max_size=12), json_scalars, max_size=6), max_size=8)


def manifest(**over):  # noqa: ANN003
    m = {"format": jzpkg.FORMAT, "format_version": jzpkg.FORMAT_VERSION, "kind": "targets", "app_version": "0.1.0",
         "schema_revision": REV, "sequence": 1, "created_at": "2020-11-30T17:00:00", "created_by": "市级管理员",
         "counts": {"county_targets": 1, "air_quality_targets": 0}, "unit_code": None, "unit_name": None,
         "month": None}
    m.update(over)
    return m


def targets_members(rows=None) -> dict[str, bytes]:  # noqa: ANN001
    rows = rows if rows is not None else [{"indicator": "trucks.eliminated", "unit_code": "140702", "value": 120.0,
                                           "updated_at": "2020-11-01T09:00:00", "updated_by": "市级管理员"}]
    return {"county_targets.jsonl": jzpkg.jsonl_bytes(rows), "air_quality_targets.jsonl": b""}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("pkg") / "任务包.jzpkg"
    jzpkg.write_package(path, manifest(), targets_members(), private_key=KEY)
    return path


# --- keys and fingerprints ------------------------------------------------------------------------


@given(st.binary(min_size=32, max_size=32))
def test_a_fingerprint_reads_back_from_its_spoken_form(public_key):
    fp = jzpkg.fingerprint_of(public_key)
    spoken = jzpkg.format_fingerprint(fp)
    assert len(spoken.split(" ")) == 16 and all(len(g) == 4 for g in spoken.split(" "))
    assert jzpkg.parse_fingerprint(spoken) == fp
    assert jzpkg.parse_fingerprint(spoken.lower().replace(" ", "-")) == fp
    assert jzpkg.parse_fingerprint(":".join(spoken.split(" "))) == fp
    assert fp == hashlib.sha256(public_key).hexdigest()


@pytest.mark.parametrize("text", ["", "12ab", "g" * 64, "a" * 63, "a" * 65, "指纹" * 32])
def test_a_malformed_fingerprint_is_refused_in_chinese(text):
    with pytest.raises(JzairError, match="公钥指纹格式不正确"):
        jzpkg.parse_fingerprint(text)


def test_signatures_verify_only_the_exact_bytes():
    public = jzpkg.public_key_of(KEY)
    sig = jzpkg.sign(KEY, b"manifest")
    assert jzpkg.signature_valid(public, sig, b"manifest")
    assert not jzpkg.signature_valid(public, sig, b"manifesT")
    assert not jzpkg.signature_valid(jzpkg.public_key_of(jzpkg.new_private_key()), sig, b"manifest")
    assert not jzpkg.signature_valid(b"short", sig, b"manifest")


# --- names and JSON Lines ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "a/../b", "/etc/passwd", "C:/x", "c:x", "..\\x", "dir/x.jsonl", "./x", "",
                                  "a\x00b", "x/"])
def test_paths_are_unsafe_member_names(name):
    assert jzpkg.unsafe_name(name)


@pytest.mark.parametrize("name", ["heating.jsonl", "manifest.json", "signature.sig", "..hidden", "a..b.jsonl"])
def test_plain_file_names_are_safe(name):
    assert not jzpkg.unsafe_name(name)


@pytest.mark.slow
@given(json_rows)
def test_json_lines_read_back_exactly(rows):
    assert jzpkg.parse_jsonl("x.jsonl", jzpkg.jsonl_bytes(rows)) == rows


@pytest.mark.parametrize(("data", "line"), [
    (b'{"a":1}\n[1,2]\n', 2),
    (b'{"a":1}\n{"a":NaN}\n', 2),
    (b'{"a":[1\n2]}\n', 1),  # one value over two lines is two bad lines, not one object
    (b'{"a":1},{"b":2}\n', 1),
    (b'{"a":1}\n\n{"b":2}\n', 2),
])
def test_a_bad_line_is_named(data, line):
    with pytest.raises(PackageError, match=f"x.jsonl 第 {line} 行"):
        jzpkg.parse_jsonl("x.jsonl", data)


def test_text_that_is_not_utf8_is_refused():
    with pytest.raises(PackageError, match="不是 UTF-8"):
        jzpkg.parse_jsonl("x.jsonl", "{}\n".encode("gbk") + "中".encode("gbk"))


# --- writing and reading --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_rows)
def test_a_written_package_reads_back(tmp_path, rows):
    path = tmp_path / "包.jzpkg"
    written = jzpkg.write_package(path, manifest(), targets_members(rows), private_key=KEY,
                                  records={"county_targets.jsonl": len(rows)})
    pkg = jzpkg.read_package(path, schema_revision=REV)
    assert pkg.rows("county_targets.jsonl") == rows
    assert pkg.manifest_sha256 == written.manifest_sha256
    assert pkg.fingerprint == jzpkg.fingerprint_of(jzpkg.public_key_of(KEY))
    assert pkg.manifest["members"]["county_targets.jsonl"]["records"] == len(rows)
    assert [p.name for p in tmp_path.iterdir()] == ["包.jzpkg"]  # no temporary file left


def test_the_same_content_gives_the_same_bytes(tmp_path):
    a, b = tmp_path / "a.jzpkg", tmp_path / "b.jzpkg"
    jzpkg.write_package(a, manifest(), targets_members(), private_key=KEY)
    jzpkg.write_package(b, manifest(), targets_members(), private_key=KEY)
    assert a.read_bytes() == b.read_bytes()


def test_another_schema_revision_is_refused_after_the_signature(small):
    with pytest.raises(PackageError, match="架构版本 0003 的程序生成，本机程序的架构版本是 0004"):
        jzpkg.read_package(small, schema_revision="0004")


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_single_damaged_byte_is_refused_or_harmless(small, tmp_path_factory, data):
    """Flip one byte anywhere: either a PackageError, or (a byte outside the signed content: a timestamp,
    an attribute) exactly the original content. Never another exception, never other content."""
    original = jzpkg.read_package(small, schema_revision=REV)
    blob = bytearray(small.read_bytes())
    at = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    blob[at] ^= data.draw(st.integers(min_value=1, max_value=255))
    path = tmp_path_factory.mktemp("flip") / "翻转.jzpkg"
    path.write_bytes(bytes(blob))
    try:
        pkg = jzpkg.read_package(path, schema_revision=REV)
    except PackageError as exc:
        assert "被拒绝" in str(exc)
        return
    assert pkg.manifest == original.manifest and pkg.members == original.members


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_truncation_is_refused(small, tmp_path_factory, data):
    blob = small.read_bytes()
    size = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    path = tmp_path_factory.mktemp("cut") / "截断.jzpkg"
    path.write_bytes(blob[:size])
    with pytest.raises(PackageError):
        jzpkg.read_package(path, schema_revision=REV)


def test_members_are_never_extracted_to_disk(small, tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(zipfile.ZipFile, "extract", lambda *a, **k: calls.append("extract"))
    monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *a, **k: calls.append("extractall"))
    jzpkg.read_package(small, schema_revision=REV)
    assert calls == []


def test_a_manifest_with_a_missing_field_is_refused(tmp_path):
    m = manifest()
    del m["sequence"]
    path = tmp_path / "缺字段.jzpkg"
    jzpkg.write_package(path, m, targets_members(), private_key=KEY)
    with pytest.raises(PackageError, match="“sequence”缺失或类型不正确"):
        jzpkg.read_package(path, schema_revision=REV)


def test_a_package_of_another_program_is_refused(tmp_path):
    path = tmp_path / "别的程序.jzpkg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "other"}))
        zf.writestr("signature.sig", b"\x00" * 64)
    with pytest.raises(PackageError, match="不是本程序的报送包"):
        jzpkg.read_package(path, schema_revision=REV)


def test_a_file_that_is_too_big_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    monkeypatch.setattr(jzpkg, "MAX_FILE_BYTES", 100)
    path = tmp_path / "大.jzpkg"
    path.write_bytes(b"x" * 101)
    with pytest.raises(PackageError, match="超过"):
        jzpkg.read_package(path, schema_revision=REV)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("created_at", "昨天", "导出时间格式不正确"),
    ("created_at", "2020-11-30T17:00:00+08:00", "导出时间格式不正确"),
    ("created_by", "张" * 65, "导出人或程序版本过长"),
    ("sequence", 0, "序号必须是正整数"),
    ("sequence", True, "“sequence”缺失或类型不正确"),
    ("kind", "county", "清单中的县（区、市）代码|“unit_code”缺失"),
])
def test_manifest_fields_are_checked(tmp_path, field, value, reason):
    path = tmp_path / "清单.jzpkg"
    jzpkg.write_package(path, manifest(**{field: value}), targets_members(), private_key=KEY)
    with pytest.raises(PackageError, match=reason):
        jzpkg.read_package(path, schema_revision=REV)


@pytest.mark.parametrize(("offset", "value"), [(6, 0x54), (8, 0x01), (10, 0x63), (10, 0x0E)])
def test_a_damaged_directory_field_is_refused_as_damage(small, tmp_path, offset, value):
    """Central directory fields zipfile acts on: version needed, flags (encryption bit), compression method."""
    blob = bytearray(small.read_bytes())
    start = blob.index(b"PK\x01\x02")  # the first central directory entry
    blob[start + offset] = value
    path = tmp_path / "坏目录.jzpkg"
    path.write_bytes(bytes(blob))
    with pytest.raises(PackageError, match="被拒绝"):
        jzpkg.read_package(path, schema_revision=REV)
