"""The README's 多人共用（服务器模式） instructions, carried out on the test server: its SQL creates the database
and the two roles, `jzair init` as the schema owner makes the tables, and the program's login can then do the
office's work but not change the schema, drop tables, rewrite the audit trail, or upgrade the schema."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from jzair_desktop.cli import main
from jzair_desktop.errors import DatabaseError
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services import server
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.server import ServerConnection
from tests.gui.ledger_samples import create

README = Path(__file__).resolve().parents[2] / "README.md"


def section_sql() -> list[str]:
    """The ```sql blocks of the README's server section, in order."""
    readme = README.read_text(encoding="utf-8")
    start = readme.index("## 多人共用（服务器模式）")
    end = readme.index("\n## ", start + 1)
    return re.findall(r"```sql\n(.*?)```", readme[start:end], flags=re.S)


def statements(block: str, names: dict[str, str]) -> list[str]:
    for old, new in names.items():
        block = re.sub(rf"(?<![\w']){re.escape(old)}(?![\w'])" if not old.startswith("'") else re.escape(old),
                       new, block)
    return [s.strip() for s in block.split(";") if s.strip()]


@pytest.fixture
def office(pg_server):
    """The README's steps 2 and 3 on the test server, with names of the test's own."""
    tag = f"jr{secrets.token_hex(4)}"
    owner_pw, app_pw = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    names = {"jzair_owner": f"{tag}_owner", "jzair_app": f"{tag}_app", "jzair": tag,
             "'架构所有者的密码'": f"'{owner_pw}'", "'程序账户的密码'": f"'{app_pw}'"}
    blocks = section_sql()
    assert len(blocks) == 3, "the README's server section has three SQL blocks: roles, grants, audit trail"
    for sql in statements(blocks[0], names):
        pg_server.execute(sql)

    def in_database(sql_block: str) -> None:
        with psycopg.connect(**{**pg_server.libpq_kwargs(tag)}, autocommit=True) as conn:
            for sql in statements(sql_block, names):
                conn.execute(sql)

    try:
        in_database(blocks[1])
        yield {"tag": tag, "owner_pw": owner_pw, "app_pw": app_pw, "pg": pg_server, "grants": blocks[2],
               "in_database": in_database}
    finally:
        pg_server.drop_database(tag)
        for role in (f"{tag}_app", f"{tag}_owner"):
            pg_server.execute(f'DROP ROLE IF EXISTS "{role}"')


def init_as_owner(office, monkeypatch) -> None:  # noqa: ANN001
    """`jzair --db-url postgresql+psycopg://jzair_owner@host:port/jzair init` with PGPASSWORD, as the README says."""
    pg = office["pg"]
    monkeypatch.setenv("PGPASSWORD", office["owner_pw"])
    url = f"postgresql+psycopg://{office['tag']}_owner@{pg.host}:{pg.port}/{office['tag']}"
    assert main(["--db-url", url, "init"]) == 0
    monkeypatch.delenv("PGPASSWORD")
    office["in_database"](office["grants"])


def app_connection(office) -> ServerConnection:  # noqa: ANN001
    return ServerConnection(office["pg"].host, office["pg"].port, office["tag"], f"{office['tag']}_app")


@pytest.mark.slow  # waits for a timeout / a whole office set-up / many examples
def test_the_programs_login_does_the_work_and_nothing_more(office, monkeypatch):
    init_as_owner(office, monkeypatch)
    db = server.open_server(app_connection(office), office["app_pw"])
    try:
        first = create(db, "heating", 1)
        create(db, "heating", 2)
        assert ledger_service.delete_records(db, "heating", [first], actor=BUILTIN_ADMIN) == 1
        assert ledger_service.count_records(db, "heating") == 1
        refused = [
            "CREATE TABLE intruder (x int)",
            "DROP TABLE heating",
            "UPDATE audit_log SET detail = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE heating ADD COLUMN x int",
        ]
        for sql in refused:
            with db.engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied|must be owner"):
                conn.execute(text(sql))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is False
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() >= 3
    finally:
        db.dispose()


@pytest.mark.slow  # waits for a timeout / a whole office set-up / many examples
def test_the_programs_login_cannot_make_or_upgrade_the_schema(office, monkeypatch):
    conn = app_connection(office)
    with pytest.raises(DatabaseError, match="须用架构所有者账户") as err:  # tables not made yet
        server.open_server(conn, office["app_pw"])
    assert office["tag"] in str(err.value)
    init_as_owner(office, monkeypatch)
    # A newer program meets an older schema: the login may not upgrade it, and nothing changes.
    pg = office["pg"]
    with psycopg.connect(**pg.libpq_kwargs(office["tag"]), autocommit=True) as admin:
        head = admin.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        admin.execute("UPDATE alembic_version SET version_num = '0006'")
    with pytest.raises(DatabaseError, match="须用架构所有者账户"):
        server.open_server(conn, office["app_pw"])
    with psycopg.connect(**pg.libpq_kwargs(office["tag"]), autocommit=True) as admin:
        assert admin.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0006"
        admin.execute("UPDATE alembic_version SET version_num = %s", (head,))
