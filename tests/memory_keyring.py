"""A credential store in memory for the tests: the real one (Windows Credential Manager, the Secret Service)
is never touched by a test, and works headless. A broken store (no backend at all) is `BrokenKeyring`."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError


class MemoryKeyring(KeyringBackend):

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not kept")


class BrokenKeyring(KeyringBackend):
    """What keyring has on a machine without any credential store: every call fails."""


    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("No recommended backend was available.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError("No recommended backend was available.")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringError("No recommended backend was available.")
