"""`soldsight world up`: the local marketplace, image host and proxies, for pointing the pipeline at by hand."""
from __future__ import annotations

NAME = "world"
HELP = "Run the local stand-in world (image host, proxies, gateway, marketplace) on 127.0.0.1."


def add_arguments(parser) -> None:
    from world.cli import add_up_arguments

    sub = parser.add_subparsers(dest="world_command", metavar="ACTION")
    sub.required = True
    up = sub.add_parser("up", help="generate a world if needed, start its servers, print URLs; Ctrl-C stops",
                        description="Generate a synthetic world (unless the same one is already in --dir), start "
                                    "the image host, forward proxies, gateway and marketplace on 127.0.0.1, print "
                                    "their URLs (passwords masked) and the proxy list file, and serve until Ctrl-C.")
    add_up_arguments(up, dir_default="$SOLDSIGHT_HOME/world")


def run(args, settings) -> int:
    from world.cli import print_world, run_until_interrupted, start_from_args

    if args.dir in (None, "$SOLDSIGHT_HOME/world"):
        args.dir = settings.home / "world"  # nothing is written outside SOLDSIGHT_HOME
    world = start_from_args(args)
    print_world(world, args.json)
    return run_until_interrupted(world)
