"""`python -m world.generate --seed S --albums N --photos M --out DIR [--export-base URL]`."""
from __future__ import annotations

import argparse
import json
import sys

from world.generate import check_sizes, generate, write_export


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m world.generate",
                                description="Generate a deterministic synthetic world of sleeves, listings and photos.")
    p.add_argument("--seed", type=int, default=0, help="same seed, same world (default 0)")
    p.add_argument("--albums", type=int, default=60, help="distinct album sleeves (default 60)")
    p.add_argument("--photos", type=int, default=400, help="listing photos in total (default 400)")
    p.add_argument("--queries", type=int, default=None, help="held-out query photos (default: one per album)")
    p.add_argument("--out", required=True, help="folder to write the world into")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--export-base", default=None,
                   help="also write export.json with image URLs on this base, e.g. http://127.0.0.1:8001")
    args = p.parse_args(argv)
    try:
        check_sizes(args.albums, args.photos, args.queries)
    except ValueError as exc:
        p.error(str(exc))
    if args.workers is not None and args.workers < 1:
        p.error(f"--workers must be at least 1, not {args.workers}")
    summary = generate(args.out, seed=args.seed, albums=args.albums, photos=args.photos,
                       queries=args.queries, workers=args.workers)
    if args.export_base:
        summary["export"] = str(write_export(args.out, args.export_base))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
