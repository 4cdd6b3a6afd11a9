"""Demo close-outs (销号) with small evidence photos."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

from jzair_desktop.demo.common import LAST_DAY, person_name
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.guards import CLOSED
from jzair_desktop.storage.models import (
    Closeout,
    EvidenceFile,
)


def _png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A small RGB PNG (standard library only)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _site_photo(rng: random.Random) -> bytes:
    """A stand-in for a site photo: sky, a building block and the ground, in varying tones."""
    sky = (rng.randint(150, 200), rng.randint(180, 215), rng.randint(220, 245))
    wall = (rng.randint(120, 190),) * 3
    ground = (rng.randint(110, 150), rng.randint(100, 130), rng.randint(80, 100))
    left, right, top, horizon = rng.randint(20, 60), rng.randint(100, 150), rng.randint(30, 60), 90

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y >= horizon:
            return ground
        if left <= x <= right and y >= top:
            return wall
        return sky

    return _png(160, 120, pixel)


def add_closeouts(s: Any, ledger_key: str, rows: list[dict[str, Any]], actor: Actor, rng: random.Random) -> None:
    """Records of status 已销号 carry their close-out: a reviewer, a site photo as evidence (as
    services.closeout stores them) and the audit entries of the uploads, in the caller's transaction."""
    closed = [r for r in rows if r.get("status") == CLOSED]
    if not closed:
        return
    from jzair_desktop.services.closeout import evidence_state

    files: list[tuple[dict[str, Any], EvidenceFile]] = []
    for row in closed:
        closed_at = row["created_at"] + dt.timedelta(days=rng.randint(3, 20), minutes=rng.randint(0, 240))
        closed_at = min(closed_at, dt.datetime.combine(LAST_DAY, dt.time(17, 30)))
        data = _site_photo(rng)
        digest = hashlib.sha256(data).hexdigest()
        evidence = EvidenceFile(ledger=ledger_key, record_uuid=row["uuid"], file_name="现场核查照片.png",
                                mime="image/png", size=len(data), sha256=digest, data=data,
                                uploaded_at=closed_at, uploaded_by=actor.name)
        s.add(evidence)
        s.add(Closeout(ledger=ledger_key, record_uuid=row["uuid"], reviewer=person_name(rng, male=rng.random() < 0.7),
                       closed_at=closed_at, closed_by=actor.name))
        row["updated_at"] = closed_at
        files.append((row, evidence))
    s.flush()  # evidence ids, which their audited state names
    pending = [
        audit.Pending(ledger_key, row["uuid"], row["unit_code"], None, evidence_state(ev),
                      f"{ev.file_name}（{ev.size} 字节，SHA-256 {ev.sha256[:12]}…）", "evidence")
        for row, ev in files
    ]
    audit.append_many(s, actor, "evidence", pending)


