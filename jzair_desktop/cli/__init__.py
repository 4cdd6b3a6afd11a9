"""The command line: `jzair [全局选项] 命令 …`. Thin over the services; no Qt unless a window is opened."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import traceback

from jzair_desktop import __version__
from jzair_desktop.errors import JzairError
from jzair_desktop.log import setup_logging

log = logging.getLogger(__name__)

# Each module has `register(subparsers)`; its parsers set `handler=func(ctx, args) -> int`.
COMMAND_MODULES = (
    "jzair_desktop.cli.basic",
    "jzair_desktop.cli.setup",
    "jzair_desktop.cli.backup",
    "jzair_desktop.cli.dbcopy",
    "jzair_desktop.cli.progress",
    "jzair_desktop.cli.excel",
    "jzair_desktop.cli.accounts",
    "jzair_desktop.cli.audit",
    "jzair_desktop.cli.submission",
    "jzair_desktop.cli.report",
    "jzair_desktop.cli.package",
    "jzair_desktop.cli.guide",
)


_HELP_WORDS = (
    ("usage: ", "用法："),
    ("positional arguments:", "位置参数："),
    ("options:", "选项："),
    ("optional arguments:", "选项："),
    ("show this help message and exit", "显示帮助并退出"),
)


def _chinese(text: str) -> str:
    for english, chinese in _HELP_WORDS:
        text = text.replace(english, chinese)
    # Section headings ("可用命令:") end with a full-width colon like the rest.
    return re.sub(r"(?m)^(\S[^\n]*):$", r"\1：", text)


class _Parser(argparse.ArgumentParser):
    """argparse with its own words (usage, options, -h, errors) in Chinese, for every command's parser."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        if add_help:
            self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def format_usage(self) -> str:
        return _chinese(super().format_usage())

    def format_help(self) -> str:
        return _chinese(super().format_help())

    def error(self, message: str) -> None:  # argparse's own messages are English
        self.print_usage(sys.stderr)
        text = (
            message.replace("the following arguments are required", "缺少必需的参数")
            .replace("unrecognized arguments", "无法识别的参数")
            .replace("invalid choice", "无效的选项")
            .replace("argument ", "参数 ")
            .replace("expected one argument", "需要一个值")
            .replace("choose from", "可选")
        )
        self.exit(2, f"错误：{text}\n")


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line; without commands only the global options (no command module imported)."""
    parser = _Parser(
        prog="jzair",
        description="晋中市秋冬季大气污染综合治理攻坚行动台账（离线桌面版）。不带命令时打开主窗口。",
        add_help=False,
        exit_on_error=with_commands,
    )
    if with_commands:
        parser.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    parser.add_argument("--version", action="version", version=f"jzair_desktop {__version__}", help="显示版本号")
    parser.add_argument("--db", metavar="PATH", help="数据库文件（默认：用户数据文件夹；也可用环境变量 JZAIR_DB）")
    parser.add_argument("--db-url", metavar="URL", help="PostgreSQL 服务器上的数据库（服务器模式），如 postgresql+psycopg://用户名:密码@服务器:5432/数据库名；优先于 --db")
    parser.add_argument("--user", metavar="NAME", help="以该用户身份操作（密码取自 JZAIR_PASSWORD 或提示输入）")
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(title="可用命令", dest="command", metavar="命令", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Global options alone (open the window, --version) need none of the command modules, whose imports
    (SQLAlchemy, openpyxl, reportlab, ...) would slow the start of the window; anything else gets the full parser."""
    try:
        globals_only, rest = build_parser(with_commands=False).parse_known_args(argv)
    except argparse.ArgumentError:
        rest = argv  # let the full parser report it
    if not rest and not {"-h", "--help"} & set(argv):
        return globals_only
    return build_parser().parse_args(argv)


def output_encoding(encoding: str | None, *, interactive: bool) -> str | None:
    """The encoding the command line writes its output in, or None to keep the stream's own.

    A console (Windows: Python writes UTF-16 to it; elsewhere a terminal) keeps its encoding. Output into a pipe
    or a file keeps the code page when it can spell Chinese (936 on a Chinese Windows, UTF-8 on Linux) and is
    UTF-8 otherwise (an English Windows' code page 1252 would turn every Chinese word into "?"). PYTHONIOENCODING,
    when set, is the user's choice and wins."""
    if interactive or os.environ.get("PYTHONIOENCODING"):
        return None
    try:
        "汉字：—".encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "utf-8"
    return None


def _configure_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            try:
                interactive = stream.isatty()
            except (ValueError, OSError):
                interactive = False
            try:
                encoding = output_encoding(getattr(stream, "encoding", None), interactive=interactive)
                if encoding:
                    stream.reconfigure(encoding=encoding, errors="replace")
                else:
                    stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


def end_process(code: int) -> None:
    """End the desktop program now that everything is saved and closed (settings synced, database
    disposed, the one-window lock released): the log is flushed and the process exits at once.

    Python's own shutdown would then spend 1–2 s tearing down Qt, NumPy, SQLAlchemy and their modules
    with nothing left to save, while the user waits to start the program again."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    _configure_streams()
    setup_logging()
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    from jzair_desktop.cli.context import CliContext

    ctx = CliContext(
        db_path=args.db or os.environ.get("JZAIR_DB") or None,
        db_url=args.db_url,
        user=args.user,
    )
    try:
        if args.command is None:
            from jzair_desktop.gui.app import run_gui

            code = run_gui(ctx)
            ctx.close()
            end_process(code)
        return int(args.handler(ctx, args) or 0)
    except JzairError as exc:
        log.warning("command failed: %s", exc)
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`jzair plan | head`): stop quietly; point stdout at nothing so the
        # interpreter's final flush does not complain again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort: say what happened, never a bare trace
        log.exception("unexpected error")
        print(f"程序内部错误：{type(exc).__name__}: {exc}\n详细信息已写入日志。", file=sys.stderr)
        if os.environ.get("JZAIR_DEBUG"):
            traceback.print_exc()
        return 3
    finally:
        ctx.close()
