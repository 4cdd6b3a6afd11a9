"""Importing a county's package (报送包) on the city machine: decoding and checking its content, then the
plan of what changes, per ledger and table (see services.packages.importer for the whole procedure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from jzair_desktop.domain import months
from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import (
    ERROR,
    bad_number_in,
    check_record,
    loads_finite,
    rule_key,
)
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import air, audit, milestones, monthly, targets
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.audit_anchor import HEAD_KEY, Head, head_from_json
from jzair_desktop.services.packages.common import (
    AUDIT_TEXT,
    CONVERTERS,
    HEX64_RE,
    MAX_WARNINGS,
    Lines,
    Plan,
    bulk_insert,
    chunks,
    is_name,
    refuse,
    refuse_problems,
    typed,
)
from jzair_desktop.services.packages.export import BOOKKEEPING, TOMBSTONE_KEYS
from jzair_desktop.services.packages.keys import scope_name
from jzair_desktop.services.submission import SUBMITTED, UNLOCKED, submission_key, submission_state
from jzair_desktop.services.submission import parse_month as parse_plan_month
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityMonth,
    Closeout,
    Milestone,
    MonthlyFigure,
    MonthSubmission,
    PackageAuditEntry,
)
from jzair_desktop.taskstate import TaskState


class CountyJob:
    """Decode, plan and apply a county package."""

    def __init__(self, pkg: jzpkg.SignedPackage, actor: Actor) -> None:
        self.pkg = pkg
        self.actor = actor
        self._new_audit: list[dict[str, Any]] = []
        unit = reference().find_unit(pkg.unit_code or "")
        if unit is None or unit.code != pkg.unit_code:
            raise refuse(pkg, f"县（区、市）代码 {pkg.unit_code} 不是本市的县（区、市）。")
        self.unit = unit
        try:
            self.month = parse_plan_month(pkg.month)
        except JzairError as exc:
            raise refuse(pkg, exc.message) from None
        self.warnings: list[str] = []
        if pkg.manifest.get("unit_name") != unit.name:
            self.warnings.append(f"报送包中的单位名称“{pkg.manifest.get('unit_name')}”与本机的“{unit.name}”不同，按代码 {unit.code} 导入。")
        self.live: dict[str, dict[str, dict[str, Any]]] = {}
        self.dead: dict[str, dict[str, dict[str, Any]]] = {}
        self.closeouts: dict[str, dict[str, tuple[str, dt.datetime, str]]] = {}
        self.figures: dict[tuple[str, str], dict[str, Any]] = {}
        self.air: dict[str, dict[str, Any]] = {}
        # None: a package of an older version without milestones.jsonl (then the city's are left as they are)
        self.milestones: dict[str, dict[str, Any]] | None = None
        self.submissions: dict[tuple[str, int], dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        self.head: Head | None = None
        self.links: list[str] | None = None

    # -- 3. the content, without the database ----------------------------------------------------
    def decode(self, state: TaskState) -> None:
        today = dt.date.today()
        problems: list[str] = []
        unit_code = self.unit.code
        total = sum(len(self.pkg.rows(d.member)) for d in LEDGERS.values()) or 1
        done = 0
        for key, d in LEDGERS.items():
            lines = Lines(self.pkg, d.member)
            live: dict[str, dict[str, Any]] = {}
            dead: dict[str, dict[str, Any]] = {}
            record_keys = frozenset((*BOOKKEEPING, *d.keys))
            tombstone_keys = frozenset(TOMBSTONE_KEYS)
            converters = [(c.key, CONVERTERS[c.kind]) for c in d.columns]
            for n, obj in lines.items():
                done += 1
                if done % 2000 == 0:
                    state.progress(done, total, f"正在校验{d.title}记录（{done}/{total}）……")
                uid = lines.uuid(n, obj)
                if uid in live or uid in dead:
                    raise lines.error(n, f"记录编号 {uid} 重复出现。")
                if obj.keys() != record_keys:
                    if obj.keys() != tombstone_keys:
                        lines.keys(n, obj, tombstone_keys if "deleted_at" in obj else record_keys)
                    dead[uid] = {"deleted_at": lines.stamp(n, obj, "deleted_at"),
                                 "deleted_by": lines.text(n, obj, "deleted_by")}
                    continue
                try:
                    values = {k: convert(obj[k]) for k, convert in converters}
                except (TypeError, ValueError):
                    for c in d.columns:  # say which field
                        typed(lines, n, c.kind, c.key, obj[c.key])
                    raise  # pragma: no cover - typed raised above
                if values["unit_code"] != unit_code:
                    raise lines.error(n, f"记录 {uid} 属于县（区、市）代码 {values['unit_code']}，"
                                         f"不是报送包的单位 {self.unit.name}（{unit_code}）。")
                checked = check_record(d, values, today=today)
                if not checked.ok:
                    label = f"{d.column(d.label_field).header} {values.get(d.label_field) or ''}".strip()
                    for p in checked.errors:
                        problems.append(f"{lines.member} 第 {n} 行（{label}，编号 {uid}）：{p.text()}")
                created_by, updated_by = obj["created_by"], obj["updated_by"]
                if not (is_name(created_by) and is_name(updated_by)):
                    lines.text(n, obj, "created_by")
                    lines.text(n, obj, "updated_by")
                values["uuid"] = uid
                values["created_at"] = lines.stamp(n, obj, "created_at")
                values["created_by"] = created_by
                values["updated_at"] = lines.stamp(n, obj, "updated_at")
                values["updated_by"] = updated_by
                values["deleted_at"] = values["deleted_by"] = None
                live[uid] = values
            self.live[key], self.dead[key] = live, dead
        if problems:
            raise refuse_problems(self.pkg, "台账记录", problems)
        state.progress(total, total, "正在校验销号、月度数据、空气质量、节点任务、上报和审计记录……", force=True)
        self._decode_closeouts()
        self._decode_figures()
        self._decode_air()
        self._decode_milestones(today)
        self._decode_submissions()
        self._decode_audit()
        self._decode_chain()

    def _decode_chain(self) -> None:
        """The county's chain head (manifest) and links (audit_chain.jsonl): consecutive from 1, ending at the
        head, and every entry of audit.jsonl sitting on them. A package of an older version has neither."""
        raw = self.pkg.manifest.get(HEAD_KEY)
        has_member = jzpkg.CHAIN_MEMBER in self.pkg.members
        self.head, self.links = None, None
        if raw is None and not has_member:
            return
        head = head_from_json(raw)
        if head is None or not has_member:
            raise refuse(self.pkg, "清单中的审计链位置格式不正确，或缺少审计链文件 audit_chain.jsonl。")
        lines = Lines(self.pkg, jzpkg.CHAIN_MEMBER)
        links: list[str] = []
        for n, obj in lines.items():
            if obj.keys() != {"seq", "hash"}:
                lines.keys(n, obj, ("seq", "hash"))
            seq, digest = obj["seq"], obj["hash"]
            if type(seq) is not int or seq != len(links) + 1:
                raise lines.error(n, f"审计链的序号应为 {len(links) + 1}，不连续。")
            if type(digest) is not str or not HEX64_RE.match(digest):
                raise lines.error(n, "校验值格式不正确。")
            links.append(digest)
        if len(links) != head.seq or (links[-1] if links else audit.GENESIS) != head.hash:
            raise refuse(self.pkg, f"审计链文件的末尾（第 {len(links)} 条）与清单中的审计链位置（{head.short}）不符。")
        for e in self.audit:
            seq = e["seq"]
            prev = links[seq - 2] if 1 < seq <= len(links) + 1 else audit.GENESIS
            if not 1 <= seq <= len(links) or links[seq - 1] != e["hash"] or prev != e["prev_hash"]:
                raise refuse(self.pkg, f"县级审计记录第 {seq} 条不在报送包的审计链上（审计记录与审计链不一致）。")
        self.head, self.links = head, links

    def extends(self, last: Head) -> bool:
        """The package's chain holds `last` (the head received before) at its place."""
        links = self.links or []
        return last.seq == 0 or (last.seq <= len(links) and links[last.seq - 1] == last.hash)

    def supersede(self, s: Session, import_id: int) -> int:
        """After an accepted fork: the stored entries of the unit that are not on the new chain are marked
        (kept as evidence, never merged with the new history). Returns how many."""
        links = self.links or []
        t = PackageAuditEntry.__table__
        off = [i for i, seq, digest in s.execute(select(t.c.id, t.c.seq, t.c.hash).where(
            t.c.unit_code == self.unit.code, t.c.superseded_by.is_(None)))
            if not 1 <= seq <= len(links) or links[seq - 1] != digest]
        for chunk in chunks(off):
            s.execute(t.update().where(t.c.id.in_(chunk)).values(superseded_by=import_id))
        return len(off)

    def _decode_closeouts(self) -> None:
        lines = Lines(self.pkg, "closeouts.jsonl")
        self.closeouts = {k: {} for k in LEDGERS}
        for n, obj in lines.items():
            lines.keys(n, obj, ("ledger", "record_uuid", "reviewer", "closed_at", "closed_by"))
            key = obj.get("ledger")
            if key not in LEDGERS:
                raise lines.error(n, f"未知的台账 {str(key)[:20]}。")
            uid = lines.uuid(n, obj, "record_uuid")
            if uid not in self.live[key] and uid not in self.dead[key]:
                raise lines.error(n, f"销号记录所属的{LEDGERS[key].title}记录 {uid} 不在报送包中。")
            if uid in self.closeouts[key]:
                raise lines.error(n, f"记录 {uid} 的销号记录重复出现。")
            self.closeouts[key][uid] = (lines.text(n, obj, "reviewer"), lines.stamp(n, obj, "closed_at"),
                                        lines.text(n, obj, "closed_by"))

    def _decode_figures(self) -> None:
        lines = Lines(self.pkg, "monthly_figures.jsonl")
        ref = reference()
        allowed = monthly.monthly_indicators(ref)
        for n, obj in lines.items():
            lines.keys(n, obj, ("unit_code", "indicator", "month", "value", "updated_at", "updated_by"))
            if obj.get("unit_code") != self.unit.code:
                raise lines.error(n, f"月度数据属于 {str(obj.get('unit_code'))[:10]}，不是报送包的单位 {self.unit.code}。")
            try:
                ind = targets.resolve_indicator(lines.text(n, obj, "indicator"), allowed=allowed, ref=ref)
                month = months.parse_month(lines.text(n, obj, "month"), ref)
                value = monthly.check_figure_value(ind, self.unit.name, month, lines.number(n, obj, "value"))
            except PackageError:
                raise
            except JzairError as exc:
                raise lines.error(n, exc.message) from None
            if (ind.key, month) in self.figures:
                raise lines.error(n, f"{month}“{ind.name}”重复出现。")
            self.figures[(ind.key, month)] = {"value": value, "updated_at": lines.stamp(n, obj, "updated_at"),
                                              "updated_by": lines.text(n, obj, "updated_by")}

    def _decode_air(self) -> None:
        lines = Lines(self.pkg, "air_quality.jsonl")
        ref = reference()
        for n, obj in lines.items():
            lines.keys(n, obj, ("area", "month", "pm25", "heavy_days", "updated_at", "updated_by"))
            if obj.get("area") != self.unit.code:
                raise lines.error(n, f"空气质量数据属于 {str(obj.get('area'))[:10]}，不是报送包的单位 {self.unit.code}。")
            try:
                month = months.parse_month(lines.text(n, obj, "month"), ref)
                what = f"“{self.unit.name}”{month}"
                pm25 = lines.number(n, obj, "pm25", optional=True)
                heavy = lines.integer(n, obj, "heavy_days", optional=True)
                if pm25 is not None:
                    air.check_pm25(pm25, what)
                if heavy is not None:
                    air.check_heavy_days(heavy, what, month)
            except PackageError:
                raise
            except JzairError as exc:
                raise lines.error(n, exc.message) from None
            if month in self.air:
                raise lines.error(n, f"{month} 的空气质量重复出现。")
            self.air[month] = {"pm25": pm25, "heavy_days": heavy, "updated_at": lines.stamp(n, obj, "updated_at"),
                               "updated_by": lines.text(n, obj, "updated_by")}

    def _decode_milestones(self, today: dt.date) -> None:
        """The unit's milestones (节点任务), checked as services.milestones checks them when recorded."""
        if jzpkg.MILESTONES_MEMBER not in self.pkg.members:
            return
        lines = Lines(self.pkg, jzpkg.MILESTONES_MEMBER)
        ref = reference()
        found: dict[str, dict[str, Any]] = {}
        for n, obj in lines.items():
            lines.keys(n, obj, ("unit_code", "indicator", "done_date", "evidence", "updated_at", "updated_by"))
            if obj.get("unit_code") != self.unit.code:
                raise lines.error(n, f"节点任务属于 {str(obj.get('unit_code'))[:10]}，不是报送包的单位 "
                                     f"{self.unit.name}（{self.unit.code}）。")
            try:
                ind = milestones.unit_milestone(lines.text(n, obj, "indicator"), self.unit, ref)
                raw_day = lines.text(n, obj, "done_date", max_len=10)
                try:
                    if len(raw_day) != 10:
                        raise ValueError
                    day = dt.date.fromisoformat(raw_day)
                except ValueError:
                    raise lines.error(n, f"字段 done_date（完成日期）应为日期（如 2020-10-28），收到“{raw_day}”。") from None
                day = milestones.check_done_date(ind, self.unit, day, today=today)
                evidence = lines.text(n, obj, "evidence", max_len=milestones.EVIDENCE_MAX)
                if milestones.check_evidence(ind, self.unit, evidence) != evidence:
                    raise lines.error(n, f"“{ind.name}”的字段 evidence（完成依据）首尾有空白。")
            except PackageError:
                raise
            except JzairError as exc:
                raise lines.error(n, exc.message) from None
            if ind.key in found:
                raise lines.error(n, f"“{ind.name}”重复出现。")
            found[ind.key] = {"done_date": day, "evidence": evidence, "updated_at": lines.stamp(n, obj, "updated_at"),
                              "updated_by": lines.text(n, obj, "updated_by")}
        self.milestones = found

    def _decode_submissions(self) -> None:
        lines = Lines(self.pkg, "submissions.jsonl")
        for n, obj in lines.items():
            lines.keys(n, obj, ("unit_code", "month", "version", "status", "submitted_at", "submitted_by",
                                "figures_json", "unlocked_at", "unlocked_by", "unlock_reason"))
            if obj.get("unit_code") != self.unit.code:
                raise lines.error(n, f"上报记录属于 {str(obj.get('unit_code'))[:10]}，不是报送包的单位 {self.unit.code}。")
            try:
                month = parse_plan_month(lines.text(n, obj, "month"))
            except JzairError as exc:
                raise lines.error(n, exc.message) from None
            version = lines.integer(n, obj, "version")
            status = obj.get("status")
            if version < 1 or status not in (SUBMITTED, UNLOCKED):
                raise lines.error(n, "版本号或状态不正确。")
            figures_json = lines.text(n, obj, "figures_json", max_len=10_000_000)
            try:
                frozen = loads_finite(figures_json)
                if not isinstance(frozen, dict):
                    raise ValueError
            except ValueError:
                raise lines.error(n, "冻结的进度数据不是有效的 JSON 对象（或含有无穷大、非数字的数值）。") from None
            bad = bad_number_in(frozen)
            if bad is not None:
                raise lines.error(n, f"冻结的进度数据中 {bad[:60]} 的数值无效或大得不合理（无穷大、非数字或超过 10^12）。")
            key = (month, version)
            if key in self.submissions:
                raise lines.error(n, f"{month} 第 {version} 版上报重复出现。")
            self.submissions[key] = {
                "status": status, "submitted_at": lines.stamp(n, obj, "submitted_at"),
                "submitted_by": lines.text(n, obj, "submitted_by"), "figures_json": figures_json,
                "unlocked_at": lines.stamp(n, obj, "unlocked_at", optional=True),
                "unlocked_by": lines.text(n, obj, "unlocked_by", optional=True),
                "unlock_reason": lines.text(n, obj, "unlock_reason", optional=True, max_len=10_000),
            }

    def _decode_audit(self) -> None:
        """The county's audit entries of the unit; each entry's hash is recomputed (services.audit.entry_hash)."""
        lines = Lines(self.pkg, "audit.jsonl")
        fields = frozenset(("seq", "at", "user_name", "role", "action", "ledger", "record_uuid", "unit_code",
                            "before_json", "after_json", "detail", "prev_hash", "hash"))
        unit_code = self.unit.code
        required = [(k, m) for k, m, may_be_null in AUDIT_TEXT if not may_be_null]
        optional = [(k, m) for k, m, may_be_null in AUDIT_TEXT if may_be_null]
        seen: set[str] = set()
        for n, obj in lines.items():
            if obj.keys() != fields:
                lines.keys(n, obj, fields)
            if obj["unit_code"] != unit_code:
                raise lines.error(n, f"审计记录属于 {str(obj['unit_code'])[:10]}，不是报送包的单位 {unit_code}。")
            seq, at_text, prev, digest = obj["seq"], obj["at"], obj["prev_hash"], obj["hash"]
            if not (type(seq) is int and all(type(obj[k]) is str and 0 < len(obj[k]) <= m for k, m in required)
                    and all(obj[k] is None or (type(obj[k]) is str and len(obj[k]) <= m) for k, m in optional)):
                lines.integer(n, obj, "seq")  # the exact field and reason
                for key, limit, may_be_null in AUDIT_TEXT:
                    lines.text(n, obj, key, optional=may_be_null, max_len=limit)
            at = lines.stamp(n, obj, "at")
            if not (HEX64_RE.match(prev) and HEX64_RE.match(digest)):
                raise lines.error(n, "校验值格式不正确。")
            expected = audit.entry_hash(prev, seq, at, obj["user_name"], obj["role"], obj["action"], obj["ledger"],
                                        obj["record_uuid"], unit_code, obj["before_json"], obj["after_json"],
                                        obj["detail"])
            if audit.format_at(at) != at_text or expected != digest:
                raise lines.error(n, f"县级审计记录第 {seq} 条的内容与其校验值不符（审计记录在县里已被改动）。")
            if digest in seen:
                raise lines.error(n, f"县级审计记录第 {seq} 条重复出现。")
            seen.add(digest)
            entry = {k: obj[k] for k in fields if k != "unit_code"}
            entry["at"] = at
            self.audit.append(entry)

    # -- 3b and 4: against this database -----------------------------------------------------------
    def plan(self, s: Session, state: TaskState, *, for_write: bool) -> Plan:
        plan = Plan(warnings=list(self.warnings))
        for n, (key, d) in enumerate(LEDGERS.items()):
            state.progress(n, len(LEDGERS), f"正在比对{d.title}记录……", force=True)
            self._plan_ledger(s, plan, key, d, for_write)
        self._duplicates(s, plan)
        self._plan_figures(s, plan)
        self._plan_air(s, plan)
        self._plan_milestones(s, plan)
        self._plan_submissions(s, plan)
        self._plan_audit(s, plan)
        return plan

    def _plan_ledger(self, s: Session, plan: Plan, key: str, d: LedgerDef, for_write: bool) -> None:
        table = LEDGER_MODELS[key].__table__
        cols = [c.name for c in table.columns if c.name != "id"]
        unit = self.unit.code
        existing = {r["uuid"]: r for r in s.execute(
            select(*[table.c[c] for c in cols]).where(table.c.unit_code == unit)).mappings()}
        live, dead = self.live[key], self.dead[key]
        strangers = [u for u in (*live, *dead) if u not in existing]
        for chunk in chunks(strangers):
            hit = s.execute(select(table.c.uuid, table.c.unit_code).where(table.c.uuid.in_(chunk)).limit(1)).first()
            if hit is not None:
                raise refuse(self.pkg, f"{d.title}记录 {hit[0]} 在本机属于{scope_name(hit[1])}，"
                                        f"{self.unit.name}的报送包不能改动它。")
        have_close = {
            u: (r, at, b) for u, r, at, b in s.execute(
                select(Closeout.record_uuid, Closeout.reviewer, Closeout.closed_at, Closeout.closed_by)
                .where(Closeout.ledger == key,
                       Closeout.record_uuid.in_(select(table.c.uuid).where(table.c.unit_code == unit))))
        }
        want_close = self.closeouts[key]
        change = plan.change(key)
        close_change = plan.change("closeouts")
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        tombstones: list[dict[str, Any]] = []
        close_put: list[dict[str, Any]] = []
        close_drop: list[str] = []
        pending = plan.pending
        detail = f"{self.unit.name}报送包第 {self.pkg.sequence} 号"

        def state_of(row: Mapping[str, Any], closeout: tuple | None, deleted_at: Any) -> dict[str, Any]:
            return audit.record_state(d, row, deleted_at=deleted_at,
                                      closeout=(closeout[0], closeout[2]) if closeout else None)

        def closeout_to(uid: str) -> bool:
            """Queue the close-out change of a record; True when it changes."""
            want, have = want_close.get(uid), have_close.get(uid)
            if want == have:
                if want is not None:
                    close_change.unchanged += 1
                return False
            if have is not None:
                close_drop.append(uid)
            if want is not None:
                close_put.append({"ledger": key, "record_uuid": uid, "reviewer": want[0], "closed_at": want[1],
                                  "closed_by": want[2]})
            if have is None:
                close_change.new += 1
            elif want is None:
                close_change.deleted += 1
            else:
                close_change.changed += 1
            return True

        for uid, row in live.items():
            cur = existing.get(uid)
            if cur is None:
                inserts.append(row)
                closeout_to(uid)
                change.new += 1
                if for_write:
                    pending.append(audit.Pending(key, uid, unit, None, state_of(row, want_close.get(uid), None),
                                                 detail, "create"))
                continue
            same_row = all(cur[c] == row[c] for c in cols)
            close_changed = closeout_to(uid)
            if same_row and not close_changed:
                change.unchanged += 1
                continue
            change.changed += 1
            if not same_row:
                updates.append(row)
            if for_write:
                action = "restore" if cur["deleted_at"] is not None else "update"
                pending.append(audit.Pending(
                    key, uid, unit, state_of(cur, have_close.get(uid), cur["deleted_at"]),
                    state_of(row, want_close.get(uid), None), detail, action))
        for uid, t in dead.items():
            cur = existing.get(uid)
            if cur is None:
                change.unchanged += 1  # deleted before the city ever saw it: nothing to do
                continue
            same = cur["deleted_at"] == t["deleted_at"] and cur["deleted_by"] == t["deleted_by"]
            close_changed = closeout_to(uid)
            if same and not close_changed:
                change.unchanged += 1
                continue
            if cur["deleted_at"] is None:
                change.deleted += 1
            else:
                change.changed += 1
            if not same:
                tombstones.append({"b_uuid": uid, "deleted_at": t["deleted_at"], "deleted_by": t["deleted_by"]})
            if for_write:
                pending.append(audit.Pending(
                    key, uid, unit, state_of(cur, have_close.get(uid), cur["deleted_at"]),
                    state_of({**cur, "deleted_by": t["deleted_by"]}, want_close.get(uid), t["deleted_at"]), detail,
                    "delete"))

        def apply(s: Session) -> None:
            bulk_insert(s, table, inserts)
            if updates:
                stmt = table.update().where(table.c.uuid == bindparam("b_uuid"))
                params = [{**{c: r[c] for c in cols if c != "uuid"}, "b_uuid": r["uuid"]} for r in updates]
                for i in range(0, len(params), 5000):
                    s.execute(stmt, params[i:i + 5000])
            if tombstones:
                stmt = table.update().where(table.c.uuid == bindparam("b_uuid"))
                s.execute(stmt, tombstones)
            ct = Closeout.__table__
            for chunk in chunks(close_drop):
                s.execute(delete(ct).where(ct.c.ledger == key, ct.c.record_uuid.in_(chunk)))
            if close_put:
                s.execute(ct.insert(), close_put)

        plan.apply.append(apply)

    def _duplicates(self, s: Session, plan: Plan) -> None:
        """Records that duplicate another unit's live record here (a truck eliminated twice …): warnings."""
        unit = self.unit.code
        found = 0
        for key, d in LEDGERS.items():
            live = self.live[key]
            if not live:
                continue
            table = LEDGER_MODELS[key].__table__
            for rule in d.duplicate_rules:
                if rule.severity != ERROR:
                    continue
                cols = [table.c[f] for f in rule.fields]
                others = {tuple(r[1:]): r[0] for r in s.execute(
                    select(table.c.unit_code, *cols).where(table.c.unit_code != unit, table.c.deleted_at.is_(None)))}
                for row in live.values():
                    k = rule_key(rule, row)
                    if k is None or k not in others:
                        continue
                    found += 1
                    if found <= MAX_WARNINGS:
                        label = f"{d.column(d.label_field).header} {row.get(d.label_field) or ''}".strip()
                        plan.warnings.append(f"{d.title}“{label}”与{scope_name(others[k])}的记录重复（{rule.describe}），请核实。")
        if found > MAX_WARNINGS:
            plan.warnings.append(f"……与其他县（区、市）重复的记录共 {found} 条。")

    def _plan_figures(self, s: Session, plan: Plan) -> None:
        unit = self.unit.code
        ref = reference()
        change = plan.change("monthly_figures")
        have = {(r.indicator_key, r.month): r for r in s.scalars(select(MonthlyFigure).where(MonthlyFigure.unit_code == unit))}
        ops: list[tuple[tuple[str, str], dict[str, Any] | None]] = change.mirror(
            have, self.figures,
            lambda row, want: (row.value, row.updated_at, row.updated_by) == (
                want["value"], want["updated_at"], want["updated_by"]),
        )

        def apply(s: Session) -> None:
            for (ind_key, month), want in ops:
                row = s.get(MonthlyFigure, (unit, ind_key, month))
                old = row.value if row is not None else None
                old_meta = audit.row_bookkeeping(row)
                if want is None:
                    s.delete(row)
                else:
                    if row is None:
                        row = MonthlyFigure(unit_code=unit, indicator_key=ind_key, month=month)
                        s.add(row)
                    row.value, row.updated_at, row.updated_by = want["value"], want["updated_at"], want["updated_by"]
                state = {"unit_code": unit, "indicator": ind_key, "month": month}
                new = None if want is None else want["value"]
                plan.pending.append(audit.Pending(
                    monthly.AUDIT_FIGURES, f"{ind_key}@{unit}@{month}", unit,
                    None if old is None else {**state, "value": old, **old_meta},
                    None if new is None else {**state, "value": new, **audit.row_bookkeeping(row)},
                    f"{self.unit.name} {month}“{ref.indicator(ind_key).name}”：{targets.format_number(old, missing='空')} → "
                    f"{targets.format_number(new, missing='空')}（报送包第 {self.pkg.sequence} 号）",
                    "create" if old is None else ("delete" if new is None else "update"),
                ))

        plan.apply.append(apply)

    def _plan_air(self, s: Session, plan: Plan) -> None:
        unit = self.unit.code
        change = plan.change("air_quality")
        have = {r.month: r for r in s.scalars(select(AirQualityMonth).where(AirQualityMonth.area == unit))}
        ops: list[tuple[str, dict[str, Any] | None]] = change.mirror(
            have, self.air,
            lambda row, want: (row.pm25, row.heavy_days, row.updated_at, row.updated_by) == (
                want["pm25"], want["heavy_days"], want["updated_at"], want["updated_by"]),
        )

        def apply(s: Session) -> None:
            for month, want in ops:
                row = s.get(AirQualityMonth, (unit, month))
                before = None if row is None else {"area": unit, "month": month, "pm25": row.pm25,
                                                   "heavy_days": row.heavy_days, **audit.row_bookkeeping(row)}
                if want is None:
                    s.delete(row)
                    after = None
                else:
                    if row is None:
                        row = AirQualityMonth(area=unit, month=month)
                        s.add(row)
                    row.pm25, row.heavy_days = want["pm25"], want["heavy_days"]
                    row.updated_at, row.updated_by = want["updated_at"], want["updated_by"]
                    after = {"area": unit, "month": month, "pm25": row.pm25, "heavy_days": row.heavy_days,
                             **audit.row_bookkeeping(row)}
                plan.pending.append(audit.Pending(
                    air.AUDIT_AIR, f"{unit}@{month}", unit, before, after,
                    f"{self.unit.name} {month} 空气质量（报送包第 {self.pkg.sequence} 号）",
                    "create" if before is None else ("delete" if after is None else "update")))

        plan.apply.append(apply)

    def _plan_milestones(self, s: Session, plan: Plan) -> None:
        """The unit's milestones made the package's (one it lacks was cleared at the county), each change
        audited under the subject and key services.milestones uses. Nothing for a package without them."""
        if self.milestones is None:
            return
        unit = self.unit.code
        names = {i.key: i.name for i in reference().indicators}
        change = plan.change("milestones")
        have = {r.indicator_key: r for r in s.scalars(select(Milestone).where(Milestone.unit_code == unit))}
        ops: list[tuple[str, dict[str, Any] | None]] = change.mirror(
            have, self.milestones,
            lambda row, want: (row.done_date, row.evidence, row.updated_at, row.updated_by) == (
                want["done_date"], want["evidence"], want["updated_at"], want["updated_by"]),
        )

        def apply(s: Session) -> None:
            for ind_key, want in ops:
                row = s.get(Milestone, (ind_key, unit))
                before = None if row is None else {"done_date": row.done_date.isoformat(), "evidence": row.evidence,
                                                   **audit.row_bookkeeping(row)}
                name = names.get(ind_key, ind_key)
                if want is None:
                    s.delete(row)
                    after = None
                    what = "完成记录已撤销"
                else:
                    if row is None:
                        row = Milestone(indicator_key=ind_key, unit_code=unit)
                        s.add(row)
                    row.done_date, row.evidence = want["done_date"], want["evidence"]
                    row.updated_at, row.updated_by = want["updated_at"], want["updated_by"]
                    after = {"done_date": row.done_date.isoformat(), "evidence": row.evidence,
                             **audit.row_bookkeeping(row)}
                    what = f"于 {row.done_date.isoformat()} 完成，依据：{row.evidence}"
                plan.pending.append(audit.Pending(
                    milestones.AUDIT_SUBJECT, f"{ind_key}@{unit}", unit, before, after,
                    f"{self.unit.name}“{name}”{what}（报送包第 {self.pkg.sequence} 号）",
                    "create" if before is None else ("delete" if after is None else "update")))

        plan.apply.append(apply)

    def _plan_submissions(self, s: Session, plan: Plan) -> None:
        unit = self.unit.code
        change = plan.change("submissions")
        have = {(r.month, r.version): r for r in s.scalars(select(MonthSubmission).where(MonthSubmission.unit_code == unit))}
        fields = ("status", "submitted_at", "submitted_by", "figures_json", "unlocked_at", "unlocked_by", "unlock_reason")
        ops: list[tuple[str, int]] = []
        for k, want in self.submissions.items():
            row = have.get(k)
            if row is None:
                change.new += 1
            elif all(getattr(row, f) == want[f] for f in fields):
                change.unchanged += 1
                continue
            else:
                change.changed += 1
            ops.append(k)

        def apply(s: Session) -> None:
            for month, version in ops:
                row = s.scalar(select(MonthSubmission).where(MonthSubmission.unit_code == unit,
                                                             MonthSubmission.month == month,
                                                             MonthSubmission.version == version))
                before = submission_state(row) if row is not None else None
                if row is None:
                    row = MonthSubmission(unit_code=unit, month=month, version=version)
                    s.add(row)
                for f in fields:
                    setattr(row, f, self.submissions[(month, version)][f])
                s.flush()
                plan.pending.append(audit.Pending(
                    audit.SUBJECT_SUBMISSION, submission_key(unit, month, version), unit, before, submission_state(row),
                    f"{self.unit.name} {month} 第 {version} 版上报（报送包第 {self.pkg.sequence} 号）", "import"))

        plan.apply.append(apply)

    def _plan_audit(self, s: Session, plan: Plan) -> None:
        unit = self.unit.code
        change = plan.change("audit")
        have = set(s.scalars(select(PackageAuditEntry.hash).where(PackageAuditEntry.unit_code == unit)))
        self._new_audit = [e for e in self.audit if e["hash"] not in have]
        change.new = len(self._new_audit)
        change.unchanged = len(self.audit) - change.new

    def store_audit(self, s: Session, import_id: int) -> None:
        rows = [{**e, "unit_code": self.unit.code, "import_id": import_id} for e in self._new_audit]
        bulk_insert(s, PackageAuditEntry.__table__, rows)

