"""What the import fuzz tests share: running one attempt under a watchdog, judging its outcome, and the
mutations of zip files.

An attempt may end in two ways only: accepted, or refused with a JzairError subclass (a Chinese message).
Any other exception propagates and fails the test (hypothesis then shrinks the input). A refused attempt
must leave the database exactly as it was (SHA-256 of the database file and its -wal). A hang ends the
test run with the stacks of all threads (faulthandler's watchdog thread; no signals), so it cannot go
unnoticed; attempts are timed and the slowest is reported.
"""

from __future__ import annotations

import faulthandler
import hashlib
import io
import re
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jzair_desktop.errors import JzairError

HANG_SECONDS = 120  # far beyond any attempt on these small inputs: only a real hang gets there


def files_digest(db_file: Path) -> str:
    """SHA-256 over the database file and its -wal (a missing -wal and an empty one are the same: SQLite
    creates it empty when a connection opens the file)."""
    h = hashlib.sha256()
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        h.update(path.read_bytes() if path.exists() else b"")
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class FuzzStats:
    outcomes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    slowest: float = 0.0
    attempts: int = 0

    def summary(self, name: str) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common())
        why = "; ".join(f"{k} ×{v}" for k, v in self.reasons.most_common(5))
        return f"{name}: {self.attempts} attempts ({top}); slowest {self.slowest:.2f} s; top reasons: {why}"


def reason_key(message: str) -> str:
    """A refusal's message without its particulars (names, numbers), to count refusals by kind."""
    text = re.sub(r"“[^”]*”|（[^）]*）|\d[\d,]*", "…", message.splitlines()[0])
    return text[:50]


def attempt(stats: FuzzStats, db_file: Path, run: Callable[[], Any], *, on_accept: Callable[[], None] | None = None
            ) -> str:
    """Run `run()` once: 'accepted' or the JzairError's class name. Refusals must not change `db_file`."""
    before = files_digest(db_file)
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=sys.stderr)
    started = time.perf_counter()
    try:
        run()
    except JzairError as exc:
        outcome = type(exc).__name__
        message = str(exc)
        assert message.strip(), f"{outcome} without a message"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), f"message is not Chinese: {message!r}"
        assert files_digest(db_file) == before, f"refused input changed the database ({outcome}: {message})"
        stats.reasons[reason_key(message)] += 1
    else:
        outcome = "accepted"
        if on_accept is not None:
            on_accept()
    finally:
        faulthandler.cancel_dump_traceback_later()
        stats.slowest = max(stats.slowest, time.perf_counter() - started)
    stats.outcomes[outcome] += 1
    stats.attempts += 1
    return outcome


# --- zip mutations ---------------------------------------------------------------------------------


def read_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def write_members(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members:
            zf.writestr(name, body)
    return buf.getvalue()


MEMBER_OPS = ("rename", "drop", "duplicate", "add", "swap", "empty")


def mutate_members(members: list[tuple[str, bytes]], ops: list[tuple[str, int, str, bytes]]) -> None:
    """Apply (op, k, name, body) edits of MEMBER_OPS to a zip's member list, in place."""
    for op, k, name, body in ops:
        i = k % len(members) if members else 0
        if op == "rename" and members:
            members[i] = (name, members[i][1])
        elif op == "drop" and members:
            members.pop(i)
        elif op == "duplicate" and members:
            members.append(members[i])
        elif op == "add":
            members.append((name, body))
        elif op == "swap" and len(members) > 1:
            j = (k // 7) % len(members)
            members[i], members[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
        elif op == "empty" and members:
            members[i] = (members[i][0], b"")


def flip_bytes(data: bytes, edits: list[tuple[float, int]]) -> bytes:
    """Replace the byte at each relative position (0 … 1) with the given value."""
    out = bytearray(data)
    for where, value in edits:
        if out:
            out[min(int(where * len(out)), len(out) - 1)] = value
    return bytes(out)


def truncate(data: bytes, where: float) -> bytes:
    return data[: int(where * len(data))]


def insert(data: bytes, where: float, chunk: bytes) -> bytes:
    i = int(where * len(data))
    return data[:i] + chunk + data[i:]
