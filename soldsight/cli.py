"""The `soldsight` command: one subcommand per module in soldsight/commands/."""
from __future__ import annotations

import argparse
import importlib
import os
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
    try:
        return int(args._run(args, settings) or 0)
    except BrokenPipeError:
        # The reader went away (`soldsight price *.jpg --json | head -1`): stop quietly, as other Unix tools
        # do, with the answers printed so far already stored. Python would otherwise print a traceback
        # for the write, and again for the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe stopped


if __name__ == "__main__":
    sys.exit(main())
