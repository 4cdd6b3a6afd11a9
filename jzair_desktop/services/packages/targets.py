"""Importing the city's targets package (任务包) on a county machine: every unit's targets and the
air-quality targets are replaced by the city's, so both sides compute the same progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain import months
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import air, audit, targets
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.packages.common import Lines, Plan, refuse_problems
from jzair_desktop.storage.models import AirQualityTarget
from jzair_desktop.taskstate import TaskState


class TargetsJob:
    """Decode, plan and apply a targets package."""

    def __init__(self, pkg: jzpkg.SignedPackage, actor: Actor) -> None:
        self.pkg = pkg
        self.actor = actor
        self.warnings: list[str] = []
        self.targets: list[tuple[Any, Any, float | None]] = []
        self.wanted: dict[tuple[str, str], float] = {}
        self.air: dict[tuple[str, str], dict[str, Any]] = {}

    def decode(self, state: TaskState) -> None:
        state.progress(0, 0, "正在校验任务目标……", force=True)
        lines = Lines(self.pkg, "county_targets.jsonl")
        entries = []
        for n, obj in lines.items():
            lines.keys(n, obj, ("indicator", "unit_code", "value", "updated_at", "updated_by"))
            lines.number(n, obj, "value")
            lines.stamp(n, obj, "updated_at")
            lines.text(n, obj, "updated_by")
            entries.append(targets.TargetEntry(lines.text(n, obj, "indicator"), lines.text(n, obj, "unit_code"),
                                               obj["value"], where=f"county_targets.jsonl 第 {n} 行"))
        try:
            checked = targets.check_entries(entries)
        except ValidationFailed as exc:
            raise refuse_problems(self.pkg, "任务目标", [str(p) for p in exc.problems] or [exc.message]) from None
        self.wanted = {(ind.key, unit.code): value for ind, unit, value in checked}
        ref = reference()
        # Every split target: the package's value, or none (未分解) where the package has none.
        self.targets = [(ind, u, self.wanted.get((ind.key, u.code)))
                        for ind in targets.splittable_indicators(ref) for u in ref.units]
        lines = Lines(self.pkg, "air_quality_targets.jsonl")
        for n, obj in lines.items():
            lines.keys(n, obj, ("area", "first_month", "last_month", "pm25_max", "heavy_days_max"))
            try:
                area, name = air.resolve_area(lines.text(n, obj, "area", max_len=16), ref)
                if area != obj["area"]:
                    raise JzairError(f"区域应写作代码 {area}。")
                first = months.parse_month(lines.text(n, obj, "first_month"), ref)
                last = months.parse_month(lines.text(n, obj, "last_month"), ref)
                if first > last:
                    raise JzairError(f"起始月份 {first} 晚于结束月份 {last}。")
                pm = lines.number(n, obj, "pm25_max", optional=True)
                hd = lines.integer(n, obj, "heavy_days_max", optional=True)
                if pm is not None:
                    air.check_pm25(pm, f"“{name}”目标")
                if hd is not None:
                    air.check_heavy_days(hd, f"“{name}”目标", None)
            except PackageError:
                raise
            except JzairError as exc:
                raise lines.error(n, exc.message) from None
            for (a, f), other in self.air.items():
                if a == area and not (other["last_month"] < first or f > last):
                    raise lines.error(n, f"“{name}”的目标期间 {first} 至 {last} 与 {f} 至 {other['last_month']} 重叠。")
            self.air[(area, first)] = {"last_month": last, "pm25_max": pm, "heavy_days_max": hd}

    def plan(self, s: Session, state: TaskState, *, for_write: bool) -> Plan:
        plan = Plan(warnings=list(self.warnings))
        stored = targets.stored_targets(s)
        change = plan.change("county_targets")
        for ind, unit, value in self.targets:
            old = stored.get((ind.key, unit.code))
            if old is None and value is None:
                continue
            if old is None:
                change.new += 1
            elif value is None:
                change.deleted += 1
            elif abs(old - value) <= 1e-9:
                change.unchanged += 1
            else:
                change.changed += 1
        source = f"市级任务包第 {self.pkg.sequence} 号"

        def apply_targets(s: Session) -> None:
            targets.write_checked(s, self.actor, self.targets, source=source)

        plan.apply.append(apply_targets)

        change = plan.change("air_quality_targets")
        have = {(r.area, r.first_month): r for r in s.scalars(select(AirQualityTarget))}
        ops: list[tuple[tuple[str, str], dict[str, Any] | None]] = change.mirror(
            have, self.air,
            lambda row, want: (row.last_month, row.pm25_max, row.heavy_days_max) == (
                want["last_month"], want["pm25_max"], want["heavy_days_max"]),
        )

        def apply_air(s: Session) -> None:
            for (area, first), want in ops:
                row = s.get(AirQualityTarget, (area, first))
                state_of = (lambda r: None if r is None else {  # noqa: E731
                    "area": r.area, "first_month": r.first_month, "last_month": r.last_month,
                    "pm25_max": r.pm25_max, "heavy_days_max": r.heavy_days_max})
                before = state_of(row)
                if want is None:
                    s.delete(row)
                    after = None
                else:
                    if row is None:
                        row = AirQualityTarget(area=area, first_month=first)
                        s.add(row)
                    row.last_month, row.pm25_max, row.heavy_days_max = (
                        want["last_month"], want["pm25_max"], want["heavy_days_max"])
                    after = state_of(row)
                plan.pending.append(audit.Pending(
                    air.AUDIT_AIR_TARGETS, f"{area}@{first}", None if area == air.CITY_AREA else area,
                    before, after, f"{air.area_name(area)} {first} 起空气质量目标（{source}）",
                    "create" if before is None else ("delete" if after is None else "update")))
            s.flush()

        plan.apply.append(apply_air)
        return plan

    def store_audit(self, s: Session, import_id: int) -> None:
        return None

