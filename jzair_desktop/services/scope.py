"""Which unit a read is about: the one rule every read path asks (CLI commands, exports, reports).

A county user (县级填报员, 县级管理员) reads the own unit: it is the default, and naming another unit (or the
city as a whole) is refused with a Chinese message. The city office and read-only users read the unit named,
or everything when none is named.
"""

from __future__ import annotations

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services.actor import Actor


def is_county_user(actor: Actor | None) -> bool:
    return actor is not None and bool(actor.own_unit)


def own_name(actor: Actor) -> str:
    own = reference().find_unit(actor.unit_code or "")
    return own.name if own else str(actor.unit_code)


def refusal(actor: Actor, other: str, what: str = "数据") -> PermissionDenied:
    own_name_ = own_name(actor)
    return PermissionDenied(
        f"用户“{actor.name}”只能查看本县（区、市）（{own_name_}）的{what}，不能查看“{other}”的{what}。"
        f"不指定县（区、市）即为{own_name_}。"
    )


def read_unit(actor: Actor | None, text: str | None, *, what: str = "数据") -> str | None:
    """The unit code a read is limited to (None: every unit). `text` is a unit's name, alias or code as the user
    typed it; an unknown unit is refused naming the units there are."""
    code = reference().resolve_unit(text).code if text not in (None, "") else None
    if not is_county_user(actor):
        return code
    assert actor is not None
    if code is not None and code != actor.unit_code:
        raise refusal(actor, reference().unit_by_code(code).name, what)
    return actor.unit_code


def check_area(actor: Actor | None, code: str | None, name: str, *, what: str = "数据") -> None:
    """A county user may read the own unit's rows only (an area or 全市 figure given by code and name)."""
    if is_county_user(actor) and code is not None and code != actor.unit_code:
        assert actor is not None
        raise refusal(actor, name, what)
