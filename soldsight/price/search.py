"""One query photo -> its view vectors -> comparables (by SQL) -> identification with a confidence."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from soldsight.price.index import IndexConfig, features
from soldsight.price.projection import Projection
from soldsight.price.verify import framed, local_features, reranked_score
from soldsight.price.views import SIZE, VIEW_SETS, pool, views
from warehouse.sql_files import sql


def query_vectors(embedder, images, config: IndexConfig, projection: Projection) -> list[np.ndarray]:
    """Per photo (PIL image), the projected unit vectors of its views; one CNN batch for all photos."""
    per = [views(im, config.view_set, config.query_rotations) for im in images]
    if not per:
        return []
    feats = projection.apply(features(embedder, np.concatenate(per), config.pooling))
    out, start = [], 0
    for v in per:
        out.append(feats[start:start + len(v)])
        start += len(v)
    return out


def one_window(config: IndexConfig) -> bool:
    """Whether the search embeds each photo through exactly the window its local features are read from
    (the defaults since session 18: the 224 px centre square), so one CNN pass can give both."""
    return (VIEW_SETS[config.view_set] == [(1.0, 0.5, 0.5)] and tuple(config.query_rotations) == (0,)
            and config.rerank_frame == "centre" and config.rerank_size == SIZE)


def query_vectors_and_features(embedder, images, config: IndexConfig, projection: Projection) -> tuple[list, list]:
    """query_vectors and verify.query_features of the photos from one CNN pass, for a config with one_window():
    the local features' block lies on the head's way (LiteRT's head+block model; other engines run two passes)."""
    windows = np.stack([framed(im, config.rerank_size, config.rerank_frame) for im in images])
    head, local = embedder.feature_and_local_maps(windows, config.rerank_block)
    vectors = projection.apply(pool(head, config.pooling))
    return [vectors[i:i + 1] for i in range(len(images))], [local_features(m) for m in local]


def comparables(con, queries: np.ndarray, index_id: str, *, k: int, rows_per_listing: int = 1,
                currency: str | None = None, days: int | None = None, exclude=None, now=None) -> list[dict]:
    """The k most similar sold listings (dicts, best first) for one photo's view vectors."""
    queries = np.atleast_2d(queries)
    params = {
        "queries": queries.astype(np.float32).tolist(), "index_id": index_id, "currency": currency,
        "days": days, "now": now or datetime.now(timezone.utc), "exclude": list(exclude or []), "k": k,
        # Exact per-listing grouping needs k x (rows one listing can contribute) candidates.
        "candidates": k * max(1, rows_per_listing) * len(queries),
    }
    cur = con.execute(sql("comparables"), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def comparables_batch(con, per_photo: list[np.ndarray], index_id: str, *, k: int, rows_per_listing: int = 1,
                      currency: str | None = None, days: int | None = None, now=None) -> list[list[dict]]:
    """comparables() for many photos with one scan of the index; one list per photo, in order."""
    if not per_photo:
        return []
    views_n = max(len(np.atleast_2d(q)) for q in per_photo)
    queries = np.concatenate([np.atleast_2d(q) for q in per_photo]).astype(np.float32)
    photos = np.concatenate([[i] * len(np.atleast_2d(q)) for i, q in enumerate(per_photo)]).astype(int)
    params = {
        "queries": queries.tolist(), "photos": photos.tolist(), "index_id": index_id, "currency": currency,
        "days": days, "now": now or datetime.now(timezone.utc), "exclude": [], "k": k,
        "candidates": k * max(1, rows_per_listing) * views_n,
    }
    cur = con.execute(sql("comparables_batch"), params)
    names = [d[0] for d in cur.description]
    out: list[list[dict]] = [[] for _ in per_photo]
    for row in cur.fetchall():
        d = dict(zip(names, row))
        out[d.pop("photo")].append(d)
    return out


def identify(comps: list[dict], threshold: float, *, weight: float | None = None, margin: float = 0.0,
             confident_inliers: int = 0) -> dict:
    """The first comparable is the match; confident when the best global similarity reaches the threshold,
    or when the match's photo agrees with the query's at `confident_inliers` affine inliers or more.

    The best similarity, not the first one's: after geometric re-ranking the first may score a little
    lower globally, and the threshold was calibrated on the best global similarity. The threshold keeps
    ~2% of right answers out by construction (the 2nd percentile of the backtest's right matches): photos
    whose sleeve is small or in clutter. Geometric verification vouches for most of them: on the bench
    worlds 10 of 19 such abstentions had 50+ inliers, all right, against 1 of 480 photos of albums never
    sold (docs/price.md). confident_inliers 0: the threshold alone.
    weight, margin: the re-ranking weight per inlier and SOLDSIGHT_AMBIGUITY_MARGIN; with both, the answer
    also names its `alternatives`.
    """
    if not comps:
        return {"match": None, "confident": False, "reason": "no comparables in the index", "alternatives": []}
    best = comps[0]
    top_similarity = best_similarity(comps)
    alts = [] if weight is None else alternatives(comps, weight, margin)
    inliers = best.get("inliers")
    if not is_confident(comps, threshold, confident_inliers):
        reason = f"no confident match: best similarity {top_similarity:.3f} is below the threshold {threshold:.3f}"
        if confident_inliers > 0 and inliers is not None:
            reason += f", and the match's photo agrees at {inliers} inliers, under {confident_inliers}"
        return {"match": _named(best), "confident": False, "alternatives": alts, "reason": reason}
    return {"match": _named(best), "confident": True, "reason": None, "alternatives": alts}


def is_confident(comps: list[dict], threshold: float, confident_inliers: int = 0) -> bool:
    """The decision identify() explains: the best similarity reaches the threshold, or the match's photo
    agrees at confident_inliers affine inliers or more (0: the threshold alone). No comparables: never."""
    if not comps:
        return False
    inliers = comps[0].get("inliers")
    verified = confident_inliers > 0 and inliers is not None and inliers >= confident_inliers
    return verified or best_similarity(comps) >= threshold


def best_similarity(comps: list[dict]) -> float:
    """What an answer's confidence is read from: the best global similarity among its comparables."""
    return max(float(c["similarity"]) for c in comps)


def alternatives(comps: list[dict], weight: float, margin: float, most: int = 2) -> list[dict]:
    """Other items whose best re-ranked listing scores within `margin` of the match, best first, at most `most`.

    Pressings of one album and one artist's albums in one artwork style score close together; naming the
    runner-up tells the user what to check (what_to_check) rather than trust a coin toss. At the
    default margin (0.15) the bench worlds named one for 11.0% and 10.0% of the answers, whose match was
    wrong 36% and 50% of the time against 6% and 9% for the others (docs/price.md). Only re-ranked comparables
    (with inliers) take part: global similarity alone is on another scale.
    """
    ranked = [c for c in comps if c.get("inliers") is not None]
    if margin <= 0 or not ranked or ranked[0] is not comps[0]:
        return []
    score = lambda c: reranked_score(c, weight)  # noqa: E731
    floor, seen, out = score(ranked[0]) - margin, {item_key(ranked[0])}, []
    for c in sorted(ranked, key=score, reverse=True):
        if score(c) < floor or len(out) == most:
            break
        if item_key(c) not in seen:
            seen.add(item_key(c))
            out.append({**_named(c), "inliers": c["inliers"]})
    return out


def item_key(c: dict) -> tuple:
    """An item is artist + release year, as in the backtest; a listing without them is its own item."""
    if c.get("artist"):
        return (str(c["artist"]).casefold(), c.get("release_year"))
    return ("listing", c["listing_id"])


def _named(c: dict) -> dict:
    # The item as the listing's details name it: a seller's title is often misspelt or stuffed with keywords.
    return {"listing_id": c["listing_id"], "title": c["title"], "artist": c.get("artist"),
            "release_year": c.get("release_year"), "similarity": round(float(c["similarity"]), 4)}


def what_to_check(match: dict, alt: dict) -> str:
    """What on the sleeve tells the match from a close second.

    One artist's items are pressings of one album or albums in one artwork style; between two artists'
    items the names on the sleeve decide. Such an answer is also what a photo of an item with no sales
    in the warehouse often gets: on the bench worlds half of those matched to an unrelated album named a
    close second (bench/open_set.py, docs/price.md).
    """
    artists = {str(x.get("artist") or "").casefold() for x in (match, alt)}
    if len(artists) == 1 and "" not in artists:
        return "check the title, label, sticker and year"
    return "check the artist and title; it may also be an item with no sales here"


def item_name(match: dict) -> str:
    """'Vera Marlowe, 1990': the matched item as its listing's details name it; '' when they are missing."""
    return ", ".join(str(v) for v in (match.get("artist"), match.get("release_year")) if v)
