"""SQLAlchemy 2 typed models. The schema itself is created and changed only by the Alembic
migrations under db/versions; tests check that models and migrations agree.

Column names of the ledger tables are the keys of domain.ledgers (the one column registry).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jzair_desktop.domain.ledgers import PROBLEMS, SITES

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.date: Date,
        dt.datetime: DateTime,
        float: Float,
        int: Integer,
    }


class AppMeta(Base):
    """Key/value facts about this database (reference data version, installation id, …)."""

    __tablename__ = "app_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class UnitRow(Base):
    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    aliases: Mapped[str] = mapped_column(Text, default="")  # "、"-separated
    sort_order: Mapped[int] = mapped_column(default=0)


class IndicatorRow(Base):
    __tablename__ = "indicators"
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(24))
    target: Mapped[float | None]
    target_rule: Mapped[str] = mapped_column(String(16))
    due: Mapped[dt.date | None]
    due_rule: Mapped[str] = mapped_column(String(16))
    plan_item: Mapped[str] = mapped_column(String(8))
    department: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    ledger: Mapped[str | None] = mapped_column(String(16))
    filter_json: Mapped[str] = mapped_column(Text, default="{}")
    measure: Mapped[str] = mapped_column(String(16), default="count")
    compare: Mapped[str] = mapped_column(String(4), default="ge")
    county_target: Mapped[float | None]
    annual_target: Mapped[float | None]
    sort_order: Mapped[int] = mapped_column(default=0)


class ChoiceRow(Base):
    """The ledgers' closed lists."""

    __tablename__ = "choices"
    list_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class RecordMixin:
    """Fields every ledger record has besides its registry columns."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    unit_code: Mapped[str] = mapped_column(String(6), ForeignKey("units.code"), index=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    deleted_by: Mapped[str | None] = mapped_column(String(64))
    remarks: Mapped[str | None] = mapped_column(Text)


class HeatingRecord(RecordMixin, Base):
    __tablename__ = "heating"
    township: Mapped[str] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64))
    householder: Mapped[str] = mapped_column(String(40), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    area_m2: Mapped[float | None]
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    done_date: Mapped[dt.date | None]
    subsidy_yuan: Mapped[float | None]
    keeps_coal_stove: Mapped[str | None] = mapped_column(String(2))

    __table_args__ = (
        Index("ix_heating_unit_place", "unit_code", "township", "village"),
        Index("ix_heating_status_date", "status", "done_date"),
        # Covers every column the progress engine's aggregate reads, so its one pass over the largest
        # ledger scans this index instead of the table.
        Index("ix_heating_progress", "unit_code", "method", "status", "done_date", "deleted_at"),
    )


class TruckRecord(RecordMixin, Base):
    __tablename__ = "trucks"
    plate: Mapped[str] = mapped_column(String(16), index=True)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    emission_std: Mapped[str] = mapped_column(String(8))
    vehicle_type: Mapped[str] = mapped_column(String(8))
    owner: Mapped[str] = mapped_column(String(100))
    usage: Mapped[str | None] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(8))
    eliminated_date: Mapped[dt.date] = mapped_column(index=True)
    subsidy_yuan: Mapped[float | None]


class BoilerRecord(RecordMixin, Base):
    __tablename__ = "boilers"
    org_name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    boiler_no: Mapped[str] = mapped_column(String(100))
    capacity_th: Mapped[float]
    fuel: Mapped[str] = mapped_column(String(8))
    measure: Mapped[str] = mapped_column(String(16))
    planned_date: Mapped[dt.date]
    actual_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8))
    rural_estate: Mapped[str | None] = mapped_column(String(2))  # 是: 农村地区自建小区 (plan 十五's exception)

    __table_args__ = (Index("ix_boilers_natural", "unit_code", "org_name", "boiler_no"),)


class KilnRecord(RecordMixin, Base):
    __tablename__ = "kilns"
    enterprise: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    industry: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    planned_date: Mapped[dt.date]
    actual_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8))


class VocsRecord(RecordMixin, Base):
    __tablename__ = "vocs"
    enterprise: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    industry: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    bypass_count: Mapped[int | None]
    bypass_disposal: Mapped[str | None] = mapped_column(String(8))
    planned_date: Mapped[dt.date]
    actual_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8))


LEDGER_MODELS: dict[str, type[RecordMixin]] = {
    "heating": HeatingRecord,
    "trucks": TruckRecord,
    "boilers": BoilerRecord,
    "kilns": KilnRecord,
    "vocs": VocsRecord,
}

# The SQL type of a registry column by its kind (domain.ledgers.KINDS); texts longer than TEXT_AFTER are Text.
_KIND_TYPES: dict[str, Any] = {
    "date": Date, "int": Integer, "float": Float, "bool": lambda: String(2), "idcard": lambda: String(18),
    "phone": lambda: String(32), "plate": lambda: String(16), "vin": lambda: String(17), "uscc": lambda: String(18),
    "enum": lambda: String(16), "unit": lambda: String(6),
}
TEXT_AFTER = 100
_SERIAL = itertools.count(1)


def ledger_model(d: Any) -> type[RecordMixin]:
    """An ORM class for the ledger definition `d` (a domain.ledgers.LedgerDef): the RecordMixin fields plus
    one column per registry column, typed by its kind, NOT NULL when required.

    The built-in ledgers keep their hand-written classes above (their migrations are the schema); this
    makes the table of a ledger defined elsewhere (tests; a migration then creates it with these columns).
    """
    own = {"unit_code", "remarks"}  # RecordMixin's
    attrs: dict[str, Any] = {"__tablename__": d.key}
    for col in d.columns:
        if col.key in own:
            continue
        if col.kind == "text":
            sql: Any = Text() if col.max_length > TEXT_AFTER else String(col.max_length)
        else:
            make = _KIND_TYPES.get(col.kind)
            if make is None:
                raise ValueError(f"ledger {d.key}: column {col.key} has unknown kind {col.kind}")
            sql = make()
        attrs[col.key] = mapped_column(sql, nullable=not col.required)
    # A new class name each time: a test may register the same definition again.
    name = "".join(part.title() for part in d.key.split("_")) + f"Record{next(_SERIAL)}"
    return type(name, (RecordMixin, Base), attrs)


@contextmanager
def registered_model(d: Any) -> Iterator[type[RecordMixin]]:
    """The model of `d` (ledger_model) is LEDGER_MODELS[d.key] while the block runs; its table leaves
    Base.metadata afterwards, so that the schema of the built-in ledgers is unchanged."""
    if d.key in LEDGER_MODELS:
        raise ValueError(f"ledger {d.key} already has a model")
    model = ledger_model(d)
    LEDGER_MODELS[d.key] = model
    try:
        yield model
    finally:
        del LEDGER_MODELS[d.key]
        Base.metadata.remove(model.__table__)


# Ledgers whose table is made from their definition alone (their migration creates the same columns).
def _register_defined(*defs: Any) -> None:
    for d in defs:
        LEDGER_MODELS[d.key] = ledger_model(d)


_register_defined(SITES, PROBLEMS)


class CountyTarget(Base):
    """A city target split per unit (任务分解)."""

    __tablename__ = "county_targets"
    indicator_key: Mapped[str] = mapped_column(String(48), ForeignKey("indicators.key"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(6), ForeignKey("units.code"), primary_key=True)
    value: Mapped[float]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class MonthlyFigure(Base):
    """A unit's figure for a monthly-figure indicator in one month (increment for counts, value for rates)."""

    __tablename__ = "monthly_figures"
    unit_code: Mapped[str] = mapped_column(String(6), ForeignKey("units.code"), primary_key=True)
    indicator_key: Mapped[str] = mapped_column(String(48), ForeignKey("indicators.key"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    value: Mapped[float]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class RetiredMonthlyFigure(Base):
    """A monthly figure of an indicator that is no longer entered by month, kept as it was (revision 0010:
    建筑工地动态监管, now counted from the 建筑工地 ledger)."""

    __tablename__ = "retired_monthly_figures"
    unit_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    indicator_key: Mapped[str] = mapped_column(String(48), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    value: Mapped[float]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(Text)


class AirQualityMonth(Base):
    """Monthly mean PM2.5 (µg/m³) and heavy-pollution days of an area (a unit's code, or 市城区)."""

    __tablename__ = "air_quality"
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    pm25: Mapped[float | None]
    heavy_days: Mapped[int | None]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class AirQualityTarget(Base):
    """PM2.5 and heavy-day targets of an area for a period of months (inclusive)."""

    __tablename__ = "air_quality_targets"
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    last_month: Mapped[str] = mapped_column(String(7))
    pm25_max: Mapped[float | None]
    heavy_days_max: Mapped[int | None]


class Milestone(Base):
    """A milestone indicator's event for a unit (or 140700 for a city-level one): when it was done and
    the evidence (a document number or a file name). Absent: not done (revision 0005)."""

    __tablename__ = "milestones"
    indicator_key: Mapped[str] = mapped_column(String(48), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    done_date: Mapped[dt.date]
    evidence: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class AirQualityGrade(Base):
    """A county's 档 (1–6, 附件1), entered by the city office (revision 0005)."""

    __tablename__ = "air_quality_grades"
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    grade: Mapped[int]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class AirQualityBaseline(Base):
    """An area's month of 2019 (the same period the plan compares with): PM2.5 and heavy days (revision 0005)."""

    __tablename__ = "air_quality_baselines"
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2019-10 … 2019-12, 2020-01 … 2020-03
    pm25: Mapped[float]
    heavy_days: Mapped[int]
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


# --- accounts, audit trail, month submissions, close-out (revision 0002) ---------------------------


class UserAccount(Base):
    """A login. With no row here the app runs as the built-in administrator."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # city_admin | county_admin | county_clerk | viewer
    unit_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("units.code"))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(64))  # revision 0006


class AuditEntry(Base):
    """Append-only audit trail. Each entry carries the hash of the previous one (a hash chain).

    `hash` = SHA-256 of prev_hash + the canonical JSON of the entry's content (services.audit).
    """

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24), index=True)
    ledger: Mapped[str | None] = mapped_column(String(24))
    record_uuid: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(6))
    before_json: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the state before
    after_json: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the state after
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class MonthSubmission(Base):
    """A unit's submission (上报) of a month; resubmission after an unlock adds a new version."""

    __tablename__ = "month_submissions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(6), ForeignKey("units.code"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # submitted | unlocked
    submitted_at: Mapped[dt.datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    figures_json: Mapped[str] = mapped_column(Text)  # the frozen progress figures
    unlocked_at: Mapped[dt.datetime | None]
    unlocked_by: Mapped[str | None] = mapped_column(String(64))
    unlock_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("unit_code", "month", "version", name="uq_month_submissions_version"),
    )


class EvidenceFile(Base):
    """A photo or PDF backing a close-out (销号), stored in the database with its SHA-256."""

    __tablename__ = "evidence_files"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ledger: Mapped[str] = mapped_column(String(16))
    record_uuid: Mapped[str] = mapped_column(String(36))
    file_name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[dt.datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_evidence_files_record", "ledger", "record_uuid"),)


class Closeout(Base):
    """Who reviewed and closed out (销号) a record; one row per record, replaced when closed again."""

    __tablename__ = "closeouts"
    ledger: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime]
    closed_by: Mapped[str] = mapped_column(String(64))


# --- data packages (报送包) between county and city machines (revision 0003) ------------------------


class InstallationKey(Base):
    """This installation's Ed25519 signing key (one row, id 1). Raw 32-byte keys; see README 报送包格式."""

    __tablename__ = "installation_key"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the raw public key, lower-case hex
    created_at: Mapped[dt.datetime]


class PackageCounter(Base):
    """The last sequence number exported per scope (a unit's code, or 'targets')."""

    __tablename__ = "package_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_sequence: Mapped[int]
    updated_at: Mapped[dt.datetime]


class PackagePin(Base):
    """The signer key accepted for a scope (a unit's code on the city machine, 'city' on a county machine)."""

    __tablename__ = "package_pins"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # unknown when pinned by fingerprint only
    pinned_at: Mapped[dt.datetime]
    pinned_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # first_import | fingerprint | package


class PackageImport(Base):
    """One imported package (the history shown per unit)."""

    __tablename__ = "package_imports"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # county | targets
    scope: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("units.code"))
    month: Mapped[str | None] = mapped_column(String(7))
    sequence: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    app_version: Mapped[str] = mapped_column(String(16))
    counts_json: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[dt.datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    # The county's audit chain head the package carried (None: a package of an older version), and the
    # reason given when it did not extend the previous head (an accepted fork) (revision 0006).
    chain_seq: Mapped[int | None]
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    fork_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Sequences count per signing key: a re-installed county (new key, re-pinned) starts again at 1.
        UniqueConstraint("scope", "fingerprint", "sequence", name="uq_package_imports_sequence"),
        Index("ix_package_imports_manifest", "scope", "manifest_sha256"),
    )


class PackageAuditEntry(Base):
    """A county's own audit entries as received in its packages, kept apart from this machine's hash chain."""

    __tablename__ = "package_audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(6), ForeignKey("units.code"))
    import_id: Mapped[int] = mapped_column(ForeignKey("package_imports.id"))
    seq: Mapped[int]
    at: Mapped[dt.datetime]
    user_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    ledger: Mapped[str | None] = mapped_column(String(24))
    record_uuid: Mapped[str | None] = mapped_column(String(64))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    superseded_by: Mapped[int | None]  # the import whose accepted fork left this entry off the county's chain

    __table_args__ = (
        UniqueConstraint("unit_code", "hash", name="uq_package_audit_entries_hash"),
        Index("ix_package_audit_entries_unit_seq", "unit_code", "seq"),
    )


# --- installation set-up (revision 0006) -----------------------------------------------------------


class Installation(Base):
    """What this installation is (one row, id 1): the city office ("city") or one unit (its code).

    No row: the database was never set up and the built-in administrator acts (as before set-up)."""

    __tablename__ = "installation"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    unit: Mapped[str] = mapped_column(String(6))
    set_up_at: Mapped[dt.datetime]
    set_up_by: Mapped[str] = mapped_column(String(64))
