"""Excel use cases: the blank template, importing a county's ledger workbook, exporting a ledger.

Qt-free; long jobs take a TaskState (progress and cancel) and may run on any thread.

Import, in steps the GUI wizard runs one by one (the CLI runs them in a row):
  1. `read_import_file` — read the file and find the ledger (exchange.excel_import); raises ExcelFileError.
  2. `check_import` — validate every row, duplicates within the file and against the database, and match
     rows to existing records by the ledger's natural keys (the fields of LedgerDef.duplicate_rules): a matching row
     updates the record when something changed, is left alone otherwise; any other row is new.
     Columns the file does not have are neither compared nor changed on existing records.
  3. `apply_import` — in ONE write transaction: check permission, match again (the database may have
     changed since step 2), then write through services.ledgers.insert_many / update_values (which
     audit and guard every change). Any error or a cancel rolls everything back.
`import_ledger` runs all three for the CLI (dry_run stops after step 2); on errors it writes the error
workbook `<name>.错误.xlsx` beside the input and raises ImportRejected.

Export: the live records (own unit for a county clerk) in the template's layout. 身份证号 is written in
full for users who may see personal data (city admin, county clerk: their export must import back with
zero changes) and masked (140702********1234) for read-only users.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import ERROR, duplicate_problem
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.exchange.excel_import import (
    CheckedRow,
    ExcelFileError,
    RowProblem,
    SheetData,
    check_rows,
    error_workbook_path,
    picker,
    read_ledger_sheet,
    write_error_workbook,
)
from jzair_desktop.exchange.excel_template import write_rows, write_template
from jzair_desktop.services import audit, guards, installation, personal
from jzair_desktop.services import scope as read_scope
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.ledgers import insert_many, lock_records, model_of, update_values, write_records
from jzair_desktop.storage.engine import read_session
from jzair_desktop.taskstate import NULL_STATE, TaskState

__all__ = [
    "ExcelFileError", "ExportResult", "ImportPlan", "ImportRejected", "ImportReport", "apply_import",
    "check_import", "export_ledger", "import_ledger", "read_import_file", "save_template", "write_error_file",
]

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


class ImportRejected(ValidationFailed):
    """The file has errors; nothing was written. `report` holds every problem and the counts."""

    exit_code = 1

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, list(report.errors))
        self.report = report


# --- plain data ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannedRow:
    row: int  # Excel row number
    values: tuple[Any, ...]  # registry values in column order
    action: str  # new / changed / unchanged
    uuid: str | None = None  # the matched record
    changes: dict[str, Any] = field(default_factory=dict)  # changed fields -> new value
    before: dict[str, Any] | None = None  # the matched record's values


@dataclass
class ImportReport:
    """What an import found (and did). Plain data for the CLI and the GUI."""

    ledger_key: str
    path: Path
    sheet_name: str
    header_row: int
    unit_code: str
    total_rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    warned: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error_file: Path | None = None
    error_file_problem: str | None = None
    written: bool = False
    dry_run: bool = False

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[RowProblem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name

    def summary(self) -> str:
        text = (
            f"新增 {self.new:,} 条，修改 {self.changed:,} 条，未变 {self.unchanged:,} 条，"
            f"跳过 {self.skipped:,} 行，有提示 {self.warned:,} 条"
        )
        if self.errors:
            rows = len({p.row for p in self.errors})
            text += f"，有错误 {rows:,} 行（{len(self.errors):,} 处）"
        return text


@dataclass
class ImportPlan:
    """A checked file, ready to write (when it has no errors)."""

    data: SheetData
    report: ImportReport
    rows: list[CheckedRow]
    planned: list[PlannedRow]
    today: dt.date

    @property
    def ledger(self) -> LedgerDef:
        return ledger(self.data.ledger_key)


# --- template and export -----------------------------------------------------------------------------


def save_template(ledger_key: str, dest: Path | str, *, actor: Actor | None = None) -> Path:
    """A blank import template of the ledger at `dest` (.xlsx); a county user's lists only the own unit."""
    own = read_scope.read_unit(actor, None) if read_scope.is_county_user(actor) else None
    units = (reference().unit_by_code(own).name,) if own else None
    return write_template(ledger(ledger_key), _xlsx_path(dest), units=units)


def _xlsx_path(dest: Path | str) -> Path:
    path = Path(dest)
    if path.suffix.lower() != ".xlsx":
        raise JzairError(f"文件名应以 .xlsx 结尾：{path.name}")
    return path


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    rows: int
    masked: bool
    unit_code: str | None = None  # the unit exported (None: every unit the actor may read)


def export_ledger(
    db: Database,
    ledger_key: str,
    dest: Path | str,
    *,
    actor: Actor,
    unit_code: str | None = None,
    state: TaskState = NULL_STATE,
) -> ExportResult:
    """The live records of a ledger (one unit, or all the actor may see) in the template's layout. A county
    user exports the own unit (the default) and is refused another one (services.scope)."""
    d = ledger(ledger_key)
    unit_code = read_scope.read_unit(actor, unit_code, what=f"{d.title}台账")
    path = _xlsx_path(dest)
    masked = not actor.can_see_personal_data
    m = model_of(d)
    keys = d.keys
    stmt = select(*[getattr(m, k) for k in keys]).where(m.deleted_at.is_(None))
    if unit_code:
        stmt = stmt.where(m.unit_code == unit_code)
    order = {u.code: i for i, u in enumerate(reference().units)}
    names = {u.code: u.name for u in reference().units}
    personal_idx = [(i, c.kind) for i, c in enumerate(d.columns) if c.key in personal.personal_keys(d)]
    unit_idx = keys.index("unit_code")
    with read_session(db.engine) as s:
        rows = [list(r) for r in s.execute(stmt.order_by(m.id))]
    rows.sort(key=lambda r: order.get(r[unit_idx], 99))
    for r in rows:
        r[unit_idx] = names.get(r[unit_idx], r[unit_idx])
        if masked:
            for i, kind in personal_idx:
                r[i] = personal.mask(kind, r[i]) or None
    n = write_rows(d, path, rows, total=len(rows), state=state)
    scope = names.get(unit_code, unit_code) if unit_code else "全部"
    audit.record_access(db, actor, "export", f"导出{d.title}（{scope}）{n:,} 条记录"
                        f"{'（身份证号已隐去中间数字）' if masked else ''}：{path}", unit_code=unit_code)
    return ExportResult(path, n, masked, unit_code)


# --- import ------------------------------------------------------------------------------------------


def read_import_file(path: Path | str, ledger_key: str, *, state: TaskState = NULL_STATE) -> SheetData:
    """Step 1: read the file and find the ledger sheet, its header row and its data rows."""
    return read_ledger_sheet(Path(path), ledger(ledger_key), state=state)


@dataclass(slots=True)
class _Hit:
    uuid: str
    values: tuple[Any, ...]


_NO_HITS: list[_Hit] = []


class _DbIndex:
    """The live records of a ledger (whole city), indexed by natural keys and duplicate rules."""

    def __init__(self, s: Session, d: LedgerDef, state: TaskState) -> None:
        self.d = d
        keys = d.keys
        m = model_of(d)
        cols = [m.uuid, *[getattr(m, k) for k in keys]]
        field_sets = {r.fields for r in d.duplicate_rules}
        self.by: dict[tuple[str, ...], dict[tuple, list[_Hit]]] = {fs: {} for fs in field_sets}
        plan = [(fs, [keys.index(f) for f in fs], self.by[fs]) for fs in field_sets]
        state.progress(0, 0, "正在读取数据库中的已有记录…", force=True)
        for n, row in enumerate(s.execute(select(*cols).where(m.deleted_at.is_(None)))):
            if n % 5000 == 0:
                state.check_cancelled()
            values = tuple(row[1:])
            hit = _Hit(row[0], values)
            for _fs, idx, index in plan:
                key = tuple(values[i] for i in idx)
                if any(k is None or k == "" for k in key):
                    continue
                bucket = index.setdefault(key, [])
                if len(bucket) < 2:
                    bucket.append(hit)

    def lookup(self, fields: tuple[str, ...], key: tuple) -> list[_Hit]:
        return self.by[fields].get(key, _NO_HITS)


def _label(d: LedgerDef, values: Sequence[Any]) -> str:
    keys = d.keys
    unit = reference().unit_by_code(values[keys.index("unit_code")]).name
    return f"{unit} {values[keys.index(d.label_field)] or ''}".strip()


def _classify(
    s: Session,
    plan_rows: list[CheckedRow],
    data: SheetData,
    d: LedgerDef,
    unit_code: str,
    actor: Actor,
    state: TaskState,
    probes: list[int] | None = None,
) -> tuple[list[PlannedRow], list[RowProblem]]:
    """Match the valid rows to live records; problems found against the database.

    Checked first: `actor` may write `unit_code` (a viewer or another unit's clerk learns nothing about
    the database from a check, dry run or not). A duplicate in a record the actor may not read whole is
    reported without name or unit; such rows are appended to `probes` (the caller audits them) and are
    limited per import and per day (personal.check_probe_limit), so a file of candidate numbers cannot
    recover a masked 身份证号.
    """
    actor.check_write(unit_code, unit_name=reference().unit_by_code(unit_code).name)
    probes = probes if probes is not None else []
    keys = d.keys
    pos = {k: i for i, k in enumerate(keys)}
    present = set(data.field_columns) | {"unit_code"}
    compare = [k for k in keys if k in present]
    header_of = {c.match.key: c.header for c in data.used_columns if c.match}
    index_of = {c.match.key: c.index for c in data.used_columns if c.match}
    index = _DbIndex(s, d, state)
    rules = d.duplicate_rules
    natural = [tuple(nk) for nk in d.natural_keys]
    # The write helpers' guard (month locks, close-outs): what the write would refuse shows in the check.
    guard = guards.guard(s, d, actor)
    matched_by: dict[str, int] = {}
    planned: list[PlannedRow] = []
    problems: list[RowProblem] = []
    total = len(plan_rows)

    def add(row: int, field_key: str, message: str, severity: str = ERROR) -> None:
        header = header_of.get(field_key) or (d.column(field_key).header if field_key else "")
        problems.append(RowProblem(row, header, message, severity, index_of.get(field_key)))

    # Every field set (natural keys, duplicate rules) with its value positions, computed once per row.
    field_sets = [(fs, picker([pos[f] for f in fs])) for fs in index.by]
    fallback_fields = [[pos[f] for earlier in natural[:i] for f in earlier] for i in range(len(natural))]
    unit_pos = pos["unit_code"]
    empty = (None, "")

    for n, cr in enumerate(plan_rows):
        if n % 1000 == 0:
            state.progress(n, total, f"正在与数据库中的记录比对（第 {cr.row:,} 行）")
        if not cr.ok:
            continue
        values = cr.values
        row_keys: dict[tuple[str, ...], tuple | None] = {}
        for fs, pick in field_sets:
            key = pick(values)
            row_keys[fs] = None if None in key or "" in key else key
        hit: _Hit | None = None
        hit_fields: tuple[str, ...] = ()
        for i, nk in enumerate(natural):
            key = row_keys[nk]
            if key is None:
                continue
            for cand in index.lookup(nk, key):
                # A fallback key (e.g. 乡镇+村+户主) matches only a record whose earlier keys do not
                # contradict the row (another 身份证号 means another household).
                if not any(
                    values[j] not in empty and cand.values[j] not in empty and values[j] != cand.values[j]
                    for j in fallback_fields[i]
                ):
                    hit, hit_fields = cand, nk
                    break
            if hit is not None:
                break
        if hit is not None and hit.values[unit_pos] != unit_code:
            rule = next((r for r in rules if r.fields == hit_fields), None)
            where = _where_of(actor, d, hit.values, cr.row, probes)
            if rule is not None and rule.severity == ERROR:
                p = duplicate_problem(d, rule, where)
                add(cr.row, p.field, p.message)
            else:
                add(cr.row, hit_fields[0], f"与{where}相同，该记录属于其他县（区、市），不能在本次导入中修改")
            continue
        if hit is not None:
            first = matched_by.setdefault(hit.uuid, cr.row)
            if first != cr.row:
                add(cr.row, hit_fields[0], f"与第{first}行对应同一条已有记录（{_label(d, hit.values)}），无法确定用哪一行更新")
                continue
        # Duplicates against other live records.
        bad = False
        for rule in rules:
            key = row_keys[rule.fields]
            if key is None:
                continue
            other = next((h for h in index.lookup(rule.fields, key) if hit is None or h.uuid != hit.uuid), None)
            if other is not None:
                p = duplicate_problem(d, rule, _where_of(actor, d, other.values, cr.row, probes))
                add(cr.row, p.field, p.message, p.severity)
                bad = bad or p.is_error
        if bad:
            continue
        if hit is None:
            try:
                guard.check_new(dict(zip(keys, values, strict=True)), verb="导入")
            except JzairError as exc:
                add(cr.row, "", str(exc))
                continue
            planned.append(PlannedRow(cr.row, values, NEW))
            continue
        changes = {k: values[pos[k]] for k in compare if values[pos[k]] != hit.values[pos[k]]}
        if not changes:
            planned.append(PlannedRow(cr.row, values, UNCHANGED, hit.uuid))
            continue
        before = dict(zip(keys, hit.values, strict=True))
        try:
            guard.check_change(before, {**before, **changes}, "通过导入修改")
        except JzairError as exc:
            add(cr.row, "", str(exc))
            continue
        planned.append(PlannedRow(cr.row, values, CHANGED, hit.uuid, changes, before))
    personal.check_probe_limit(s, actor, sorted(set(probes)))
    return planned, problems


def _where_of(actor: Actor, d: LedgerDef, values: Sequence[Any], row: int, probes: list[int]) -> str:
    unit = values[d.keys.index("unit_code")]
    if not personal.may_read_whole(actor, unit):
        probes.append(row)
        return personal.OTHER_UNIT_RECORD
    return f"已有记录（{_label(d, values)}）"


def check_import(
    db: Database,
    data: SheetData,
    unit: str,
    *,
    actor: Actor,
    today: dt.date | None = None,
    state: TaskState = NULL_STATE,
) -> ImportPlan:
    """Step 2: validate the rows and match them against the database (reads only)."""
    d = ledger(data.ledger_key)
    unit_code = reference().resolve_unit(unit).code
    today = today or dt.date.today()
    rows = check_rows(data, d, unit_code, today=today, state=state)
    return _classified(db, data, d, unit_code, rows, actor, today, state)


def _classified(
    db: Database, data: SheetData, d: LedgerDef, unit_code: str, rows: list[CheckedRow], actor: Actor,
    today: dt.date, state: TaskState,
) -> ImportPlan:
    probes: list[int] = []
    try:
        with read_session(db.engine) as s:
            planned, db_problems = _classify(s, rows, data, d, unit_code, actor, state, probes)
    finally:
        personal.audit_probes(db, actor, data.path, unit_code, probes)
    return _plan(data, d, unit_code, rows, planned, db_problems, today)


def _plan(
    data: SheetData, d: LedgerDef, unit_code: str, rows: list[CheckedRow], planned: list[PlannedRow],
    db_problems: list[RowProblem], today: dt.date,
) -> ImportPlan:
    report = ImportReport(d.key, data.path, data.sheet_name, data.header_row, unit_code)
    problems = [p for r in rows for p in r.problems] + db_problems
    problems.sort(key=lambda p: (p.row, p.col_index if p.col_index is not None else 10_000, not p.is_error))
    report.problems = problems
    report.total_rows = len(rows)
    report.skipped = len(data.skipped)
    report.skipped_rows = [(s.row, s.reason) for s in data.skipped]
    for p in planned:
        if p.action == NEW:
            report.new += 1
        elif p.action == CHANGED:
            report.changed += 1
        else:
            report.unchanged += 1
    warned_rows = {p.row for p in problems if not p.is_error}
    error_rows = {p.row for p in problems if p.is_error}
    report.warned = len(warned_rows - error_rows)
    if not data.has_unit_column:
        report.notes.append(f"文件中没有“县（区、市）”列，全部记录按“{report.unit_name}”导入。")
    ignored = [c for c in data.columns if c.match is None]
    if ignored:
        report.notes.append("忽略了台账没有的列：" + "、".join(c.header for c in ignored) + "。")
    if data.missing:
        report.notes.append(
            "文件中没有这些列（新记录留空，已有记录的这些字段保持不变）：" + "、".join(data.missing) + "。"
        )
    return ImportPlan(data, report, rows, planned, today)


def write_error_file(plan: ImportPlan, *, state: TaskState = NULL_STATE) -> Path | None:
    """Write `<name>.错误.xlsx` beside the input (problems marked); None when it could not be written."""
    report = plan.report
    try:
        report.error_file = write_error_workbook(plan.data, report.problems, error_workbook_path(plan.data.path), state=state)
    except JzairError as exc:
        report.error_file = None
        report.error_file_problem = f"未能写出错误标注文件：{exc}"
    return report.error_file


def apply_import(db: Database, plan: ImportPlan, *, actor: Actor, state: TaskState = NULL_STATE) -> ImportReport:
    """Step 3: write the plan in one transaction (all rows or none). Raises ImportRejected on errors."""
    report = plan.report
    unit_code = report.unit_code
    actor.check_write(unit_code, unit_name=report.unit_name)
    if not report.ok:
        raise ImportRejected(_rejected_message(report), report)
    probes: list[int] = []
    try:
        return _apply(db, plan, actor, state, probes)
    finally:
        personal.audit_probes(db, actor, plan.data.path, unit_code, probes)


def _apply(db: Database, plan: ImportPlan, actor: Actor, state: TaskState, probes: list[int]) -> ImportReport:
    d = plan.ledger
    report = plan.report
    unit_code = report.unit_code
    with write_records(db) as s:
        installation.check_unit_write(s, unit_code)
        state.check_cancelled()
        # Match again inside the transaction: another user may have written since the check.
        planned, db_problems = _classify(s, plan.rows, plan.data, d, unit_code, actor, state, probes)
        fresh = _plan(plan.data, d, unit_code, plan.rows, planned, db_problems, plan.today)
        fresh.report.error_file = report.error_file
        plan.planned, plan.report = planned, fresh.report
        report = fresh.report
        if not report.ok:
            raise ImportRejected(_rejected_message(report), report)
        new_rows = [p for p in planned if p.action == NEW]
        changed = [p for p in planned if p.action == CHANGED]
        total = len(new_rows) + len(changed)
        done = 0

        def new_values() -> Iterator[tuple[Any, ...]]:  # registry values in column order, as insert_many takes them
            nonlocal done
            for p in new_rows:
                done += 1
                if done % 500 == 0:
                    state.progress(done, total, f"正在写入数据库（{done:,}/{total:,}）")
                yield tuple(p.values)

        state.progress(0, total, "正在写入数据库…", force=True)
        lock_records(s, d.key, [p.uuid for p in changed])  # server database: rows first, then the audit chain
        insert_many(s, d.key, new_values(), actor=actor, expected=len(new_rows))
        for p in changed:
            done += 1
            if done % 200 == 0:
                state.progress(done, total, f"正在写入数据库（{done:,}/{total:,}）")
            update_values(s, d.key, p.uuid, p.changes, actor=actor)
        state.progress(total, total, "正在提交…", force=True)
        state.check_cancelled()
    report.written = True
    return report


def _rejected_message(report: ImportReport) -> str:
    n = len(report.errors)
    rows = len({p.row for p in report.errors})
    where = f"，错误已标注在：{report.error_file}" if report.error_file else ""
    return f"文件“{report.path.name}”有 {n} 处错误（涉及 {rows} 行），没有导入任何记录，数据库未改动{where}。"


def import_ledger(
    db: Database,
    ledger_key: str,
    path: Path | str,
    unit: str,
    *,
    actor: Actor,
    dry_run: bool = False,
    today: dt.date | None = None,
    state: TaskState = NULL_STATE,
    error_file: bool = True,
) -> ImportReport:
    """Read, check and (unless dry_run) write a ledger workbook. Errors: ImportRejected, nothing written."""
    d = ledger(ledger_key)
    unit_code = reference().resolve_unit(unit).code
    # Also for a dry run: a check reports duplicates against the database (checked again in _classify).
    actor.check_write(unit_code, unit_name=reference().unit_by_code(unit_code).name)
    today = today or dt.date.today()
    data = read_import_file(path, d.key, state=state)
    rows = check_rows(data, d, unit_code, today=today, state=state)
    if dry_run or not all(r.ok for r in rows):
        plan = _classified(db, data, d, unit_code, rows, actor, today, state)
        plan.report.dry_run = dry_run
        if not plan.report.ok:
            _reject(plan, error_file, state)
        return plan.report
    # Valid rows: match against the database once, inside the write transaction.
    plan = ImportPlan(data, _plan(data, d, unit_code, rows, [], [], today).report, rows, [], today)
    try:
        return apply_import(db, plan, actor=actor, state=state)
    except ImportRejected:
        _reject(plan, error_file, state)
        raise


def _reject(plan: ImportPlan, error_file: bool, state: TaskState) -> None:
    if error_file:
        write_error_file(plan, state=state)
    raise ImportRejected(_rejected_message(plan.report), plan.report)
