"""Composition root of the GUI: database → services → main window."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.backup_controller import BackupController
from jzair_desktop.gui.change_watch import ServerChangeWatcher
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.focus_refresh import FocusRefresher
from jzair_desktop.gui.qtsetup import install_excepthook, make_application
from jzair_desktop.gui.single_instance import (
    bring_forward,
    claim_database,
    identity_key,
    tell_already_running,
)
from jzair_desktop.gui.tasks import user_errors
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database, load_reference_data, open_database

if TYPE_CHECKING:
    from jzair_desktop.cli.context import CliContext
    from jzair_desktop.gui.main_window import MainWindow


def build_main_window(ctx: GuiContext) -> MainWindow:
    from jzair_desktop.gui.main_window import MainWindow

    return MainWindow(ctx)


def start_session(db: Database, *, user: str | None = None) -> Actor | None:
    """Who works in this window. A database never set up (no installation, no account) starts the 首次使用向导
    and then works as its new administrator; otherwise the user who logs in. None: the wizard or the login
    was cancelled (the database is then as it was)."""
    from jzair_desktop.services import accounts, installation

    if not accounts.has_accounts(db):
        if installation.installation_of(db) is not None:  # set up, but its accounts are gone: no way in
            raise JzairError("本机已经设置，但数据库中没有任何用户账户，无法登录。请从备份恢复数据库。")
        from jzair_desktop.gui.dialogs import setup_wizard

        done = setup_wizard.run_setup(db)
        if done is None:
            return None  # cancelled: nothing written at all, the next start asks again
        result, password = done
        return accounts.authenticate(db, result.admin, password)
    from jzair_desktop.gui.dialogs import login as login_dialog

    return login_dialog.login(db, user=user)


def open_server_at_start(cli: CliContext) -> Database | str | None:
    """The saved server connection's database when the program starts without --db/--db-url/JZAIR_DB and
    one is saved (设置 → 数据库 → 连接服务器); LOCAL to open the local file instead (also when none is saved);
    None when the user gave up."""
    from jzair_desktop.gui.dialogs import server_connect

    if cli.db_path or cli.db_url:
        return server_connect.LOCAL
    conn = server_connect.saved_connection()
    if conn is None:
        return server_connect.LOCAL
    return server_connect.connect_at_start(conn)


def run_gui(cli: CliContext) -> int:
    app = make_application(sys.argv[:1])
    install_excepthook()
    opened = open_server_at_start(cli)
    if opened is None:  # the connection to the server was cancelled
        return 0
    server_db = opened if isinstance(opened, Database) else None
    url = server_db.url if server_db is not None else cli.url
    instance = claim_database(url)
    if instance is None:  # another window has this database open: it was asked to come forward
        if server_db is not None:
            server_db.dispose()
        return 0
    with user_errors(None, f"{APP_TITLE} - 无法打开数据库", critical=True) as outcome:
        db = server_db if server_db is not None else open_database(url, create=True)[0]
        load_reference_data(db)
    if outcome.failed:
        if server_db is not None:
            server_db.dispose()
        instance.release()
        return 2
    if db.path is not None and not instance.add_key(identity_key(db.path)):
        # The file was created just now, and another program opened it under another name meanwhile.
        db.dispose()
        instance.release()
        tell_already_running(instance, db.location)
        return 0
    with user_errors(None, f"{APP_TITLE} - 无法打开数据库", critical=True) as outcome:
        actor = start_session(db, user=cli.user)
    if outcome.failed:
        db.dispose()
        instance.release()
        return 2
    if actor is None:  # the login was cancelled
        db.dispose()
        instance.release()
        return 0
    ctx = GuiContext(db=db, actor=actor, signals=DataSignals())
    window = build_main_window(ctx)
    instance.activation_requested.connect(lambda: bring_forward(window))
    window.closing.connect(instance.set_exiting)  # a second start now waits instead of asking this window
    backups = BackupController.install(window)
    FocusRefresher(app, ctx, parent=window)
    if db.path is None:  # a server: other clerks write meanwhile
        ServerChangeWatcher(app, ctx, parent=window)
    window.show_fitted()
    code = app.exec()
    ctx.db.dispose()  # a restore may have replaced ctx.db
    backups.remember_clean_files()
    instance.release()
    return code
