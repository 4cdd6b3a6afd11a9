"""audit verify / audit log."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.validation import parse_date
from jzair_desktop.errors import JzairError
from jzair_desktop.services import audit, personal
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.guards import unit_name

VERIFY_FAILED_EXIT = 5
SUBJECT_LABELS = {audit.SUBJECT_USER: "用户", audit.SUBJECT_SUBMISSION: "上报", "installation": "本机设置"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="审计记录：校验完整性、查看记录")
    asub = p.add_subparsers(dest="audit_command", metavar="子命令", required=True, parser_class=type(p))

    q = asub.add_parser(
        "verify", help="校验审计记录链，并核对各台账记录与其最新审计状态是否一致",
        description="发现在程序之外对数据库的改动时以非零状态退出，并指出第一条被破坏的审计记录或被改动的记录。",
    )
    q.set_defaults(handler=cmd_verify)

    q = asub.add_parser("log", help="查看审计记录（最新的在前）")
    q.add_argument("--record", metavar="UUID", help="只看某条记录的历史（记录编号）")
    q.add_argument("--user", dest="by_user", metavar="NAME", help="只看某个用户的操作")
    q.add_argument("--since", metavar="DATE", help="从该日期起，如 2020-11-01")
    q.add_argument("--until", metavar="DATE", help="到该日期为止（含）")
    q.add_argument("--action", choices=tuple(audit.ACTIONS), metavar="ACTION",
                   help="只看某种操作：" + "、".join(f"{k}（{v}）" for k, v in audit.ACTIONS.items()))
    q.add_argument("--ledger", choices=tuple(LEDGERS), metavar="LEDGER", help="只看某个台账")
    q.add_argument("--limit", type=int, default=200, metavar="N", help="最多显示 N 条（默认 200；0 为不限）")
    q.add_argument("--json", action="store_true",
                   help="以 JSON 输出（含修改前后的值；身份证号只对用 --user 登录且有权查看的用户完整显示）")
    q.set_defaults(handler=cmd_log)


def cmd_verify(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    ctx.actor()  # its messages name records: a login once the database has accounts
    report = verify(db)
    if report.ok:
        print(f"审计记录完整：共 {report.entries:,} 条审计记录，链条连续且校验值一致；"
              f"{report.records:,} 条台账记录均与其最新审计状态一致。")
        return 0
    first = report.first
    print(f"错误：审计校验未通过，发现 {len(report.findings)}{'+' if report.truncated else ''} 处问题。")
    print(f"第一处：{first.message}")
    for f in report.findings[1:20]:
        print(f"  · {f.message}")
    if len(report.findings) > 20:
        print(f"  · ……另有 {len(report.findings) - 20} 处")
    return VERIFY_FAILED_EXIT


def _date(text: str | None, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise JzairError(f"{what}不是有效的日期：“{text}”，应如 2020-11-01。")
    return day


def _subject(row: audit.AuditRow) -> str:
    if row.ledger in LEDGERS:
        return LEDGERS[row.ledger].title
    return SUBJECT_LABELS.get(row.ledger or "", row.ledger or "")


def _changes(row: audit.AuditRow) -> str:
    if not isinstance(row.before, dict) or not isinstance(row.after, dict):
        return ""
    keys = audit.changed_fields(row.before, row.after)
    return "改动：" + "、".join(audit.field_label(row.ledger, row.action, k) for k in keys) if keys else ""


def _masked(state: object, mask: bool) -> object:
    if mask and isinstance(state, dict):
        return {k: (personal.mask(k, v) if k in personal.PERSONAL_KEYS else v) for k, v in state.items()}
    return state


def cmd_log(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    q = audit.AuditQuery(
        record_uuid=args.record, user_name=args.by_user, action=args.action, ledger=args.ledger,
        since=_date(args.since, "--since"), until=_date(args.until, "--until"),
    )
    # Names, phones and remarks of every unit: a login once the database has accounts; reading it is audited.
    # Personal data (身份证号) in full only for a user with the right to see it.
    actor = ctx.actor()
    mask = actor == BUILTIN_ADMIN or not actor.can_see_personal_data  # never set up: masked, as before
    rows = audit.query_log(db, q, limit=args.limit or None, newest_first=True, actor=actor)
    audit.record_access(db, actor, "audit_read", f"查看审计记录 {len(rows)} 条")
    if args.json:
        print(json.dumps([
            {"seq": r.seq, "at": r.at.isoformat(sep=" ", timespec="seconds"), "user": r.user_name, "role": r.role,
             "action": r.action, "ledger": r.ledger, "record": r.record_uuid, "unit_code": r.unit_code,
             "before": _masked(r.before, mask), "after": _masked(r.after, mask), "detail": r.detail}
            for r in rows
        ], ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("没有符合条件的审计记录。")
        return 0
    table = []
    for r in rows:
        note = "；".join(p for p in (r.detail, _changes(r)) if p)
        table.append((r.seq, f"{r.at:%Y-%m-%d %H:%M:%S}", r.user_name, r.action_label, _subject(r),
                      r.record_uuid or "", unit_name(r.unit_code), note))
    print(textable.render(["序号", "时间", "用户", "操作", "对象", "记录", "县（区、市）", "说明"], table, numeric=(0,)))
    if args.limit and len(rows) == args.limit:
        print(f"（只显示最新的 {args.limit} 条；用 --limit 0 显示全部）")
    return 0
