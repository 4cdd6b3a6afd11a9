"""Who signs and whom we trust: this installation's Ed25519 key, and the keys pinned per unit (or the city).

Each installation has one key pair, made at `jzair init` or, for a database made before packages
existed, the first time it is needed. The private key lies in the database as raw bytes (an offline
office PC; see README). Its fingerprint (SHA-256 of the public key) is what people compare over the phone.

Pins: the city machine accepts a unit's packages only when signed by the key it pinned for that unit
(pinned on the first import); a county machine pins the city's key from the first targets package. A
different key is refused until an administrator of the installation re-pins it (audited with the old and
the new fingerprint); nobody else may pin, not even on a first import (services.authority).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import audit, authority
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.storage import locks, migrate
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import InstallationKey, PackagePin

KEY_ID = 1
SCOPE_CITY = "city"  # the pin (and import history) of the city's targets packages on a county machine
AUDIT_SUBJECT = "packages"  # the `ledger` of audit entries about packages and keys
ACTION_PIN = "package_pin"
PIN_SOURCES = {"first_import": "首次导入时绑定", "fingerprint": "按指纹绑定", "package": "按报送包绑定"}


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


# --- this installation's key ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    fingerprint: str  # 64 lower-case hex
    public_key: bytes
    created_at: dt.datetime

    @property
    def display(self) -> str:
        return jzpkg.format_fingerprint(self.fingerprint)


def _identity(row: InstallationKey) -> Identity:
    return Identity(row.fingerprint, bytes(row.public_key), row.created_at)


def ensure_key(s: Session) -> InstallationKey:
    """This installation's key row, made now if missing (inside the caller's write transaction)."""
    row = s.get(InstallationKey, KEY_ID)
    if row is None:
        # A server database: two clerks' first exports at once make one key (the second waits and reads it).
        locks.lock_chain(s.connection())
        row = s.get(InstallationKey, KEY_ID)
    if row is None:
        private = jzpkg.new_private_key()
        public = jzpkg.public_key_of(private)
        row = InstallationKey(id=KEY_ID, public_key=public, private_key=private,
                              fingerprint=jzpkg.fingerprint_of(public), created_at=_now())
        s.add(row)
        s.flush()
    return row


def identity(db: Database, *, create: bool = True) -> Identity | None:
    """This installation's signing identity; with `create` (the default) made if missing, else None."""
    with read_session(db.engine) as s:
        row = s.get(InstallationKey, KEY_ID)
        if row is not None or not create:
            return _identity(row) if row is not None else None
    with write_session(db.engine) as s:
        return _identity(ensure_key(s))


def own_fingerprint(s: Session) -> str | None:
    row = s.get(InstallationKey, KEY_ID)
    return row.fingerprint if row is not None else None


# --- pins -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinInfo:
    scope: str  # a unit's code, or 'city'
    name: str  # the unit's name, or 市级（任务包）
    fingerprint: str
    pinned_at: dt.datetime
    pinned_by: str
    source: str

    @property
    def display(self) -> str:
        return jzpkg.format_fingerprint(self.fingerprint)

    @property
    def source_label(self) -> str:
        return PIN_SOURCES.get(self.source, self.source)


@dataclass(frozen=True, slots=True)
class PinResult:
    pin: PinInfo
    previous: str | None  # the fingerprint pinned before, if any
    changed: bool


def scope_name(scope: str) -> str:
    if scope == SCOPE_CITY:
        return "市级（任务包）"
    unit = reference().find_unit(scope)
    return unit.name if unit is not None else scope


def _pin_info(row: PackagePin) -> PinInfo:
    return PinInfo(row.scope, scope_name(row.scope), row.fingerprint, row.pinned_at, row.pinned_by, row.source)


def list_pins(db: Database) -> list[PinInfo]:
    """Every pinned key: units in plan order, then the city's."""
    order = {u.code: u.sort_order for u in reference().units}
    with read_session(db.engine) as s:
        rows = list(s.scalars(select(PackagePin)))
    rows.sort(key=lambda r: order.get(r.scope, 10_000))
    return [_pin_info(r) for r in rows]


def resolve_scope(unit: str | None, *, city: bool = False) -> str:
    """The pin scope named on a command line or in a form: a unit (name or code), or the city."""
    if city:
        if unit:
            raise JzairError("请只指定县（区、市）或市级其中之一。")
        return SCOPE_CITY
    if not unit:
        raise JzairError("请指定县（区、市）（--county），或用 --city 指定市级任务包的公钥。")
    return reference().resolve_unit(unit).code


def check_pin_permission(actor: Actor, scope: str, s: Session | None = None) -> None:
    """Pinning decides whose packages this installation trusts: its administrator's act only (the city key
    on a county's installation, a unit's key on the city's; see services.authority)."""
    authority.check_administrator(actor, authority.ACT_PIN_CITY if scope == SCOPE_CITY else authority.ACT_PIN_UNIT, s)


def record_pin(
    s: Session, actor: Actor, scope: str, fingerprint: str, public_key: bytes | None, source: str,
    *, detail: str | None = None,
) -> PinResult:
    """Pin `fingerprint` for `scope` in the caller's transaction, with an audit entry (old and new
    fingerprints) when it changes. Every pin, the first import's included, passes the permission check."""
    check_pin_permission(actor, scope, s)
    row = s.get(PackagePin, scope)
    previous = row.fingerprint if row is not None else None
    if row is not None and row.fingerprint == fingerprint:
        if public_key is not None and row.public_key is None:
            row.public_key = public_key
        return PinResult(_pin_info(row), previous, changed=False)
    if row is None:
        row = PackagePin(scope=scope)
        s.add(row)
    row.fingerprint, row.public_key = fingerprint, public_key
    row.pinned_at, row.pinned_by, row.source = _now(), actor.name, source
    s.flush()
    name = scope_name(scope)
    text = (f"{name}报送包公钥：{jzpkg.format_fingerprint(previous) if previous else '（未绑定）'} → "
            f"{jzpkg.format_fingerprint(fingerprint)}（{PIN_SOURCES.get(source, source)}）")
    audit.append(
        s, actor, ACTION_PIN, ledger=AUDIT_SUBJECT, uuid=f"pin:{scope}",
        unit_code=None if scope == SCOPE_CITY else scope,
        before=None if previous is None else {"scope": scope, "fingerprint": previous},
        after={"scope": scope, "fingerprint": fingerprint},
        detail=f"{text}；{detail}" if detail else text,
    )
    return PinResult(_pin_info(row), previous, changed=True)


def pin_key(
    db: Database, scope: str, *, actor: Actor, fingerprint: str | None = None, package: str | Path | None = None,
    reason: str | None = None,
) -> PinResult:
    """(Re-)pin the key accepted for `scope`: by a fingerprint read over the phone, or from a package file
    (checked completely: it must be a package of that scope with a valid signature)."""
    check_pin_permission(actor, scope)
    if (fingerprint is None) == (package is None):
        raise JzairError("请指定公钥指纹（--fingerprint）或报送包文件（--from）其中之一。")
    public_key: bytes | None = None
    if package is not None:
        pkg = jzpkg.read_package(package, schema_revision=migrate.head_revision())
        if scope == SCOPE_CITY and pkg.kind != jzpkg.KIND_TARGETS:
            raise JzairError(f"“{Path(package).name}”不是市级任务包，不能用来绑定市级公钥。")
        if scope != SCOPE_CITY and (pkg.kind != jzpkg.KIND_COUNTY or pkg.unit_code != scope):
            raise JzairError(f"“{Path(package).name}”不是{scope_name(scope)}的报送包，不能用来绑定它的公钥。")
        fp, public_key, source = pkg.fingerprint, pkg.public_key, "package"
    else:
        fp, source = jzpkg.parse_fingerprint(fingerprint or ""), "fingerprint"
    reason = (reason or "").strip() or None
    with write_session(db.engine) as s:
        audit.check_actor(s, actor)
        if own_fingerprint(s) == fp:
            raise JzairError("该指纹是本机自己的公钥，不能绑定为其他单位的公钥。")
        return record_pin(s, actor, scope, fp, public_key, source,
                          detail=f"原因：{reason}" if reason else None)
