"""The audit trail: an append-only table whose entries form a hash chain.

Every entry holds who, when, what (action), which record (ledger + uuid, unit), the record's state
before and after as canonical JSON, and a free-text detail. Its `hash` is the SHA-256 of the previous
entry's hash followed by the canonical JSON of the entry's own content, so editing, deleting or
reordering entries with plain SQL breaks the chain (`verify`, in services.audit_verify).

Writers call `append` / `append_many` inside the transaction that makes the change, so the change and
its entry are committed together or not at all. On SQLite the write transaction holds the database
lock from BEGIN (storage.engine.write_session), which keeps `seq` contiguous. On PostgreSQL several writers
run at once: making a `Chain` (every append does) takes the chain's advisory lock (storage.locks.lock_chain)
before reading the head, held until the transaction commits or rolls back, so appends are serialized and
the chain stays one unbroken line; bulk appends are written with COPY.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode_str
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LedgerDef
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.storage import bulk, locks
from jzair_desktop.storage.models import LEDGER_MODELS, AppMeta, AuditEntry, Installation, UserAccount

GENESIS = "0" * 64

# action code -> what the user reads
ACTIONS: dict[str, str] = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "restore": "恢复",
    "import": "导入",
    "baseline": "初始登记",
    "closeout": "销号",
    "evidence": "上传佐证材料",
    "submit": "月度上报",
    "unlock": "解锁月份",
    "login": "登录",
    "login_failed": "登录失败",
    "lockout": "账户锁定",
    "user_add": "新增用户",
    "user_passwd": "修改密码",
    "user_disable": "停用用户",
    "user_enable": "启用用户",
    "package_export": "导出报送包",
    "package_import": "导入报送包",
    "package_pin": "绑定报送包公钥",
    "db_restore": "从备份恢复数据库",
    "db_copy": "复制数据库",
    "duplicate_probe": "导入核对触及其他单位记录",
    "rebaseline": "重新登记审计起点",
    "chain_fork": "接受审计链分叉",
    "setup": "设置本机",
    "backup": "备份数据库",
    "export": "导出台账",
    "report": "生成月报",
    "audit_read": "查看审计记录",
}

# Actions whose `after` is the full state of a ledger record (what `verify` compares with the table).
RECORD_STATE_ACTIONS = frozenset({"create", "update", "delete", "restore", "baseline", "closeout"})

# Subjects that are not ledger records (the `ledger` column of their entries).
SUBJECT_USER = "users"
SUBJECT_SUBMISSION = "submissions"

# Extra keys of a record's audited state besides the registry columns.
STATE_DELETED = "deleted_at"
STATE_REVIEWER = "closeout_reviewer"
STATE_CLOSED_BY = "closeout_by"
# The bookkeeping columns of a record, part of its audited state (entries written before they were added
# lack them; `verify` then skips those keys).
BOOKKEEPING = ("created_at", "created_by", "updated_at", "updated_by", "deleted_by")
STATE_LABELS = {STATE_DELETED: "删除时间", STATE_REVIEWER: "销号审核人", STATE_CLOSED_BY: "销号操作人",
                "created_at": "创建时间", "created_by": "创建人", "updated_at": "修改时间", "updated_by": "修改人",
                "deleted_by": "删除人"}


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)


# --- canonical JSON and hashing -----------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text as is, dates ISO 8601, floats by repr (shortest round-trip)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)


def format_at(at: dt.datetime) -> str:
    return at.isoformat(sep=" ", timespec="microseconds")


def _netstring(text: str | None) -> str:
    return "-" if text is None else f"{len(text)}:{text}"


def hash_content(
    seq: int, at: dt.datetime, user_name: str, role: str, action: str, ledger: str | None, record_uuid: str | None,
    unit_code: str | None, before_json: str | None, after_json: str | None, detail: str | None,
) -> str:
    """The text an entry's hash covers: its fields as a JSON list, then before and after as netstrings
    (length-prefixed, so the two JSON texts need no second escaping and cannot be shifted between)."""
    head = json.dumps([seq, format_at(at), user_name, role, action, ledger, record_uuid, unit_code, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return head + _netstring(before_json) + _netstring(after_json)


def entry_hash(
    prev_hash: str, seq: int, at: dt.datetime, user_name: str, role: str, action: str, ledger: str | None,
    record_uuid: str | None, unit_code: str | None, before_json: str | None, after_json: str | None,
    detail: str | None,
) -> str:
    """SHA-256 (hex) of the previous entry's hash followed by this entry's content."""
    content = hash_content(seq, at, user_name, role, action, ledger, record_uuid, unit_code, before_json,
                           after_json, detail)
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


# --- the state of a ledger record ---------------------------------------------------------------


def _date_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


_NORMALISE = {"date": _date_text, "float": float, "int": int}


def _columns(d: LedgerDef) -> tuple[tuple[str, Any], ...]:
    cols = _STATE_COLUMNS.get(d.key)
    if cols is None:
        cols = _STATE_COLUMNS[d.key] = tuple((c.key, _NORMALISE.get(c.kind)) for c in d.columns)
    return cols


_STATE_COLUMNS: dict[str, tuple[tuple[str, Any], ...]] = {}


def stamp_text(value: Any) -> Any:
    """A bookkeeping value as it is audited: date-times as ISO text, everything else as is."""
    return value.isoformat() if isinstance(value, dt.datetime) else value


def row_bookkeeping(row: Any | None) -> dict[str, Any]:
    """Who last changed a monthly figure, air-quality month or county target, and when, as audited."""
    if row is None:
        return {}
    return {"updated_at": stamp_text(row.updated_at), "updated_by": row.updated_by}


def record_state(
    d: LedgerDef, values: Mapping[str, Any] | Any, *, deleted_at: dt.datetime | None = None,
    closeout: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The audited state of a record: its registry values (typed as stored), bookkeeping (who and when
    created, last changed and deleted it), deletion and close-out.

    `values` is a mapping (bookkeeping keys missing from it are None) or an ORM object. `closeout` is
    (reviewer, closed_by) of its 销号, if any. Dates become ISO text, float columns floats and int
    columns ints, so a value reads back equal.
    """
    get = values.get if isinstance(values, Mapping) else lambda k: getattr(values, k, None)
    state = {}
    for key, norm in _columns(d):
        v = get(key)
        state[key] = v if v is None or norm is None else norm(v)
    for key in BOOKKEEPING:
        state[key] = stamp_text(get(key))
    state[STATE_DELETED] = deleted_at.isoformat() if deleted_at is not None else None
    state[STATE_REVIEWER] = closeout[0] if closeout else None
    state[STATE_CLOSED_BY] = closeout[1] if closeout else None
    return state


# The canonical JSON encoder without sorting: callers that build dicts with their keys already sorted
# get the same text as canonical_json (which sorts) for less work.
_PRESORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def state_json_maker(d: LedgerDef) -> Any:
    """A function (registry values in column order, deleted_at, closeout, bookkeeping values in the order
    of BOOKKEEPING) -> the canonical JSON of
    `record_state` of those values: the same text `canonical_json(record_state(...))` gives, built with
    the key order worked out once (bulk paths call it per record)."""
    cols = _columns(d)
    names = [k for k, _ in cols] + list(BOOKKEEPING) + [STATE_DELETED, STATE_REVIEWER, STATE_CLOSED_BY]
    order = sorted(range(len(names)), key=names.__getitem__)
    sorted_names = [names[i] for i in order]
    norms = [(i, norm) for i, (_, norm) in enumerate(cols) if norm is not None]
    n = len(cols)
    encode = _PRESORTED.encode

    def state_json(values: Sequence[Any], deleted_at: dt.datetime | str | None = None,
                   closeout: tuple[str, str] | None = None, meta: Sequence[Any] = (None,) * 5) -> str:
        vals = list(values[:n])
        for i, norm in norms:
            v = vals[i]
            if v is not None:
                vals[i] = norm(v)
        vals += [stamp_text(v) for v in meta]
        vals.append(deleted_at if deleted_at is None or type(deleted_at) is str else deleted_at.isoformat())
        vals += closeout if closeout else (None, None)
        return encode(dict(zip(sorted_names, [vals[i] for i in order], strict=True)))

    return state_json


# --- who may write ------------------------------------------------------------------------------


def accounts_exist(session: Session) -> bool:
    return session.scalar(select(UserAccount.id).limit(1)) is not None


def check_actor(session: Session, actor: Actor) -> None:
    """Once accounts exist, only an active account (with its current role) may change data.

    The answer is remembered for the rest of the transaction (bulk paths call this per batch).
    """
    key = ("jzair_actor_ok", actor)
    if session.info.get(key):
        return
    _check_actor(session, actor)
    session.info[key] = True


def _is_set_up(session: Session) -> bool:
    try:
        return session.get(Installation, 1) is not None
    except OperationalError:  # a database of an older schema (opened for a backup without upgrading)
        return False


def _check_actor(session: Session, actor: Actor) -> None:
    if not accounts_exist(session):
        # Never set up: the built-in administrator acts. Once set up there is no built-in administrator.
        if _is_set_up(session):
            raise PermissionDenied("本机已经设置，没有内置的系统管理员：请先以账户登录。")
        return
    if actor == BUILTIN_ADMIN:
        raise PermissionDenied("本数据库已启用用户账户，请先以账户登录后再修改数据。")
    user = session.scalar(select(UserAccount).where(UserAccount.name == actor.name))
    if user is None:
        raise PermissionDenied(f"用户“{actor.name}”不存在，不能修改数据。")
    if user.disabled:
        raise PermissionDenied(f"用户“{actor.name}”已被停用，不能修改数据。")
    if user.role != actor.role or (user.unit_code or None) != (actor.unit_code or None):
        raise PermissionDenied(f"用户“{actor.name}”的角色已被更改，请重新登录。")


# --- appending ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """One entry to append (what `append_many` takes)."""

    ledger: str | None = None
    uuid: str | None = None
    unit_code: str | None = None
    before: Any = None
    after: Any = None
    detail: str | None = None
    action: str | None = None  # None: the action given to append_many


_T = AuditEntry.__table__.c
_HEAD = select(_T.seq, _T.hash).order_by(_T.seq.desc()).limit(1)


def head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the newest entry, or (0, GENESIS)."""
    row = session.connection().execute(_HEAD).first()
    return (row[0], row[1]) if row is not None else (0, GENESIS)


def now() -> dt.datetime:
    return dt.datetime.now()


def _as_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value  # already canonical JSON
    return canonical_json(value)


def append_many(
    session: Session, actor: Actor, action: str, entries: Iterable[Pending], *, at: dt.datetime | None = None,
    verify_actor: bool = True, batch: int = 5000,
) -> int:
    """Append entries in order, chained, with executemany. Returns how many were written."""
    rows = ((e.action or action, e.ledger, e.uuid, e.unit_code, _as_json(e.before), _as_json(e.after), e.detail)
            for e in entries)
    return _append(session, actor, rows, at=at, verify_actor=verify_actor, batch=batch)[0]


def _json_text(value: Any) -> str:
    """One element of the content's JSON list, as json.dumps(ensure_ascii=False) writes it."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


START_KEY = "audit_started"  # app_meta: set with the first entry, never removed by the app


def _mark_started(conn: Any, at: dt.datetime) -> None:
    """The start marker, written with the chain's first entry: a chain with entries but no marker had
    it deleted from outside (`verify` reports it; nothing re-baselines silently)."""
    meta = AppMeta.__table__
    if conn.execute(select(meta.c.key).where(meta.c.key == START_KEY)).first() is None:
        conn.execute(insert(meta).values(key=START_KEY, value=at.isoformat(timespec="seconds")))


class Chain:
    """Builds audit rows chained to the newest entry (each row's hash covers the previous hash), without
    writing them: the caller writes the rows in order, in this transaction (`write_rows`).

    Reads the chain's head (and checks the actor) when made, so it must be made before anything else is
    written to the log in the transaction."""

    def __init__(self, session: Session, actor: Actor, *, at: dt.datetime | None = None,
                 verify_actor: bool = True) -> None:
        if verify_actor:
            check_actor(session, actor)
        self.at = at or now()
        conn = session.connection()
        locks.lock_chain(conn)  # PostgreSQL: one appender at a time, until this transaction ends
        self.seq, self.prev = head(session)
        if self.seq == 0:
            _mark_started(conn, self.at)
        # On SQLite and PostgreSQL the rows are tuples in column order (on SQLite values converted by the
        # column types' bind processors, as SQLAlchemy would; PostgreSQL's COPY takes them as they are);
        # elsewhere dicts for Core executemany.
        self.fast = conn.dialect.name in ("sqlite", "postgresql")
        self._at_value: Any = self.at
        if conn.dialect.name == "sqlite":
            process = _T.at.type._cached_bind_processor(conn.dialect)
            self._at_value = process(self.at) if process is not None else self.at
        self.user, self.role = actor.name, actor.role
        # The part of the hashed content that is the same for every entry: hash_content's text, built
        # from pieces (json.dumps of the list, element by element).
        self._fixed = f",{_json_text(format_at(self.at))},{_json_text(self.user)},{_json_text(self.role)},"

    def row(self, act: str, ledger: str | None, record_uuid: str | None, unit_code: str | None,
            before: str | None, after: str | None, detail: str | None) -> Any:
        """The next entry (before/after as canonical JSON text) as a row to write."""
        self.seq = seq = self.seq + 1
        jt = _json_text
        content = (
            f"[{int(seq)}{self._fixed}{jt(act)},{jt(ledger)},{jt(record_uuid)},{jt(unit_code)},{jt(detail)}]"
            + ("-" if before is None else f"{len(before)}:{before}")
            + ("-" if after is None else f"{len(after)}:{after}")
        )
        prev = self.prev
        self.prev = digest = hashlib.sha256((prev + content).encode("utf-8")).hexdigest()
        if self.fast:
            return (seq, self._at_value, self.user, self.role, act, ledger, record_uuid, unit_code, before, after,
                    detail, prev, digest)
        return {
            "seq": seq, "at": self.at, "user_name": self.user, "role": self.role, "action": act,
            "ledger": ledger, "record_uuid": record_uuid, "unit_code": unit_code,
            "before_json": before, "after_json": after, "detail": detail,
            "prev_hash": prev, "hash": digest,
        }


def _append(
    session: Session, actor: Actor, rows: Iterable[tuple], *, at: dt.datetime | None, verify_actor: bool,
    batch: int = 5000,
) -> tuple[int, int]:
    """(count written, seq of the last entry). `rows`: (action, ledger, record uuid, unit_code, before JSON,
    after JSON, detail) per entry."""
    chain = Chain(session, actor, at=at, verify_actor=verify_actor)
    conn = session.connection()
    buf: list[Any] = []
    n = 0
    for entry in rows:
        buf.append(chain.row(*entry))
        if len(buf) >= batch:
            write_rows(conn, chain.fast, buf)
            n += len(buf)
            buf = []
    if buf:
        write_rows(conn, chain.fast, buf)
        n += len(buf)
    return n, chain.seq


_COLUMN_ORDER = ("seq", "at", "user_name", "role", "action", "ledger", "record_uuid", "unit_code", "before_json",
                 "after_json", "detail", "prev_hash", "hash")


def _insert_sql(conn: Any) -> str:
    """The driver-level INSERT of Chain.row tuples (SQLite)."""
    prep = conn.dialect.identifier_preparer
    return (f"INSERT INTO {prep.format_table(AuditEntry.__table__)} "
            f"({', '.join(prep.format_column(_T[c]) for c in _COLUMN_ORDER)}) "
            f"VALUES ({', '.join('?' * len(_COLUMN_ORDER))})")


def write_rows(conn: Any, fast: bool, buf: list[Any]) -> None:
    """Write rows made by Chain.row, in order."""
    if not fast:
        conn.execute(_INSERT, buf)
        return
    if locks.is_server(conn):
        bulk.copy_rows(conn, AuditEntry.__tablename__, _COLUMN_ORDER, buf)
        return
    conn.exec_driver_sql(_insert_sql(conn), buf)


_INSERT = insert(AuditEntry.__table__)


def append(
    session: Session, actor: Actor, action: str, *, ledger: str | None = None, uuid: str | None = None,
    unit_code: str | None = None, before: Any = None, after: Any = None, detail: str | None = None,
    at: dt.datetime | None = None, verify_actor: bool = True,
) -> int:
    """Append one entry in the caller's transaction; returns its seq."""
    rows = [(action, ledger, uuid, unit_code, _as_json(before), _as_json(after), detail)]
    return _append(session, actor, rows, at=at, verify_actor=verify_actor)[1]


def record_access(db: Any, actor: Actor, action: str, detail: str, *, unit_code: str | None = None,
                  subject: str | None = None, uuid: str | None = None) -> int:
    """Audit a read of personal data or secrets (a backup, an export, a report, reading the audit log): who,
    what and where to. Its own small transaction; the actor is checked like any writer. A database never set up
    and without accounts (the built-in administrator, as before set-up) records nothing; returns 0 then."""
    from jzair_desktop.storage.engine import write_session

    with write_session(db.engine) as s:
        if actor == BUILTIN_ADMIN and not accounts_exist(s) and not _is_set_up(s):
            return 0
        return append(s, actor, action, ledger=subject, uuid=uuid, unit_code=unit_code, detail=detail)


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: dt.datetime
    user_name: str
    role: str
    action: str
    ledger: str | None
    record_uuid: str | None
    unit_code: str | None
    before: dict | list | None
    after: dict | list | None
    detail: str | None
    hash: str

    @property
    def action_label(self) -> str:
        return action_label(self.action)


def _row(e: Any) -> AuditRow:
    return AuditRow(
        seq=e.seq, at=e.at, user_name=e.user_name, role=e.role, action=e.action, ledger=e.ledger,
        record_uuid=e.record_uuid, unit_code=e.unit_code,
        before=json.loads(e.before_json) if e.before_json else None,
        after=json.loads(e.after_json) if e.after_json else None,
        detail=e.detail, hash=e.hash,
    )


@dataclass(frozen=True)
class AuditQuery:
    record_uuid: str | None = None
    user_name: str | None = None
    action: str | None = None
    ledger: str | None = None
    unit_code: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


def query_log(db: Any, q: AuditQuery | None = None, *, limit: int | None = 1000, newest_first: bool = True,
              actor: Actor | None = None) -> list[AuditRow]:
    """Entries matching `q`. A county clerk sees only entries of the own unit and the own actions."""
    from jzair_desktop.storage.engine import read_session

    q = q or AuditQuery()
    conds = []
    if q.record_uuid:
        conds.append(AuditEntry.record_uuid == q.record_uuid.strip())
    if q.user_name:
        conds.append(AuditEntry.user_name == q.user_name.strip())
    if q.action:
        conds.append(AuditEntry.action == q.action)
    if q.ledger:
        conds.append(AuditEntry.ledger == q.ledger)
    if q.unit_code:
        conds.append(AuditEntry.unit_code == q.unit_code)
    if q.since is not None:
        conds.append(AuditEntry.at >= dt.datetime.combine(q.since, dt.time()))
    if q.until is not None:
        conds.append(AuditEntry.at < dt.datetime.combine(q.until + dt.timedelta(days=1), dt.time()))
    if actor is not None and actor.role == "county_clerk":
        conds.append((AuditEntry.unit_code == actor.unit_code) | (AuditEntry.user_name == actor.name))
    stmt = select(AuditEntry).where(*conds)
    stmt = stmt.order_by(AuditEntry.seq.desc() if newest_first else AuditEntry.seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    with read_session(db.engine) as s:
        return [_row_for(actor, e) for e in s.scalars(stmt)]


def _row_for(actor: Actor | None, e: AuditEntry) -> AuditRow:
    """An entry as `actor` may see it: personal fields of states masked unless they may read them whole."""
    from dataclasses import replace

    from jzair_desktop.services import personal

    row = _row(e)
    if personal.may_read_whole(actor, row.unit_code):
        return row
    return replace(row, before=personal.state_for(actor, row.before, row.unit_code),
                   after=personal.state_for(actor, row.after, row.unit_code))


def record_history(db: Any, ledger_key: str, record_uuid: str, *, actor: Actor | None = None) -> list[AuditRow]:
    """Every entry about one record, oldest first (its creation, changes, evidence, close-out), as `actor`
    may see them: refused for a record of a unit they may not read; personal fields masked for a viewer."""
    from jzair_desktop.services import personal
    from jzair_desktop.storage.engine import read_session

    stmt = (
        select(AuditEntry)
        .where(AuditEntry.record_uuid == record_uuid, AuditEntry.ledger == ledger_key)
        .order_by(AuditEntry.seq)
    )
    with read_session(db.engine) as s:
        entries = list(s.scalars(stmt))
        if actor is not None and entries:
            model = LEDGER_MODELS.get(ledger_key)
            unit = s.scalar(select(model.unit_code).where(model.uuid == record_uuid)) if model is not None else None
            personal.check_read(actor, unit or entries[-1].unit_code)
        return [_row_for(actor, e) for e in entries]


def user_names(db: Any) -> list[str]:
    """Everyone who appears in the audit trail (for filters)."""
    from jzair_desktop.storage.engine import read_session

    with read_session(db.engine) as s:
        return list(s.scalars(select(AuditEntry.user_name).distinct().order_by(AuditEntry.user_name)))


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Keys whose value differs between two states (both may be None); bookkeeping (who changed it
    when) is not a change of its own."""
    b, a = before or {}, after or {}
    keys: Sequence[str] = list(dict.fromkeys([*b.keys(), *a.keys()]))
    return [k for k in keys if b.get(k) != a.get(k) and k not in _BOOKKEEPING_KEYS]


_BOOKKEEPING_KEYS = frozenset(BOOKKEEPING)


def diff_keys(ledger_key: str | None, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
              ) -> list[tuple[str, bool]]:
    """The keys to show for an entry as (key, changed): changed ones first, then the others in the ledger's
    column order; keys empty on both sides are left out."""
    from jzair_desktop.domain.ledgers import LEDGERS

    b, a = before or {}, after or {}
    d = LEDGERS.get(ledger_key or "")
    order = {k: i for i, k in enumerate(d.keys)} if d is not None else {}
    keys = sorted(dict.fromkeys([*a.keys(), *b.keys()]), key=lambda k: order.get(k, len(order)))
    rows = [(k, bool(b) and b.get(k) != a.get(k) and k not in _BOOKKEEPING_KEYS) for k in keys
            if b.get(k) not in (None, "") or
            a.get(k) not in (None, "")]
    return sorted(rows, key=lambda r: not r[1])


# --- what the user reads ------------------------------------------------------------------------

SUBJECT_FIELDS: dict[str, dict[str, str]] = {
    SUBJECT_SUBMISSION: {
        "unit_code": "县（区、市）", "month": "月份", "version": "版本", "status": "状态", "submitted_at": "上报时间",
        "submitted_by": "上报人", "figures": "冻结的进度数字", "unlocked_at": "解锁时间", "unlocked_by": "解锁人",
        "unlock_reason": "解锁原因",
    },
    SUBJECT_USER: {"name": "用户名", "role": "角色", "unit_code": "县（区、市）", "disabled": "已停用",
                   "password": "密码（校验值）"},
}
EVIDENCE_FIELDS = {
    "id": "编号", "ledger": "台账", "record_uuid": "记录编号", "file_name": "文件名", "mime": "类型",
    "size": "大小（字节）", "sha256": "SHA-256", "uploaded_at": "上传时间", "uploaded_by": "上传人",
}
SUBMISSION_STATUS = {"submitted": "已上报", "unlocked": "已解锁"}


def field_label(ledger: str | None, action: str, key: str) -> str:
    """The Chinese name of a key of an entry's before/after state."""
    from jzair_desktop.domain.ledgers import LEDGERS

    if action == "evidence":
        return EVIDENCE_FIELDS.get(key, key)
    if ledger in SUBJECT_FIELDS:
        return SUBJECT_FIELDS[ledger].get(key, key)
    d = LEDGERS.get(ledger or "")
    if d is not None:
        try:
            return d.column(key).header
        except KeyError:
            pass
    return STATE_LABELS.get(key, key)


def display_value(ledger: str | None, key: str, value: Any, *, mask_personal: bool = False) -> str:
    """A state value as the user reads it (unit names, Chinese roles and states, 是/否, ISO times spaced)."""
    from jzair_desktop.domain.reference import reference
    from jzair_desktop.services.actor import ROLES

    if value is None:
        return ""
    if key == "unit_code":
        unit = reference().find_unit(str(value))
        return unit.name if unit else str(value)
    if key in ("id_number", "phone") and mask_personal:
        from jzair_desktop.services.personal import mask

        return str(mask(key, value))
    if ledger == SUBJECT_SUBMISSION and key == "status":
        return SUBMISSION_STATUS.get(value, str(value))
    if ledger == SUBJECT_USER and key == "role":
        return ROLES.get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "figures" and isinstance(value, dict):
        return f"{len(value.get('indicators', []))} 项指标（截至 {value.get('as_of', '')}）"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return canonical_json(value)[:200]
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":  # an ISO date-time
        return text.replace("T", " ")
    return text
