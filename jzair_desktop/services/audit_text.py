"""The audit trail as a person reads it: the one place that turns an entry into Chinese text.

An entry stores codes (`monthly_figures`, `bus.new_energy@140702@2020-11`, a record's uuid, `pm25`, a
password's check value); the GUI's 审计日志 and 修改历史 and `jzair audit log` show instead:
- the object by its name (月度数据, 清洁取暖, 用户 …) — `subject_label`;
- the record by what identifies it to a person (户主 with a masked 身份证号, 号牌号码, 企业名称, the indicator
  and month of a figure, a user's name), never a uuid — `record_text`, with `record_labels` reading the
  ledger records' names in one query per ledger;
- each field by its label from the column registry or the plan — `field_label`; each value as a person
  writes it (unit names, indicator names, 2020年11月) — `value_text`; a password only as 密码已修改;
- the changed fields — `change_text`; all of it for one entry — `describe`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, reference
from jzair_desktop.services import (
    air,
    air_targets,
    audit,
    installation,
    milestones,
    monthly,
    personal,
    targets,
)
from jzair_desktop.services.packages import keys as package_keys
from jzair_desktop.storage.models import LEDGER_MODELS

# The `ledger` column of entries that are not about a ledger record, as the services write them.
SUBJECT_FIGURES = monthly.AUDIT_FIGURES
SUBJECT_AIR = air.AUDIT_AIR
SUBJECT_AIR_TARGETS = air.AUDIT_AIR_TARGETS
SUBJECT_AIR_BASIS = air_targets.AUDIT_AIR_BASIS
SUBJECT_TARGETS = targets.AUDIT_SUBJECT
SUBJECT_MILESTONES = milestones.AUDIT_SUBJECT
SUBJECT_PACKAGES = package_keys.AUDIT_SUBJECT
SUBJECT_INSTALLATION = installation.SUBJECT

SUBJECTS: dict[str, str] = {
    **{k: d.title for k, d in LEDGERS.items()},
    audit.SUBJECT_USER: "用户",
    audit.SUBJECT_SUBMISSION: "月度上报",
    SUBJECT_FIGURES: "月度数据",
    SUBJECT_AIR: "空气质量",
    SUBJECT_AIR_TARGETS: "空气质量目标",
    SUBJECT_AIR_BASIS: "空气质量档次和基准",
    SUBJECT_TARGETS: "任务目标",
    SUBJECT_MILESTONES: "节点任务",
    SUBJECT_PACKAGES: "报送包",
    SUBJECT_INSTALLATION: "本机设置",
}

PASSWORD_KEY = "password"
PASSWORD_CHANGED = "密码已修改"
COMMON_FIELDS = {"unit_code": "县（区、市）", "updated_at": "修改时间", "updated_by": "修改人", "month": "月份"}
FIELDS: dict[str, dict[str, str]] = {
    SUBJECT_FIGURES: {"indicator": "指标", "value": "数值"},
    SUBJECT_AIR: {"area": "区域", "pm25": "PM2.5 月均浓度（微克/立方米）", "heavy_days": "重污染天数"},
    SUBJECT_AIR_TARGETS: {"area": "区域", "first_month": "起始月份", "last_month": "结束月份",
                          "pm25_max": "PM2.5 目标上限（微克/立方米）", "heavy_days_max": "重污染天数目标上限"},
    SUBJECT_AIR_BASIS: {"grade": "档次", "baselines": "2019年同期基准", "limits": "推算的目标"},
    SUBJECT_TARGETS: {"indicator": "指标", "value": "目标值"},
    SUBJECT_MILESTONES: {"done_date": "完成日期", "evidence": "完成依据"},
    SUBJECT_PACKAGES: {"sequence": "序号", "manifest_sha256": "清单校验值（SHA-256）", "fingerprint": "公钥指纹",
                       "scope": "单位", "counts": "记录数"},
    SUBJECT_INSTALLATION: {"unit": "单位", "admin": "管理员", "fingerprint": "公钥指纹"},
    audit.SUBJECT_USER: {PASSWORD_KEY: "密码"},
}
# The second thing that tells records of a ledger apart, beside its label field (户主 → 身份证号).
_SECOND = {"heating": "id_number", "boilers": "boiler_no", "kilns": "category", "vocs": "category"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def subject_label(ledger: str | None) -> str:
    if not ledger:
        return ""
    return SUBJECTS.get(ledger, "其他")


def month_text(text: str) -> str:
    """2020-11 → 2020年11月 (other text unchanged)."""
    m = _MONTH.match(str(text))
    return f"{m.group(1)}年{int(m.group(2))}月" if m else str(text)


def unit_text(code: str | None) -> str:
    if not code:
        return ""
    if code in (CITY_CODE, CITY_NAME):
        return CITY_NAME
    unit = reference().find_unit(str(code))
    return unit.name if unit else str(code)


def indicator_text(key: str) -> str:
    try:
        return reference().indicator(key).name
    except (KeyError, LookupError):
        return "（已不在计划中的指标）"


def record_label(ledger_key: str, values: Mapping[str, Any]) -> str:
    """A ledger record as a person knows it: 户主 张三（1407**********0554）, 号牌号码 晋K12345, 企业名称 …"""
    d = LEDGERS.get(ledger_key)
    if d is None:
        return ""
    label = str(values.get(d.label_field) or "").strip()
    second = _SECOND.get(ledger_key)
    extra = values.get(second) if second else None
    if extra not in (None, ""):
        extra = personal.mask(second, extra)
        return f"{label}（{extra}）" if label else str(extra)
    return label


def record_labels(db: Any, rows: Iterable[audit.AuditRow]) -> dict[tuple[str, str], str]:
    """{(ledger, uuid): label} of the ledger records the entries name (deleted ones too), one query per ledger."""
    from jzair_desktop.storage.engine import read_session

    wanted: dict[str, set[str]] = {}
    for r in rows:
        if r.ledger in LEDGERS and r.record_uuid:
            wanted.setdefault(r.ledger, set()).add(r.record_uuid)
    out: dict[tuple[str, str], str] = {}
    if not wanted:
        return out
    with read_session(db.engine) as s:
        for key, uuids in wanted.items():
            d, m = LEDGERS[key], LEDGER_MODELS[key]
            cols = [d.label_field, *([_SECOND[key]] if key in _SECOND else [])]
            ids = sorted(uuids)
            for i in range(0, len(ids), 500):
                stmt = select(m.uuid, *[getattr(m, c) for c in cols]).where(m.uuid.in_(ids[i:i + 500]))
                for uuid, *vals in s.execute(stmt):
                    out[(key, uuid)] = record_label(key, dict(zip(cols, vals, strict=True)))
    return out


def record_text(row: audit.AuditRow, labels: Mapping[tuple[str, str], str] | None = None) -> str:
    """What the entry is about, as a person names it; never a uuid."""
    ledger, key = row.ledger or "", row.record_uuid or ""
    if not key:
        return ""
    if ledger in LEDGERS:
        state = row.after if isinstance(row.after, dict) else row.before if isinstance(row.before, dict) else None
        if state and row.action != "evidence":
            text = record_label(ledger, state)
            if text:
                return text
        return (labels or {}).get((ledger, key), "（记录已不存在）")
    parts = key.split("@")
    if ledger == SUBJECT_FIGURES and len(parts) == 3:
        return f"{indicator_text(parts[0])} · {month_text(parts[2])}"
    if ledger in (SUBJECT_TARGETS, SUBJECT_MILESTONES) and len(parts) == 2:
        return indicator_text(parts[0])
    if ledger == SUBJECT_AIR and len(parts) == 2:
        return f"{unit_text(parts[0])} · {month_text(parts[1])}"
    if ledger == SUBJECT_AIR_TARGETS and len(parts) >= 2:
        months = "—".join(month_text(p) for p in parts[1:])
        return f"{unit_text(parts[0])} · {months}"
    if ledger == SUBJECT_AIR_BASIS:
        return unit_text(parts[0])
    if ledger == audit.SUBJECT_SUBMISSION:
        return _submission_text(row, key)
    if ledger == SUBJECT_PACKAGES:
        scope, _, seq = key.removeprefix("pin:").partition("#")
        who = "市级" if scope in (package_keys.SCOPE_CITY, "") else unit_text(scope)
        return f"{who}报送包公钥" if key.startswith("pin:") else f"{who}第 {seq} 号"
    if ledger == SUBJECT_INSTALLATION:
        return "市级" if key == installation.CITY else unit_text(key)
    if _UUID.match(key) or "@" in key or "#" in key:
        return ""
    return key  # a user's name


def _submission_text(row: audit.AuditRow, key: str) -> str:
    state = row.after if isinstance(row.after, dict) else row.before if isinstance(row.before, dict) else {}
    month = state.get("month") if isinstance(state, dict) else None
    version = state.get("version") if isinstance(state, dict) else None
    if month:
        return f"{month_text(month)}" + (f" 第 {version} 版" if version else "")
    return ""


def field_label(ledger: str | None, action: str, key: str) -> str:
    """The Chinese name of a key of an entry's state: the registry's header, the plan's names, or a label."""
    special = FIELDS.get(ledger or "", {})
    if key in special:
        return special[key]
    text = audit.field_label(ledger, action, key)
    if text != key:
        return text
    return COMMON_FIELDS.get(key, "其他")


def value_text(ledger: str | None, key: str, value: Any, *, mask_personal: bool = False) -> str:
    """A state value as a person reads it (no codes, no password check values)."""
    if value is None:
        return ""
    if key == PASSWORD_KEY:
        return "（不显示）"
    if key == "indicator" and isinstance(value, str):
        return indicator_text(value)
    if key in ("month", "first_month", "last_month") and isinstance(value, str):
        return month_text(value)
    if key in ("area", "unit", "unit_code") and isinstance(value, str):
        return unit_text(value) if value != "city" else "市级"
    if key in ("baselines", "limits") and isinstance(value, dict):
        return "；".join(f"{month_text(m)}：PM2.5 {_num(v[0])}，重污染 {_num(v[1])} 天"
                        for m, v in sorted(value.items()) if isinstance(v, list | tuple) and len(v) == 2)
    if key == "counts" and isinstance(value, dict):
        return "；".join(f"{subject_label(k)} {v}" if not isinstance(v, dict) else f"{subject_label(k)}"
                        for k, v in value.items())
    text = audit.display_value(ledger, key, value, mask_personal=mask_personal)
    if _STAMP.match(text):
        return text[:19]  # to the second, as everywhere else
    return text


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+$")


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def changed_keys(row: audit.AuditRow) -> list[str]:
    if not isinstance(row.before, dict) or not isinstance(row.after, dict):
        return []
    return audit.changed_fields(row.before, row.after)


def change_text(row: audit.AuditRow) -> str:
    """改动：状态、完成日期 — a password change as 密码已修改."""
    keys = changed_keys(row)
    names = [field_label(row.ledger, row.action, k) for k in keys if k != PASSWORD_KEY]
    parts = [PASSWORD_CHANGED] if PASSWORD_KEY in keys else []
    if names:
        parts.insert(0, "改动：" + "、".join(names))
    return "；".join(parts)


def detail_rows(row: audit.AuditRow, *, mask_personal: bool) -> list[tuple[str, str, str, bool]]:
    """(field, before, after, changed) for the entry's detail table; a password as 已修改, never its value."""
    before = row.before if isinstance(row.before, dict) else {}
    after = row.after if isinstance(row.after, dict) else {}
    out = []
    for k, changed in audit.diff_keys(row.ledger, before, after):
        if k == PASSWORD_KEY:
            if changed:
                out.append(("密码", "", "已修改", True))
            continue
        out.append((field_label(row.ledger, row.action, k),
                    value_text(row.ledger, k, before.get(k), mask_personal=mask_personal),
                    value_text(row.ledger, k, after.get(k), mask_personal=mask_personal), changed))
    return out


@dataclass(frozen=True, slots=True)
class EntryText:
    subject: str  # 月度数据
    record: str  # 铁路货运量较2017年增加 · 2020年11月
    unit: str  # 太谷区
    note: str  # the entry's detail and what changed


def describe(row: audit.AuditRow, labels: Mapping[tuple[str, str], str] | None = None) -> EntryText:
    note = "；".join(p for p in (row.detail, change_text(row)) if p)
    unit = unit_text(row.unit_code)
    if not unit and CITY_CODE in (row.record_uuid or "").split("@"):
        unit = CITY_NAME  # a city-level figure, target or milestone
    return EntryText(subject_label(row.ledger), record_text(row, labels), unit, note)
