"""User accounts: adding, passwords (argon2id), disabling, login with lockout.

With no account in the database (never set up) the app runs as the built-in administrator. The first account
is made by the installation set-up (services.installation) or, on a database never set up, must be a city
administrator and needs no login; every later change to accounts needs an administrator of this installation
(the city's, or a county installation's own). Passwords follow services.passwords everywhere.
Failed logins slow later ones down (a growing delay per name and per installation, never a lock, so
nobody can lock out the last administrator); every failure answers the same message. Logins, failed
logins and every change to an account are audited, with the typed name cleaned and length-limited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.printable import printable
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, NotFoundError, PermissionDenied
from jzair_desktop.services import audit, passwords
from jzair_desktop.services.actor import ROLES, UNIT_ROLES, Actor
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import AuditEntry, UserAccount

MAX_NAME_LENGTH = 32
MAX_DISPLAY_NAME_LENGTH = 32

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters

Clock = Callable[[], dt.datetime]


class LoginFailed(JzairError):
    """Wrong name or password, a disabled or a locked account."""

    exit_code = 4


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    role: str
    unit_code: str | None
    disabled: bool
    failed_count: int
    locked_until: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    display_name: str | None = None

    @property
    def shown_name(self) -> str:
        """The display name with the account name, or the account name alone."""
        return f"{self.display_name}（{self.name}）" if self.display_name else self.name

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name if self.unit_code else ""

    def locked_at(self, when: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > when

    def status_text(self, when: dt.datetime | None = None) -> str:
        when = when or _now()
        if self.disabled:
            return "已停用"
        if self.locked_at(when):
            return f"已锁定（至 {self.locked_until:%H:%M:%S}）"
        return "正常"

    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role, unit_code=self.unit_code)


def _info(u: UserAccount) -> UserInfo:
    return UserInfo(u.name, u.role, u.unit_code, bool(u.disabled), u.failed_count or 0, u.locked_until,
                    u.created_at, u.created_by, u.display_name)


def user_state(u: UserAccount) -> dict:
    """The audited state of an account (the password only as a fingerprint of its hash)."""
    return {
        "name": u.name,
        "role": u.role,
        "unit_code": u.unit_code,
        "disabled": bool(u.disabled),
        "password": hashlib.sha256(u.password_hash.encode("utf-8")).hexdigest()[:16],
    }


# --- reading ------------------------------------------------------------------------------------


def has_accounts(db: Database) -> bool:
    with read_session(db.engine) as s:
        return audit.accounts_exist(s)


def list_users(db: Database) -> list[UserInfo]:
    with read_session(db.engine) as s:
        return [_info(u) for u in s.scalars(select(UserAccount).order_by(UserAccount.id))]


def get_user(db: Database, name: str) -> UserInfo:
    with read_session(db.engine) as s:
        return _info(_load(s, name))


def _load(s: Session, name: str) -> UserAccount:
    user = s.scalar(select(UserAccount).where(UserAccount.name == name.strip()))
    if user is None:
        raise NotFoundError(f"用户“{name}”不存在。")
    return user


# --- checks -------------------------------------------------------------------------------------


def check_password_rule(name: str, password: str) -> None:
    """The one password rule (services.passwords): raises WeakPassword with the reason."""
    passwords.check(name, password)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_display_name(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    if not text:
        return None
    if len(text) > MAX_DISPLAY_NAME_LENGTH:
        raise JzairError(f"显示名称太长：最多 {MAX_DISPLAY_NAME_LENGTH} 个字符。")
    if any(not ch.isprintable() for ch in text):
        raise JzairError("显示名称中不能有控制字符。")
    return text


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise JzairError("用户名不能为空。")
    if len(name) > MAX_NAME_LENGTH:
        raise JzairError(f"用户名太长：最多 {MAX_NAME_LENGTH} 个字符。")
    if any(ch.isspace() for ch in name):
        raise JzairError("用户名中不能有空格。")
    if printable(name) != name:
        raise JzairError("用户名中不能有控制字符。")
    return name


_check_name = check_name


def resolve_role_unit(role: str, unit: str | None) -> tuple[str, str | None]:
    role = (role or "").strip()
    if role not in ROLES:
        allowed = "、".join(f"{k}（{v}）" for k, v in ROLES.items())
        raise JzairError(f"未知的角色：“{role}”。可选：{allowed}")
    if role in UNIT_ROLES:
        if not unit or not str(unit).strip():
            raise JzairError(f"{ROLES[role]}必须指定所属县（区、市），如 --county 榆次区。")
        return role, reference().resolve_unit(str(unit)).code
    if unit and str(unit).strip():
        raise JzairError(f"只有县级填报员和县级管理员需要指定县（区、市）；{ROLES[role]}不属于某个县。")
    return role, None


def check_first_role(role: str) -> None:
    if role != "city_admin":
        raise JzairError("第一个账户必须是市级管理员（--role city_admin），以便今后由其管理其他账户。")


def _check_admin(s: Session, actor: Actor, what: str) -> None:
    actor.check_admin(what)
    audit.check_actor(s, actor)


def _check_role_here(s: Session, role: str, unit_code: str | None) -> None:
    """The roles an installation has: the city's (city_admin, county_clerk of any unit, viewer) or a county's
    (county_admin and county_clerk of its own unit, viewer). A database never set up: as before set-up."""
    from jzair_desktop.services.installation import get_installation, unit_label

    inst = get_installation(s)
    if inst is None or inst.is_city:
        if role == "county_admin":
            raise JzairError("县级管理员只用于县（区、市）的安装；市大气办的安装请用市级管理员（city_admin）。")
        return
    if role == "city_admin":
        raise JzairError(f"本机是{inst.label}的安装，不能添加市级管理员；本机的管理员角色是县级管理员（county_admin）。")
    if role in UNIT_ROLES and unit_code != inst.unit:
        raise PermissionDenied(f"本机是{inst.label}的安装，只能添加本县（区、市）的用户，"
                               f"不能添加{unit_label(unit_code or '')}的用户。")


def insert_account(
    s: Session, actor: Actor, name: str, role: str, pw_hash: str, *, unit_code: str | None,
    display_name: str | None = None, now: dt.datetime | None = None, detail_prefix: str | None = None,
) -> UserAccount:
    """Insert an account and its audit entry in the caller's transaction (the checks are the caller's)."""
    if s.scalar(select(UserAccount.id).where(UserAccount.name == name)) is not None:
        raise JzairError(f"用户“{name}”已存在。")
    # The entry is written by the acting user before the account exists (the first account's
    # creator is the built-in administrator, who may act only while no account exists).
    user = UserAccount(name=name, role=role, unit_code=unit_code, password_hash=pw_hash, disabled=False,
                       failed_count=0, locked_until=None, created_at=now or _now(), created_by=actor.name,
                       display_name=display_name)
    detail = f"角色：{ROLES[role]}" + (f"，{reference().unit_by_code(unit_code).name}" if unit_code else "")
    if display_name:
        detail += f"，显示名称：{display_name}"
    if detail_prefix:
        detail = f"{detail_prefix}；{detail}"
    audit.append(s, actor, "user_add", ledger=audit.SUBJECT_USER, uuid=name, unit_code=unit_code,
                 after=user_state(user), detail=detail, verify_actor=False)
    s.add(user)
    s.flush()
    return user


# --- changes ------------------------------------------------------------------------------------


def add_user(
    db: Database, actor: Actor, name: str, role: str, password: str, *, unit: str | None = None,
    display_name: str | None = None,
) -> UserInfo:
    """Add an account. On a database never set up the first one must be a city_admin (and needs no login);
    later ones need an administrator of this installation, and only the installation's roles are offered."""
    name = check_name(name)
    role, unit_code = resolve_role_unit(role, unit)
    display_name = check_display_name(display_name)
    check_password_rule(name, password)
    pw_hash = _HASHER.hash(password)
    with write_session(db.engine) as s:
        first = not audit.accounts_exist(s)
        if first:
            audit.check_actor(s, actor)  # after set-up there is always an account: this refuses then
            check_first_role(role)
        else:
            _check_admin(s, actor, "添加用户")
        _check_role_here(s, role, unit_code)
        return _info(insert_account(s, actor, name, role, pw_hash, unit_code=unit_code, display_name=display_name))


def change_password(db: Database, actor: Actor, name: str, new_password: str) -> None:
    """Set a new password: the user for themself, or a city_admin for anyone (which also lifts a lock)."""
    check_password_rule(name.strip(), new_password)
    pw_hash = _HASHER.hash(new_password)
    with write_session(db.engine) as s:
        user = _load(s, name)
        audit.check_actor(s, actor)
        if actor.name != user.name:
            actor.check_admin("重置其他用户的密码")
        before = user_state(user)
        user.password_hash = pw_hash
        if actor.name != user.name:
            user.failed_count, user.locked_until = 0, None
        detail = "本人修改密码" if actor.name == user.name else "管理员重置密码并解除锁定"
        audit.append(s, actor, "user_passwd", ledger=audit.SUBJECT_USER, uuid=user.name, unit_code=user.unit_code,
                     before=before, after=user_state(user), detail=detail)


def set_disabled(db: Database, actor: Actor, name: str, disabled: bool) -> UserInfo:
    with write_session(db.engine) as s:
        _check_admin(s, actor, "停用或启用用户")
        user = _load(s, name)
        if bool(user.disabled) == disabled:
            return _info(user)
        # An active city_admin other than the target acts, so at least one active admin always remains.
        if disabled and user.name == actor.name:
            raise JzairError("不能停用自己的账户。")
        before = user_state(user)
        user.disabled = disabled
        if not disabled:
            user.failed_count, user.locked_until = 0, None
        audit.append(s, actor, "user_disable" if disabled else "user_enable", ledger=audit.SUBJECT_USER,
                     uuid=user.name, unit_code=user.unit_code, before=before, after=user_state(user))
        return _info(user)


def disable_user(db: Database, actor: Actor, name: str) -> UserInfo:
    return set_disabled(db, actor, name, True)


def enable_user(db: Database, actor: Actor, name: str) -> UserInfo:
    return set_disabled(db, actor, name, False)


# --- login --------------------------------------------------------------------------------------


FAILURE_MESSAGE = "用户名或密码不正确。"
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES_PER_NAME = 3  # failed logins of one name within the window before the delay starts
FREE_FAILURES_PER_INSTALLATION = 20  # of all names together
MAX_DELAY_SECONDS = 30.0
MAX_LOGGED_NAME = 40  # a failed login's name as stored in the audit trail

Sleep = Callable[[float], None]


def clean_login_name(name: str | None) -> str:
    """A typed login name as it may be stored and printed: no escape sequences or control characters,
    at most MAX_LOGGED_NAME characters."""
    return printable(name or "", MAX_LOGGED_NAME).strip()


def _growing(failures: int, free: int, step: int = 1) -> float:
    if failures < free:
        return 0.0
    return min(MAX_DELAY_SECONDS, float(2 ** ((failures - free) // step)))


def login_delay(s: Session, name: str, when: dt.datetime) -> float:
    """Seconds to wait before checking a login of `name`: grows with the failed logins of that name (known
    or not) and of the whole installation within THROTTLE_WINDOW, up to MAX_DELAY_SECONDS.

    A delay, not a lock: the right password always gets in after it, so nobody can keep an account (the
    last administrator's included) locked out by failing on purpose; a guesser is slowed to one try per
    MAX_DELAY_SECONDS.
    """
    since = when - THROTTLE_WINDOW
    base = select(func.count(AuditEntry.seq)).where(AuditEntry.action == "login_failed", AuditEntry.at >= since)
    per_name = int(s.scalar(base.where(AuditEntry.record_uuid == (name or None))) or 0)
    overall = int(s.scalar(base) or 0)
    return max(_growing(per_name, FREE_FAILURES_PER_NAME), _growing(overall, FREE_FAILURES_PER_INSTALLATION, 5))


_DUMMY_HASH: str | None = None


def _dummy_verify(password: str) -> None:
    """Spend the time a real check costs, so an unknown name answers as slowly as a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("jzair-no-such-user")
    with contextlib.suppress(VerificationError, VerifyMismatchError, InvalidHashError):
        _HASHER.verify(_DUMMY_HASH, password)


def authenticate(
    db: Database, name: str, password: str, *, clock: Clock | None = None, sleep: Sleep | None = None,
) -> Actor:
    """The account's Actor when `password` is right; LoginFailed otherwise (the attempt is audited either way).

    An unknown name, a wrong password and a disabled account (unless the password is right) all answer
    FAILURE_MESSAGE. Before the check the caller waits `login_delay` (`sleep`, time.sleep by default).
    The name is cleaned (printable, length-limited) before it is stored. The failure is committed (audit
    entry, failure count) before LoginFailed is raised.
    """
    clock = clock or _now
    sleep = sleep or time.sleep
    typed = (name or "").strip()
    name = clean_login_name(typed)
    when = clock()
    with read_session(db.engine) as s:
        delay = login_delay(s, name, when)
    if delay > 0:
        sleep(delay)
        when = clock()
    failure: str | None = None
    user = None
    ok = False
    if name == typed and name:
        with read_session(db.engine) as s:
            user = s.scalar(select(UserAccount).where(UserAccount.name == name))
            hash_ = user.password_hash if user is not None else None
        if hash_ is not None:
            try:
                _HASHER.verify(hash_, password)
                ok = True
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
        else:
            _dummy_verify(password)
    else:
        _dummy_verify(password)  # a name with control characters or over-long is never an account
    with write_session(db.engine) as s:
        user = s.scalar(select(UserAccount).where(UserAccount.name == name)) if user is not None else None
        who = Actor(name=name or "（空）", role=user.role if user else "-", unit_code=user.unit_code if user else None)

        def fail(detail: str, message: str = FAILURE_MESSAGE) -> None:
            nonlocal failure
            audit.append(s, who, "login_failed", ledger=audit.SUBJECT_USER, uuid=name or None,
                         unit_code=who.unit_code, detail=detail, verify_actor=False, at=when)
            failure = message

        if user is None:
            fail("用户不存在")
        elif not ok:
            user.failed_count = (user.failed_count or 0) + 1
            fail("密码错误")
        elif user.disabled:
            fail("账户已停用", f"账户“{name}”已停用，请联系管理员。")
        else:
            user.failed_count, user.locked_until = 0, None
            if _HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = _HASHER.hash(password)
            audit.append(s, who, "login", ledger=audit.SUBJECT_USER, uuid=name, unit_code=who.unit_code,
                         after=user_state(user), verify_actor=False, at=when)
            actor = Actor(name=user.name, role=user.role, unit_code=user.unit_code)
    if failure is not None:
        raise LoginFailed(failure)
    return actor
