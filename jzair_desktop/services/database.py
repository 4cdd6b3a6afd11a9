"""Opening the application's database: checks, migration to the newest schema, reference data."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import make_url

from jzair_desktop import paths
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Reference, reference
from jzair_desktop.errors import DatabaseError
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import (
    check_database_file,
    db_path_of,
    make_engine,
    parse_url,
    sqlite_url,
    write_session,
)
from jzair_desktop.storage.models import (
    AirQualityTarget,
    AppMeta,
    ChoiceRow,
    IndicatorRow,
    UnitRow,
)

log = logging.getLogger(__name__)


@dataclass
class Database:
    url: str = field(repr=False)  # a server's URL may hold its password: never in a repr or a log line
    engine: Engine = field()

    def __repr__(self) -> str:
        return f"Database({self.location!r})"

    @property
    def path(self) -> Path | None:
        return db_path_of(self.url)

    @property
    def location(self) -> str:
        """The file, or 账户@服务器:端口/数据库 for a server database (never its password): what messages and the GUI show."""
        return location_of(self.url)

    def dispose(self) -> None:
        self.engine.dispose()


def location_of(url: str) -> str:
    """What the user is shown for the database at `url`: the file, or 账户@服务器:端口/数据库 (never a password)."""
    p = db_path_of(url)
    if p is not None:
        return str(p)
    u = make_url(url)
    if u.host:
        port = f":{u.port}" if u.port else ""
        return f"{u.username + '@' if u.username else ''}{u.host}{port}/{u.database or ''}"
    return u.render_as_string(hide_password=True)


def file_of(url: str) -> Path | None:
    """The database file a SQLite URL names (None for an in-memory or non-SQLite URL)."""
    return db_path_of(url)


def head_revision() -> str:
    """The schema revision this program's migrations end at."""
    return migrate.head_revision()


def schema_revision(db: Database) -> str | None:
    """The schema revision the database is at (None: never migrated)."""
    return migrate.current_revision(db.engine)


def resolve_url(*, db_path: str | Path | None = None, db_url: str | None = None) -> str:
    """--db-url wins, then --db (or JZAIR_DB, handled by the caller), then the user's data folder."""
    if db_url:
        return db_url
    if db_path:
        return sqlite_url(Path(db_path))
    return sqlite_url(paths.default_db_path())


def open_database(url: str, *, create: bool = False, upgrade: bool = True) -> tuple[Database, migrate.MigrationResult | None]:
    """Open (and with `create`, make) the database at `url`, upgrading its schema to the newest revision.

    A file that is missing (without `create`), not SQLite, read-only, locked, another program's database or
    from a newer version is refused with a message naming it, and is left untouched.
    """
    parse_url(url)  # a malformed URL or an unsupported kind of database: a message, before anything else
    file = db_path_of(url)
    if file is not None:
        check_database_file(file, create=create)
        migrate.check_file(file)  # before a connection switches the file to WAL (reads the WAL if there is one)
        migrate.merge_wal(file)  # data left in the WAL by a checkpoint a full disk cut short
        if create and not file.exists():
            # A new database is the user's alone (0600; its -wal and -shm get the same mode from SQLite).
            try:
                paths.create_private_file(file)
            except FileExistsError:
                pass
            except OSError as exc:
                raise DatabaseError(f"无法创建数据库文件：{file}（{exc.strerror or exc}）") from exc
    engine = make_engine(url)
    db = Database(url, engine)
    try:
        rev = migrate.check_not_newer(engine)
        result = None
        if upgrade and rev != migrate.head_revision():
            result = migrate.upgrade(engine)
        elif rev is None:
            raise DatabaseError(f"数据库尚未初始化：{db.location}\n请先运行“jzair init”。")
    except Exception:
        engine.dispose()
        raise
    return db, result


def reference_fingerprint(ref: Reference) -> str:
    blob = json.dumps(
        {
            "units": [(u.code, u.name, u.aliases) for u in ref.units],
            "indicators": [repr(i) for i in ref.indicators],
            "choices": sorted((k, v) for k, v in ref.choices.items()),
            "aq": [repr(a) for a in ref.air_quality_targets],
        },
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class ReferenceLoadResult:
    units: int
    indicators: int
    choices: int
    air_quality_targets: int
    changed: bool
    # Stored split targets the plan's scopes no longer allow, kept as they are (the city office decides).
    scope_notes: tuple[str, ...] = ()


def load_reference_data(db: Database, ref: Reference | None = None) -> ReferenceLoadResult:
    """Load (or refresh) the plan's reference data. Running it again with the same data changes nothing."""
    ref = ref or reference()
    fingerprint = reference_fingerprint(ref)
    with write_session(db.engine) as s:
        meta = s.get(AppMeta, "reference_fingerprint")
        if meta is not None and meta.value == fingerprint:
            return ReferenceLoadResult(len(ref.units), len(ref.indicators),
                                       sum(len(v) for v in ref.choices.values()),
                                       len(ref.air_quality_targets), changed=False, scope_notes=_scope_notes(s, ref))
        for u in ref.units:
            row = s.get(UnitRow, u.code) or UnitRow(code=u.code)
            row.name, row.aliases, row.sort_order = u.name, "、".join(u.aliases), u.sort_order
            s.add(row)
        # 全市 as a unit row too, so that a city-level figure (铁路货运量) can be stored like a unit's.
        city = s.get(UnitRow, CITY_CODE) or UnitRow(code=CITY_CODE)
        city.name, city.aliases, city.sort_order = CITY_NAME, "", len(ref.units)
        s.add(city)
        for i in ref.indicators:
            row = s.get(IndicatorRow, i.key) or IndicatorRow(key=i.key)
            row.name, row.unit, row.target, row.target_rule = i.name, i.unit, i.target, i.target_rule
            row.due, row.due_rule, row.plan_item, row.department = i.due, i.due_rule, i.plan_item, i.department
            row.source, row.ledger = i.source, i.ledger
            row.filter_json = json.dumps(i.filter, ensure_ascii=False, sort_keys=True)
            row.measure, row.compare = i.measure, i.compare
            row.county_target, row.annual_target, row.sort_order = i.county_target, i.annual_target, i.sort_order
            s.add(row)
        s.execute(delete(ChoiceRow))
        for list_key, values in ref.choices.items():
            for n, value in enumerate(values):
                s.add(ChoiceRow(list_key=list_key, value=value, sort_order=n))
        # Air-quality targets may be edited by the city office later: only add the plan's own if missing.
        for a in ref.air_quality_targets:
            existing = s.scalar(
                select(AirQualityTarget).where(
                    AirQualityTarget.area == a.area, AirQualityTarget.first_month == a.first_month
                )
            )
            if existing is None:
                s.add(AirQualityTarget(area=a.area, first_month=a.first_month, last_month=a.last_month,
                                       pm25_max=a.pm25_max, heavy_days_max=a.heavy_days_max))
        if meta is None:
            meta = AppMeta(key="reference_fingerprint", value=fingerprint)
        meta.value = fingerprint
        s.add(meta)
        notes = _scope_notes(s, ref)
    return ReferenceLoadResult(len(ref.units), len(ref.indicators), sum(len(v) for v in ref.choices.values()),
                               len(ref.air_quality_targets), changed=True, scope_notes=notes)


def _scope_notes(s, ref: Reference) -> tuple[str, ...]:  # noqa: ANN001
    """Stored targets outside an indicator's scope (or of an indicator no longer split), in words."""
    from jzair_desktop.services.targets import format_number, out_of_scope_targets, scope_text

    return tuple(
        f"“{unit.name}”的“{ind.name}”目标 {format_number(value)}{ind.unit}："
        + (f"该指标只涉及{scope_text(ind, ref)}" if not ind.in_scope(unit.code) else "该指标已不再分解到县（区、市）")
        + "，已保留未删除，请市级管理员核对后在任务分解中清除"
        for ind, unit, value in out_of_scope_targets(s, ref)
    )
