"""Actor's predicates for every role: own_unit, can_write(unit), can_read(unit), can_read_personal(unit).
check_write raises exactly when can_write is False, and the personal-data rule of services.personal is
the same predicate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services import personal
from jzair_desktop.services.actor import BUILTIN_ADMIN, ROLES, Actor

YUCI, TAIGU = "140702", "140703"

CITY = Actor("市管理员", "city_admin")
COUNTY_ADMIN = Actor("榆次管理员", "county_admin", YUCI)
CLERK = Actor("榆次填报员", "county_clerk", YUCI)
VIEWER = Actor("查看员", "viewer")
UNKNOWN = Actor("来历不明", "superuser", YUCI)
UNITS = (YUCI, TAIGU, None)

# role -> (own_unit, {unit: (can_write, can_read, can_read_personal)})
EXPECTED = {
    CITY: (None, {YUCI: (True, True, True), TAIGU: (True, True, True), None: (True, True, True)}),
    COUNTY_ADMIN: (YUCI, {YUCI: (True, True, True), TAIGU: (False, False, False), None: (True, False, False)}),
    CLERK: (YUCI, {YUCI: (True, True, True), TAIGU: (False, False, False), None: (True, False, False)}),
    VIEWER: (None, {YUCI: (False, True, False), TAIGU: (False, True, False), None: (False, True, False)}),
    UNKNOWN: (None, {YUCI: (False, False, False), TAIGU: (False, False, False), None: (False, False, False)}),
}


def test_every_role_is_covered():
    assert {a.role for a in EXPECTED} >= set(ROLES)
    assert BUILTIN_ADMIN.role == "city_admin" and BUILTIN_ADMIN.can_write(TAIGU)


@pytest.mark.parametrize("actor", list(EXPECTED), ids=lambda a: a.role)
@pytest.mark.parametrize("unit", UNITS)
def test_predicates_of_each_role(actor, unit):
    own, table = EXPECTED[actor]
    assert actor.own_unit == own
    write, read, whole = table[unit]
    assert actor.can_write(unit) is write
    assert actor.can_read(unit) is read
    assert actor.can_read_personal(unit) is whole
    assert actor.is_county is (actor.role in ("county_admin", "county_clerk"))


@pytest.mark.parametrize("actor", list(EXPECTED), ids=lambda a: a.role)
@pytest.mark.parametrize("unit", UNITS)
def test_check_write_refuses_exactly_what_can_write_denies(actor, unit):
    if actor.can_write(unit):
        actor.check_write(unit)
    else:
        with pytest.raises(PermissionDenied):
            actor.check_write(unit)


@pytest.mark.parametrize("actor", list(EXPECTED), ids=lambda a: a.role)
@pytest.mark.parametrize("unit", UNITS)
def test_the_personal_data_rule_is_the_actors(actor, unit):
    assert personal.may_read_whole(actor, unit) is actor.can_read_personal(unit)
    assert personal.may_read_unit(actor, unit) is actor.can_read(unit)
    if not actor.can_read(unit):
        with pytest.raises(PermissionDenied):
            personal.check_read(actor, unit)


def test_a_county_role_without_a_unit_has_no_own_unit_and_writes_no_named_unit():
    lost = Actor("无单位填报员", "county_clerk", None)
    assert lost.own_unit is None and not lost.can_write(YUCI) and not lost.can_read_personal(YUCI)
    with pytest.raises(PermissionDenied):
        lost.check_write(YUCI)


@given(st.sampled_from(sorted(ROLES)), st.sampled_from([YUCI, TAIGU, None]), st.sampled_from([YUCI, TAIGU, "", None]))
def test_writing_implies_reading_and_whole_reading_implies_reading(role, own, unit):
    actor = Actor("某人", role, own)
    if unit is not None and actor.can_write(unit):
        assert actor.can_read(unit)
    if actor.can_read_personal(unit):
        assert actor.can_read(unit) and actor.can_see_personal_data
    if actor.own_unit is not None:
        assert actor.can_write(actor.own_unit) and actor.can_read_personal(actor.own_unit)
