"""`--db-url postgresql+psycopg://...`: a server database works for the CLI, and every way of naming the wrong
one is refused with a clear Chinese message that never shows the password, without waiting forever."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import create_engine, text

from jzair_desktop.cli import main
from jzair_desktop.storage import migrate


def run(capsys, url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["--db-url", url, *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_init_and_info_on_an_empty_server_database(pg_server, pg_empty_url, capsys):
    rc, out, err = run(capsys, pg_empty_url, "init")
    assert rc == 0, err
    rc, out, err = run(capsys, pg_empty_url, "info")
    assert rc == 0, err
    assert f"架构版本：{migrate.head_revision()}" in out
    assert "127.0.0.1" in out and pg_server.password not in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://", "数据库地址中没有数据库名"),
        ("mysql://someone@localhost/ledger", "不支持的数据库类型“mysql”"),
        ("postgresql+asyncpg://someone@localhost/ledger", "不支持的 PostgreSQL 驱动“asyncpg”"),
        ("这不是地址", "数据库地址格式不正确"),
    ],
)
def test_a_malformed_or_foreign_url_is_refused(capsys, url, message):
    rc, out, err = run(capsys, url, "info")
    assert rc == 2 and out == ""
    assert message in err and err.startswith("错误：")


def test_a_wrong_password_is_refused_without_showing_it(pg_server, pg_url, capsys):
    wrong = "Wrong-" + pg_server.password
    rc, _, err = run(capsys, pg_url.replace(pg_server.password, wrong), "info")
    assert rc == 2
    assert "用户名或密码错误" in err and wrong not in err and pg_server.password not in err


def test_a_missing_database_is_named(pg_server, capsys):
    rc, _, err = run(capsys, pg_server.url("没有这个库"), "info")
    assert rc == 2 and "服务器上没有这个数据库" in err and "没有这个库" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_down_is_reported(pg_server, capsys):
    url = pg_server.url("jzair").replace(f":{pg_server.port}/", f":{_free_port()}/")
    rc, _, err = run(capsys, url, "info")
    assert rc == 2 and "无法连接到数据库服务器" in err and pg_server.password not in err


def test_a_server_that_never_answers_times_out(capsys, monkeypatch):
    """A port that accepts the connection but never speaks: the connect timeout ends the wait."""
    monkeypatch.setenv("JZAIR_CONNECT_TIMEOUT_S", "2")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        rc, _, err = run(capsys, f"postgresql+psycopg://someone:pw@127.0.0.1:{port}/ledger", "info")
        took = time.monotonic() - started
    assert rc == 2 and "超时" in err and "2 秒" in err
    assert took < 20


def test_a_database_of_a_newer_schema_is_refused_and_left_alone(pg_url, capsys):
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    rc, _, err = run(capsys, pg_url, "info")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    engine.dispose()
    assert rc == 2 and "更新版本的程序" in err and "9999" in err and "数据库未被改动" in err


def test_a_database_that_is_not_ours_is_refused_and_left_alone(pg_empty_url, capsys):
    engine = create_engine(pg_empty_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE payroll (name text, amount numeric)"))
    rc, _, err = run(capsys, pg_empty_url, "init")
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    engine.dispose()
    assert rc == 2 and "不是本程序的数据库" in err and "payroll" in err
    assert tables == ["payroll"]
