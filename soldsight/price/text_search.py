"""Listings named by what was read on a sleeve: the album the image search left out of its candidates.

Some photos' albums are not among the 20 candidates at all, although their title was read plainly
(a sleeve under glare, in clutter, or photographed far off). When what was read agrees poorly with the
match, the sold listings whose title and artist words were read are looked up by SQL
(warehouse/sql/listings_named_on_sleeve.sql), verified like the other candidates, and may become the
match by the same rule (text_match.choose_by_text).
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from soldsight.price.second_look import GAIN
from soldsight.price.search import item_key
from soldsight.price.text_match import (MIN_INLIERS, MIN_WORD, PLAIN_LINE, TITLE_READ, agreement, one_item, read_text,
                                         squeeze, title_agreement)
from warehouse.sql_files import sql

COVERED = 0.5  # the share of what was read that the match's words must cover for no search to run
LEAST = 8      # characters read (and found in a named listing's words) for the search to run and to name one
NAMED = 5      # listings the search returns, most words found first
OTHER_PRESSINGS = 10  # listings named alike looked up for another pressing of the match's album (batch)
SLACK = 6      # inliers a plainly named listing may have fewer than the match (plainly_named)


def wants_name_search(comps: list[dict], lines: list[str]) -> bool:
    """Whether at least LEAST characters were read and the match's words cover under COVERED of them, or
    none of a line read of PLAIN_LINE characters or more: a title the match does not have (the artist's
    other album, which the image search left out, is then looked up by its title). Also whenever the match
    is a lot: its title covers what was read, but the photo is of one album, whose own listings may be
    named (seed 17: a lot at 27 inliers, the album's own listing at 75)."""
    read = [squeeze(line) for line in lines]
    total = sum(len(r) for r in read if len(r) >= MIN_WORD)
    if not comps or total < LEAST:
        return False
    if not one_item(comps[0]):
        return True
    unexplained = any(len(r) >= PLAIN_LINE and agreement(comps[0], r) == 0 for r in read)
    return unexplained or agreement(comps[0], read_text(lines)) < COVERED * total


def vouched_for(named: list[dict], match: dict, lines: list[str]) -> list[dict]:
    """The verified named listings whose photo the query matches with at least GAIN more inliers than the
    match's, and the one the sleeve plainly names (plainly_named).

    The image search ranked them low, so geometry must vouch for them: a second sleeve in the photo can be
    the one whose words were read (seed 11: a named listing at 6 inliers against the match's 27)."""
    named_plainly = plainly_named(named, match, lines)
    return [c for c in named if c["inliers"] >= (match.get("inliers") or 0) + GAIN or c is named_plainly]


def plainly_named(named: list[dict], match: dict, lines: list[str]) -> dict | None:
    """The named listing whose title the sleeve reads, when the match's photo is no better matched.

    A photo the image search matched weakly (a sleeve lying turned or half out of the frame) gathers as few
    inliers with its own listings as with the look-alike it was matched to, so GAIN more cannot be asked.
    The words decide instead when they plainly name one item: at least LEAST more characters read of its
    words than of the match's, TITLE_READ of them from its title (an artist's other album, the answer for a
    photo of an album with no sales, shares only the artist), more than any other item named, and its
    photo matched at least MIN_INLIERS and no more than SLACK inliers below the match."""
    if not named:
        return None
    read = read_text(lines)
    best = max(named, key=lambda c: agreement(c, read))
    said = agreement(best, read)
    rival = max((agreement(c, read) for c in named if item_key(c) != item_key(best)), default=0)
    if said - agreement(match, read) < LEAST or title_agreement(best, read) < TITLE_READ or rival >= said:
        return None
    floor = max(MIN_INLIERS, (match.get("inliers") or 0) - SLACK)
    return max((c for c in named if item_key(c) == item_key(best) and c["inliers"] >= floor),
               key=lambda c: c["inliers"], default=None)


def named_on_sleeve(con, vectors: np.ndarray, lines: list[str], index_id: str, *, currency: str | None = None,
                    days: int | None = None, now=None, exclude: list[str] = (), k: int = NAMED) -> list[dict]:
    """The k sold listings whose words were read on the sleeve most (at least LEAST characters), leaving out
    the listing ids in exclude, each with its best similarity to the photo's vectors, as comparables() returns
    them."""
    params = {"read": read_text(lines), "queries": np.atleast_2d(vectors).astype(np.float32).tolist(),
              "index_id": index_id, "currency": currency, "days": days, "now": now or datetime.now(timezone.utc),
              "least": LEAST, "k": k, "exclude": list(exclude)}
    cur = con.execute(sql("listings_named_on_sleeve"), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
