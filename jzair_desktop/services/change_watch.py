"""Seeing other people's changes: a cheap change counter over the audit trail.

Every write appends to the audit trail (services.audit), so the newest entry's number only grows when
someone writes. A window remembers the number it has shown; `changes_since` tells which kinds of data the
entries after it touched, so only the pages showing those refresh. Reads that are audited (a login, an
export, a report) are not changes. Plain Python, no Qt: the GUI asks from a background task.
"""

from __future__ import annotations

from sqlalchemy import func, select

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.services import audit, audit_text
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import AuditEntry

# Audited actions that change no data the pages show.
READ_ACTIONS = frozenset({"login", "login_failed", "backup", "export", "report", "audit_read", "duplicate_probe"})
_FIGURES = frozenset({audit_text.SUBJECT_FIGURES, audit_text.SUBJECT_AIR, audit_text.SUBJECT_AIR_TARGETS,
                      audit_text.SUBJECT_AIR_BASIS, audit_text.SUBJECT_MILESTONES})
# More entries than this since the last look: refresh everything instead of reading them all.
MAX_ENTRIES = 5000


def change_mark(db: Database) -> int:
    """The number of the newest audit entry (0 for none): it grows with every write by anyone."""
    with read_session(db.engine) as s:
        return int(s.scalar(select(func.max(AuditEntry.seq))) or 0)


def changes_since(db: Database, mark: int, *, own_user: str | None = None) -> tuple[int, Changes]:
    """(the newest mark, what the entries after `mark` changed, flagged as others' changes). Nothing after
    `mark`: (mark, an empty Changes). `own_user`: entries of this account are left out (the window has just
    written and shown its own changes)."""
    query = (select(AuditEntry.seq, AuditEntry.action, AuditEntry.ledger)
             .where(AuditEntry.seq > mark).order_by(AuditEntry.seq).limit(MAX_ENTRIES + 1))
    newest_query = select(func.max(AuditEntry.seq)).where(AuditEntry.seq > mark)
    with read_session(db.engine) as s:
        newest = int(s.scalar(newest_query) or mark)
        if own_user is not None:
            query = query.where(AuditEntry.user_name != own_user)
        rows = s.execute(query).all()
    if len(rows) > MAX_ENTRIES:
        return newest, Changes(everything=True, others=True)
    found = Changes()
    for _seq, action, ledger in rows:
        found = found | _change_of(action, ledger)
    return newest, (found | Changes(others=True)) if found else found


def _change_of(action: str, ledger: str | None) -> Changes:
    if action in READ_ACTIONS:
        return Changes()
    if ledger in LEDGERS:
        return Changes.of(ledgers=[ledger])
    if ledger in _FIGURES:
        return Changes(figures=True)
    if ledger == audit_text.SUBJECT_TARGETS:
        return Changes(targets=True)
    if ledger == audit.SUBJECT_USER:
        return Changes(accounts=True)
    if ledger == audit_text.SUBJECT_PACKAGES:
        return Changes(packages=True)
    return Changes(everything=True)  # a submission, a package import, a restore: refresh all pages
