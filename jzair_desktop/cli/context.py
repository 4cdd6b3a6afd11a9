"""What every command needs: the database it works on and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, field

from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import Database, open_database, resolve_url


@dataclass
class CliContext:
    db_path: str | None = None
    db_url: str | None = None
    user: str | None = None
    _db: Database | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return resolve_url(db_path=self.db_path, db_url=self.db_url)

    def open(self, *, create: bool = False) -> Database:
        if self._db is None:
            self._db, _ = open_database(self.url, create=create)
        return self._db

    def actor(self) -> Actor:
        """The acting user. Accounts come later; until then the built-in administrator."""
        return BUILTIN_ADMIN

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None
