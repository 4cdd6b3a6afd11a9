"""Helpers for the accounts / audit / submission / close-out tests: valid records, users, plain-SQL access."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from jzair_desktop.domain import checkdigits
from jzair_desktop.services import accounts
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import Database

YUCI, JIEXIU = "140702", "140781"
PASSWORDS = {"王主任": "admin-pass-1", "李四": "yuci-pass-1", "赵六": "jiexiu-pass-1", "钱七": "viewer-pass-1"}


def id_number(unit_code: str, n: int) -> str:
    first17 = f"{unit_code}1970{1 + n % 9:02d}{10 + n % 18:02d}{n % 1000:03d}"
    return first17 + checkdigits.id_check_char(first17)


def vin(n: int) -> str:
    body, tail = "LFWADRJF", f"1A{n:06d}"
    return body + checkdigits.vin_check_char(body + "0" + tail) + tail


def uscc(unit_code: str, n: int) -> str:
    first17 = f"91{unit_code}MA{n:07d}"
    return first17 + checkdigits.uscc_check_char(first17)


def raw(ledger_key: str, n: int = 0, unit: str = YUCI, **over: Any) -> dict[str, Any]:
    """A valid record of a ledger as a form gives it (text values)."""
    if ledger_key == "heating":
        rec = {"unit_code": unit, "township": "东阳镇", "village": f"东阳{n}村", "householder": f"王建国{n}",
               "id_number": id_number(unit, n), "method": "电代煤", "status": "已完工", "done_date": "2020-11-15",
               "keeps_coal_stove": "是"}
    elif ledger_key == "trucks":
        rec = {"unit_code": unit, "plate": f"晋K{n:05d}", "vin": vin(n), "emission_std": "国三",
               "vehicle_type": "重型货车", "owner": f"通达运输有限公司{n}", "method": "报废拆解",
               "eliminated_date": "2020-11-01"}
    elif ledger_key == "boilers":
        rec = {"unit_code": unit, "org_name": f"第{n}中学", "boiler_no": f"{n}#", "capacity_th": "4",
               "fuel": "燃煤", "measure": "淘汰拆除", "planned_date": "2020-10-31", "actual_date": "2020-11-20",
               "status": "已完成"}
    elif ledger_key == "kilns":
        rec = {"unit_code": unit, "enterprise": f"焦化有限公司{n}", "credit_code": uscc(unit, n), "industry": "焦化",
               "category": "工业炉窑治理", "content": f"焦炉烟气脱硫脱硝{n}", "planned_date": "2020-12-31",
               "actual_date": "2020-11-25", "status": "已完成"}
    elif ledger_key == "vocs":
        rec = {"unit_code": unit, "enterprise": f"化工有限公司{n}", "credit_code": uscc(unit, 5000 + n),
               "industry": "化工", "category": "VOCs综合治理", "planned_date": "2020-12-31",
               "actual_date": "2020-11-10", "status": "已完成"}
    elif ledger_key == "sites":
        rec = {"unit_code": unit, "project_name": f"锦绣园小区{n}期", "builder": f"锦绣房地产开发有限公司{n}",
               "contractor": "山西建工集团有限公司", "start_date": "2020-05-10", "status": "在建",
               **{k: "是" for k in ("fence", "cover", "wet_work", "paving", "washing", "sealed_transport")}}
    elif ledger_key == "problems":
        rec = {"unit_code": unit, "source": "三年行动计划", "description": f"燃煤锅炉淘汰任务未完成{n}",
               "department": "县生态环境局", "due_date": "2020-12-31", "status": "已整改", "done_date": "2020-12-10"}
    else:
        raise KeyError(ledger_key)
    rec.update(over)
    return rec


@pytest.fixture
def fast_hasher(monkeypatch):
    """argon2id with small parameters: the tests hash many passwords (the app uses the library defaults)."""
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_users(db) -> dict[str, Actor]:  # noqa: ANN001
    """An admin, a clerk of 榆次区, a clerk of 介休市 and a viewer."""
    admin = accounts.add_user(db, BUILTIN_ADMIN, "王主任", "city_admin", PASSWORDS["王主任"]).actor()
    yuci = accounts.add_user(db, admin, "李四", "county_clerk", PASSWORDS["李四"], unit="榆次区").actor()
    jiexiu = accounts.add_user(db, admin, "赵六", "county_clerk", PASSWORDS["赵六"], unit="介休市").actor()
    viewer = accounts.add_user(db, admin, "钱七", "viewer", PASSWORDS["钱七"]).actor()
    return {"admin": admin, "yuci": yuci, "jiexiu": jiexiu, "viewer": viewer}


def sql(where: Path | Database, statement: str, params: tuple = ()) -> None:
    """Change the database with plain SQL, outside the app (as someone tampering would).

    `where` is a SQLite file, or the test's `db` (a PostgreSQL database is changed over its own connection).
    """
    if _server_url(where) is None:
        con = sqlite3.connect(_file(where))
        try:
            con.execute(statement, params)
            con.commit()
        finally:
            con.close()
        return
    with _pg_connect(where) as con:
        con.execute(_pg_sql(statement), params)


def query(where: Path | Database, statement: str, params: tuple = ()) -> list[tuple]:
    if _server_url(where) is None:
        con = sqlite3.connect(_file(where))
        try:
            return con.execute(statement, params).fetchall()
        finally:
            con.close()
    with _pg_connect(where) as con:
        return [tuple(r) for r in con.execute(_pg_sql(statement), params).fetchall()]


def snapshot(where: Path | Database) -> dict[str, list[tuple]]:
    """Every row of every table: equal snapshots mean nothing was written."""
    if _server_url(where) is None:
        con = sqlite3.connect(_file(where))
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
        finally:
            con.close()
    with _pg_connect(where) as con:
        tables = [r[0] for r in con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        return {t: sorted((tuple(r) for r in con.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}


def _file(where: Path | Database) -> Path:
    return where.path if isinstance(where, Database) else Path(where)


def _server_url(where: Path | Database) -> str | None:
    if isinstance(where, Database) and where.engine.dialect.name != "sqlite":
        return where.url
    return None


def _pg_connect(db: Database):  # noqa: ANN202 - a psycopg connection, committed on leaving the block
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(db.url)
    return psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database)


def _pg_sql(statement: str) -> str:
    """SQLite's ? placeholders as psycopg's %s."""
    return statement.replace("%", "%%").replace("?", "%s")


# The smallest valid JPEG, as evidence.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
