"""bench/price.py's accuracy run: the world's held-out photos priced and scored against their true album and price,
with the same-query and global median baselines; optionally each photo turned first (--turn)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from warehouse.connection import connect
from warehouse.sql_files import sql


def accuracy(settings, world, embedder, rerank=None, turn=0):
    """turn: degrees counter-clockwise each held-out photo is turned before it is priced (a sleeve photographed
    lying turned or upside down; the generated worlds photograph every sleeve about upright)."""
    from soldsight.price.service import price_photos
    from world.generate import load_answers, load_catalogue

    con = connect(settings.warehouse_path)  # migrated: a home fitted by older code gets listing_words
    # Accuracy is measured on the world's own listings: drop the synthetic ones an earlier latency run added.
    con.execute("DELETE FROM price_index WHERE listing_id LIKE 'SYN%'")
    con.execute("DELETE FROM listings WHERE listing_id LIKE 'SYN%'")
    words_as_a_fit_writes_them(con)
    con.close()
    answers = load_answers(world)
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(world)["listings"]}
    t1 = t5 = abstain = read = chose = 0
    errors, inside, named, second_right = [], [], [], []
    turned = Path(tempfile.mkdtemp(prefix="soldsight-turned-")) if turn else None
    for a in answers:
        photo = world / a["photo"] if turned is None else _turned(world / a["photo"], turn, turned)
        r = price_photos(settings, [photo], media=a["media_grade"], sleeve=a["sleeve_grade"],
                         embedder=embedder, store=False, rerank=rerank)[0]
        seen = list(dict.fromkeys(album.get(c["listing_id"]) for c in r["comparables"]))
        t1 += seen[:1] == [a["album_id"]]
        t5 += a["album_id"] in seen[:5]
        abstain += r["status"] == "no_match"
        read += r["sleeve_text"] is not None
        chose += bool(r["sleeve_text"] and r["sleeve_text"]["chose_match"])
        # (named a close second, first was wrong, the truth was the match or a close second)
        either = [album.get(x["listing_id"]) for x in [r["match"] or {"listing_id": None}, *r["alternatives"]]]
        named.append((bool(r["alternatives"]), seen[:1] != [a["album_id"]], a["album_id"] in either))
        truth = a["true_total_price"]
        for alt in r["alternatives"]:  # the close second was the truth: its own price against the suggestion's
            if album.get(alt["listing_id"]) == a["album_id"] and alt["suggested_price"] and r["suggested_price"]:
                second_right.append((abs(alt["suggested_price"] - truth) / truth,
                                     abs(r["suggested_price"] - truth) / truth))
        if r["status"] == "ok":
            errors.append(abs(r["suggested_price"] - a["true_total_price"]) / a["true_total_price"])
            inside.append(r["low"] <= a["true_total_price"] <= r["high"])
    if turned is not None:
        shutil.rmtree(turned)
    con = connect(settings.warehouse_path, read_only=True)
    rows = con.execute("SELECT query, total_price FROM listings WHERE sold AND currency = 'USD' AND total_price IS NOT NULL").fetchall()
    con.close()
    by_query: dict = {}
    for q, p in rows:
        by_query.setdefault(q, []).append(p)
    every = [p for _, p in rows]
    base_q = [abs(np.median(by_query.get(a["keyword"]) or every) - a["true_total_price"]) / a["true_total_price"] for a in answers]
    base_g = [abs(np.median(every) - a["true_total_price"]) / a["true_total_price"] for a in answers]
    n = len(answers)
    mdape = float(np.median(errors))
    how = f"; turned {turn} degrees" if turn else ""
    print(f"\n== accuracy on {n} held-out world photos (grades from the answer file; rerank {rerank}{how}) ==")
    print(f"identification top-1 {t1 / n:.1%}  top-5 {t5 / n:.1%}  abstained {abstain / n:.1%}")
    print(f"the sleeve was read for {read / n:.1%}; the words chose the match for {chose / n:.1%}")
    flagged = [x for x in named if x[0]]
    plain = [x for x in named if not x[0]]
    print(f"a close second item named for {len(flagged) / n:.1%}; the match was wrong for "
          f"{np.mean([x[1] for x in flagged]) if flagged else 0:.0%} of those, against "
          f"{np.mean([x[1] for x in plain]) if plain else 0:.0%} of the others; the truth was the match or a close "
          f"second for {np.mean([x[2] for x in named]):.1%}")
    if second_right:
        own, main = zip(*second_right)
        print(f"where the close second was the truth and priced ({len(own)}): its own price's MdAPE "
              f"{np.median(own):.1%}, against {np.median(main):.1%} for the suggestion")
    print(f"price MdAPE {mdape:.1%}  within +-25% {np.mean(np.array(errors) <= 0.25):.1%}  range holds truth {np.mean(inside):.1%}  (priced {len(errors)})")
    print(f"baselines: same-query median MdAPE {np.median(base_q):.1%}, global median {np.median(base_g):.1%}; "
          f"model is {1 - mdape / np.median(base_q):.0%} lower than same-query")


def words_as_a_fit_writes_them(con) -> None:
    """listing_words for the listings now, as after a fit: the name search looks the words read up there."""
    con.execute(sql("clear_listing_words"))
    con.execute(sql("insert_listing_words"))


def _turned(photo: Path, turn: int, folder: Path) -> Path:
    from PIL import Image

    out = folder / f"{photo.stem}.png"  # lossless: the turn alone differs from the original photo
    with Image.open(photo) as im:
        im.convert("RGB").rotate(turn, expand=True).save(out)
    return out
