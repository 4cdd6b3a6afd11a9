"""guide: the user guide (使用说明) as a PDF; for developers, its screenshots made anew from the real app."""

from __future__ import annotations

import argparse
from pathlib import Path

from jzair_desktop.cli.context import CliContext


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("guide", help="把使用说明输出为 PDF（可打印）")
    p.add_argument("--out", metavar="FILE.pdf", help="输出的 PDF 文件，如 使用说明.pdf")
    p.add_argument(
        "--screenshots", metavar="DIR",
        help="（开发用）用演示数据库在后台重新生成使用说明的截图，存入 DIR（通常是 resources/guide/images）",
    )
    p.set_defaults(handler=cmd_guide)


def cmd_guide(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.errors import JzairError

    if not args.out and not args.screenshots:
        raise JzairError("请用 --out 指定输出的 PDF 文件，例如：jzair guide --out 使用说明.pdf")
    if args.screenshots:
        from jzair_desktop.gui.guide_shots import make_screenshots

        written = make_screenshots(Path(args.screenshots))
        print(f"已生成 {len(written)} 张截图：{Path(args.screenshots)}")
    if args.out:
        from jzair_desktop.exchange.guide_doc import load_guide
        from jzair_desktop.exchange.pdf_guide import write_guide_pdf

        out = Path(args.out)
        if out.suffix.lower() != ".pdf":
            raise JzairError(f"输出文件应以 .pdf 结尾：{out}")
        pages = write_guide_pdf(load_guide(), out)
        print(f"已输出使用说明：{out}（共 {pages} 页）")
    return 0
