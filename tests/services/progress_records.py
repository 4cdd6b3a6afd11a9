"""Test helpers: ledger records inserted with plain SQLAlchemy (no validation layer needed)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from sqlalchemy import insert

from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import write_session
from jzair_desktop.storage.models import LEDGER_MODELS

D = dt.date
_seq = itertools.count(1)

DEFAULTS: dict[str, dict] = {
    "heating": {
        "township": "东阳镇", "village": "东阳村", "householder": "张三", "method": "气代煤",
        "status": "已完工", "done_date": D(2020, 10, 10),
    },
    "trucks": {
        "plate": "晋K10000", "vin": "LZZ1CLVB0AA000000", "emission_std": "国三", "vehicle_type": "重型货车",
        "owner": "某运输公司", "usage": "营运", "method": "报废拆解", "eliminated_date": D(2020, 10, 10),
    },
    "boilers": {
        "org_name": "某热力公司", "boiler_no": "1", "capacity_th": 10.0, "fuel": "燃煤", "measure": "淘汰拆除",
        "planned_date": D(2020, 10, 31), "actual_date": D(2020, 10, 20), "status": "已完成",
    },
    "kilns": {
        "enterprise": "某钢铁公司", "credit_code": "91140700MA0000000X", "industry": "钢铁", "category": "工业炉窑治理",
        "content": "烧结机脱硫脱硝", "planned_date": D(2020, 12, 31), "actual_date": D(2020, 11, 1), "status": "已完成",
    },
    "vocs": {
        "enterprise": "某化工公司", "credit_code": "91140700MA0000001X", "industry": "化工", "category": "VOCs综合治理",
        "planned_date": D(2020, 12, 31), "actual_date": D(2020, 11, 1), "status": "已完成",
    },
}


def add(db: Database, ledger: str, unit_code: str, n: int = 1, **fields) -> list[int]:
    """Insert `n` records of `ledger` for `unit_code`; `fields` override the defaults. Returns their ids."""
    model = LEDGER_MODELS[ledger]
    now = dt.datetime(2020, 12, 1, 8, 0)
    rows = []
    for _ in range(n):
        k = next(_seq)
        row = {
            **DEFAULTS[ledger],
            "uuid": str(uuid.uuid4()),
            "unit_code": unit_code,
            "created_at": now,
            "created_by": "测试",
            "updated_at": now,
            "updated_by": "测试",
            **fields,
        }
        if ledger == "trucks" and "plate" not in fields:
            row["plate"] = f"晋K{k:05d}"
        rows.append(row)
    with write_session(db.engine) as s:
        result = s.execute(insert(model).returning(model.id), rows)
        return [r[0] for r in result]
