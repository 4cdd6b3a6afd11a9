"""Who may do the acts that decide whom this installation trusts: restoring the database, importing the
city's targets package (任务包) and pinning or re-pinning a signing key.

These are administrator acts. An administrator is an account with the role city_admin (the city's
installation) or county_admin (a county's own installation, made by its set-up), or the built-in
administrator while the database was never set up and has no account.

The installation record (city, or which county) slots into `installation_allows` only: every check of
this module passes through it, so a rule such as "a targets package is imported on a county installation
only, by its administrator" is one change there.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services.actor import ADMIN_ROLES, Actor  # noqa: F401  (ADMIN_ROLES: backup reads it here)

# The acts checked here (also the keys `installation_allows` will look at).
ACT_RESTORE = "restore"
ACT_IMPORT_TARGETS = "import_targets"
ACT_PIN_CITY = "pin_city"
ACT_PIN_UNIT = "pin_unit"
ACT_IMPORT_COUNTY = "import_county"  # a county package on the city's installation (role city_admin)

_ACT_TEXT = {
    ACT_RESTORE: "恢复数据库",
    ACT_IMPORT_TARGETS: "导入市级任务包",
    ACT_PIN_CITY: "绑定或重新绑定市级公钥",
    ACT_PIN_UNIT: "绑定或重新绑定县（区、市）报送包的公钥",
    ACT_IMPORT_COUNTY: "导入县级报送包",
}


def is_administrator(actor: Actor | None) -> bool:
    return actor is not None and actor.is_admin


def installation_allows(s: Session | None, actor: Actor, act: str) -> str | None:
    """None when this installation allows `act` at all; else why not (Chinese).

    The one place for the installation record: once `services.installation.get_installation(s)`
    exists, a city installation refuses ACT_IMPORT_TARGETS and ACT_PIN_CITY, and a county installation
    refuses ACT_IMPORT_COUNTY, ACT_PIN_UNIT and a unit other than its own. Without it, every installation
    allows every act.
    """
    if s is None:
        return None
    from jzair_desktop.services.installation import get_installation

    inst = get_installation(s)
    if inst is None:
        return None
    what = _ACT_TEXT.get(act, act)
    if inst.is_city and act in (ACT_IMPORT_TARGETS, ACT_PIN_CITY):
        return f"本机是{inst.label}的安装，不能{what}（任务包由本机导出，发给各县）。"
    if not inst.is_city and act in (ACT_IMPORT_COUNTY, ACT_PIN_UNIT):
        return f"本机是{inst.label}的安装，不能{what}（这是市大气办的工作）。"
    return None


def check_installation(actor: Actor, act: str, s: Session | None = None) -> None:
    """Refuse `act` where this installation does not allow it (the role is checked by the caller)."""
    why = installation_allows(s, actor, act)
    if why is not None:
        raise PermissionDenied(why)


def check_administrator(actor: Actor | None, act: str, s: Session | None = None) -> None:
    """Refuse `act` unless `actor` is an administrator of this installation (and the installation allows it)."""
    what = _ACT_TEXT.get(act, act)
    if actor is None:
        raise PermissionDenied(f"{what}须由管理员登录后进行。")
    if not is_administrator(actor):
        raise PermissionDenied(f"只有管理员可以{what}；用户“{actor.name}”不能。")
    check_installation(actor, act, s)
