"""audit verify / audit log."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext, ledger_key_arg
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.validation import parse_date
from jzair_desktop.errors import JzairError
from jzair_desktop.services import audit, audit_anchor, audit_text, personal
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import VerifyReport, baseline, verify

VERIFY_FAILED_EXIT = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="审计记录：校验完整性、查看记录")
    asub = p.add_subparsers(dest="audit_command", metavar="子命令", required=True, parser_class=type(p))

    q = asub.add_parser(
        "verify", help="校验审计记录链，并核对各台账记录与其最新审计状态是否一致",
        description="发现在程序之外对数据库的改动时以非零状态退出，并指出第一条被破坏的审计记录或被改动的记录。",
    )
    q.add_argument("--against", action="append", default=[], metavar="FILE",
                   help="再核对审计链是否仍包含该文件记录的审计链位置：本机导出的报送包（.jzpkg）、备份（.jzbak）"
                        "或月报 PDF；可重复使用")
    q.add_argument("--head", action="append", default=[], metavar="TEXT",
                   help="再核对纸质月报页脚上的审计链指纹，如“审计链 #67,419 · 3F2A1B7C…D45E9C01”；可重复使用")
    q.set_defaults(handler=cmd_verify)

    q = asub.add_parser(
        "baseline", help="重新登记审计起点（市级管理员；须填写原因，本身记入审计记录）",
        description="把没有审计记录的台账记录按现状登记为初始状态，并恢复启用审计的标记。只在审计校验报告"
                    "“启用审计的标记缺失”或数据库来自启用审计之前的版本时使用；程序不会自动重新登记。",
    )
    q.add_argument("--reason", required=True, metavar="原因", help="为什么重新登记（记入审计记录）")
    q.set_defaults(handler=cmd_baseline)

    q = asub.add_parser("log", help="查看审计记录（最新的在前）")
    q.add_argument("--record", metavar="UUID", help="只看某条记录的历史（记录编号）")
    q.add_argument("--user", dest="by_user", metavar="NAME", help="只看某个用户的操作")
    q.add_argument("--since", metavar="DATE", help="从该日期起，如 2020-11-01")
    q.add_argument("--until", metavar="DATE", help="到该日期为止（含）")
    q.add_argument("--action", choices=tuple(audit.ACTIONS), metavar="ACTION",
                   help="只看某种操作：" + "、".join(f"{k}（{v}）" for k, v in audit.ACTIONS.items()))
    q.add_argument("--ledger", type=ledger_key_arg(), metavar="LEDGER",
                   help="只看某个台账（中文名称或英文代码）：" + "、".join(f"{d.title}（{k}）" for k, d in LEDGERS.items()))
    q.add_argument("--limit", type=int, default=200, metavar="N", help="最多显示 N 条（默认 200；0 为不限）")
    q.add_argument("--json", action="store_true",
                   help="以 JSON 输出（含修改前后的值；身份证号只对用 --user 登录且有权查看的用户完整显示）")
    q.set_defaults(handler=cmd_log)


def _anchors(args: argparse.Namespace) -> list[audit_anchor.Anchor]:
    anchors = [audit_anchor.read_anchor(path) for path in args.against]
    for text in args.head:
        head = audit_anchor.parse_short(text)
        if head is None:
            raise JzairError(f"无法识别审计链指纹：“{text}”，应如“审计链 #67,419 · 3F2A1B7C…D45E9C01”。")
        anchors.append(audit_anchor.Anchor(head, f"纸质月报上的审计链指纹（{head.short}）"))
    return anchors


def print_report(report: VerifyReport) -> int:
    if report.ok:
        head = report.head.short if report.head else ""
        print(f"审计记录完整：共 {report.entries:,} 条审计记录，链条连续且校验值一致（{head}）；"
              f"{report.records:,} 条台账记录和 {report.rows:,} 行月度数据、空气质量、任务目标均与其最新审计状态一致。")
        for anchor in report.anchors:
            print(f"  · 与{anchor.source}记录的审计链位置（{anchor.head.short}）一致。")
        return 0
    first = report.first
    print(f"错误：审计校验未通过，发现 {len(report.findings)}{'+' if report.truncated else ''} 处问题。")
    print(f"第一处：{first.message}")
    for f in report.findings[1:20]:
        print(f"  · {f.message}")
    if len(report.findings) > 20:
        print(f"  · ……另有 {len(report.findings) - 20} 处")
    return VERIFY_FAILED_EXIT


def cmd_verify(ctx: CliContext, args: argparse.Namespace) -> int:
    anchors = _anchors(args)
    db = ctx.open(upgrade=False)  # reads only: no migration, no baseline
    ctx.actor()  # its messages name records: a login once the database has accounts
    return print_report(verify(db, against=anchors))


def cmd_baseline(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    n = baseline(db, ctx.actor(), args.reason)
    print(f"已重新登记审计起点：{n} 条没有审计记录的台账记录按现状登记为初始状态；此操作已记入审计记录。")
    return 0


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


def _masked(state: object, mask: bool) -> object:
    """A state for the JSON output: personal fields masked unless the user may read them; never a password's
    check value."""
    if not isinstance(state, dict):
        return state
    out = {k: (personal.mask(k, v) if mask and k in personal.PERSONAL_KEYS else v) for k, v in state.items()}
    if audit_text.PASSWORD_KEY in out:
        out[audit_text.PASSWORD_KEY] = None
    return out


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
    labels = audit_text.record_labels(db, rows)
    if args.json:
        out = []
        for r in rows:
            text = audit_text.describe(r, labels)
            out.append({
                "seq": r.seq, "at": r.at.isoformat(sep=" ", timespec="seconds"), "user": r.user_name, "role": r.role,
                "action": r.action, "action_label": r.action_label, "ledger": r.ledger, "subject": text.subject,
                "record": r.record_uuid, "record_label": text.record, "unit_code": r.unit_code, "unit": text.unit,
                "before": _masked(r.before, mask), "after": _masked(r.after, mask), "detail": r.detail,
                "note": text.note,
            })
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("没有符合条件的审计记录。")
        return 0
    table = []
    for r in rows:
        text = audit_text.describe(r, labels)
        table.append((r.seq, f"{r.at:%Y-%m-%d %H:%M:%S}", r.user_name, r.action_label, text.subject,
                      text.record, text.unit, text.note))
    print(textable.render(["序号", "时间", "用户", "操作", "对象", "记录", "县（区、市）", "说明"], table, numeric=(0,)))
    if args.limit and len(rows) == args.limit:
        print(f"（只显示最新的 {args.limit} 条；用 --limit 0 显示全部）")
    return 0
