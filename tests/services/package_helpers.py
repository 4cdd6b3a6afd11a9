"""Helpers for the data package tests: county databases cut from the demo, byte-level digests of a
database file, field-by-field table dumps, and packages re-made (re-signed) with changed content."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from jzair_desktop import demo
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import audit
from jzair_desktop.services.database import Database, open_database
from jzair_desktop.storage.engine import read_session, sqlite_url
from jzair_desktop.storage.models import InstallationKey
from tests.dbtemplate import fresh_database

TODAY = dt.date(2026, 1, 1)
SCALE = 0.04  # about 2,800 demo records; every unit keeps records of each kind it has
YUCI, TAIGU = "140702", "140703"


def fresh_db(path: Path) -> Database:
    return fresh_database(path)


def open_db(path: Path) -> Database:
    db, _ = open_database(sqlite_url(path))
    return db


def make_demo_template(path: Path) -> Path:
    """A database holding the whole demo (all twelve units), closed, without an installation key."""
    db = fresh_db(path)
    demo.generate_demo(db, scale=SCALE, today=TODAY)
    db.dispose()
    return path


def strip_to_unit(path: Path, unit: str, *, keep_targets: bool = True) -> None:
    """Leave only `unit`'s data in a copy of the demo database (plain SQL: what a county machine holds)."""
    con = sqlite3.connect(path)
    try:
        with con:
            uuids: list[str] = []
            for key in LEDGER_KEYS:
                con.execute(f"DELETE FROM {key} WHERE unit_code != ?", (unit,))
                uuids += [r[0] for r in con.execute(f"SELECT uuid FROM {key}")]
            con.execute("CREATE TEMP TABLE keep (uuid TEXT PRIMARY KEY)")
            con.executemany("INSERT INTO keep VALUES (?)", [(u,) for u in uuids])
            con.execute("DELETE FROM closeouts WHERE record_uuid NOT IN (SELECT uuid FROM keep)")
            con.execute("DELETE FROM evidence_files WHERE record_uuid NOT IN (SELECT uuid FROM keep)")
            con.execute("DELETE FROM monthly_figures WHERE unit_code != ?", (unit,))
            con.execute("DELETE FROM air_quality WHERE area != ?", (unit,))
            con.execute("DELETE FROM month_submissions WHERE unit_code != ?", (unit,))
            con.execute("DELETE FROM milestones WHERE unit_code != ?", (unit,))
            if not keep_targets:
                con.execute("DELETE FROM county_targets")
                con.execute("DELETE FROM air_quality_targets")
            _keep_unit_trail(con, unit, keep_targets)
    finally:
        con.close()


def _keep_unit_trail(con: sqlite3.Connection, unit: str, keep_targets: bool) -> None:
    """The audit trail a county machine holding only `unit` would have: the entries about what is left,
    numbered and chained again (so the county's own `audit verify` passes, as export requires)."""
    targets = ("county_targets", "air_quality_targets", "air_quality_basis")
    rows = con.execute(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit_log ORDER BY seq").fetchall()
    con.execute("DELETE FROM audit_log")
    prev, seq = audit.GENESIS, 0
    out = []
    for row in rows:
        e = dict(zip(_AUDIT_COLUMNS, row, strict=True))
        if e["ledger"] in targets:
            if not keep_targets:
                continue
        elif e["ledger"] == "air_quality":
            if not str(e["record_uuid"]).startswith(f"{unit}@"):
                continue
        elif e["ledger"] == "milestones":
            if not str(e["record_uuid"]).endswith(f"@{unit}"):
                continue
        elif e["unit_code"] not in (None, unit):
            continue
        seq += 1
        at = dt.datetime.fromisoformat(e["at"])
        digest = audit.entry_hash(prev, seq, at, e["user_name"], e["role"], e["action"], e["ledger"], e["record_uuid"],
                                  e["unit_code"], e["before_json"], e["after_json"], e["detail"])
        out.append({**e, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    con.executemany(f"INSERT INTO audit_log ({', '.join(_AUDIT_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in _AUDIT_COLUMNS)})", out)


_AUDIT_COLUMNS = ("seq", "at", "user_name", "role", "action", "ledger", "record_uuid", "unit_code", "before_json",
                  "after_json", "detail", "prev_hash", "hash")


def county_db(template: Path, folder: Path, unit: str, *, keep_targets: bool = True) -> Database:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"县-{unit}.sqlite3"
    shutil.copyfile(template, path)
    strip_to_unit(path, unit, keep_targets=keep_targets)
    return open_db(path)


def file_sha256(db: Database) -> str:
    """SHA-256 of the database file, read after every connection is closed (WAL checkpointed and gone)."""
    db.dispose()
    path = db.path
    assert path is not None
    assert not Path(str(path) + "-wal").exists() or Path(str(path) + "-wal").stat().st_size == 0
    return hashlib.sha256(path.read_bytes()).hexdigest()


def typed_rows(db: Database, model: Any, *conds: Any) -> list[dict]:
    """Rows of an ORM model (SQLAlchemy types: dates, datetimes) as dicts without the surrogate id."""
    table = model.__table__
    cols = [c for c in table.columns if c.name != "id"]
    order = [table.c.uuid] if "uuid" in table.c else cols
    with read_session(db.engine) as s:
        return [dict(r._mapping) for r in s.execute(select(*cols).where(*conds).order_by(*order))]


def private_key_of(db: Database) -> bytes:
    with read_session(db.engine) as s:
        return bytes(s.get(InstallationKey, 1).private_key)


def remake(
    src: Path, dst: Path, *, private_key: bytes | None = None,
    members: Callable[[dict[str, bytes]], None] | None = None,
    manifest: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A package made again from `src` with changed members and/or manifest, signed by `private_key`
    (a stranger's new key when None). Hashes and sizes are recomputed: only the signature can tell."""
    pkg = read_any(src)
    data = dict(pkg["members"])
    if members is not None:
        members(data)
    head = {k: v for k, v in pkg["manifest"].items() if k not in ("members", "signer")}
    if manifest is not None:
        manifest(head)
    records = {name: body.count(b"\n") for name, body in data.items()}
    jzpkg.write_package(dst, head, data, private_key=private_key or jzpkg.new_private_key(), records=records)
    return dst


def read_any(path: Path) -> dict[str, Any]:
    """A package's manifest and members as they are (no checks)."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(jzpkg.MANIFEST))
        members = {n: zf.read(n) for n in zf.namelist() if n not in (jzpkg.MANIFEST, jzpkg.SIGNATURE)}
        return {"manifest": manifest, "members": members, "signature": zf.read(jzpkg.SIGNATURE),
                "manifest_raw": zf.read(jzpkg.MANIFEST)}


def edit_lines(data: dict[str, bytes], member: str, change: Callable[[list[dict]], None]) -> None:
    rows = jzpkg.parse_jsonl(member, data[member])
    change(rows)
    data[member] = jzpkg.jsonl_bytes(rows)


def rezip(src: Path, dst: Path, *, rename: dict[str, str] | None = None, add: dict[str, bytes] | None = None,
          drop: tuple[str, ...] = (), replace: dict[str, bytes] | None = None) -> Path:
    """The same zip entries (bytes as they are) under other names, with entries added, dropped or replaced."""
    rename, add, replace = rename or {}, add or {}, replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            body = replace.get(info.filename, zin.read(info.filename))
            zout.writestr(rename.get(info.filename, info.filename), body)
        for name, body in add.items():
            zout.writestr(name, body)
    return dst


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Claim another unpacked size for `member` in the zip's central directory (what a zip bomb lies about)."""
    blob = bytearray(path.read_bytes())
    name = member.encode()
    pos = 0
    while True:
        pos = blob.index(b"PK\x01\x02", pos)
        name_len = int.from_bytes(blob[pos + 28:pos + 30], "little")
        if bytes(blob[pos + 46:pos + 46 + name_len]) == name:
            blob[pos + 24:pos + 28] = size.to_bytes(4, "little")
            break
        pos += 4
    path.write_bytes(bytes(blob))


def member_data_offset(path: Path, member: str) -> tuple[int, int]:
    """(offset, length) of a member's compressed bytes in the file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    blob = path.read_bytes()
    start = info.header_offset
    name_len = int.from_bytes(blob[start + 26:start + 28], "little")
    extra_len = int.from_bytes(blob[start + 28:start + 30], "little")
    return start + 30 + name_len + extra_len, info.compress_size
