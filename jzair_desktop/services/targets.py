"""Targets per unit (任务分解): the city office splits each plan indicator's city target across the units.

Which indicators are split by hand ("split" rule): fixed-target counts, from ledgers or monthly figures.
The others need no split and refuse a manual target:
  * 'all_found' indicators (boilers.coal_lt35, vocs.bypass): a unit's target is the number of its live
    matching records; the city target is their sum.
  * rate indicators: every unit's target is the plan's `county_target` if given, else its `target`.
A split's sum is compared with the city target; a missing unit target shows as 未分解.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.reference import Indicator, Reference, Unit, reference
from jzair_desktop.domain.validation import (
    NUMBER_MAX,
    Invalid,
    check_range,
    normalize_number_text,
    parse_number,
)
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.aggregates import found_counts
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import CountyTarget

# Units of measure that count whole things: their targets and monthly increments must be integers.
COUNTABLE_UNITS = frozenset({"户", "辆", "台", "家", "个", "处", "批次", "次"})
_TOL = 1e-6
AUDIT_SUBJECT = "county_targets"  # the `ledger` of audit entries about targets


def rule_of(ind: Indicator) -> str:
    """'split' (set per unit by the city office), 'all_found', 'rate', 'milestone' or 'city' (a city-level
    figure entered by the city office, not split)."""
    if ind.kind == "milestone":
        return "milestone"
    if ind.measure == "rate":
        return "rate"
    if ind.target_rule == "all_found":
        return "all_found"
    if ind.city_level:
        return "city"
    return "split"


def scope_text(ind: Indicator, ref: Reference | None = None) -> str:
    """The units an indicator concerns, in words (全部县（区、市） when it concerns every unit)."""
    ref = ref or reference()
    if ind.scope is None:
        return "全部县（区、市）"
    if not ind.scope:
        return "全市（由市大气办填报）"
    return "、".join(ref.unit_by_code(c).name for c in ind.scope)


def check_in_scope(ind: Indicator, unit: Unit, ref: Reference | None = None) -> None:
    """A Chinese refusal when `ind` does not concern `unit` (plan.toml `scope`)."""
    if not ind.in_scope(unit.code):
        raise JzairError(
            f"“{ind.name}”只涉及{scope_text(ind, ref)}，不涉及“{unit.name}”，不能为其设定目标或填报。"
        )


def is_integral(ind: Indicator) -> bool:
    return ind.measure == "count" and ind.unit in COUNTABLE_UNITS


def splittable_indicators(ref: Reference | None = None) -> list[Indicator]:
    ref = ref or reference()
    return [i for i in ref.indicators if rule_of(i) == "split"]


def unit_rate_target(ind: Indicator) -> float | None:
    """The target of a rate indicator for one unit (county): `county_target` if the plan gives one."""
    return ind.county_target if ind.county_target is not None else ind.target


# --------------------------------------------------------------------------- parsing


def parse_figure(value: object, *, what: str) -> float:
    """A number from a cell, an argument or a form field; a Chinese error naming `what` otherwise.

    The ledgers' number parser (domain.validation.parse_number): int/float, or text with full-width digits
    or thousands separators ("84,400", "８４，４００"). Refuses empty text, booleans, NaN, infinities and
    magnitudes no figure can have.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise JzairError(f"{what}不能为空。")
    try:
        number = parse_number(value)
    except Invalid as exc:
        raise JzairError(f"{what}{_reason(exc, value)}。") from None
    except (OverflowError, ValueError):
        raise JzairError(f"{what}必须是有限的数字，收到“{str(value)[:40]}”。") from None
    if number is None:
        raise JzairError(f"{what}不能为空。")
    return number


_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


def _reason(exc: Invalid, value: object) -> str:
    text = str(exc)
    if isinstance(value, str) and normalize_number_text(value).lstrip("+-").casefold() in _NOT_FINITE:
        text = "不是有效的数字（无穷大或非数字）"
    if text.startswith("不是"):
        return f"必须是有限的数字，收到“{str(value)[:40]}”" if "无穷" in text else f"必须是数字，收到“{str(value)[:40]}”"
    if text.endswith("不是数字"):
        return f"必须是数字，收到“{str(value)[:40]}”"
    return "：" + text


def check_in_range(ind: Indicator, number: float, what: str, value: object) -> float:
    """`number` within the indicator's physical range (Indicator.value_range), else a Chinese error."""
    low, high = ind.value_range()
    try:
        return check_range(number, low, high, ind.unit)
    except Invalid as exc:
        raise JzairError(f"{what}{exc}。") from None


def format_number(value: float | None, *, missing: str = "") -> str:
    if value is None:
        return missing
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- lookups
def resolve_indicator(text: str, *, allowed: Iterable[Indicator] | None = None, ref: Reference | None = None) -> Indicator:
    """An indicator by key or Chinese name; a Chinese error naming the allowed ones otherwise."""
    ref = ref or reference()
    pool = list(allowed) if allowed is not None else list(ref.indicators)
    key = str(text or "").strip()
    for ind in pool:
        if key in (ind.key, ind.name):
            return ind
    names = "、".join(f"{i.key}（{i.name}）" for i in pool)
    raise JzairError(f"未知的指标：“{text}”。可选：{names}")


def check_target_value(ind: Indicator, unit: Unit, value: object) -> float:
    """The target of `ind` for `unit` parsed and checked: a number >= 0 (whole for countable units)."""
    what = f"“{unit.name}”的“{ind.name}”目标"
    number = parse_figure(value, what=what)
    if number < 0:
        raise JzairError(f"{what}不能为负数，收到 {format_number(number)}。")
    if is_integral(ind) and not float(number).is_integer():
        raise JzairError(f"{what}必须是整数（单位：{ind.unit}），收到 {value}。")
    return check_in_range(ind, number, what, value)


def check_splittable(ind: Indicator) -> None:
    rule = rule_of(ind)
    if rule == "all_found":
        raise JzairError(
            f"“{ind.name}”（{ind.key}）的目标是各县（区、市）排查录入的全部记录，由台账自动计算，无需也不能手工分解。"
        )
    if rule == "rate":
        target = unit_rate_target(ind)
        raise JzairError(
            f"“{ind.name}”（{ind.key}）是限值指标，每月不得{'低于' if ind.compare == 'ge' else '高于'}"
            f" {format_number(target)}{ind.unit}，无需分解。"
        )
    if rule == "milestone":
        raise JzairError(f"“{ind.name}”（{ind.key}）是节点任务（按时完成与否），无需分解目标。")
    if rule == "city":
        raise JzairError(f"“{ind.name}”（{ind.key}）是全市指标，由市大气办按月填报，不分解到县（区、市）。")


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True, slots=True)
class UnitTarget:
    unit_code: str
    county: str
    value: float | None  # None: 未分解 (for 'split'), never for 'all_found' and 'rate'
    in_scope: bool = True  # False: the indicator does not concern the unit (无任务)


@dataclass(frozen=True, slots=True)
class IndicatorTargets:
    indicator: str
    name: str
    unit: str
    rule: str  # 'split' | 'all_found' | 'rate'
    city_target: float | None
    units: tuple[UnitTarget, ...]
    total: float | None  # sum of the units' targets (None when no unit has one; rates: None)
    state: str  # 'complete' | 'mismatch' | 'unset' | 'partial' | 'auto'

    @property
    def mismatch(self) -> bool:
        """The units' targets do not add up to the city target."""
        return self.state in ("mismatch", "partial")

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(u.county for u in self.units if u.value is None)

    @property
    def state_text(self) -> str:
        return {
            "complete": "一致",
            "mismatch": "合计与市级目标不一致",
            "partial": "部分未分解，合计与市级目标不一致",
            "unset": "未分解",
            "auto": "自动",
        }[self.state]

    def as_json(self) -> dict:
        return {
            "indicator": self.indicator,
            "name": self.name,
            "unit": self.unit,
            "rule": self.rule,
            "city_target": self.city_target,
            "total": self.total,
            "state": self.state,
            "mismatch": self.mismatch,
            "targets": [{"county": u.county, "unit_code": u.unit_code, "target": u.value} for u in self.units],
        }


def stored_targets(session: Session) -> dict[tuple[str, str], float]:
    """{(indicator_key, unit_code): value} as set by the city office."""
    rows = session.execute(select(CountyTarget.indicator_key, CountyTarget.unit_code, CountyTarget.value))
    return {(k, u): float(v) for k, u, v in rows}


def split_state(city_target: float | None, values: list[float | None]) -> tuple[float | None, str]:
    given = [v for v in values if v is not None]
    if not given:
        return None, "unset"
    total = float(sum(given))
    if city_target is not None and abs(total - city_target) <= _TOL:
        return total, "complete"
    return total, ("partial" if len(given) < len(values) else "mismatch")


def target_table(db: Database) -> list[IndicatorTargets]:
    """Every plan indicator with its per-unit targets, the sum and how it compares with the city target."""
    ref = reference()
    with read_session(db.engine) as s:
        stored = stored_targets(s)
        result = []
        for ind in ref.indicators:
            rule = rule_of(ind)
            if rule == "split":
                values = [stored.get((ind.key, u.code)) for u in ref.units]
                total, state = split_state(
                    ind.target, [v for u, v in zip(ref.units, values, strict=True) if ind.in_scope(u.code)])
                city = ind.target
            elif rule == "all_found":
                counts = found_counts(s, ind)
                values = [float(counts.get(u.code, 0)) for u in ref.units]
                total = float(sum(values))
                city, state = total, "auto"
            elif rule == "rate":
                values = [unit_rate_target(ind) if ind.in_scope(u.code) else None for u in ref.units]
                total, city, state = None, ind.target, "auto"
            else:  # milestones and city-level figures: nothing to split
                values = [None] * len(ref.units)
                total, city, state = None, ind.target, "auto"
            result.append(
                IndicatorTargets(
                    indicator=ind.key,
                    name=ind.name,
                    unit=ind.unit,
                    rule=rule,
                    city_target=city,
                    units=tuple(UnitTarget(u.code, u.name, v, ind.in_scope(u.code))
                                for u, v in zip(ref.units, values, strict=True)),
                    total=total,
                    state=state,
                )
            )
        return result


# --------------------------------------------------------------------------- writing
@dataclass(frozen=True, slots=True)
class TargetEntry:
    """One target to write; `value` None clears it (未分解). Indicator and unit as the user gave them."""

    indicator: str
    unit: str
    value: object
    where: str = ""  # where the entry came from, for messages ("第5行“散煤治理（户）”列")


@dataclass(frozen=True, slots=True)
class TargetWriteResult:
    set: int
    cleared: int
    unchanged: int


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_entries(entries: Iterable[TargetEntry], ref: Reference | None = None) -> list[tuple[Indicator, Unit, float | None]]:
    """Resolve and check every entry; raise ValidationFailed listing every problem (nothing is written)."""
    ref = ref or reference()
    allowed = splittable_indicators(ref)
    problems: list[str] = []
    checked: list[tuple[Indicator, Unit, float | None]] = []
    seen: dict[tuple[str, str], str] = {}
    for entry in entries:
        prefix = f"{entry.where}：" if entry.where else ""
        try:
            ind = resolve_indicator(entry.indicator, ref=ref)
            check_splittable(ind)
            if ind not in allowed:  # pragma: no cover - rule_of keeps these in step
                raise JzairError(f"“{ind.name}”不能分解。")
            unit = ref.resolve_unit(entry.unit)
            value = None if _is_blank(entry.value) else check_target_value(ind, unit, entry.value)
            if value is not None:  # clearing a target outside the scope is allowed (it tidies an old split)
                check_in_scope(ind, unit, ref)
        except JzairError as exc:
            problems.append(prefix + exc.message)
            continue
        key = (ind.key, unit.code)
        if key in seen:
            problems.append(f"{prefix}“{unit.name}”的“{ind.name}”目标重复出现（另见{seen[key] or '前面'}）。")
            continue
        seen[key] = entry.where
        checked.append((ind, unit, value))
    if problems:
        if len(problems) == 1:
            raise ValidationFailed(problems[0], problems)
        head = "；".join(problems[:5])
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 5 else ""
        raise ValidationFailed(f"任务目标有 {len(problems)} 处错误，未做任何改动：{head}{more}", problems)
    return checked


def write_checked(
    s: Session, actor: Actor, items: list[tuple[Indicator, Unit, float | None]], *, source: str = ""
) -> TargetWriteResult:
    """Write entries that check_entries returned, inside the caller's transaction, with an audit entry
    per changed target (subject county_targets; `source`, e.g. the imported file, goes into the detail)."""
    now = dt.datetime.now()
    n_set = n_clear = n_same = 0
    pending: list[audit.Pending] = []
    for ind, unit, value in items:
        row = s.get(CountyTarget, (ind.key, unit.code))
        old = row.value if row is not None else None
        old_meta = audit.row_bookkeeping(row)
        if value is None:
            if row is None:
                n_same += 1
                continue
            s.delete(row)
            n_clear += 1
        elif row is not None and abs(row.value - value) <= _TOL:
            n_same += 1
            continue
        else:
            if row is None:
                row = CountyTarget(indicator_key=ind.key, unit_code=unit.code)
                s.add(row)
            row.value, row.updated_at, row.updated_by = value, now, actor.name
            n_set += 1
        state = {"indicator": ind.key, "unit_code": unit.code}
        action = "create" if old is None else ("delete" if value is None else "update")
        detail = (f"{unit.name}“{ind.name}”目标：{format_number(old, missing='未分解')} → "
                  f"{format_number(value, missing='未分解')}{f'（{source}）' if source else ''}")
        pending.append(audit.Pending(
            ledger=AUDIT_SUBJECT, uuid=f"{ind.key}@{unit.code}", unit_code=unit.code,
            before=None if old is None else {**state, "value": old, **old_meta},
            after=None if value is None else {**state, "value": value, **audit.row_bookkeeping(row)},
            detail=detail, action=action,
        ))
    audit.append_many(s, actor, "update", pending, at=now)
    return TargetWriteResult(n_set, n_clear, n_same)


def set_targets(db: Database, actor: Actor, entries: Iterable[TargetEntry]) -> TargetWriteResult:
    """Write many targets at once, all or nothing (city office only)."""
    actor.check_city("分解任务目标")
    items = check_entries(entries)
    with write_session(db.engine) as s:
        return write_checked(s, actor, items)


def set_target(db: Database, actor: Actor, indicator: str, unit: str, value: object) -> UnitTarget:
    """Set (or, with a blank value, clear) one unit's target for one indicator (city office only)."""
    actor.check_city("分解任务目标")
    [(ind, u, number)] = check_entries([TargetEntry(indicator, unit, value)])
    with write_session(db.engine) as s:
        write_checked(s, actor, [(ind, u, number)])
    return UnitTarget(u.code, u.name, number)


def largest_remainder(total: int, weights: Mapping[str, float], order: list[str]) -> dict[str, int]:
    """Whole shares of `total` proportional to `weights`, summing exactly to `total` (Hamilton's method).

    Ties in the remainder go to the earlier key in `order`.
    """
    weight_sum = sum(weights.get(k, 0.0) for k in order)
    if weight_sum <= 0:
        raise JzairError("分解权重之和必须大于0。")
    quotas = {k: total * weights.get(k, 0.0) / weight_sum for k in order}
    shares = {k: math.floor(q) for k, q in quotas.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(order, key=lambda k: (-(quotas[k] - shares[k]), order.index(k)))
    for k in by_remainder[:left]:
        shares[k] += 1
    return shares


def split_city_targets(db: Database, weights: Mapping[str, float], actor: Actor) -> dict[str, dict[str, int]]:
    """Split every fixed count target (ledger and monthly) across the units in proportion to `weights`
    ({unit_code: weight >= 0}; units left out weigh 0), as whole numbers summing exactly to the city
    target (largest remainder), each only across the units it concerns (plan.toml scope); an indicator none of
    whose units has a weight is left unsplit. Overwrites existing targets, in one transaction. Returns the split.
    """
    actor.check_city("分解任务目标")
    ref = reference()
    codes = [u.code for u in ref.units]
    for code, w in weights.items():
        if code not in codes:
            ref.resolve_unit(code)  # raises the Chinese error naming the allowed units
        if not isinstance(w, int | float) or isinstance(w, bool) or not math.isfinite(w) or not 0 <= w <= NUMBER_MAX:
            raise JzairError(f"分解权重必须是不小于0的有限数字：{code} = {w}")
    if sum(float(weights.get(c, 0.0)) for c in codes) <= 0:
        raise JzairError("分解权重之和必须大于0。")
    result: dict[str, dict[str, int]] = {}
    items: list[tuple[Indicator, Unit, float | None]] = []
    inds = splittable_indicators(ref)
    for ind in inds:
        if ind.target is None or ind.parts:
            continue
        scoped = [c for c in codes if ind.in_scope(c)]
        if sum(weights.get(c, 0.0) for c in scoped) <= 0:
            continue  # none of the units it concerns has a weight: left unsplit (未分解), not made up
        shares = largest_remainder(round(ind.target), weights, scoped)
        result[ind.key] = shares
    for ind in inds:  # a total made of parts is their sum, so that the split reconciles (散煤治理)
        if ind.target is not None and ind.parts and all(k in result for k in ind.parts):
            result[ind.key] = {c: sum(result[k].get(c, 0) for k in ind.parts) for c in codes if ind.in_scope(c)}
    for ind in inds:
        if ind.key in result:
            items.extend((ind, u, float(result[ind.key][u.code])) for u in ref.units if u.code in result[ind.key])
    with write_session(db.engine) as s:
        write_checked(s, actor, items, source="按权重分解")
    return result


@dataclass(frozen=True, slots=True)
class PartsMismatch:
    """A unit whose target of a total (散煤治理) is not the sum of its parts' targets."""

    indicator: str
    name: str
    unit_code: str
    county: str
    total: float | None
    parts: float

    @property
    def text(self) -> str:
        return (f"“{self.county}”的“{self.name}”目标 {format_number(self.total, missing='未分解')} 与其分项之和 "
                f"{format_number(self.parts)} 不一致")


def parts_mismatches(session: Session, ref: Reference | None = None) -> list[PartsMismatch]:
    """Units whose total target does not add up from its parts (only where a part is split)."""
    ref = ref or reference()
    stored = stored_targets(session)
    out = []
    for ind in ref.indicators:
        if not ind.parts:
            continue
        for u in ref.units:
            given = [stored.get((k, u.code)) for k in ind.parts]
            total = stored.get((ind.key, u.code))
            if total is None and all(v is None for v in given):
                continue
            parts = float(sum(v or 0.0 for v in given))
            if total is None or abs(total - parts) > _TOL:
                out.append(PartsMismatch(ind.key, ind.name, u.code, u.name, total, parts))
    return out


def out_of_scope_targets(session: Session, ref: Reference | None = None) -> list[tuple[Indicator, Unit, float]]:
    """Stored split targets of units an indicator does not concern (kept, reported at upgrade)."""
    ref = ref or reference()
    keys = {i.key for i in ref.indicators}
    out = []
    for (key, code), value in sorted(stored_targets(session).items()):
        if key not in keys:
            continue
        ind = ref.indicator(key)
        unit = ref.find_unit(code)
        if unit is not None and (not ind.in_scope(code) or rule_of(ind) != "split"):
            out.append((ind, unit, value))
    return out


def clear_all_targets(db: Database, actor: Actor) -> int:
    """Remove every unit target (city office only). Returns how many were removed."""
    actor.check_city("清除任务目标")
    ref = reference()
    with write_session(db.engine) as s:
        items = [(ref.indicator(k), ref.unit_by_code(u), None) for (k, u) in stored_targets(s)]
        return write_checked(s, actor, items, source="全部清除").cleared
