"""The password rule (services.passwords): the one place every path that sets a password goes through."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jzair_desktop.errors import JzairError
from jzair_desktop.services import accounts, installation, passwords
from jzair_desktop.services.actor import BUILTIN_ADMIN
from tests.services.admin_helpers import fast_hasher  # noqa: F401

names = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
texts = st.text(min_size=0, max_size=40)


@given(names, st.text(min_size=0, max_size=passwords.MIN_LENGTH - 1))
def test_shorter_than_eight_is_refused(name, password):
    assert "太短" in passwords.problem(name, password)


@given(names, st.text(alphabet="0123456789０１２３４５６７８９", min_size=passwords.MIN_LENGTH, max_size=30))
def test_all_digits_are_refused(name, password):
    assert passwords.problem(name, password) is not None


@given(st.text(alphabet=st.characters(categories=("L",)), min_size=passwords.MIN_LENGTH, max_size=20),
       st.text(alphabet="0123456789", max_size=4))
@example("AAAAAAAῒ", "")  # upper-cases to a decomposed Ϊ + ̀: once refused only when written composed
def test_the_name_itself_or_with_digits_is_refused(name, digits):
    for password in (name, name.upper(), name + digits):
        if len(password) >= passwords.MIN_LENGTH and password.strip() == password:
            assert passwords.problem(name, password) is not None


@given(st.sampled_from(sorted(passwords.weak_passwords())), st.booleans())
def test_every_listed_weak_password_is_refused_in_any_case(weak, upper):
    password = weak.upper() if upper else weak
    assert passwords.problem("someone", password) is not None


@given(names, texts)
@settings(max_examples=300)
def test_the_verdict_is_the_rule(name, password):
    """Accepted exactly when no rule part applies; check() agrees with problem(); strength 0 iff refused."""
    reason = passwords.problem(name, password)
    ok = (len(password) >= passwords.MIN_LENGTH and len(password) <= passwords.MAX_LENGTH
          and password.strip() == password and not password.isdigit()
          and passwords.fold(password) != passwords.fold(name.strip())
          and passwords.fold(password).rstrip("0123456789") != passwords.fold(name.strip())
          and passwords.fold(password) != passwords.fold(name.strip())[::-1]
          and passwords.fold(password) not in passwords.weak_passwords())
    assert (reason is None) == ok
    if ok:
        passwords.check(name, password)
        assert passwords.strength(name, password).score >= 1
    else:
        with pytest.raises(passwords.WeakPassword):
            passwords.check(name, password)
        assert password == "" or passwords.strength(name, password).score == 0


def test_the_demo_password_meets_the_rule():
    for account in installation.demo_accounts():
        assert passwords.problem(account.name, installation.DEMO_PASSWORD) is None


def test_the_rule_applies_to_add_user_change_password_and_setup(db, fast_hasher):  # noqa: F811
    for weak in ("short", "12345678", "qwerty123", "wangwei1"):
        with pytest.raises(JzairError):
            accounts.add_user(db, BUILTIN_ADMIN, "wangwei", "city_admin", weak)
        with pytest.raises(JzairError):
            installation.set_up(db, unit="city", admin="wangwei", password=weak)
    installation.set_up(db, unit="city", admin="wangwei", password="Jz-office-2020")
    admin = accounts.authenticate(db, "wangwei", "Jz-office-2020")
    with pytest.raises(passwords.WeakPassword, match="太常见"):
        accounts.change_password(db, admin, "wangwei", "Password1")
    with pytest.raises(passwords.WeakPassword, match="用户名"):
        accounts.add_user(db, admin, "zhaoliu88", "viewer", "zhaoliu88")
