"""What the package import modules share: the results per table, the plan of an import, and decoders
of JSON Lines fields that name the member, line and field of anything wrong."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import KINDS as LEDGER_KINDS
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import audit
from jzair_desktop.storage import bulk

MAX_LISTED = 10  # problems quoted in a refusal
MAX_WARNINGS = 20
CHUNK = 500  # UUIDs per IN (...) query
UUID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,35}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")

# What the preview and the history show, in this order: the registered ledgers, then these.
_OTHER_TITLES: dict[str, str] = {
    "closeouts": "销号记录",
    "monthly_figures": "月度数据",
    "air_quality": "空气质量",
    "milestones": "节点任务",
    "submissions": "月度上报",
    "audit": "县级审计记录",
    "county_targets": "任务目标",
    "air_quality_targets": "空气质量目标",
}


def row_titles() -> dict[str, str]:
    return {**{key: d.title for key, d in LEDGERS.items()}, **_OTHER_TITLES}


@dataclass(slots=True)
class Change:
    """What an import does to one ledger or table."""

    key: str
    title: str
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def total_changes(self) -> int:
        return self.new + self.changed + self.deleted

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "new": self.new, "changed": self.changed,
                "deleted": self.deleted, "unchanged": self.unchanged}

    def mirror(
        self, have: Mapping[Any, Any], wanted: Mapping[Any, Any], same: Callable[[Any, Any], bool]
    ) -> list[tuple[Any, Any]]:
        """The writes that make the stored rows `have` (by key) the package's `wanted` values, counted here:
        (key, wanted value) for a new or changed row, (key, None) for a stored row the package lacks.
        `same(row, want)` tells an unchanged row."""
        ops: list[tuple[Any, Any]] = []
        for k, want in wanted.items():
            row = have.get(k)
            if row is None:
                self.new += 1
            elif same(row, want):
                self.unchanged += 1
                continue
            else:
                self.changed += 1
            ops.append((k, want))
        for k in have:
            if k not in wanted:
                self.deleted += 1
                ops.append((k, None))
        return ops


@dataclass
class Plan:
    """What one import will do (filled by CountyJob.plan / TargetsJob.plan)."""

    changes: dict[str, Change] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    apply: list[Callable[[Session], None]] = field(default_factory=list)
    pending: list[audit.Pending] = field(default_factory=list)  # this machine's audit entries

    def change(self, key: str) -> Change:
        c = self.changes.get(key)
        if c is None:
            c = self.changes[key] = Change(key, row_titles().get(key, key))
        return c


class Lines:
    """The objects of one JSON Lines member, with checked field access (errors name member, line, field)."""

    def __init__(self, pkg: jzpkg.SignedPackage, member: str) -> None:
        self.pkg = pkg
        self.member = member
        self.rows = pkg.rows(member)

    def error(self, n: int, text: str) -> PackageError:
        return PackageError(f"报送包“{self.pkg.path.name}”被拒绝：文件 {self.member} 第 {n} 行：{text}")

    def items(self) -> Iterable[tuple[int, dict[str, Any]]]:
        return enumerate(self.rows, start=1)

    def keys(self, n: int, obj: Mapping[str, Any], expected: Iterable[str]) -> None:
        want = set(expected)
        got = set(obj)
        if got != want:
            missing, extra = sorted(want - got), sorted(got - want)
            parts = ([f"缺少字段 {'、'.join(missing)}"] if missing else []) + (
                [f"有多余字段 {'、'.join(x[:30] for x in extra[:5])}"] if extra else [])
            raise self.error(n, "；".join(parts) + "。")

    def text(self, n: int, obj: Mapping[str, Any], key: str, *, optional: bool = False, max_len: int = 64) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (not optional and value == "") or len(value) > max_len:
            raise self.error(n, f"字段 {key} 应为不超过 {max_len} 个字的文字。")
        return value

    def integer(self, n: int, obj: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(n, f"字段 {key} 应为整数。")
        return value

    def number(self, n: int, obj: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(n, f"字段 {key} 应为数字。")
        return float(value)

    def stamp(self, n: int, obj: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        try:
            if not isinstance(value, str) or len(value) < 19:
                raise ValueError
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                raise ValueError
        except ValueError:
            raise self.error(n, f"字段 {key} 应为日期时间（如 2020-11-03T08:30:00）。") from None
        return parsed

    def uuid(self, n: int, obj: Mapping[str, Any], key: str = "uuid") -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not UUID_RE.match(value):
            raise self.error(n, f"字段 {key}（记录编号）格式不正确。")
        return value


def typed(lines: Lines, n: int, kind: str, key: str, value: Any) -> Any:
    """A registry value as stored: dates from ISO text, numbers as numbers, everything else text."""
    if value is None:
        return None
    if kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise lines.error(n, f"字段 {key} 应为日期（如 2020-11-03）。") from None
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise lines.error(n, f"字段 {key} 应为数字。")
        return float(value)
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise lines.error(n, f"字段 {key} 应为整数。")
        return value
    if not isinstance(value, str):
        raise lines.error(n, f"字段 {key} 应为文字。")
    return value


def as_date(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is not str or len(value) != 10:
        raise TypeError
    return dt.date.fromisoformat(value)


def as_float(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is not float and type(value) is not int:
        raise TypeError
    return float(value)


def as_int(value: Any) -> Any:
    if value is not None and type(value) is not int:
        raise TypeError
    return value


def as_text(value: Any) -> Any:
    if value is not None and type(value) is not str:
        raise TypeError
    return value


# The fast path of typed (same results; a failure is explained by typed).
CONVERTERS: dict[str, Callable[[Any], Any]] = {"date": as_date, "float": as_float, "int": as_int}
CONVERTERS.update({kind: as_text for kind in LEDGER_KINDS if kind not in CONVERTERS})


def is_name(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= 64


# Text fields of an audit entry: (key, longest, may be null).
AUDIT_TEXT = (
    ("user_name", 64, False), ("role", 16, False), ("action", 24, False), ("ledger", 24, True),
    ("record_uuid", 64, True), ("before_json", 10_000_000, True), ("after_json", 10_000_000, True),
    ("detail", 100_000, True), ("prev_hash", 64, False), ("hash", 64, False),
)


def refuse(pkg: jzpkg.SignedPackage, reason: str) -> PackageError:
    return PackageError(f"报送包“{pkg.path.name}”被拒绝：{reason}")


def refuse_problems(pkg: jzpkg.SignedPackage, what: str, problems: list[str]) -> PackageError:
    listed = "\n".join(problems[:MAX_LISTED])
    more = f"\n……共 {len(problems)} 处问题。" if len(problems) > MAX_LISTED else ""
    return refuse(pkg, f"{what}有 {len(problems)} 处不符合校验规则，未导入任何数据：\n{listed}{more}")


def chunks(items: list[str], size: int = CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]



def bulk_insert(s: Session, table: Table, rows: list[dict[str, Any]], *, batch: int = 5000) -> None:
    """Insert many rows (each with the same keys) in the caller's transaction.

    On SQLite the values go through the columns' own SQLAlchemy bind processors (so they are stored
    exactly as a Core insert stores them) straight into the driver's executemany, which skips
    SQLAlchemy's per-row parameter handling (about half the time of 20,000-row imports). On
    PostgreSQL they stream through COPY (values through the bind processors too). Other databases
    get the plain Core insert.
    """
    if not rows:
        return
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        cols = list(rows[0])
        pairs = [(c, table.c[c].type._cached_bind_processor(conn.dialect)) for c in cols]  # noqa: SLF001
        bulk.copy_rows(conn, table.name, cols,
                       (tuple(r[c] if p is None or r[c] is None else p(r[c]) for c, p in pairs) for r in rows))
        return
    if conn.dialect.name != "sqlite":
        for i in range(0, len(rows), batch):
            s.execute(table.insert(), rows[i:i + batch])
        return
    cols = list(rows[0])
    procs = [table.c[c].type._cached_bind_processor(conn.dialect) for c in cols]  # noqa: SLF001
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in cols)}) "
           f"VALUES ({', '.join('?' for _ in cols)})")
    pairs = list(zip(cols, procs, strict=True))
    for i in range(0, len(rows), batch):
        params = [tuple(r[c] if p is None or r[c] is None else p(r[c]) for c, p in pairs) for r in rows[i:i + batch]]
        conn.exec_driver_sql(sql, params)
