"""The throw-away PostgreSQL server itself: fresh databases are separate, a wrong password is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError


def test_fresh_databases_are_separate(pg_server, pg_url):
    other = pg_server.create_database()
    try:
        engine = create_engine(pg_server.url(other))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE only_here (x int)"))
        engine.dispose()
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        engine.dispose()
        assert "only_here" not in tables
        assert "alembic_version" in tables
    finally:
        pg_server.drop_database(other)


def test_wrong_password_is_refused(pg_server, pg_empty_url):
    engine = create_engine(pg_empty_url.replace(pg_server.password, "wrong-" + pg_server.password))
    with pytest.raises(OperationalError, match="password authentication failed"):
        engine.connect()
    engine.dispose()
