"""Which photos look again through more windows, and when the second look's answer replaces the first.

A photo whose sleeve is small, glared or half out of the 224 px centre square often has its album
outside the global search's candidates, and its re-ranked match then gathers few inliers. Looking
again through windows off the centre (crops9's four corners and the letterboxed photo) brings the album
back for many of them. For every photo, all of crops9 would cost nine CNN passes and moved first places
the wrong way on one bench world (docs/price.md, "Query views, again"); for the weakly matched ones only,
keeping the second answer only when its match is clearly better supported, it gained on two worlds of
three and lost on none ("A second look", session 20). The same photos are also looked at turned a quarter,
half and three quarters round, for a sleeve lying sideways or upside down (session 25).
"""
from __future__ import annotations

from soldsight.price.search import best_similarity

VIEW_SET = "corners+pad"  # as good as crops9's eight other windows on the bench worlds, at 5 CNN passes
GAIN = 3  # more inliers the second look's match needs: RANSAC's counts move by 1-2 between random draws
TURNS = (90, 180, 270)  # degrees counter-clockwise the photo is also looked at turned (docs/price.md, session 25)


def match_inliers(comps: list[dict]) -> int | None:
    """The re-ranked match's inlier count; None when re-ranking did not run on it."""
    return comps[0].get("inliers") if comps else None


def wants_second_look(comps: list[dict], threshold: float, below: int) -> bool:
    """A confident answer (best similarity at the threshold) whose match has fewer than `below` inliers.

    An answer that abstains keeps abstaining: the threshold was calibrated on one window's similarity,
    and the best of nine windows' clears it for photos of items the warehouse has never sold."""
    inliers = match_inliers(comps)
    return below > 0 and inliers is not None and inliers < below and best_similarity(comps) >= threshold


def takes_second_look(first: list[dict], second: list[dict]) -> bool:
    """Whether the second look's match has at least GAIN more inliers than the first's."""
    before, after = match_inliers(first), match_inliers(second)
    return before is not None and after is not None and after >= before + GAIN
