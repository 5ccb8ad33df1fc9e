"""Photos of items the warehouse has never sold: are they abstained, flagged, or named as something else?

    .venv/bin/python bench/open_set.py --world DIR [--albums 20] [--seed 5]

DIR is a world fitted by bench/price.py (DIR/bench-home). Its warehouse and models are copied to a
temporary folder, every indexed listing of --albums albums picked at random is deleted from price_index
there, and all the world's held-out photos are priced with the default settings. For the photos whose
album is gone ("unknown") and for the others ("known") it prints how many were abstained (no_match),
answered with a close second, and answered plainly; for the unknown ones also what the named album was
to the truth: a pressing of the same album, another album by the same artist, or another album.

The whitening, grade model and threshold were fitted with the removed albums still indexed, so this
measures the answers, not a refit without them. Prints figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def relation(truth: dict, named: dict | None) -> str:
    """What the named album is to the photo's album, in the world's catalogue."""
    if named is None:
        return "nothing named"
    if named["family_id"] == truth["family_id"]:
        return "a pressing of it"
    if named["artist"] == truth["artist"]:
        return "same artist"
    return "another album"


def answer_kind(r: dict) -> str:
    if r["status"] != "ok":
        return r["status"]
    return "answered with a close second" if r["alternatives"] else "answered plainly"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", type=Path, required=True)
    p.add_argument("--albums", type=int, default=20, help="albums whose listings are taken out of the index")
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args(argv)

    from soldsight.embed import load_query_embedder
    from soldsight.price.service import price_photos
    from soldsight.settings import Settings
    from world.generate import load_answers, load_catalogue

    fitted = args.world / "bench-home"
    if not (fitted / "soldsight.duckdb").exists():
        raise SystemExit(f"{fitted} has no warehouse: run bench/price.py --world {args.world} first")
    catalogue = load_catalogue(args.world)
    albums = {a["album_id"]: a for a in catalogue["albums"]}
    album_of = {x["listing_id"]: x["album_ids"][0] for x in catalogue["listings"]}
    gone = set(random.Random(args.seed).sample(sorted(albums), args.albums))
    answers = load_answers(args.world)
    with tempfile.TemporaryDirectory(prefix="soldsight-open-set-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(fitted, home, ignore=shutil.ignore_patterns("lake"))
        con = duckdb.connect(str(home / "soldsight.duckdb"))
        # Only the world's own listings: drop the synthetic ones a latency run of bench/price.py added.
        con.execute("DELETE FROM price_index WHERE listing_id LIKE 'SYN%'")
        con.execute("DELETE FROM price_index WHERE listing_id IN (SELECT unnest($ids::VARCHAR[]))",
                    {"ids": [lid for lid, a in album_of.items() if a in gone]})
        indexed = con.execute("SELECT count(*) FROM price_index").fetchone()[0]
        con.close()
        settings = Settings.from_env(home=home)  # SOLDSIGHT_* settings apply, as in bench/price.py
        results = price_photos(settings, [args.world / a["photo"] for a in answers],
                               embedder=load_query_embedder(settings, 64), store=False)
    print(f"== open set: {args.world}, {args.albums} of {len(albums)} albums taken out of the index "
          f"(seed {args.seed}; {indexed} index rows left) ==")
    for unknown in (True, False):
        group = [(a, r) for a, r in zip(answers, results) if (a["album_id"] in gone) == unknown]
        kinds = Counter(answer_kind(r) for _, r in group)
        line = ", ".join(f"{k} {kinds[k]}" for k in ("no_match", "answered with a close second", "answered plainly",
                                                        "insufficient", "error") if kinds[k])
        print(f"{'unknown' if unknown else 'known'} albums, {len(group)} photos: {line}")
        if unknown:
            named = Counter((relation(albums[a["album_id"]], albums.get(album_of.get((r["match"] or {}).get("listing_id")))),
                             answer_kind(r)) for a, r in group)
            for rel in ("a pressing of it", "same artist", "another album"):
                parts = ", ".join(f"{k} {n}" for (rr, k), n in sorted(named.items()) if rr == rel)
                print(f"  the named album was {rel}: {parts or 'none'}")
        else:
            wrong = sum(r["status"] == "ok" and album_of.get(r["match"]["listing_id"]) != a["album_id"] for a, r in group)
            print(f"  answered with the wrong album: {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
