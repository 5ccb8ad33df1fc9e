"""`world up` for people: arguments, a masked printout of URLs and files, and running until Ctrl-C."""
from __future__ import annotations

import argparse
import json
import signal
import threading

from world.servers import FAULT_KINDS, MODES


def add_up_arguments(p: argparse.ArgumentParser, dir_default=None) -> None:
    p.add_argument("--dir", default=dir_default, required=dir_default is None,
                   help="world folder (generated there unless the same world is already there)"
                        + (f"; default {dir_default}" if dir_default else ""))
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument("--albums", type=int, default=60, help="album sleeves (default 60)")
    p.add_argument("--photos", type=int, default=400, help="listing photos (default 400)")
    p.add_argument("--queries", type=int, default=None, help="held-out query photos (default: one per album)")
    p.add_argument("--port", type=int, default=0,
                   help="fixed ports: image host PORT, marketplace PORT+1, gateway PORT+2, proxies PORT+3.. "
                        "(default: free ports)")
    p.add_argument("--proxies", type=int, default=4, help="forward proxies to start (default 4)")
    p.add_argument("--proxy-modes", default="",
                   help=f"comma-separated health per proxy, from {', '.join(MODES)} (the rest are healthy)")
    p.add_argument("--fault", action="append", default=[], metavar="KIND=RATE",
                   help=f"image host fault at a seeded rate, repeatable; KIND is one of {', '.join(FAULT_KINDS)}")
    p.add_argument("--no-marketplace", action="store_true", help="do not start the marketplace")
    p.add_argument("--regenerate", action="store_true", help="generate even if the folder holds this world")
    p.add_argument("--json", action="store_true", help="print the description as JSON")


def parse_faults(items: list[str]) -> dict[str, float]:
    faults = {}
    for item in items:
        kind, _, rate = item.partition("=")
        if kind not in FAULT_KINDS:
            raise SystemExit(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        try:
            faults[kind] = float(rate)
        except ValueError:
            raise SystemExit(f"--fault {item!r}: RATE must be a number in [0, 1]") from None
    return faults


def start_from_args(args):
    from world.generate import check_sizes
    from world.up import up

    try:
        check_sizes(args.albums, args.photos, args.queries)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.proxies < 0 or not 0 <= args.port <= 65535:
        raise SystemExit(f"error: --proxies must be at least 0 and --port 0-65535, not {args.proxies} and {args.port}")
    modes = [m.strip() for m in args.proxy_modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise SystemExit(f"unknown proxy mode(s) {bad}; known: {', '.join(MODES)}")
    return up(args.dir, seed=args.seed, albums=args.albums, photos=args.photos, queries=args.queries,
              proxies=args.proxies, proxy_modes=modes, image_faults=parse_faults(args.fault),
              marketplace=not args.no_marketplace, port=args.port, regenerate=args.regenerate)


def print_world(world, as_json: bool = False) -> None:
    info = world.describe()
    if as_json:
        print(json.dumps(info), flush=True)
        return
    counts = info["counts"]
    lines = [
        f"world ready in {info['world_dir']}: {counts.get('albums')} albums, {counts.get('listings')} listings, "
        f"{counts.get('photos')} photos, {counts.get('queries')} held-out queries",
        f"  image host   {info['image_host']}",
        f"  marketplace  {info['marketplace'] or '(not started: world/marketplace.py missing or disabled)'}",
        f"  gateway      {info['gateway']}",
    ]
    lines += [f"  proxy        {url}  [{mode}]" for url, mode in zip(info["proxies"], info["proxy_modes"])]
    lines += [
        f"  proxy list   {info['proxies_file']}  (one URL per line, with credentials)",
        f"  export       {info['export']}",
        f"  answers      {info['answers']}",
        f"  environment  source {info['env_file']}   (SOLDSIGHT_PROXIES, SOLDSIGHT_PROXY_GATEWAY, ...)",
        "Ctrl-C stops the servers.",
    ]
    print("\n".join(lines), flush=True)


def run_until_interrupted(world) -> int:
    """Serve until SIGINT or SIGTERM, then stop every server cleanly."""
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        world.stop()
    print("world stopped", flush=True)
    return 0
