"""Server mode below the GUI: the saved connection's fields, the password in the credential store only,
connecting to a real PostgreSQL server (wrong password, server down, no answer, not a PostgreSQL server, no such
database), a connection cut in the middle of a write (nothing written, the next try works), and the change
counter other clerks' writes move."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from jzair_desktop.errors import DatabaseError, JzairError, ServerUnavailable, ValidationFailed
from jzair_desktop.services import change_watch, server
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import load_reference_data, location_of, open_database
from jzair_desktop.services.server import ServerConnection
from tests.gui.ledger_samples import create, heating
from tests.memory_keyring import BrokenKeyring
from tests.server_helpers import ConnectionCutter, closed_port, connection_of, silent_server

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
hosts = st.one_of(st.from_regex(r"[a-z][a-z0-9\-]{0,15}(\.[a-z][a-z0-9]{0,8}){0,2}", fullmatch=True),
                  st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))))


# ------------------------------------------------------------------------------------------- the fields
@pytest.mark.slow  # waits for a timeout / a whole office set-up / many examples
@given(host=hosts, port=st.integers(1, 65535), database=names, account=names,
       password=st.text(min_size=1, max_size=40).filter(lambda p: "\x00" not in p))
def test_connection_fields_round_trip_and_the_url_carries_any_password(host, port, database, account, password):
    conn = ServerConnection(host, port, database, account)
    assert conn.problems() == []
    assert ServerConnection.from_settings(conn.as_settings()) == conn
    assert set(conn.as_settings()) == {"host", "port", "database", "account"}  # no room for a password
    u = make_url(conn.url(password))
    assert (u.host, u.port, u.database, u.username, u.password) == (host, port, database, account, password)
    assert u.query["connect_timeout"] == str(server.CONNECT_TIMEOUT_S)
    assert location_of(conn.url(password)) == conn.label  # what the user is shown: never the password


@pytest.mark.parametrize(("conn", "words"), [
    (ServerConnection(""), "请填写服务器"),
    (ServerConnection("http://db/x"), "不是有效的计算机名"),
    (ServerConnection("db", 0), "端口 0 无效"),
    (ServerConnection("db", 5432, "1abc"), "数据库名“1abc”无效"),
    (ServerConnection("db", 5432, "jzair", "张三"), "账户“张三”无效"),
])
def test_unusable_fields_are_refused_in_chinese(conn, words):
    with pytest.raises(ValidationFailed, match=words):
        conn.checked()
    assert ServerConnection.from_settings(conn.as_settings()) is None


def test_the_password_lives_in_the_credential_store_only(memory_keyring):
    conn = ServerConnection("db.example", 5432, "jzair", "jzair_app")
    assert server.saved_password(conn) is None
    server.remember_password(conn, "s3cret-口令")
    assert server.saved_password(conn) == "s3cret-口令"
    assert list(memory_keyring.entries) == [(server.KEYRING_SERVICE, "jzair_app@db.example:5432/jzair")]
    assert "s3cret" not in repr(conn.as_settings())
    server.forget_password(conn)
    server.forget_password(conn)  # none kept: nothing to do, no error
    assert server.saved_password(conn) is None


def test_without_a_credential_store_the_password_is_asked_for():
    import keyring

    keyring.set_keyring(BrokenKeyring())  # the autouse fixture puts the memory store back afterwards
    conn = ServerConnection("db.example")
    assert server.saved_password(conn) is None
    with pytest.raises(JzairError, match="无法把密码保存到系统的凭据管理器"):
        server.remember_password(conn, "x")
    server.forget_password(conn)


# ------------------------------------------------------------------------------------------- connecting
def test_open_server_opens_the_database(pg_url):
    conn, password = connection_of(pg_url)
    db = server.open_server(conn, password)
    try:
        assert db.path is None
        assert password not in db.location and db.location == conn.label
        assert ledger_service.count_records(db, "heating") == 0
    finally:
        db.dispose()


def test_an_empty_server_database_is_made_ours(pg_empty_url):
    conn, password = connection_of(pg_empty_url)
    db = server.open_server(conn, password)
    try:
        load_reference_data(db)  # as the program does after opening any database
        create(db, "heating", 1)
        assert ledger_service.count_records(db, "heating") == 1
    finally:
        db.dispose()


def test_wrong_password_is_a_clear_message(pg_url):
    conn, password = connection_of(pg_url)
    with pytest.raises(DatabaseError, match="密码错误") as err:
        server.open_server(conn, "wrong-" + password)
    assert not isinstance(err.value, ServerUnavailable)
    assert conn.host in str(err.value) and "wrong-" not in str(err.value)


def test_no_such_database_is_a_clear_message(pg_url):
    conn, password = connection_of(pg_url)
    missing = ServerConnection(conn.host, conn.port, "no_such_db", conn.account)
    with pytest.raises(DatabaseError, match="服务器上没有这个数据库或账户"):
        server.open_server(missing, password)


def test_a_server_that_is_down_may_be_retried():
    with pytest.raises(ServerUnavailable, match="服务器没有启动") as err:
        server.open_server(ServerConnection("127.0.0.1", closed_port()), "pw")
    assert "127.0.0.1" in str(err.value)


@pytest.mark.slow  # waits for a timeout / a whole office set-up / many examples
def test_a_server_that_does_not_answer_times_out(monkeypatch):
    monkeypatch.setattr(server, "CONNECT_TIMEOUT_S", 2)
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(ServerUnavailable, match="超时"):
            server.open_server(ServerConnection("127.0.0.1", port), "pw")
        assert time.monotonic() - started < 10


def test_something_else_on_the_port_is_named(pg_url):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_http() -> None:
        conn, _ = listener.accept()
        conn.recv(100)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_http, daemon=True).start()
    try:
        with pytest.raises(DatabaseError, match="不是 PostgreSQL 数据库服务器"):
            server.open_server(ServerConnection("127.0.0.1", listener.getsockname()[1]), "pw")
    finally:
        listener.close()


# ------------------------------------------------------------------------------------------- mid-write
def test_a_connection_cut_mid_write_writes_nothing_and_the_retry_works(pg_server, pg_url):
    db, _ = open_database(pg_url)
    try:
        first = create(db, "heating", 1)
        audit_before = _audit_count(db)
        # The cut comes inside the transaction, as it takes the audit chain's lock for its entry (the entries go by COPY).
        cutter = ConnectionCutter(db.engine, pg_server, "select pg_advisory_xact_lock(")
        with pytest.raises(ServerUnavailable, match="连接已断开") as err:
            ledger_service.delete_records(db, "heating", [first], actor=BUILTIN_ADMIN)
        cutter.remove()
        assert cutter.cut == 1
        assert "没有写入" in str(err.value)
        assert ledger_service.count_records(db, "heating") == 1
        assert _audit_count(db) == audit_before
        assert ledger_service.delete_records(db, "heating", [first], actor=BUILTIN_ADMIN) == 1
        assert ledger_service.count_records(db, "heating") == 0
    finally:
        db.dispose()


def test_a_server_restart_while_idle_costs_the_user_nothing(pg_server, pg_url):
    db, _ = open_database(pg_url)
    try:
        create(db, "heating", 1)
        with db.engine.connect() as conn:  # every pooled connection of ours is ended, as by a restart
            pids = [conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()]
        for pid in pids:
            pg_server.execute(f"SELECT pg_terminate_backend({int(pid)}, 5000)")
        create(db, "heating", 2)  # the dead pooled connection is noticed and replaced before use
        assert ledger_service.count_records(db, "heating") == 2
    finally:
        db.dispose()


def _audit_count(db) -> int:  # noqa: ANN001
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log")).scalar()


# ------------------------------------------------------------------------------------------- others' changes
def _watch_on(db) -> None:  # noqa: ANN001
    mark = change_watch.change_mark(db)
    newest, changes = change_watch.changes_since(db, mark)
    assert (newest, changes) == (mark, change_watch.Changes())
    create(db, "heating", 1)
    newest, changes = change_watch.changes_since(db, mark)
    assert newest > mark
    assert changes.ledgers == {"heating"} and changes.others and not changes.everything
    # The window's own account wrote it: not announced as someone else's.
    newest2, own = change_watch.changes_since(db, mark, own_user=BUILTIN_ADMIN.name)
    assert newest2 == newest and not own
    # An audited read (an export) moves the counter but changes nothing shown.
    from jzair_desktop.services import audit
    from jzair_desktop.storage.engine import write_session

    with write_session(db.engine) as s:  # as record_access writes it once the database is set up
        audit.append(s, BUILTIN_ADMIN, "export", ledger="heating", detail="导出清洁取暖")
    newest3, read = change_watch.changes_since(db, newest)
    assert newest3 > newest and not read


def test_others_changes_are_found_through_the_audit_counter_on_sqlite(db):
    _watch_on(db)


def test_others_changes_are_found_through_the_audit_counter_on_the_server(pg_url):
    db, _ = open_database(pg_url)
    try:
        _watch_on(db)
    finally:
        db.dispose()


def test_many_changes_refresh_everything(db, monkeypatch):
    monkeypatch.setattr(change_watch, "MAX_ENTRIES", 2)
    mark = change_watch.change_mark(db)
    for n in range(3):
        ledger_service.create_record(db, "heating", heating(n), actor=BUILTIN_ADMIN)
    _newest, changes = change_watch.changes_since(db, mark)
    assert changes.everything and changes.others


@pytest.mark.skipif(__import__("sys").platform != "win32", reason="the Windows Credential Manager exists on Windows only")
def test_windows_keeps_the_password_in_the_credential_manager():
    from keyring.backends.Windows import WinVaultKeyring

    assert WinVaultKeyring.priority > 0  # keyring's choice on Windows: the Credential Manager is usable here


# ------------------------------------------------------------------------------------------- two editors
def _two_editors(db) -> None:  # noqa: ANN001
    from jzair_desktop.errors import RecordChanged

    uuid = create(db, "heating", 1)
    opened = ledger_service.get_record(db, "heating", uuid)  # clerk A opens the form
    theirs = dict(opened.values, phone="13900000001")
    ledger_service.update_record(db, "heating", uuid, theirs, actor=BUILTIN_ADMIN)  # clerk B saves first
    audit_before = _audit_count(db)
    mine = dict(opened.values, area_m2=99.0)
    with pytest.raises(RecordChanged, match="已被“系统管理员”修改.*没有保存"):
        ledger_service.update_record(db, "heating", uuid, mine, actor=BUILTIN_ADMIN, expected=opened)
    now = ledger_service.get_record(db, "heating", uuid)
    assert now.values["phone"] == "13900000001" and now.values["area_m2"] == 85.5  # B's edit kept, A's refused
    assert _audit_count(db) == audit_before
    # Opened afresh, the same edit is saved.
    ledger_service.update_record(db, "heating", uuid, dict(now.values, area_m2=99.0), actor=BUILTIN_ADMIN,
                                 expected=now)
    assert ledger_service.get_record(db, "heating", uuid).values["area_m2"] == 99.0


def test_an_edit_never_overwrites_anothers_save_on_sqlite(db):
    _two_editors(db)


def test_an_edit_never_overwrites_anothers_save_on_the_server(pg_url):
    db, _ = open_database(pg_url)
    try:
        _two_editors(db)
    finally:
        db.dispose()
