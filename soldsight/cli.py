"""The `soldsight` command: one subcommand per module in soldsight/commands/."""
from __future__ import annotations

import argparse
import importlib
import sys

from soldsight.settings import Settings, SettingsError

# Each module defines NAME, HELP, add_arguments(parser) and run(args, settings) -> int.
COMMAND_MODULES = [
    "ingest",
    "world",
    "download",
    "embed",
    "vector",
    "map",
    "price",
    "backtest",
    "scrape",
    "refresh",
]


def _commands():
    for name in COMMAND_MODULES:
        yield importlib.import_module(f"soldsight.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soldsight",
        description="Identify an item from a photo and price it from comparable sold listings.",
        epilog="Settings come from SOLDSIGHT_* environment variables; see the README.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _commands():
        # argparse %-formats a subcommand's help (not its description): a literal % must be doubled.
        p = sub.add_parser(module.NAME, help=module.HELP.replace("%", "%%"), description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"soldsight: {exc}", file=sys.stderr)
        return 2
    return int(args._run(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
