"""`python -m world up --dir DIR ...` (serve a world until Ctrl-C) and `python -m world generate ...`."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["generate"]:
        from world.generate.__main__ import main as generate_main

        return generate_main(argv[1:])
    from world.cli import add_up_arguments, print_world, run_until_interrupted, start_from_args

    p = argparse.ArgumentParser(prog="python -m world", description="The local world: generate, or bring it up.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="generate a world folder (see python -m world.generate --help)")
    add_up_arguments(sub.add_parser("up", help="generate if needed, start every server, serve until Ctrl-C"))
    args = p.parse_args(argv)
    world = start_from_args(args)
    print_world(world, args.json)
    return run_until_interrupted(world)


if __name__ == "__main__":
    sys.exit(main())
