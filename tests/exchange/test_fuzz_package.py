"""Fuzzing the package import (报送包) with hostile files (hypothesis): flipped, inserted and cut bytes;
members renamed, dropped, doubled, added or emptied; manifest edits left unsigned (a tampered file) and
re-signed with the county's own key (so the checks behind the signature get to see them); and member
contents (the JSON Lines records, figures, submissions and audit entries) edited field by field and re-signed.

Every attempt must end imported or refused with a JzairError; a refusal leaves the city database byte for
byte as it was; nothing may hang (tests/exchange/fuzz_harness.py). An accepted package is rolled back by
putting the city database file back, so every attempt meets the same city.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import ledgers
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from tests.exchange.fuzz_harness import (
    MEMBER_OPS,
    FuzzStats,
    attempt,
    flip_bytes,
    insert,
    mutate_members,
    read_members,
    truncate,
    write_members,
)
from tests.services.admin_helpers import YUCI, raw
from tests.services.package_helpers import fresh_db, open_db, private_key_of, read_any, remake

SCALE = max(1, int(os.environ.get("JZAIR_FUZZ_SCALE", "1")))
FUZZ = settings(max_examples=150 * SCALE, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LEDGERS = ("heating", "trucks", "boilers", "kilns", "vocs")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A county with a few records of every ledger, its first package imported by the city (which pins
    the county's key), and its genuine second package (new, changed and deleted records) not yet."""
    folder = tmp_path_factory.mktemp("packages")
    county = fresh_db(folder / "县.sqlite3")
    uuids = []
    for key in LEDGERS:
        for n in range(3):
            uuids.append(ledgers.create_record(county, key, raw(key, n), actor=BUILTIN_ADMIN).uuid)
    first = export.export_county_package(county, YUCI, "2020-11", folder / "第1号.jzpkg", actor=BUILTIN_ADMIN)
    city = fresh_db(folder / "市级.sqlite3")
    imp.import_package(city, first.path, actor=BUILTIN_ADMIN)
    city.dispose()
    ledgers.create_record(county, "heating", raw("heating", 7), actor=BUILTIN_ADMIN)
    ledgers.update_record(county, "heating", uuids[0], {**raw("heating", 0), "remarks": "复核"}, actor=BUILTIN_ADMIN)
    ledgers.delete_record(county, "trucks", uuids[3], actor=BUILTIN_ADMIN)
    export.export_county_package(county, YUCI, "2020-12", folder / "第2号.jzpkg", actor=BUILTIN_ADMIN)
    (folder / "county.key").write_bytes(private_key_of(county))
    county.dispose()
    return folder


class City:
    """The city database every attempt imports into, and the genuine second package."""

    def __init__(self, made: Path, folder: Path, name: str) -> None:
        self.path = folder / "市级.sqlite3"
        self.baseline = folder / "市级.基线.sqlite3"
        shutil.copyfile(made / "市级.sqlite3", self.path)
        shutil.copyfile(self.path, self.baseline)
        self.db = open_db(self.path)
        self.package = made / "第2号.jzpkg"
        self.county_key = (made / "county.key").read_bytes()
        self.file = folder / "报送包.jzpkg"
        self.stats = FuzzStats()
        self.name = name

    def run(self, data: bytes | None = None) -> str:
        if data is not None:
            self.file.write_bytes(data)
        return attempt(self.stats, self.path, lambda: imp.import_package(self.db, self.file, actor=BUILTIN_ADMIN),
                       on_accept=self.reset)

    def reset(self) -> None:
        """Put the city database back as it was before the (accepted) import."""
        self.db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.baseline, self.path)

    def resigned(self, **changes: Any) -> str:
        """Import the genuine package made again with changes, signed with the county's own key."""
        remake(self.package, self.file, private_key=self.county_key, **changes)
        return self.run()


@pytest.fixture
def city(made, tmp_path, request) -> City:
    c = City(made, tmp_path, request.node.name)
    yield c
    c.db.dispose()
    print("\n" + c.stats.summary(c.name))


def test_the_genuine_package_is_accepted_and_the_city_put_back(city):
    before = city.path.read_bytes()
    assert city.run(city.package.read_bytes()) == "accepted"
    assert city.path.read_bytes() == before
    assert city.run() == "accepted"  # and again: the city was put back, so it is new again


@pytest.mark.slow
def test_fuzz_package_bytes(city):
    genuine = city.package.read_bytes()

    @FUZZ
    @given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
           cut=st.none() | st.floats(0, 1), extra=st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1,
                                                                                                   max_size=64)))
    def check(edits, cut, extra):
        data = flip_bytes(genuine, edits)
        if extra is not None:
            data = insert(data, *extra)
        if cut is not None:
            data = truncate(data, cut)
        city.run(data)

    check()
    assert city.stats.outcomes["PackageError"] > city.stats.attempts // 2


NAMES = [*jzpkg.MEMBERS[jzpkg.KIND_COUNTY], jzpkg.MANIFEST, jzpkg.SIGNATURE, "county_targets.jsonl", "../逃逸.jsonl",
         "/etc/passwd", "C:\\x.jsonl", "a/b.jsonl", "manifest.json\x00", "多余.jsonl"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_fuzz_package_members(city):
    genuine = city.package.read_bytes()

    @FUZZ
    @given(ops=st.lists(st.tuples(st.sampled_from(MEMBER_OPS),
                                  st.integers(0, 1000), st.sampled_from(NAMES), st.binary(max_size=100)),
                        min_size=1, max_size=3))
    def check(ops):
        members = read_members(genuine)
        mutate_members(members, ops)
        try:
            data = write_members(members)
        except ValueError:  # zipfile itself refuses to write the name
            return
        city.run(data)

    check()


# --- manifest and member contents --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["140702", "2020-12", "2021-13", "0", "-1", "2020-12-31T23:59:59",
                                              "2020-02-30", "已完工", "电代煤", "榆次区", "", "x" * 300]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@pytest.mark.slow
def test_fuzz_manifest_unsigned(city):
    """A manifest changed after signing: always refused (the signature no longer fits)."""
    pkg = read_any(city.package)

    @FUZZ
    @given(key=st.sampled_from(sorted(pkg["manifest"])), value=json_values)
    def check(key, value):
        manifest = dict(pkg["manifest"], **{key: value})
        members = [(n, b) for n, b in read_members(city.package.read_bytes()) if n != jzpkg.MANIFEST]
        raw_manifest = json.dumps(manifest, ensure_ascii=False).encode()
        outcome = city.run(write_members([(jzpkg.MANIFEST, raw_manifest), *members]))
        assert outcome != "accepted" or manifest == pkg["manifest"]

    check()


@pytest.mark.slow
def test_fuzz_manifest_resigned(city):
    """Manifest fields edited and signed with the county's key: only the checks behind the signature stand."""
    keys = sorted(k for k in read_any(city.package)["manifest"] if k not in ("members", "signer"))

    @FUZZ
    @given(edits=st.dictionaries(st.sampled_from(keys), json_values, min_size=1, max_size=3),
           drop=st.lists(st.sampled_from(keys), max_size=2))
    def check(edits, drop):
        def change(head: dict[str, Any]) -> None:
            head.update(edits)
            for key in drop:
                head.pop(key, None)

        city.resigned(manifest=change)

    check()


@pytest.mark.slow
def test_fuzz_member_contents_resigned(city):
    """Records, figures, submissions and audit entries edited field by field, signed with the county's key."""
    members = {n: b for n, b in read_any(city.package)["members"].items()}
    names = sorted(n for n, b in members.items() if b.strip())

    @FUZZ
    @given(name=st.sampled_from(names), line=st.integers(0, 1000), field_pick=st.integers(0, 1000),
           op=st.sampled_from(["set", "set", "set", "delete", "add", "duplicate_line", "drop_line", "garbage"]),
           value=json_values, garbage=st.binary(max_size=40))
    def check(name, line, field_pick, op, value, garbage):
        def change(data: dict[str, bytes]) -> None:
            rows = jzpkg.parse_jsonl(name, data[name])
            i = line % len(rows)
            row = rows[i]
            fields = sorted(row)
            key = fields[field_pick % len(fields)] if fields else "x"
            if op == "set":
                row[key] = value
            elif op == "delete":
                row.pop(key, None)
            elif op == "add":
                row[f"多余{field_pick}"] = value
            elif op == "duplicate_line":
                rows.insert(i, dict(row))
            elif op == "drop_line":
                rows.pop(i)
            body = jzpkg.jsonl_bytes(rows)
            if op == "garbage":
                body = body + garbage + b"\n"
            data[name] = body

        city.resigned(members=change)

    check()
    assert city.stats.outcomes["accepted"] > 0  # some edits are valid data: the write path ran too
    assert city.stats.outcomes["PackageError"] > 0
