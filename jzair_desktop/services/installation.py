"""What this installation is: the city office (市大气办, all units) or one unit (a county installation).

A database made by `jzair init` has no installation record until it is set up (`jzair setup` or the GUI's
首次使用向导). Set-up is one transaction: the record, the first administrator account, the signing key (made
at init; the city reads its fingerprint out to the counties) and, for a county, optionally the city's 任务包.
From then on the built-in administrator no longer acts: every change needs a login.

A county installation holds its own unit's records only: `check_unit_write` is called by every service that
writes data of a unit (ledger records through services.guards, monthly figures, air quality, submissions,
close-outs, packages), so nobody there, not even its administrator, can write another unit's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services import audit
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import LEDGER_MODELS, PackagePin
from jzair_desktop.storage.models import Installation as InstallationRow
from jzair_desktop.taskstate import NULL_STATE

CITY = "city"
CITY_LABEL = "市大气办（全市汇总）"
CITY_WORDS = frozenset({"city", "市", "市级", "全市", "市大气办", "市大气办（全市汇总）", "晋中市"})
ROW_ID = 1
ACTION_SETUP = "setup"
SUBJECT = "installation"


class SetupRefused(JzairError):
    """Set-up cannot go ahead (already set up, unknown unit, weak password, wrong 任务包, …)."""


@dataclass(frozen=True, slots=True)
class Installation:
    unit: str  # "city" or the unit's code
    set_up_at: dt.datetime
    set_up_by: str

    @property
    def is_city(self) -> bool:
        return self.unit == CITY

    @property
    def unit_code(self) -> str | None:
        """The unit's code of a county installation (None for the city)."""
        return None if self.is_city else self.unit

    @property
    def label(self) -> str:
        """What the installation is, for people: 市大气办（全市汇总） or the unit's name."""
        return CITY_LABEL if self.is_city else unit_label(self.unit)

    @property
    def json_unit(self) -> str:
        """`jzair info --json`: "city" or the unit's name."""
        return CITY if self.is_city else unit_label(self.unit)


def unit_label(code: str) -> str:
    unit = reference().find_unit(code)
    return unit.name if unit else code


def get_installation(session: Session) -> Installation | None:
    """This database's installation record; None while it was never set up."""
    key = "jzair_installation"
    if key in session.info:
        return session.info[key]
    row = session.get(InstallationRow, ROW_ID)
    found = Installation(row.unit, row.set_up_at, row.set_up_by) if row is not None else None
    session.info[key] = found
    return found


def installation_of(db: Database) -> Installation | None:
    with read_session(db.engine) as s:
        return get_installation(s)


def resolve_unit(text: str | None) -> str:
    """"city" (also 市大气办, 全市, …) or a unit's code, from what a person typed; refuses anything else."""
    text = (text or "").strip()
    if not text:
        raise SetupRefused("请指定本机是哪一级：--unit city（市大气办，全市汇总）或某个县（区、市），如 --unit 榆次区。")
    if text.lower() in CITY_WORDS or text in CITY_WORDS:
        return CITY
    unit = reference().find_unit(text)
    if unit is None:
        names = "、".join(u.name for u in reference().units)
        raise SetupRefused(f"没有名为“{text}”的县（区、市）。可选：city（市大气办）、{names}。")
    return unit.code


# --- the county rule ------------------------------------------------------------------------------


def check_unit_write(session: Session, unit_code: str | None, *, what: str = "修改") -> None:
    """On a county installation refuse writing data of any other unit (or of no unit: city-wide data).

    Every service that writes a unit's data calls this inside its transaction; the answer does not depend on
    who acts (a county administrator is refused too)."""
    inst = get_installation(session)
    if inst is None or inst.is_city:
        return
    if unit_code == inst.unit:
        return
    where = f"“{unit_label(unit_code)}”的数据" if unit_code else "全市的数据"
    raise PermissionDenied(
        f"本机是{inst.label}的安装，只保存本县（区、市）的数据，不能{what}{where}。"
    )


def check_write(session: Session, actor: Actor, unit_code: str | None, *, unit_name: str | None = None) -> None:
    """The actor's own rule (role, own unit) and this installation's (a county holds its own unit only)."""
    actor.check_write(unit_code, unit_name=unit_name)
    check_unit_write(session, unit_code)


def check_city_only(session: Session, what: str) -> None:
    """Refuse an act that only the city installation does (setting targets, importing county packages)."""
    inst = get_installation(session)
    if inst is not None and not inst.is_city:
        raise PermissionDenied(f"本机是{inst.label}的安装，不能{what}（这是市大气办的工作）。")


# --- set-up ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedKey:
    """The signing key the set-up will store: the one this database has, or a new one made in memory (the
    set-up wizard shows its fingerprint before anything is written; cancelling stores nothing)."""

    fingerprint: str
    public_key: bytes
    private_key: bytes | None  # None: the database has its key already

    @property
    def display(self) -> str:
        from jzair_desktop.exchange import jzpkg

        return jzpkg.format_fingerprint(self.fingerprint)


def prepare_key(db: Database) -> PreparedKey:
    from jzair_desktop.exchange import jzpkg
    from jzair_desktop.services.packages import keys as package_keys

    existing = package_keys.identity(db, create=False)
    if existing is not None:
        return PreparedKey(existing.fingerprint, existing.public_key, None)
    private = jzpkg.new_private_key()
    public = jzpkg.public_key_of(private)
    return PreparedKey(jzpkg.fingerprint_of(public), public, private)


def _store_key(s: Session, key: PreparedKey | None):  # noqa: ANN202 - an InstallationKey row
    from jzair_desktop.services.packages import keys as package_keys
    from jzair_desktop.storage.models import InstallationKey

    row = s.get(InstallationKey, package_keys.KEY_ID)
    if row is not None or key is None or key.private_key is None:
        return row if row is not None else package_keys.ensure_key(s)
    row = InstallationKey(id=package_keys.KEY_ID, public_key=key.public_key, private_key=key.private_key,
                          fingerprint=key.fingerprint, created_at=dt.datetime.now().replace(microsecond=0))
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True, slots=True)
class SetupResult:
    installation: Installation
    admin: str
    admin_role: str
    fingerprint: str  # this installation's signing key (the city reads it out to the counties)
    targets_imported: bool
    targets_count: int


def _other_units_records(s: Session, unit_code: str) -> dict[str, int]:
    found = {}
    for key in LEDGERS:
        model = LEDGER_MODELS[key]
        n = s.scalar(select(func.count()).select_from(model).where(model.unit_code != unit_code,
                                                                   model.deleted_at.is_(None)))
        if n:
            found[key] = n
    return found


def set_up(
    db: Database, *, unit: str, admin: str, password: str, display_name: str | None = None,
    targets_package: str | Path | None = None, city_fingerprint: str | None = None,
    actor: Actor = BUILTIN_ADMIN, now: dt.datetime | None = None, key: PreparedKey | None = None,
) -> SetupResult:
    """Set this database up as the city's or one unit's installation, in one transaction: either the
    installation is set up with its first administrator (and, for a county, the 任务包 imported), or nothing
    changed. Refused on a database already set up, an unknown unit, a weak password, and a 任务包 that is not
    the city's (another kind, signed by another key than `city_fingerprint` or than the key pinned here)."""
    from jzair_desktop.exchange import jzpkg
    from jzair_desktop.services import accounts, passwords
    from jzair_desktop.services.packages import importer as package_import
    from jzair_desktop.services.packages import keys as package_keys
    from jzair_desktop.services.packages.targets import TargetsJob

    check_not_set_up(db)
    code = resolve_unit(unit)
    admin = accounts.check_name(admin)
    display_name = accounts.check_display_name(display_name)
    passwords.check(admin, password)
    role = "city_admin" if code == CITY else "county_admin"
    admin_actor = Actor(name=admin, role=role, unit_code=None if code == CITY else code)
    pkg = job = None
    if targets_package is not None:
        if code == CITY:
            raise SetupRefused("市大气办的安装不导入任务包：任务包由市大气办导出，发给各县（区、市）。")
        name = Path(targets_package).name
        pkg = package_import.read_for_import(targets_package)
        if pkg.kind != jzpkg.KIND_TARGETS:
            raise SetupRefused(f"“{name}”不是市大气办的任务包（它是{pkg.manifest.get('unit_name') or ''}的县级报送包），"
                               "不能在设置时导入。")
        if pkg.unit_code not in (None, code):
            raise SetupRefused(f"“{name}”是发给{unit_label(pkg.unit_code)}的，不是发给{unit_label(code)}的。")
        if city_fingerprint:
            expected = jzpkg.parse_fingerprint(city_fingerprint)
            if expected != pkg.fingerprint:
                raise SetupRefused(
                    f"“{name}”的签名公钥不是市大气办的公钥，已拒绝（可能是伪造的任务包）。\n"
                    f"任务包的公钥指纹：{jzpkg.format_fingerprint(pkg.fingerprint)}\n"
                    f"市大气办的公钥指纹：{jzpkg.format_fingerprint(expected)}")
        job = TargetsJob(pkg, admin_actor)
        job.decode(NULL_STATE)
    pw_hash = accounts.hash_password(password)
    when = (now or dt.datetime.now()).replace(microsecond=0)
    imported = 0
    with write_session(db.engine) as s:
        _refuse_if_set_up(s)
        audit.check_actor(s, actor)  # before set-up with accounts made earlier: one of their administrators
        actor.check_city("设置本机")
        if code != CITY:
            others = _other_units_records(s, code)
            if others:
                total = sum(others.values())
                raise SetupRefused(
                    f"数据库中已有其他县（区、市）的 {total:,} 条台账记录，不能设置为{unit_label(code)}的安装"
                    "（县级安装只保存本县的数据）。请在新的数据库上设置。")
        if pkg is not None:
            pin = s.get(PackagePin, package_keys.SCOPE_CITY)
            if pin is not None and pin.fingerprint != pkg.fingerprint:
                raise SetupRefused(
                    f"“{Path(targets_package).name}”的签名公钥与本机已绑定的市大气办公钥不一致，已拒绝。\n"
                    f"任务包的公钥指纹：{jzpkg.format_fingerprint(pkg.fingerprint)}\n"
                    f"已绑定的公钥指纹：{jzpkg.format_fingerprint(pin.fingerprint)}")
        key = _store_key(s, key)
        row = InstallationRow(id=ROW_ID, unit=code, set_up_at=when, set_up_by=admin)
        s.add(row)
        accounts.insert_account(s, actor, admin, role, pw_hash, unit_code=admin_actor.unit_code,
                                display_name=display_name, now=when, detail_prefix="设置本机时创建的管理员")
        inst = Installation(code, when, admin)
        s.info["jzair_installation"] = inst
        audit.append(s, admin_actor, ACTION_SETUP, ledger=SUBJECT, uuid=code,
                     unit_code=admin_actor.unit_code,
                     after={"unit": code, "admin": admin, "fingerprint": key.fingerprint},
                     detail=f"设置本机为{inst.label}的安装，管理员：{admin}", at=when)
        if pkg is not None:
            result = package_import.write_import(s, pkg, job, package_keys.SCOPE_CITY, admin_actor)
            imported = sum(c.new + c.changed for c in result.preview.changes)
    return SetupResult(inst, admin, role, key.fingerprint, pkg is not None, imported)


# --- the demo installation ------------------------------------------------------------------------

DEMO_PASSWORD = "Jinzhong-2020"
DEMO_CLERKS = {  # one county clerk per unit, named by the unit's pinyin
    "140702": "yuci", "140703": "taigu", "140721": "yushe", "140722": "zuoquan", "140723": "heshun",
    "140724": "xiyang", "140725": "shouyang", "140727": "qixian", "140728": "pingyao", "140729": "lingshi",
    "140781": "jiexiu", "140799": "kaifaqu",
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    role: str
    unit_code: str | None
    display_name: str


def demo_accounts() -> list[DemoAccount]:
    out = [DemoAccount("admin", "city_admin", None, "市大气办管理员（演示）"),
           DemoAccount("viewer", "viewer", None, "只读用户（演示）")]
    for code, name in DEMO_CLERKS.items():
        out.append(DemoAccount(name, "county_clerk", code, f"{unit_label(code)}填报员（演示）"))
    return out


def set_up_demo(db: Database, *, now: dt.datetime | None = None) -> list[DemoAccount]:
    """Set the demo database up as the city installation with the demo accounts (all with DEMO_PASSWORD,
    which the README and `init --demo` print), in one transaction.

    The accounts share one published password, so it is hashed once (the app's argon2id parameters) and the
    hash stored for each: hashing it fourteen times would cost `init --demo` seconds on a slow machine and
    protect nothing, the password being public. A password changed later gets its own salt as usual."""
    from jzair_desktop.services import accounts
    from jzair_desktop.services.packages import keys as package_keys

    check_not_set_up(db)
    pw_hash = accounts.hash_password(DEMO_PASSWORD)
    when = (now or dt.datetime.now()).replace(microsecond=0)
    made = demo_accounts()
    with write_session(db.engine) as s:
        _refuse_if_set_up(s)
        audit.check_actor(s, BUILTIN_ADMIN)
        key = package_keys.ensure_key(s)
        s.add(InstallationRow(id=ROW_ID, unit=CITY, set_up_at=when, set_up_by=made[0].name))
        # The built-in administrator makes the first account only (it may act while no account exists); that
        # administrator makes the others, so that `audit verify` finds every author an account of its time.
        admin = Actor(made[0].name, made[0].role)
        for n, a in enumerate(made):
            accounts.insert_account(s, BUILTIN_ADMIN if n == 0 else admin, a.name, a.role, pw_hash,
                                    unit_code=a.unit_code, display_name=a.display_name, now=when,
                                    detail_prefix="演示账户")
        inst = Installation(CITY, when, made[0].name)
        s.info["jzair_installation"] = inst
        audit.append(s, admin, ACTION_SETUP, ledger=SUBJECT, uuid=CITY,
                     after={"unit": CITY, "admin": admin.name, "fingerprint": key.fingerprint},
                     detail=f"设置本机为{inst.label}的安装（演示数据），管理员：{admin.name}", at=when)
    return made


def check_not_set_up(db: Database) -> None:
    """Refuse (SetupRefused) when this database is set up already."""
    with read_session(db.engine) as s:
        _refuse_if_set_up(s)


def _refuse_if_set_up(s: Session) -> None:
    inst = get_installation(s)
    if inst is not None:
        raise SetupRefused(
            f"本数据库已经设置过（{inst.label}，{inst.set_up_at:%Y-%m-%d %H:%M} 由 {inst.set_up_by} 设置），"
            "不能再次设置。")
    s.info.pop("jzair_installation", None)
