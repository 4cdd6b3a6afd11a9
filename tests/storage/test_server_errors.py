"""A server connection lost in the middle of a write: a Chinese message, and nothing of the write is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from jzair_desktop.errors import DatabaseError
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import SERVER_LOST_MESSAGE, read_session, write_session
from jzair_desktop.storage.models import AppMeta


def test_a_connection_lost_mid_write_gives_the_message_and_writes_nothing(pg_server, pg_url):
    db, _ = open_database(pg_url)
    try:
        with pytest.raises(DatabaseError) as info, write_session(db.engine) as s:
            s.add(AppMeta(key="half", value="写了一半"))
            s.flush()
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
            pg_server.execute(f"SELECT pg_terminate_backend({int(pid)})")  # the server drops us
            s.add(AppMeta(key="second", value="第二行"))
            s.flush()
        assert str(info.value) == SERVER_LOST_MESSAGE
        with read_session(db.engine) as s:  # a fresh connection: the pool dropped the dead one
            assert s.scalars(select(AppMeta.key).where(AppMeta.key.in_(["half", "second"]))).all() == []
    finally:
        db.dispose()
