"""Copying a whole database to another, empty one: SQLite -> PostgreSQL (moving an office onto its server) and
back (`jzair db copy --to URL`).

The target is made or migrated to this program's schema; it must hold no data of its own (no record, audit
entry, account or set-up), else nothing is copied. Every table is copied in one transaction on the target,
read from one consistent snapshot of the source; before the commit the row counts of every table are compared
with the source's, after it the target's audit chain is verified (`audit verify`) and its head compared with the
source's. Any difference: the copy is reported as failed, naming it. (A source whose own chain does not verify
is copied as it is; the copy then reports the same findings, and they are passed on to the caller.)

A copy holds every unit's personal data and the signing key: administrators only (as a backup), and the copy
is audited in the source (who, to where).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from jzair_desktop.errors import DatabaseError, JzairError
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.backup import check_may_backup
from jzair_desktop.services.database import Database, open_database
from jzair_desktop.storage import dbcopy
from jzair_desktop.storage.engine import write_session
from jzair_desktop.storage.models import LEDGER_MODELS, AuditEntry, Installation, UserAccount
from jzair_desktop.taskstate import NULL_STATE, TaskState


@dataclass
class CopyResult:
    target: str  # where to, without a password
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    records: dict[str, int] = field(default_factory=dict)  # ledger -> records copied (deleted ones included)
    audit_entries: int = 0
    head: tuple[int, str] | None = None
    # Findings of `audit verify` the source already had (copied faithfully): the caller must show them.
    inherited: list[str] = field(default_factory=list)


def display_url(url: str) -> str:
    """A database URL as it may be shown and audited: the password hidden; a SQLite file as its path."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.database or url
    return u.render_as_string(hide_password=True)


def _data_in(conn) -> list[str]:  # noqa: ANN001
    """What the target already holds (the reason it is refused), as Chinese phrases."""
    found = []
    n = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    if n:
        found.append(f"审计记录 {n:,} 条")
    records = sum(conn.execute(select(func.count()).select_from(m)).scalar_one() for m in LEDGER_MODELS.values())
    if records:
        found.append(f"台账记录 {records:,} 条")
    n = conn.execute(select(func.count()).select_from(UserAccount)).scalar_one()
    if n:
        found.append(f"用户账户 {n} 个")
    if conn.execute(select(func.count()).select_from(Installation)).scalar_one():
        found.append("本机设置")
    return found


def copy_database(source: Database, target_url: str, *, actor: Actor, state: TaskState = NULL_STATE) -> CopyResult:
    """Copy every table of `source` into the empty database at `target_url` and check the copy."""
    check_may_backup(actor)
    where = display_url(target_url)
    if make_url(target_url) == make_url(source.url) or where == display_url(source.url):
        raise JzairError("目标数据库就是当前数据库，不能复制到自身。")
    target, _ = open_database(target_url, create=True)
    try:
        return _copy(source, target, where, state)
    finally:
        target.dispose()


def _copy(source: Database, target: Database, where: str, state: TaskState) -> CopyResult:
    tables = dbcopy.tables()
    result = CopyResult(where)
    src = source.engine.connect()
    if src.dialect.name == "postgresql":  # one snapshot of the source for every table and count
        src = src.execution_options(isolation_level="REPEATABLE READ")
    try:
        with src.begin(), write_session(target.engine) as ts:
            conn = ts.connection()
            found = _data_in(conn)
            if found:
                raise JzairError(f"目标数据库 {where} 不是空的（已有{'、'.join(found)}），没有复制任何数据。"
                                 "请指定一个新建的空数据库。")
            dbcopy.empty_tables(conn, tables)  # the reference data the schema's set-up put there
            state.progress(0, len(tables), "正在复制数据库…", force=True)
            done = 0

            def progress(table: str, n: int) -> None:
                state.check_cancelled()
                state.progress(done, len(tables), f"正在复制 {table}（{n:,} 行）")

            copied: dict[str, int] = {}
            for t in tables:
                copied.update(dbcopy.copy_tables(src, conn, [t], progress=progress))
                done += 1
            expected = dbcopy.counts(src, tables)
            got = dbcopy.counts(conn, tables)
            wrong = [f"{name}：原 {expected[name]:,} 行，复制后 {got[name]:,} 行" for name in expected
                     if expected[name] != got[name] or copied[name] != expected[name]]
            if wrong:
                raise DatabaseError("复制后的行数与原数据库不一致，已撤销复制：\n" + "\n".join(wrong))
            source_head = audit.head(_Bound(src))
            state.progress(len(tables), len(tables), "正在提交…", force=True)
    finally:
        src.close()
    result.rows = copied
    result.records = {key: copied.get(model.__table__.name, 0) for key, model in LEDGER_MODELS.items()}
    result.audit_entries = copied.get(AuditEntry.__table__.name, 0)
    state.progress(0, 1, "正在校验复制后的审计链…", force=True)
    report = verify(target)
    if not report.ok:
        # The copy is faithful if the source itself reports the very same findings (then they are the
        # source's, carried over, and the caller is told); anything else is the copy's fault.
        mine = [f.message for f in report.findings]
        if [f.message for f in verify(source).findings] != mine:
            first = report.first
            raise DatabaseError(f"数据已复制到 {where}，但复制后的审计链校验未通过：{first.message if first else ''}"
                                "请不要使用该数据库，并检查原数据库（jzair audit verify）。")
        result.inherited = mine
    head = (report.head.seq, report.head.hash) if report.head is not None else (0, audit.GENESIS)
    if head != source_head:
        raise DatabaseError(f"数据已复制到 {where}，但复制后的审计链末端（第 {head[0]} 条）与原数据库"
                            f"（第 {source_head[0]} 条）不同。请不要使用该数据库。")
    result.head = head
    return result


class _Bound:
    """audit.head(session) over a plain connection (it only calls .connection())."""

    def __init__(self, conn) -> None:  # noqa: ANN001
        self._conn = conn

    def connection(self):  # noqa: ANN201
        return self._conn


def audit_copy(db: Database, actor: Actor, result: CopyResult) -> None:
    """Audit, in the source, a copy made: by whom, to where, how much."""
    records = sum(result.records.values())
    audit.record_access(db, actor, "db_copy", f"复制整个数据库到：{result.target}（台账记录 {records:,} 条，"
                                              f"审计记录 {result.audit_entries:,} 条）")
