"""Errors that carry a message for the user (Chinese) and, where known, what they concern."""

from __future__ import annotations


class JzairError(Exception):
    """An error the user can act on. `str(err)` is the Chinese message shown to the user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DatabaseError(JzairError):
    """The database file is missing, unreadable, not a database, or from a newer version."""


class DatabaseBusyError(JzairError):
    """Another program holds the write lock for longer than the busy timeout."""


class ServerUnavailable(DatabaseError):
    """The database server cannot be reached, or the connection to it was lost: nothing was written, and the
    same operation may be tried again (重试) once the network or the server is back."""


class ServerBusy(DatabaseBusyError):
    """The database server gave up waiting for another clerk's lock (or ended a deadlock): nothing was written,
    and the same operation may be tried again (重试)."""


class QueryTooComplex(JzairError):
    """A query beyond SQLite's limits (e.g. a pasted page of search text): nothing read or written."""


class NotFoundError(JzairError):
    pass


class RecordChanged(JzairError):
    """Someone else saved the record after it was opened for editing: the edit is refused, nothing overwritten."""


class PermissionDenied(JzairError):
    pass


class ValidationFailed(JzairError):
    """A record (or a file of records) did not pass validation; `problems` lists why."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])
