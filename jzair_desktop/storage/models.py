"""SQLAlchemy 2 typed models. The schema itself is created and changed only by the Alembic
migrations under db/versions; tests check that models and migrations agree.

Column names of the ledger tables are the keys of domain.ledgers (the one column registry).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
