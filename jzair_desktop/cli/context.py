"""What every command needs: the database it works on and who is acting."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import Database, open_database, resolve_url

PASSWORD_ENV = "JZAIR_PASSWORD"


class LoginRequired(PermissionDenied):
    exit_code = 4


@dataclass
class CliContext:
    db_path: str | None = None
    db_url: str | None = None
    user: str | None = None
    _db: Database | None = field(default=None, repr=False)
    _actor: Actor | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return resolve_url(db_path=self.db_path, db_url=self.db_url)

    def open(self, *, create: bool = False, upgrade: bool = True) -> Database:
        """The database; `upgrade` False for commands that must not write (audit verify)."""
        if self._db is None:
            self._db, _ = open_database(self.url, create=create, upgrade=upgrade)
        return self._db

    def actor(self) -> Actor:
        """The acting user of a command that changes data or reads personal data or secrets.

        With no account in the database (never set up): the built-in administrator. Once set up (or once
        accounts exist): the account named by the global option --user, logged in with the password from
        JZAIR_PASSWORD or a prompt. Reading the plan, `info` and --version need no login.
        """
        if self._actor is not None:
            return self._actor
        from jzair_desktop.services import accounts

        db = self.open()
        if not accounts.has_accounts(db):
            if self.user:
                raise JzairError(f"数据库中还没有任何用户账户，不需要 --user（当前以{BUILTIN_ADMIN.name}身份操作）。")
            self._actor = BUILTIN_ADMIN
            return self._actor
        if not self.user:
            raise LoginRequired(
                "本数据库已启用用户账户：修改数据、查看个人信息、备份、审计记录和月报的命令需要在命令前用 --user 指定用户名，"
                f"例如 jzair --user 张三 …；密码取自环境变量 {PASSWORD_ENV}，未设置时会提示输入。"
            )
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            password = self.prompt_password(f"用户“{self.user}”的密码：")
        self._actor = accounts.authenticate(db, self.user, password)
        return self._actor

    def reader(self) -> Actor | None:
        """Who a read that needs no login is scoped to: the user named by --user (logged in), else nobody
        (then the read covers what it always did). A county user reads the own unit only (services.scope)."""
        return self.actor() if self.user else None

    @staticmethod
    def prompt_password(prompt: str) -> str:
        """Ask for a password on the terminal (never echoed). Refuses when there is no terminal to ask on."""
        try:
            return getpass.getpass(prompt)
        except (EOFError, OSError) as exc:
            raise JzairError(f"无法读取密码（没有可用的终端）。请设置环境变量 {PASSWORD_ENV}。") from exc

    @staticmethod
    def read_new_password(what: str) -> str:
        """A new password: one line from standard input when it is not a terminal, else asked twice."""
        if not sys.stdin.isatty():
            line = sys.stdin.readline()
            if not line:
                raise JzairError(f"没有从标准输入读到{what}。")
            return line.rstrip("\r\n")
        first = CliContext.prompt_password(f"{what}：")
        second = CliContext.prompt_password(f"再次输入{what}：")
        if first != second:
            raise JzairError("两次输入的密码不一致，未做任何改动。")
        return first

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def ledger_key_arg(allowed: Sequence[str] | None = None) -> Callable[[str], str]:
    """An argparse `type` turning a ledger named in Chinese or English into its key (domain.ledgers.ledger, the
    one resolver); `allowed` limits the ledgers (销号 applies to some only)."""
    import argparse

    from jzair_desktop.domain.ledgers import LEDGERS, ledger

    def convert(text: str) -> str:
        try:
            key = ledger(text).key
        except JzairError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if allowed is not None and key not in allowed:
            names = "、".join(f"{LEDGERS[k].title}（{k}）" for k in allowed)
            raise argparse.ArgumentTypeError(f"“{text}”不能用于此命令，可选：{names}")
        return key

    return convert
