"""A deterministic, realistic demo database for all twelve units (`jzair init --demo`).

Everything is drawn from one seed: the same seed and scale give the same records, uuids and timestamps
on any machine. Records are plausible for Jinzhong (real 乡镇 per county, village names built the way
Shanxi villages are named, Chinese personal names, 身份证号 / VIN / 统一社会信用代码 with valid check
characters, plates 晋K…) and read like the campaign's last month (2021-03, the demo's "current" month):
every unit entered its whole heating target, converted before or around the heating season (few households in
January–March); most units finished every task, and a handful lag: 左权县 and 和顺县 left about a tenth of
their work undone (overdue), 和顺县 and 灵石县 miss their air-quality limits, so that the 预警函 go to those three.
The counties' 档 and 2019 baselines are entered so that the air-quality limits are derived and judged.

Every record is checked with domain.validation.check_record before it is written (no errors allowed);
the ledgers are written in one transaction, only into a database that holds no ledger record yet.
Afterwards, each in its own transaction and only where nothing is stored yet: the city targets are
split per unit with the weights below, and monthly figures and air quality are filled for 2020-10 … 2021-03.

One module per ledger (`demo/heating.py`, ...) holds that ledger's generator, registered in GENERATORS below.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select

from jzair_desktop.demo import boilers, heating, kilns, problems, sites, trucks, vocs
from jzair_desktop.demo.closeouts import add_closeouts
from jzair_desktop.demo.common import DEFAULT_SEED, Context, DemoResult, demo_weights, seeded
from jzair_desktop.demo.figures import GRADES, air_baselines, air_quality, milestones, monthly_entries
from jzair_desktop.domain.ledgers import (
    BOILERS,
    HEATING,
    KILNS,
    LEDGERS,
    PROBLEMS,
    SITES,
    TRUCKS,
    VOCS,
    ledger,
)
from jzair_desktop.domain.months import month_of
from jzair_desktop.domain.validation import check_record
from jzair_desktop.services import air, air_targets
from jzair_desktop.services import milestones as milestones_service
from jzair_desktop.services import monthly as monthly_service
from jzair_desktop.services import targets as targets_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.ledgers import insert_many, write_records
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityGrade,
    AirQualityMonth,
    CountyTarget,
    Milestone,
    MonthlyFigure,
)
from jzair_desktop.taskstate import NULL_STATE, TaskState


def records(ctx: Context, ledger_key: str) -> Iterator[dict[str, Any]]:
    make = generator(ledger_key)
    for unit_code in ctx.units:
        yield from make(ctx, unit_code)


# The demo records of one unit, per ledger: every registered ledger has one (tests/services/test_demo.py).
GENERATORS: dict[str, Callable[[Context, str], Iterator[dict[str, Any]]]] = {
    HEATING.key: heating.generate,
    TRUCKS.key: trucks.generate,
    BOILERS.key: boilers.generate,
    KILNS.key: kilns.generate,
    VOCS.key: vocs.generate,
    SITES.key: sites.generate,
    PROBLEMS.key: problems.generate,
}


def generator(ledger_key: str) -> Callable[[Context, str], Iterator[dict[str, Any]]]:
    try:
        return GENERATORS[ledger_key]
    except KeyError:
        raise KeyError(f"ledger {ledger_key} has no demo generator (demo.GENERATORS)") from None


# --- the demo ------------------------------------------------------------------------------------


def generate_records(
    *, seed: int = DEFAULT_SEED, scale: float = 1.0, today: dt.date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The demo's records per ledger (registry values plus uuid and timestamps), not validated."""
    gen = Context(seed, scale, today or dt.date.today())
    return {key: list(records(gen, key)) for key in LEDGERS}


def count_ledger_records(db: Database) -> int:
    """Every ledger record in the database, live or deleted."""
    with read_session(db.engine) as s:
        return sum(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in LEDGER_MODELS.values())


def _table_empty(db: Database, model: Any) -> bool:
    with read_session(db.engine) as s:
        return not s.scalar(select(func.count()).select_from(model))


def _validated(ledger_key: str, rows: list[dict[str, Any]], today: dt.date) -> None:
    """Every demo record must pass the ledger's validation unchanged (a failure is a bug of this module)."""
    d = ledger(ledger_key)
    for row in rows:
        checked = check_record(d, row, today=today)
        if not checked.ok:
            raise RuntimeError(f"demo record of {ledger_key} fails validation: {checked.errors} {row}")
        changed = {k: (row.get(k), v) for k, v in checked.values.items() if row.get(k) != v}
        if changed:
            raise RuntimeError(f"demo record of {ledger_key} is not in normal form: {changed}")


def generate_demo(
    db: Database,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    state: TaskState | None = None,
    actor: Actor = BUILTIN_ADMIN,
    today: dt.date | None = None,
) -> DemoResult:
    """Fill an empty database with the demo (city office only). On a database that holds any ledger
    record nothing is added and the result says so (`added` False). May run on a worker thread."""
    actor.check_city("生成演示数据")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError("scale must be a positive number")
    state = state or NULL_STATE
    started = time.perf_counter()
    today = today or dt.date.today()
    existing = count_ledger_records(db)
    if existing:
        return DemoResult(added=False, existing_records=existing, seconds=time.perf_counter() - started)

    gen = Context(seed, scale, today)
    titles = {k: d.title for k, d in LEDGERS.items()}
    generate_steps = len(LEDGERS) * len(gen.units)
    steps = generate_steps + len(LEDGERS) + 3
    data: dict[str, list[dict[str, Any]]] = {}
    step = 0
    for key in LEDGERS:
        rows: list[dict[str, Any]] = []
        make = functools.partial(generator(key), gen)
        for n, unit in enumerate(gen.ref.units):
            state.progress(step, steps, f"正在生成{titles[key]}演示记录：{unit.name}……", force=n == 0)
            rows.extend(make(unit.code))
            step += 1
        _validated(key, rows, today)
        data[key] = rows

    counts: dict[str, int] = {}
    with write_records(db) as s:
        # Checked again inside the write transaction: another program may have written meanwhile.
        if sum(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in LEDGER_MODELS.values()):
            return DemoResult(added=False, existing_records=count_ledger_records(db),
                              seconds=time.perf_counter() - started)
        for n, key in enumerate(LEDGERS):
            state.progress(generate_steps + n, steps, f"正在写入{titles[key]}……", force=True)
            rows = data[key]
            for row in rows:
                row["created_by"] = row["updated_by"] = actor.name
            add_closeouts(s, key, rows, actor, seeded(seed, "closeouts", key))
            counts[key] = insert_many(s, key, rows, actor=actor, expected=len(rows))
        state.check_cancelled()
    unit_counts = {
        key: {u: sum(1 for r in rows if r["unit_code"] == u) for u in gen.units} for key, rows in data.items()
    }

    notes: list[str] = []
    state.progress(steps - 3, steps, "正在分解任务目标……", force=True)
    targets_written = 0
    if _table_empty(db, CountyTarget):
        split = targets_service.split_city_targets(db, demo_weights(), actor)
        targets_written = sum(len(v) for v in split.values())
    else:
        notes.append("数据库中已有分解的任务目标，未改动。")
    state.progress(steps - 2, steps, "正在填写月度数据……", force=True)
    figures = 0
    if _table_empty(db, MonthlyFigure):
        figures = monthly_service.set_figures(db, actor, monthly_entries(db, seed))
    else:
        notes.append("数据库中已有月度数据，未改动。")
    if _table_empty(db, Milestone):
        for key, unit, day, evidence in milestones(gen.last):
            milestones_service.set_milestone(db, actor, key, unit, day, evidence, today=today)
    else:
        notes.append("数据库中已有节点任务完成记录，未改动。")
    state.progress(steps - 1, steps, "正在填写空气质量……", force=True)
    air_months = 0
    baselines = air_baselines(seed)
    if _table_empty(db, AirQualityGrade):
        for code, grade in GRADES.items():
            air_targets.set_air_basis(db, actor, code, grade=grade, baselines=baselines[code])
    else:
        notes.append("数据库中已有空气质量档次和基准，未改动。")
    if _table_empty(db, AirQualityMonth):
        entries = [air.AirEntry(area, month, pm25, days)
                   for area, month, pm25, days in air_quality(seed, baselines) if month <= month_of(gen.last)]
        air_months = air.set_air_quality_many(db, actor, entries)
    else:
        notes.append("数据库中已有空气质量数据，未改动。")
    state.progress(steps, steps, "演示数据已生成", force=True)
    return DemoResult(
        added=True, existing_records=0, counts=counts, unit_counts=unit_counts, targets=targets_written,
        monthly_figures=figures, air_quality_months=air_months, notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


