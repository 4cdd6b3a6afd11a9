"""A small hand-made dataset for the monthly report, with its expected figures for 2020-11.

Records go in with plain SQLAlchemy inserts (validation is not what these tests are about); targets,
monthly figures and air quality through their services.

Expected for the month 2020-11 (as of 2020-11-30):
  trucks.eliminated (due 2020-12-31, schedule 60/91 = 65.9 %):
    榆次区 target 10, 5 done (3 in October, 2 in November; one more on 2020-12-05 does not count):
      50.0 %, behind (> 5 points below 65.9 %), rank 2
    太谷区 target 4, 4 done in November: 100.0 %, done, rank 1
    榆社县 target 8, none done: 0.0 %, behind, rank 3
    全市 target 8,869, 9 done, 6 this month
  heating.total (due 2020-10-31, past): 榆次区 target 100, 50 done (30 on 2020-10-10 in 东阳镇, 20 on
    2020-11-15 in 长凝镇), 20 this month: 50.0 %, overdue. Five households of 长凝镇 are still 施工中.
  kilns.kiln: 榆次区 target 2; 甲焦化有限公司 planned 2020-11-10, 施工中: 20 days overdue on 2020-11-30.
  bus.new_energy (monthly figure): 榆次区 target 10, 3 in 2020-10 and 2 in 2020-11 → 5 cumulative.
  市城区 air quality: PM2.5 40 (2020-10) and 60 (2020-11): period mean 50.0 over the target 47 (超标);
    heavy days 0 and 1: 1 over the target 0.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from sqlalchemy import insert

from jzair_desktop.domain import checkdigits
from jzair_desktop.services import air, monthly, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database
from jzair_desktop.services.monthly import FigureEntry
from jzair_desktop.services.targets import TargetEntry
from jzair_desktop.storage.engine import write_session
from jzair_desktop.storage.models import LEDGER_MODELS

D = dt.date
YC, TG, YS = "140702", "140703", "140721"  # 榆次区, 太谷区, 榆社县
MONTH = "2020-11"
_seq = itertools.count(1)


def id_number(serial: int, unit_code: str = YC) -> str:
    first17 = f"{unit_code}19700101{serial:03d}"
    return first17 + checkdigits.id_check_char(first17)


def add(db: Database, ledger: str, unit_code: str, n: int = 1, **fields) -> None:
    base = {
        "heating": {"township": "东阳镇", "village": "东阳村", "householder": "张三", "method": "气代煤",
                    "status": "已完工", "done_date": D(2020, 10, 10)},
        "trucks": {"vin": "LZZ1CLVB0AA000000", "emission_std": "国三", "vehicle_type": "重型货车",
                   "owner": "晋中通达运输有限公司", "usage": "营运", "method": "报废拆解",
                   "eliminated_date": D(2020, 10, 5)},
        "kilns": {"enterprise": "某钢铁有限公司", "credit_code": "91140700MA0000000X", "industry": "焦化",
                  "category": "工业炉窑治理", "content": "焦炉烟气脱硫脱硝", "planned_date": D(2020, 12, 31),
                  "actual_date": None, "status": "施工中"},
    }[ledger]
    now = dt.datetime(2020, 12, 1, 8, 0)
    rows = []
    for _ in range(n):
        k = next(_seq)
        row = {**base, "uuid": str(uuid.uuid4()), "unit_code": unit_code, "created_at": now, "created_by": "测试",
               "updated_at": now, "updated_by": "测试", **fields}
        if ledger == "trucks":
            row["plate"] = fields.get("plate", f"晋K{k:05d}")
        rows.append(row)
    with write_session(db.engine) as s:
        s.execute(insert(LEDGER_MODELS[ledger]), rows)


def build(db: Database) -> None:
    add(db, "trucks", YC, 3, eliminated_date=D(2020, 10, 5))
    add(db, "trucks", YC, 2, eliminated_date=D(2020, 11, 10))
    add(db, "trucks", YC, 1, eliminated_date=D(2020, 12, 5))  # after the month: never in November's report
    add(db, "trucks", TG, 4, eliminated_date=D(2020, 11, 2))
    add(db, "heating", YC, 30, township="东阳镇", village="东阳村", method="气代煤", status="已完工",
        done_date=D(2020, 10, 10))
    add(db, "heating", YC, 20, township="长凝镇", village="长凝村", method="电代煤", status="已验收",
        done_date=D(2020, 11, 15))
    for i in range(5):
        add(db, "heating", YC, 1, township="长凝镇", village="北合流村", householder=f"王{'一二三四五'[i]}",
            method="电代煤", status="施工中", done_date=None, id_number=id_number(i + 1))
    add(db, "kilns", YC, 1, enterprise="甲焦化有限公司", planned_date=D(2020, 11, 10), status="施工中")
    add(db, "kilns", YC, 1, enterprise="乙焦化有限公司", planned_date=D(2020, 11, 1), status="已完成",
        actual_date=D(2020, 10, 28))
    targets.set_targets(
        db,
        BUILTIN_ADMIN,
        [
            TargetEntry("trucks.eliminated", YC, 10),
            TargetEntry("trucks.eliminated", TG, 4),
            TargetEntry("trucks.eliminated", YS, 8),
            TargetEntry("heating.total", YC, 100),
            TargetEntry("kilns.kiln", YC, 2),
            TargetEntry("bus.new_energy", YC, 10),
        ],
    )
    monthly.set_figures(
        db,
        BUILTIN_ADMIN,
        [FigureEntry(YC, "bus.new_energy", "2020-10", 3), FigureEntry(YC, "bus.new_energy", "2020-11", 2)],
    )
    air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-10", pm25=40, heavy_days=0)
    air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-11", pm25=60, heavy_days=1)
