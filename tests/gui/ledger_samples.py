"""Valid sample records of each ledger for the GUI tests (raw, as a form or an import would give them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jzair_desktop.domain import checkdigits
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database
from tests.services.admin_helpers import uscc, vin


def id_number(unit_code: str, n: int) -> str:
    first17 = f"{unit_code}19{60 + n % 40:02d}0{1 + n % 9}{10 + n % 18:02d}{n % 1000:03d}"
    return first17 + checkdigits.id_check_char(first17)


def heating(n: int = 0, **over: Any) -> dict[str, Any]:
    unit = over.get("unit_code", "140702")
    rec = {
        "unit_code": unit, "township": "东阳镇", "village": f"东阳{n}村", "householder": f"王建国{n}",
        "id_number": id_number(unit, n), "phone": "13912345678", "area_m2": "85.5",
        "method": "电代煤", "status": "已完工", "done_date": "2020-10-15", "subsidy_yuan": "12,000",
        "keeps_coal_stove": "是", "remarks": "",
    }
    rec.update(over)
    return rec


def trucks(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140727", "plate": f"晋K{n:05d}", "vin": vin(n), "emission_std": "国三",
        "vehicle_type": "重型货车", "owner": f"祁县通达运输有限公司{n}", "usage": "营运", "method": "报废拆解",
        "eliminated_date": "2020-06-01", "subsidy_yuan": "18000", "remarks": "",
    }
    rec.update(over)
    return rec


def boilers(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140728", "org_name": f"平遥县第{n}中学", "credit_code": "", "boiler_no": f"{n}#",
        "capacity_th": "4", "fuel": "燃煤", "measure": "淘汰拆除", "planned_date": "2020-10-31",
        "actual_date": "2020-10-20", "status": "已完成", "remarks": "",
    }
    rec.update(over)
    return rec


def kilns(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140781", "enterprise": f"山西介休焦化有限公司{n}", "credit_code": uscc("140781", n),
        "industry": "焦化", "category": "工业炉窑治理", "content": "焦炉烟气脱硫脱硝", "planned_date": "2020-12-31",
        "actual_date": "", "status": "施工中", "remarks": "",
    }
    rec.update(over)
    return rec


def vocs(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140702", "enterprise": f"榆次化工有限公司{n}", "credit_code": uscc("140702", 5000 + n),
        "industry": "化工", "category": "VOCs综合治理", "bypass_count": "", "bypass_disposal": "",
        "planned_date": "2020-12-31", "actual_date": "", "status": "未开工", "remarks": "",
    }
    rec.update(over)
    return rec


def sites(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140702", "project_name": f"榆次区锦绣园小区{n}期", "address": f"榆次区迎宾街{n}号",
        "builder": "晋中锦绣房地产开发有限公司", "contractor": "山西建工集团有限公司", "start_date": "2020-05-10",
        "status": "在建", "floor_area": "86500", "fence": "是", "cover": "是", "wet_work": "是", "paving": "是",
        "washing": "是", "sealed_transport": "是", "online_monitor": "是", "video": "是", "remarks": "",
    }
    rec.update(over)
    return rec


def problems(n: int = 0, **over: Any) -> dict[str, Any]:
    rec = {
        "unit_code": "140702", "township": "东阳镇", "source": "督察", "document_no": "晋环督〔2020〕15号",
        "description": f"东阳镇某砖厂原料堆场未封闭{n}", "department": "榆次区生态环境局", "found_date": "2020-10-20",
        "due_date": "2020-11-30", "status": "整改中", "done_date": "", "measures": "", "remarks": "",
    }
    rec.update(over)
    return rec


SAMPLES = {"heating": heating, "trucks": trucks, "boilers": boilers, "kilns": kilns, "vocs": vocs, "sites": sites,
           "problems": problems}
TODAY = dt.date(2021, 3, 31)


def create(db: Database, ledger_key: str, n: int = 0, **over: Any) -> str:
    """Create one valid record through the service; returns its uuid."""
    return ledger_service.create_record(db, ledger_key, SAMPLES[ledger_key](n, **over), actor=BUILTIN_ADMIN).uuid


def close_out(db: Database, ledger_key: str, record_uuid: str, folder) -> None:  # noqa: ANN001
    """Close a done record out (已销号) the proper way: a reviewer and a photo as evidence."""
    import io

    from PIL import Image

    from jzair_desktop.services import closeout

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 120, 60)).save(buf, "JPEG")
    photo = folder / "现场照片.jpg"
    photo.write_bytes(buf.getvalue())
    closeout.close_out(db, ledger_key, record_uuid, "张审核", BUILTIN_ADMIN, evidence=[photo])
