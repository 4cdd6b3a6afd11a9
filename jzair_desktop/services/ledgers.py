"""Ledger records: create, update, soft-delete, restore, list with filter/sort/paging, counts.

Every write goes through `write_records`/`_save` in one transaction, checks the actor's right to the
record's unit, and validates with domain.validation. Plain data crosses this boundary, never ORM objects.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import (
    Problem,
    check_record,
    duplicate_problem,
    fold_width,
    rule_key,
)
from jzair_desktop.errors import JzairError, NotFoundError, RecordChanged, ValidationFailed
from jzair_desktop.services import audit, installation, personal
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.guards import closeout_of, guard, is_closed, reason_detail, state_of, values_of
from jzair_desktop.storage import bulk, locks
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import LEDGER_MODELS, AuditEntry
from jzair_desktop.storage.portable import codepoint
from jzair_desktop.taskstate import TaskState

SEARCHABLE_KINDS = ("text", "idcard", "plate", "vin", "uscc", "phone")
ASCII_KINDS = ("idcard", "vin", "uscc", "phone")  # stored values hold no Chinese characters
SEARCH_MAX_CHARS = 100  # the search box says so; a longer text is refused (SQLite's LIKE has a pattern limit)


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One record as plain data: registry values plus bookkeeping."""

    id: int
    uuid: str
    values: dict[str, Any]
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    deleted_at: dt.datetime | None = None
    deleted_by: str | None = None

    @property
    def unit_code(self) -> str:
        return self.values["unit_code"]

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name


@dataclass(frozen=True, slots=True)
class SaveResult:
    uuid: str
    warnings: list[Problem]


@dataclass(frozen=True)
class RecordQuery:
    """What a ledger table shows. `filters` are equality filters on enum columns (状态, 改造方式, …)."""

    unit_code: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str = ""
    sort: str | None = None
    descending: bool = False
    deleted: bool = False  # True: the recycle bin (deleted records) instead of live ones


def model_of(d: LedgerDef):  # noqa: ANN201
    return LEDGER_MODELS[d.key]


def _row_from(model_obj: Any, d: LedgerDef) -> RecordRow:
    return RecordRow(
        id=model_obj.id,
        uuid=model_obj.uuid,
        values={k: getattr(model_obj, k) for k in d.keys},
        created_at=model_obj.created_at,
        created_by=model_obj.created_by,
        updated_at=model_obj.updated_at,
        updated_by=model_obj.updated_by,
        deleted_at=model_obj.deleted_at,
        deleted_by=model_obj.deleted_by,
    )


# --- queries ------------------------------------------------------------------------------------


def search_text(text: str) -> str:
    """The search box's text as searched (trimmed, width-folded); too long a text is refused with a message
    (a pasted page of text would make SQLite's LIKE pattern too complex)."""
    text = fold_width((text or "").strip())
    if len(text) > SEARCH_MAX_CHARS:
        raise JzairError(f"搜索内容过长（{len(text):,} 个字），最多 {SEARCH_MAX_CHARS} 个字，请缩短后重试。")
    return text


def _where(d: LedgerDef, q: RecordQuery, actor: Actor | None) -> list:
    m = model_of(d)
    conds = [m.deleted_at.is_not(None) if q.deleted else m.deleted_at.is_(None)]
    unit = q.unit_code
    if actor is not None and actor.is_county:
        unit = actor.own_unit  # a clerk sees only the own unit, whatever the screen asks
    if unit:
        conds.append(m.unit_code == unit)
    for key, value in q.filters.items():
        if value not in (None, ""):
            d.column(key)  # unknown keys raise KeyError: a programming error
            conds.append(getattr(m, key) == value)
    date_col = getattr(m, d.done_date_field)
    if q.date_from is not None:
        conds.append(date_col >= q.date_from)
    if q.date_to is not None:
        conds.append(date_col <= q.date_to)
    text = search_text(q.text)
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        # Identifiers are stored as ASCII: text with Chinese in it cannot match them, and each column
        # left out of the OR saves a LIKE over every row.
        ascii_text = text.isascii()
        unit_hits = [u.code for u in reference().units if text in u.name]
        # Personal fields: a viewer searches only what the table shows them (services.personal).
        alternatives = [personal.search_condition(actor, getattr(m, c.key), c.kind, text, pattern)
                        for c in d.columns
                        if c.kind in SEARCHABLE_KINDS and (ascii_text or c.kind not in ASCII_KINDS)]
        if unit_hits:
            alternatives.append(m.unit_code.in_(unit_hits))
        conds.append(or_(*alternatives))
    return conds


def _ordered(d: LedgerDef, stmt: Select, q: RecordQuery) -> Select:
    m = model_of(d)
    sort = q.sort if q.sort in (*d.keys, "updated_at", "created_at") else None
    if sort is None:
        return stmt.order_by(m.id.desc() if q.descending else m.id)
    col = getattr(m, sort)
    key = codepoint(col)  # the same order on SQLite and on a server whatever its collation
    primary = key.desc() if q.descending else key.asc()
    # NULLs last in both directions, then a stable tie-break.
    return stmt.order_by(col.is_(None), primary, m.id)


def query_ids(db: Database, ledger_key: str, q: RecordQuery, *, actor: Actor | None = None) -> list[int]:
    """The ids of the matching records in display order (cheap: ids only, for paged tables)."""
    d = ledger(ledger_key)
    m = model_of(d)
    stmt = _ordered(d, select(m.id).where(and_(*_where(d, q, actor))), q)
    with read_session(db.engine) as s:
        return _first_column(s, stmt)


def _first_column(s: Session, stmt: Select) -> list[Any]:
    """The first column of all rows of `stmt`, read through the DBAPI cursor.

    A ledger table asks for up to 100,000 ids at every filter change; building an ORM or Core row per
    id costs several times what the query itself does, so the compiled statement runs on the driver's
    own cursor (bind values converted by their SQL types, as SQLAlchemy would).
    """
    conn = s.connection()
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values: dict[str, Any] = {}
    for name, value in compiled.construct_params().items():
        bind = compiled.binds.get(name)
        if bind is None:  # one value of an expanded IN list: name_1 → name
            bind = compiled.binds.get(name.rsplit("_", 1)[0])
        process = bind.type.bind_processor(dialect) if bind is not None else None
        values[name] = process(value) if process is not None else value
    args: Any = [values[k] for k in compiled.positiontup or ()] if compiled.positional else values
    cursor = conn.connection.cursor()
    # 100,000 fresh row tuples would set off several full garbage collections of a large GUI process;
    # they hold plain values and cannot form cycles, so collection waits until they are gone.
    collecting = gc.isenabled()
    gc.disable()
    try:
        cursor.execute(str(compiled), args)
        return [row[0] for row in cursor.fetchall()]
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it (OperationalError, …): read_session translates
        raise DBAPIError.instance(str(compiled), args, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
        if collecting:
            gc.enable()


def count_records(db: Database, ledger_key: str, q: RecordQuery | None = None, *, actor: Actor | None = None) -> int:
    d = ledger(ledger_key)
    m = model_of(d)
    with read_session(db.engine) as s:
        return int(s.scalar(select(func.count(m.id)).where(and_(*_where(d, q or RecordQuery(), actor)))) or 0)


def _for(actor: Actor | None, d: LedgerDef, row: RecordRow) -> RecordRow:
    """The row as `actor` may see it: refused for a unit they may not read, personal fields masked."""
    if actor is None:
        return row
    return replace(row, values=personal.values_for(actor, d, row.values))


def fetch_rows(db: Database, ledger_key: str, ids: Sequence[int], *, actor: Actor | None = None) -> list[RecordRow]:
    """The records with these ids, in the order given (missing ids are left out), as `actor` may see them."""
    d = ledger(ledger_key)
    m = model_of(d)
    if not ids:
        return []
    with read_session(db.engine) as s:
        objs = {o.id: o for o in s.scalars(select(m).where(m.id.in_(list(ids))))}
        return [_for(actor, d, _row_from(objs[i], d)) for i in ids if i in objs]


def ids_of(db: Database, ledger_key: str, record_uuids: Sequence[str]) -> list[int]:
    """The ids of the records with these uuids, in the order given (missing ones left out)."""
    m = model_of(ledger(ledger_key))
    found: dict[str, int] = {}
    wanted = list(record_uuids)
    with read_session(db.engine) as s:
        for start in range(0, len(wanted), LOAD_CHUNK):
            rows = s.execute(select(m.uuid, m.id).where(m.uuid.in_(wanted[start:start + LOAD_CHUNK])))
            found.update((u, i) for u, i in rows)
    return [found[u] for u in wanted if u in found]


def list_records(
    db: Database, ledger_key: str, q: RecordQuery | None = None, *, offset: int = 0, limit: int = 100,
    actor: Actor | None = None,
) -> list[RecordRow]:
    d = ledger(ledger_key)
    m = model_of(d)
    q = q or RecordQuery()
    stmt = _ordered(d, select(m).where(and_(*_where(d, q, actor))), q).offset(offset).limit(limit)
    with read_session(db.engine) as s:
        return [_for(actor, d, _row_from(o, d)) for o in s.scalars(stmt)]


def get_record(db: Database, ledger_key: str, record_uuid: str, *, actor: Actor | None = None) -> RecordRow:
    """One record as `actor` may see it (PermissionDenied for another unit's record of a clerk)."""
    d = ledger(ledger_key)
    with read_session(db.engine) as s:
        obj = _load(s, d, record_uuid)
        return _for(actor, d, _row_from(obj, d))


def _load(s: Session, d: LedgerDef, record_uuid: str) -> Any:
    m = model_of(d)
    obj = s.scalar(select(m).where(m.uuid == record_uuid))
    if obj is None:
        raise NotFoundError(f"找不到该记录（{d.title}，编号 {record_uuid}），可能已被他人删除。")
    return obj


LOAD_CHUNK = 500  # uuids per query (well under SQLite's bound-parameter limit)


def _load_many(s: Session, d: LedgerDef, record_uuids: Sequence[str], actor: Actor) -> list[Any]:
    """The records with these uuids, in the order given, each one the actor may write (the write rules are
    checked once per unit); NotFoundError names the first missing one. A few queries, not one per record."""
    m = model_of(d)
    found: dict[str, Any] = {}
    wanted = list(dict.fromkeys(record_uuids))
    for start in range(0, len(wanted), LOAD_CHUNK):
        chunk = wanted[start:start + LOAD_CHUNK]
        found.update((o.uuid, o) for o in s.scalars(select(m).where(m.uuid.in_(chunk))))
    checked: set[str | None] = set()
    out = []
    for record_uuid in wanted:
        obj = found.get(record_uuid)
        if obj is None:
            raise NotFoundError(f"找不到该记录（{d.title}，编号 {record_uuid}），可能已被他人删除。")
        if obj.unit_code not in checked:
            installation.check_write(s, actor, obj.unit_code, unit_name=reference().unit_by_code(obj.unit_code).name)
            checked.add(obj.unit_code)
        out.append(obj)
    return out


def townships(db: Database, ledger_key: str, unit_code: str | None) -> list[str]:
    """Townships already used in a ledger (for the form's suggestions)."""
    d = ledger(ledger_key)
    if d.township_field is None:
        return []
    m = model_of(d)
    col = getattr(m, d.township_field)
    # GROUP BY rather than DISTINCT: PostgreSQL orders a DISTINCT only by what it selects
    stmt = select(col).where(m.deleted_at.is_(None)).group_by(col).order_by(codepoint(col))
    if unit_code:
        stmt = stmt.where(m.unit_code == unit_code)
    with read_session(db.engine) as s:
        return [t for t in s.scalars(stmt) if t]


# --- duplicates against the database ------------------------------------------------------------


def database_duplicates(
    s: Session, d: LedgerDef, values: Mapping[str, Any], *, exclude_uuid: str | None = None,
    actor: Actor | None = None,
) -> list[Problem]:
    """Duplicates of `values` among the live records. A duplicate in a record `actor` may not read whole
    names neither the person nor the unit (services.personal.duplicate_where)."""
    m = model_of(d)
    problems: list[Problem] = []
    for rule in d.duplicate_rules:
        key = rule_key(rule, values)
        if key is None:
            continue
        stmt = select(m.unit_code, getattr(m, d.label_field)).where(
            m.deleted_at.is_(None), *[getattr(m, f) == v for f, v in zip(rule.fields, key, strict=True)]
        )
        if exclude_uuid is not None:
            stmt = stmt.where(m.uuid != exclude_uuid)
        hit = s.execute(stmt.limit(1)).first()
        if hit is not None:
            problems.append(duplicate_problem(d, rule, personal.duplicate_where(actor, hit[0], hit[1])))
    return problems


# --- writes -------------------------------------------------------------------------------------


def _apply_actor_unit(raw: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    data = dict(raw)
    if actor.is_county and not str(data.get("unit_code") or "").strip():
        data["unit_code"] = actor.unit_code
    return data


def _validate(
    s: Session, d: LedgerDef, raw: Mapping[str, Any], actor: Actor, today: dt.date | None,
    exclude_uuid: str | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    checked = check_record(d, raw, today=today)
    problems = list(checked.problems)
    if checked.ok:
        # The permission first: the duplicate check answers questions about other records.
        unit = checked.values["unit_code"]
        installation.check_write(s, actor, unit, unit_name=reference().unit_by_code(unit).name)
        problems += database_duplicates(s, d, checked.values, exclude_uuid=exclude_uuid, actor=actor)
    else:
        actor.check_write(None)  # a viewer is refused whatever the values
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ValidationFailed("记录未保存：\n" + "\n".join(p.text() for p in errors), problems)
    return checked.values, [p for p in problems if not p.is_error]


def create_record(
    db: Database, ledger_key: str, raw: Mapping[str, Any], *, actor: Actor, today: dt.date | None = None
) -> SaveResult:
    """Validate and insert one record. Raises ValidationFailed (nothing written) on any error."""
    d = ledger(ledger_key)
    m = model_of(d)
    with write_session(db.engine) as s:
        values, warnings = _validate(s, d, _apply_actor_unit(raw, actor), actor, today)
        guard(s, d, actor).check_new(values)
        stamp = now()
        obj = m(uuid=str(uuidlib.uuid4()), created_at=stamp, created_by=actor.name,
                updated_at=stamp, updated_by=actor.name, **values)
        s.add(obj)
        s.flush()
        _audit_record(s, d, actor, "create", obj, None)
        return SaveResult(obj.uuid, warnings)


def update_record(
    db: Database, ledger_key: str, record_uuid: str, raw: Mapping[str, Any], *, actor: Actor,
    today: dt.date | None = None, reason: str | None = None, expected: RecordRow | None = None,
) -> SaveResult:
    """Validate and save changes. A closed-out (已销号) record needs a city_admin and a `reason`.

    `expected`: the record as the editor showed it. When someone else has saved the record since (another
    clerk on the shared server, another window), the save is refused (RecordChanged) instead of overwriting
    their changes; the row is locked from this check to the commit."""
    d = ledger(ledger_key)
    with write_session(db.engine) as s:
        obj = _load(s, d, record_uuid)
        if expected is not None:
            s.refresh(obj, with_for_update=True)
        if obj.deleted_at is not None:
            raise ValidationFailed("该记录已删除，请先恢复再修改。")
        if expected is not None and (obj.updated_at != expected.updated_at or values_of(d, obj) != expected.values):
            raise RecordChanged(
                f"该记录在您打开之后已被“{obj.updated_by}”修改（{obj.updated_at:%Y-%m-%d %H:%M}），本次修改没有保存，"
                "以免覆盖别人的修改。请关闭表单，在列表中查看最新内容后再修改。"
            )
        installation.check_write(s, actor, obj.unit_code, unit_name=reference().unit_by_code(obj.unit_code).name)
        values, warnings = _validate(s, d, _apply_actor_unit(raw, actor), actor, today, exclude_uuid=record_uuid)
        changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if changed:
            g = guard(s, d, actor)
            g.check_change(values_of(d, obj), values, "修改", reason=reason)
            before = state_of(s, d, obj)
            for k, v in changed.items():
                setattr(obj, k, v)
            obj.updated_at, obj.updated_by = now(), actor.name
            g.after_update(obj.uuid, before, values)
            _audit_record(s, d, actor, "update", obj, before, reason_detail(reason))
        return SaveResult(obj.uuid, warnings)


def delete_record(
    db: Database, ledger_key: str, record_uuid: str, *, actor: Actor, reason: str | None = None,
) -> None:
    """Soft delete: the record leaves every list and count, and can be restored."""
    d = ledger(ledger_key)
    with write_session(db.engine) as s:
        obj = _load(s, d, record_uuid)
        installation.check_write(s, actor, obj.unit_code, unit_name=reference().unit_by_code(obj.unit_code).name)
        if obj.deleted_at is None:
            _soft_delete(s, d, obj, actor, reason)


def restore_record(
    db: Database, ledger_key: str, record_uuid: str, *, actor: Actor, reason: str | None = None,
) -> None:
    d = ledger(ledger_key)
    with write_session(db.engine) as s:
        obj = _load(s, d, record_uuid)
        installation.check_write(s, actor, obj.unit_code, unit_name=reference().unit_by_code(obj.unit_code).name)
        if obj.deleted_at is None:
            return
        values = {k: getattr(obj, k) for k in d.keys}
        dupes = [p for p in database_duplicates(s, d, values, exclude_uuid=record_uuid, actor=actor) if p.is_error]
        if dupes:
            raise ValidationFailed("无法恢复：\n" + "\n".join(p.text() for p in dupes), dupes)
        _undelete(s, d, obj, actor, reason)


# --- audit and guards of the single-record writes (services.audit, services.guards) --------------


def _audit_record(
    s: Session, d: LedgerDef, actor: Actor, action: str, obj: Any, before: dict | None, detail: str | None = None,
) -> None:
    audit.append(s, actor, action, ledger=d.key, uuid=obj.uuid, unit_code=obj.unit_code, before=before,
                 after=state_of(s, d, obj), detail=detail)


def _soft_delete(s: Session, d: LedgerDef, obj: Any, actor: Actor, reason: str | None = None) -> None:
    guard(s, d, actor).check_change(values_of(d, obj), None, "删除", reason=reason)
    before = state_of(s, d, obj)
    obj.deleted_at, obj.deleted_by = now(), actor.name
    _audit_record(s, d, actor, "delete", obj, before, reason_detail(reason))


def _undelete(s: Session, d: LedgerDef, obj: Any, actor: Actor, reason: str | None = None) -> None:
    guard(s, d, actor).check_change(values_of(d, obj), None, "恢复", reason=reason)
    before = state_of(s, d, obj)
    obj.deleted_at, obj.deleted_by = None, None
    obj.updated_at, obj.updated_by = now(), actor.name
    _audit_record(s, d, actor, "restore", obj, before, reason_detail(reason))


def insert_many(
    s: Session, ledger_key: str, rows: Iterable[Mapping[str, Any]], *, actor: Actor, stamp: dt.datetime | None = None,
    batch: int = 5000, expected: int | None = None,
) -> int:
    """Insert already-validated rows in the caller's transaction (bulk executemany). Returns the count.

    Each row is a mapping of the registry values that may carry its own "uuid" (and bookkeeping), or a
    tuple of the registry values in column order. Every row passes the unit, month-lock and close-out
    guards and gets its audit entry. On SQLite the rows go to the driver's executemany as tuples, each
    value converted by its column type's bind processor exactly as SQLAlchemy would; on PostgreSQL they
    stream through COPY, and their audit entries are chained and written (COPY) after the last record, so
    the chain's lock (storage.locks) is held only from then to the commit; other dialects take Core
    executemany with dicts.

    `expected`: how many rows are coming, when the caller knows. A large insert into a table it will at
    least double (a county's first import of a ledger) then builds the ledger's and the audit log's plain
    indexes once afterwards instead of row by row (storage.bulk).
    """
    conn = s.connection()
    if conn.dialect.name != "sqlite":
        return _insert_rows(s, ledger_key, rows, actor=actor, stamp=stamp, batch=batch)
    tables = {model_of(ledger(ledger_key)).__table__.name: expected or 0, AuditEntry.__table__.name: expected or 0}
    with bulk.indexes_built_after(conn, tables):
        # A bulk insert touches far more index pages than SQLite's default page cache (2 MiB) holds: a larger
        # cache for this call saves re-reading them (about a quarter of the insert's time at 100,000 rows).
        (before,) = conn.exec_driver_sql("PRAGMA cache_size").one()
        kib = -before if before < 0 else before * conn.exec_driver_sql("PRAGMA page_size").scalar_one() // 1024
        if kib >= BULK_CACHE_KIB:
            return _insert_rows(s, ledger_key, rows, actor=actor, stamp=stamp, batch=batch)
        conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        try:
            return _insert_rows(s, ledger_key, rows, actor=actor, stamp=stamp, batch=batch)
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


BULK_CACHE_KIB = 64 * 1024


def _insert_rows(
    s: Session, ledger_key: str, rows: Iterable[Mapping[str, Any]], *, actor: Actor, stamp: dt.datetime | None,
    batch: int,
) -> int:
    d = ledger(ledger_key)
    table = model_of(d).__table__
    stamp = stamp or now()
    g = guard(s, d, actor)
    conn = s.connection()
    server = conn.dialect.name == "postgresql"
    fast = conn.dialect.name == "sqlite" or server
    meta = ("uuid", "created_at", "created_by", "updated_at", "updated_by", "deleted_at", "deleted_by")
    order = [*d.keys, *meta]
    sql = None
    procs: list[Any] = []
    if fast and not server:
        cols = [table.c[k] for k in order]
        prep = conn.dialect.identifier_preparer
        sql = (f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.format_column(c) for c in cols)}) "
               f"VALUES ({', '.join('?' * len(cols))})")
        procs = [(i, p, *_processed(p, stamp)) for i, c in enumerate(cols)
                 if (p := c.type._cached_bind_processor(conn.dialect)) is not None]
    keys = d.keys
    n_keys = len(keys)
    state_json = audit.state_json_maker(d)
    name = actor.name
    n = 0
    buf: list[Any] = []
    entries: list[Any] = []
    uuids = fresh_uuids()
    if server:
        # PostgreSQL: the records stream through one COPY per batch; their audit entries are chained and
        # written (one COPY) after the last record, so the chain's lock is held only for the append and the
        # commit, not while other writers wait for the whole import.
        chain: Any = None
        pending: list[tuple[Any, ...]] = []
    else:
        chain = audit.Chain(s, actor)  # one chain for the whole insert: its head is read once

    def flush() -> None:
        if server:
            bulk.copy_rows(conn, table.name, order, buf)
            pending.extend(entries)
            return
        _insert_batch(conn, table, sql if fast else None, buf)
        audit.write_rows(conn, chain.fast, entries)

    for row in rows:
        if type(row) is tuple:  # registry values in column order, nothing else: a new record
            rec = [*row[:n_keys], next(uuids), stamp, name, stamp, name, None, None]
            if len(row) != n_keys:
                raise ValueError(f"a row of {d.key} holds {n_keys} values, not {len(row)}")
            given = None
        else:
            get = row.get
            rec = [get(k) for k in keys]
            given = get("uuid")
            rec += (given or next(uuids), get("created_at") or stamp, get("created_by") or name,
                    get("updated_at") or stamp, get("updated_by") or name, get("deleted_at"), get("deleted_by"))
        record_uuid, deleted_at = rec[n_keys], rec[n_keys + 5]
        values = dict(zip(order, rec, strict=True)) if not fast else dict(zip(keys, rec, strict=False))
        unit = values["unit_code"]
        g.check_unit(unit)
        # Only a record given with its uuid may already be closed out (a new uuid has no close-out).
        closeout = closeout_of(s, d.key, given) if given is not None and is_closed(d, values) else None
        g.check_new(values, record_uuid=given if closeout is not None else None, verb="导入")
        meta = (rec[n_keys + 1], rec[n_keys + 2], rec[n_keys + 3], rec[n_keys + 4], rec[n_keys + 6])
        after = state_json(rec, deleted_at, closeout, meta)
        entries.append((record_uuid, unit, after) if server else chain.row("create", d.key, record_uuid, unit,
                                                                            None, after, None))
        if server:
            buf.append(rec)
        elif fast:
            for i, p, known, known_value in procs:
                v = rec[i]
                if v is not None:
                    rec[i] = known_value if v is known else p(v)  # the stamp: converted once
            buf.append(tuple(rec))
        else:
            buf.append(values)
        if len(buf) >= batch:
            flush()
            n += len(buf)
            buf, entries = [], []
    if buf:
        flush()
        n += len(buf)
    if server and pending:
        chain = audit.Chain(s, actor)
        key = d.key
        row = chain.row
        audit.write_rows(conn, chain.fast, [row("create", key, u, unit, None, after, None)
                                            for u, unit, after in pending])
    if n:
        audit.append(s, actor, "import", ledger=d.key, detail=f"批量新增{d.title}记录 {n} 条")
    return n


def fresh_uuids(batch: int = 4096) -> Iterator[str]:
    """Random (version 4) uuids as text, as str(uuid.uuid4()) gives them, made a batch at a time from one
    os.urandom call (bulk inserts need one per record)."""
    while True:
        h = os.urandom(16 * batch).hex()
        for i in range(0, 32 * batch, 32):
            yield (f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{_VARIANT[int(h[i + 16], 16) & 3]}"
                   f"{h[i + 17:i + 20]}-{h[i + 20:i + 32]}")


_VARIANT = "89ab"  # RFC 4122 variant bits 10xx


def _processed(process: Any, value: Any) -> tuple[Any, Any]:
    """(value, its conversion by a bind processor), or (a placeholder no value is, None) where that
    processor does not take it."""
    try:
        return value, process(value)
    except (TypeError, ValueError, AttributeError):
        return object(), None


def _insert_batch(conn: Any, table: Any, sql: str | None, buf: list[Any]) -> None:
    if sql is None:
        conn.execute(table.insert(), buf)
    else:
        conn.exec_driver_sql(sql, buf)


def update_values(
    s: Session, ledger_key: str, record_uuid: str, values: Mapping[str, Any], *, actor: Actor,
    reason: str | None = None,
) -> None:
    """Change registry values of one record in the caller's transaction (already validated).

    Checks the actor's right to the record's unit (old and new), month locks and close-out rules, and
    audits the change.
    """
    d = ledger(ledger_key)
    data = {k: values[k] for k in d.keys if k in values}
    table = model_of(d).__table__
    conn = s.connection()  # Core statements: bulk paths call this once per record
    old = conn.execute(select(table).where(table.c.uuid == record_uuid)).mappings().first()
    if old is None:
        raise NotFoundError(f"找不到该记录（{d.title}，编号 {record_uuid}），可能已被他人删除。")
    before_values = {k: old[k] for k in d.keys}
    after_values = {**before_values, **data}
    g = guard(s, d, actor)
    g.check_unit(before_values["unit_code"])
    g.check_unit(after_values["unit_code"])
    changed = any(before_values[k] != v for k, v in data.items())
    if not changed:
        return  # nothing to write: the bookkeeping columns stay as audited
    g.check_change(before_values, after_values, "修改", reason=reason)
    before = g.new_state({**old, **before_values}, record_uuid, old["deleted_at"])
    stamp = now()
    conn.execute(update(table).where(table.c.uuid == record_uuid)
                 .values(**data, updated_at=stamp, updated_by=actor.name))
    g.after_update(record_uuid, before_values, after_values)
    after = g.new_state({**old, **after_values, "updated_at": stamp, "updated_by": actor.name}, record_uuid,
                        old["deleted_at"])
    audit.append(s, actor, "update", ledger=d.key, uuid=record_uuid, unit_code=after_values["unit_code"],
                 before=before, after=after, detail=reason_detail(reason))


def lock_records(s: Session, ledger_key: str, record_uuids: Sequence[str], *, chunk: int = 5000) -> None:
    """On a server database, lock the rows a bulk write is about to change (in id order), before anything in
    the transaction appends to the audit chain: a writer then never waits for a row while holding the chain's
    lock, which another clerk's edit of that row would be waiting for (no deadlock). No-op on SQLite, whose
    write transaction holds the whole database."""
    if not record_uuids or not locks.is_server(s.connection()):
        return
    table = model_of(ledger(ledger_key)).__table__
    conn = s.connection()
    locks.lock_submissions(conn, exclusive=False)  # the order every writer keeps: month locks, rows, chain
    for i in range(0, len(record_uuids), chunk):
        part = list(record_uuids[i:i + chunk])
        conn.execute(select(table.c.id).where(table.c.uuid.in_(part)).order_by(table.c.id).with_for_update())


def write_records(db: Database) -> Any:
    """The write transaction used by bulk paths (import, demo): `with write_records(db) as s: ...`."""
    return write_session(db.engine)


# --- for the entry form and the ledger page -----------------------------------------------------


def find_duplicates(
    db: Database, ledger_key: str, values: Mapping[str, Any], *, exclude_uuid: str | None = None,
    actor: Actor | None = None,
) -> list[Problem]:
    """Duplicate problems of already-checked `values` against the live records (the form's live check);
    nothing for an actor who may not write the record's unit (a viewer, another unit's clerk)."""
    d = ledger(ledger_key)
    if actor is not None:
        try:
            actor.check_write(values.get("unit_code"))
        except JzairError:
            return []
    with read_session(db.engine) as s:
        return database_duplicates(s, d, values, exclude_uuid=exclude_uuid, actor=actor)


def delete_records(
    db: Database, ledger_key: str, record_uuids: Sequence[str], *, actor: Actor, reason: str | None = None,
    state: TaskState | None = None,
) -> int:
    """Soft-delete several records in one transaction: all of them or, on any error, none. Returns the count.

    `reason` is required (city_admin only) when one of them is closed out (已销号). `state`: progress, and a
    cancel (Cancelled) that rolls the whole delete back."""
    d = ledger(ledger_key)
    n = 0
    with write_session(db.engine) as s:
        objs = _load_many(s, d, record_uuids, actor)
        for i, obj in enumerate(objs):
            if state is not None:
                state.progress(i, len(objs), f"正在删除 {i:,} / {len(objs):,} 条…")
            if obj.deleted_at is None:
                _soft_delete(s, d, obj, actor, reason)
                n += 1
    return n


def restore_records(
    db: Database, ledger_key: str, record_uuids: Sequence[str], *, actor: Actor, reason: str | None = None,
    state: TaskState | None = None,
) -> int:
    """Restore several deleted records in one transaction (all or none). Returns the count restored.
    `state`: progress, and a cancel (Cancelled) that rolls the whole restore back."""
    d = ledger(ledger_key)
    n = 0
    with write_session(db.engine) as s:
        objs = _load_many(s, d, record_uuids, actor)
        for i, obj in enumerate(objs):
            if state is not None:
                state.progress(i, len(objs), f"正在恢复 {i:,} / {len(objs):,} 条…")
            record_uuid = obj.uuid
            if obj.deleted_at is None:
                continue
            values = {k: getattr(obj, k) for k in d.keys}
            dupes = [p for p in database_duplicates(s, d, values, exclude_uuid=record_uuid, actor=actor)
                     if p.is_error]
            if dupes:
                label = f"{d.column(d.label_field).header} {values.get(d.label_field) or ''}".strip()
                raise ValidationFailed(f"无法恢复（{label}）：\n" + "\n".join(p.text() for p in dupes), dupes)
            _undelete(s, d, obj, actor, reason)
            s.flush()  # the next record's duplicate check sees this one as live
            n += 1
    return n
