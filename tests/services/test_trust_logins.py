"""Logins as an attacker tries them (issue 16 finding 10): guessing names from the messages, unthrottled
guesses under unknown names, a 100 KB name with terminal escapes, and locking out the last administrator."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.services import accounts, audit
from jzair_desktop.services.accounts import FAILURE_MESSAGE, LoginFailed, authenticate
from jzair_desktop.services.audit_verify import verify
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import PASSWORDS, fast_hasher, make_users, query  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_hasher")


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2020, 12, 1, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def _message(db, name: str, password: str, **kw) -> str:  # noqa: ANN001
    with pytest.raises(LoginFailed) as caught:
        authenticate(db, name, password, **kw)
    return str(caught.value)


def test_attack_account_names_cannot_be_told_from_the_failure_message(db):
    users = make_users(db)
    accounts.disable_user(db, users["admin"], "赵六")
    messages = {_message(db, name, "guess-1234", sleep=lambda _s: None)
                for name in ("李四", "王主任", "赵六", "不存在的人", "admin", "")}
    assert messages == {FAILURE_MESSAGE}


def test_attack_guessing_under_unknown_names_is_throttled_per_name_and_per_installation(db):
    make_users(db)
    clock, waits = Clock(), []
    for _ in range(6):
        _message(db, "admin", "guess", clock=clock, sleep=waits.append)
    assert waits == [1.0, 2.0, 4.0]  # an unknown name is slowed down like a known one
    # spraying many names: the installation as a whole slows down
    waits.clear()
    for n in range(30):
        _message(db, f"甲{n}", "guess", clock=clock, sleep=waits.append)
    assert waits and waits[-1] >= 2.0
    # the administrator still gets in (after the delay), so nobody is locked out
    assert authenticate(db, "王主任", PASSWORDS["王主任"], clock=clock, sleep=waits.append).name == "王主任"


def test_attack_the_last_administrator_cannot_be_locked_out(db):
    make_users(db)
    clock, waits = Clock(), []
    for _ in range(60):  # far past the old five-try lock, every few seconds
        _message(db, "王主任", "wrong", clock=clock, sleep=waits.append)
        clock.now += dt.timedelta(seconds=5)
    assert max(waits) == accounts.MAX_DELAY_SECONDS
    assert authenticate(db, "王主任", PASSWORDS["王主任"], clock=clock, sleep=waits.append).name == "王主任"
    assert accounts.get_user(db, "王主任").locked_until is None


def test_attack_a_huge_name_with_terminal_escapes_is_stored_cleaned_and_printed_clean(db, capsys, monkeypatch):
    make_users(db)
    evil = "\x1b[2J\x1b]0;pwned\x07王主任\x1b[8m" + "A" * 100_000
    _message(db, evil, "x", sleep=lambda _s: None)
    stored = query(db, "SELECT user_name, record_uuid FROM audit_log WHERE action = 'login_failed'")
    assert len(stored) == 1
    for value in stored[0]:
        assert len(value) <= accounts.MAX_LOGGED_NAME and "\x1b" not in value and value.startswith("王主任")
    assert verify(db).ok
    # an entry written raw by an older version is printed clean
    from tests.services.admin_helpers import sql

    db.dispose()
    sql(db, "UPDATE audit_log SET detail = ? WHERE action = 'login_failed'", ("\x1b[31m红\x1b[0m",))
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    cli_main([*cli_db_args(db), "--user", "王主任", "audit", "log", "--limit", "5"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "红" in out


def test_account_names_with_control_characters_are_refused(db):
    users = make_users(db)
    with pytest.raises(Exception, match="控制字符"):
        accounts.add_user(db, users["admin"], "坏\x1b[0m人", "viewer", "viewer-pass-9")
    assert audit.query_log(db, audit.AuditQuery(action="user_add"), limit=10)
