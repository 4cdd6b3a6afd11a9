"""Entry point for `python -m jzair_desktop`, the `jzair` script and the frozen application."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from jzair_desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
