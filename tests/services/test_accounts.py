"""Accounts: the first account, who may add and change accounts, argon2id hashes, login with wrong
passwords, disabled accounts and the five-minute lock after five failures (with an injected clock),
all audited; and the CLI's --user resolution."""

from __future__ import annotations

import datetime as dt
import io
import sys

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services import accounts, audit
from jzair_desktop.services.accounts import LoginFailed, authenticate
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.audit_verify import verify
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import PASSWORDS, YUCI, fast_hasher, make_users, query, snapshot  # noqa: F401


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


@pytest.mark.slow
def test_first_account_must_be_city_admin_and_needs_no_login(db, db_path):
    assert not accounts.has_accounts(db)
    with pytest.raises(JzairError, match="第一个账户必须是市级管理员"):
        accounts.add_user(db, BUILTIN_ADMIN, "李四", "county_clerk", "yuci-pass-1", unit="榆次区")
    info = accounts.add_user(db, BUILTIN_ADMIN, "王主任", "city_admin", "admin-pass-1")
    assert info.role == "city_admin" and info.created_by == BUILTIN_ADMIN.name
    assert accounts.has_accounts(db)
    (stored,) = query(db, "SELECT password_hash FROM users")[0]
    assert stored.startswith("$argon2id$") and "admin-pass-1" not in stored
    # Now the built-in administrator may do nothing more.
    with pytest.raises(PermissionDenied, match="登录"):
        accounts.add_user(db, BUILTIN_ADMIN, "李四", "county_clerk", "yuci-pass-1", unit="榆次区")


def test_who_may_change_accounts(db, db_path, fast_hasher):  # noqa: F811
    users = make_users(db)
    admin, clerk, viewer = users["admin"], users["yuci"], users["viewer"]
    before = snapshot(db)
    with pytest.raises(PermissionDenied):
        accounts.add_user(db, clerk, "新人", "viewer", "new-pass-123")
    with pytest.raises(PermissionDenied):
        accounts.disable_user(db, viewer, "李四")
    with pytest.raises(PermissionDenied):
        accounts.change_password(db, clerk, "赵六", "other-pass-1")
    with pytest.raises(JzairError, match="已存在"):
        accounts.add_user(db, admin, "李四", "viewer", "new-pass-123")
    with pytest.raises(JzairError, match="必须指定"):
        accounts.add_user(db, admin, "新人", "county_clerk", "new-pass-123")
    with pytest.raises(JzairError, match="只有县级填报员"):
        accounts.add_user(db, admin, "新人", "viewer", "new-pass-123", unit="榆次区")
    with pytest.raises(JzairError, match="未知的县"):
        accounts.add_user(db, admin, "新人", "county_clerk", "new-pass-123", unit="太原市")
    with pytest.raises(JzairError, match="未知的角色"):
        accounts.add_user(db, admin, "新人", "superuser", "new-pass-123")
    with pytest.raises(JzairError, match="太短"):
        accounts.add_user(db, admin, "新人", "viewer", "short")
    with pytest.raises(JzairError, match="不能停用自己"):
        accounts.disable_user(db, admin, "王主任")
    assert snapshot(db) == before
    # A user changes the own password; the admin resets another's.
    accounts.change_password(db, clerk, "李四", "yuci-pass-2")
    assert authenticate(db, "李四", "yuci-pass-2") == clerk
    accounts.change_password(db, admin, "赵六", "jiexiu-pass-2")
    assert authenticate(db, "赵六", "jiexiu-pass-2").unit_code == "140781"
    actions = [e.action for e in audit.query_log(db, newest_first=False)]
    assert actions.count("user_add") == 4 and actions.count("user_passwd") == 2
    assert verify(db).ok


def test_login_wrong_password_and_disabled_account(db, fast_hasher):  # noqa: F811
    users = make_users(db)
    assert authenticate(db, "李四", PASSWORDS["李四"]) == Actor("李四", "county_clerk", YUCI)
    with pytest.raises(LoginFailed, match="^用户名或密码不正确。$"):
        authenticate(db, "李四", "wrong")
    with pytest.raises(LoginFailed, match="^用户名或密码不正确。$"):
        authenticate(db, "不存在的人", "whatever")
    accounts.disable_user(db, users["admin"], "李四")
    with pytest.raises(LoginFailed, match="^用户名或密码不正确。$"):  # a disabled account says so only to its owner
        authenticate(db, "李四", "wrong")
    with pytest.raises(LoginFailed, match="已停用"):
        authenticate(db, "李四", PASSWORDS["李四"])
    failed = audit.query_log(db, audit.AuditQuery(action="login_failed"), newest_first=False)
    assert [(e.user_name, e.detail) for e in failed] == [
        ("李四", "密码错误"), ("不存在的人", "用户不存在"), ("李四", "密码错误"), ("李四", "账户已停用")]
    accounts.enable_user(db, users["admin"], "李四")
    assert authenticate(db, "李四", PASSWORDS["李四"]).name == "李四"
    deputy = accounts.add_user(db, users["admin"], "孙副主任", "city_admin", "deputy-pass-1").actor()
    accounts.disable_user(db, deputy, "王主任")
    with pytest.raises(LoginFailed, match="已停用"):
        authenticate(db, "王主任", PASSWORDS["王主任"])
    assert verify(db).ok


def test_failures_slow_down_but_never_lock(db, fast_hasher):  # noqa: F811
    """Changed on purpose (issue 16 finding 10): the five-minute lock became a growing delay, so failing on
    purpose cannot keep an account (the last administrator's) locked out."""
    make_users(db)
    clock = Clock(dt.datetime(2020, 12, 1, 9, 0, 0))
    waits: list[float] = []
    for _ in range(8):
        with pytest.raises(LoginFailed, match="^用户名或密码不正确。$"):
            authenticate(db, "李四", "wrong", clock=clock, sleep=waits.append)
        clock.advance(seconds=1)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]  # after the third failure: 1 s, then doubling
    assert authenticate(db, "李四", PASSWORDS["李四"], clock=clock, sleep=waits.append).name == "李四"
    assert waits[-1] == 30.0  # capped; and the right password gets in
    info = accounts.get_user(db, "李四")
    assert info.failed_count == 0 and info.locked_until is None
    assert audit.query_log(db, audit.AuditQuery(action="lockout")) == []
    clock.advance(minutes=16)
    authenticate(db, "李四", PASSWORDS["李四"], clock=clock, sleep=waits.append)
    assert len(waits) == 6  # the window has passed: no wait


# --- the CLI --------------------------------------------------------------------------------------


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_cli_user_commands(db, db_path, monkeypatch, capsys, fast_hasher):  # noqa: F811
    base = [*cli_db_args(db)]
    _stdin(monkeypatch, "admin-pass-1\n")
    assert cli_main([*base, "user", "add", "王主任", "--role", "county_clerk", "--county", "榆次区"]) != 0
    assert "第一个账户必须是市级管理员" in capsys.readouterr().err
    assert cli_main([*base, "user", "add", "王主任", "--role", "city_admin"]) == 0
    assert "已添加用户“王主任”" in capsys.readouterr().out

    # Later accounts need a city_admin's login.
    _stdin(monkeypatch, "yuci-pass-1\n")
    assert cli_main([*base, "user", "add", "李四", "--role", "county_clerk", "--county", "榆次区"]) != 0
    assert "--user" in capsys.readouterr().err
    monkeypatch.setenv("JZAIR_PASSWORD", "wrong-password")
    assert cli_main([*base, "--user", "王主任", "user", "add", "李四", "--role", "county_clerk",
                     "--county", "榆次区"]) == 4
    assert "密码不正确" in capsys.readouterr().err
    monkeypatch.setenv("JZAIR_PASSWORD", "admin-pass-1")
    _stdin(monkeypatch, "yuci-pass-1\n")
    assert cli_main([*base, "--user", "王主任", "user", "add", "李四", "--role", "county_clerk",
                     "--county", "140702"]) == 0
    _stdin(monkeypatch, "viewer-pass-1\n")
    assert cli_main([*base, "--user", "王主任", "user", "add", "钱七", "--role", "viewer"]) == 0
    capsys.readouterr()

    assert cli_main([*base, "--user", "王主任", "user", "list"]) == 0  # listing accounts needs a login
    out = capsys.readouterr().out
    assert "王主任" in out and "县级填报员" in out and "榆次区" in out and "只读用户" in out

    monkeypatch.setenv("JZAIR_PASSWORD", "viewer-pass-1")
    assert cli_main([*base, "--user", "钱七", "user", "disable", "李四"]) != 0
    assert "市级管理员" in capsys.readouterr().err
    monkeypatch.setenv("JZAIR_PASSWORD", "admin-pass-1")
    assert cli_main([*base, "--user", "王主任", "user", "disable", "李四"]) == 0
    monkeypatch.setenv("JZAIR_PASSWORD", "yuci-pass-1")
    assert cli_main([*base, "--user", "李四", "submit", "--county", "榆次区", "--month", "2020-11"]) == 4
    assert "已停用" in capsys.readouterr().err

    # passwd: the user's own, new password from standard input.
    monkeypatch.setenv("JZAIR_PASSWORD", "viewer-pass-1")
    _stdin(monkeypatch, "viewer-pass-2\n")
    assert cli_main([*base, "--user", "钱七", "user", "passwd", "钱七"]) == 0
    assert authenticate(db, "钱七", "viewer-pass-2").role == "viewer"
    assert verify(db).ok


def test_cli_user_with_no_accounts_is_refused(db, db_path, capsys):
    assert cli_main([*cli_db_args(db), "--user", "某人", "submit", "--county", "榆次区", "--month", "2020-11"]) != 0
    assert "还没有任何用户账户" in capsys.readouterr().err
