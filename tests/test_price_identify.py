"""Identification: the match, its confidence, and the close second items an answer names beside it."""
from __future__ import annotations

from soldsight.price.search import alternatives, identify, what_to_check
from soldsight.settings import Settings

W = 0.02  # similarity per inlier, as IndexConfig.rerank_weight
MARGIN = Settings().ambiguity_margin  # the default, 0.15: Settings() reads no environment


def comp(listing_id, similarity, inliers=None, artist="Vera Marlowe", year=1990):
    c = {"listing_id": listing_id, "title": f"{artist} LP {listing_id}", "artist": artist, "release_year": year,
         "similarity": similarity}
    if inliers is not None:
        c["inliers"] = inliers
    return c


def test_another_pressing_within_the_margin_is_named():
    comps = [comp("a", 0.60, 50), comp("b", 0.58, 47, year=1998), comp("c", 0.40, 10, artist="Other")]
    alts = alternatives(comps, W, MARGIN)
    assert [a["listing_id"] for a in alts] == ["b"]
    assert alts[0]["release_year"] == 1998 and alts[0]["inliers"] == 47 and alts[0]["artist"] == "Vera Marlowe"


def test_a_margin_of_zero_names_nothing_not_even_a_tie():
    comps = [comp("a", 0.60, 50), comp("b", 0.60, 50, year=1998)]
    assert alternatives(comps, W, margin=0) == [] and alternatives(comps, W, margin=-1) == []
    assert [a["listing_id"] for a in alternatives(comps, W, margin=0.001)] == ["b"]


def test_an_item_beyond_the_margin_is_not_named():
    gap = MARGIN + 0.01
    comps = [comp("a", 0.60, 50), comp("b", 0.60 - gap, 50, year=1998)]
    assert alternatives(comps, W, MARGIN) == []
    comps = [comp("a", 0.60, 50), comp("b", 0.60 - gap + 0.02, 50, year=1998)]
    assert [a["listing_id"] for a in alternatives(comps, W, MARGIN)] == ["b"]


def test_the_match_s_own_item_and_repeats_are_named_once_at_most_twice():
    comps = [comp("a", 0.60, 50), comp("a2", 0.59, 50), comp("b", 0.58, 49, year=1998),
             comp("b2", 0.57, 49, year=1998), comp("c", 0.56, 49, artist="Other"), comp("d", 0.55, 49, artist="Third")]
    assert [a["listing_id"] for a in alternatives(comps, W, MARGIN)] == ["b", "c"]


def test_the_item_is_artist_and_year_whatever_the_case_and_a_bare_listing_is_its_own():
    comps = [comp("a", 0.60, 50), comp("b", 0.60, 50, artist="VERA MARLOWE"), comp("x", 0.60, 50, artist=None),
             comp("y", 0.60, 50, artist=None)]
    assert [a["listing_id"] for a in alternatives(comps, W, MARGIN, most=5)] == ["x", "y"]


def test_without_re_ranking_nothing_is_named():
    # Global similarity alone is on another scale than similarity + weight x inliers.
    comps = [comp("a", 0.60), comp("b", 0.59, year=1998)]
    assert alternatives(comps, W, MARGIN) == []
    assert identify(comps, 0.3)["alternatives"] == []
    assert identify(comps, 0.3, weight=W, margin=MARGIN)["alternatives"] == []


def test_identify_names_alternatives_when_confident_or_not():
    comps = [comp("a", 0.30, 50), comp("b", 0.29, 48, year=1998)]
    sure, unsure = identify(comps, 0.25, weight=W, margin=MARGIN), identify(comps, 0.35, weight=W, margin=MARGIN)
    assert sure["confident"] and not unsure["confident"]
    assert [a["listing_id"] for a in sure["alternatives"]] == ["b"] == [a["listing_id"] for a in unsure["alternatives"]]
    assert identify([], 0.3, weight=W, margin=MARGIN) == {
        "match": None, "confident": False, "reason": "no comparables in the index", "alternatives": []}


def test_a_match_verified_by_enough_inliers_is_confident_under_the_threshold():
    comps = [comp("a", 0.10, 50), comp("b", 0.09, 12, artist="Other")]
    assert not identify(comps, 0.2)["confident"]  # the threshold alone
    assert identify(comps, 0.2, confident_inliers=50)["confident"]
    weak = identify(comps, 0.2, confident_inliers=51)
    assert not weak["confident"] and weak["reason"] == (
        "no confident match: best similarity 0.100 is below the threshold 0.200, "
        "and the match's photo agrees at 50 inliers, under 51")
    # Only the match's own photo vouches, not a better-verified listing further down.
    assert not identify([comp("a", 0.10, 12), comp("b", 0.09, 80, artist="Other")], 0.2, confident_inliers=50)["confident"]
    unranked = identify([comp("a", 0.10)], 0.2, confident_inliers=50)  # no re-ranking, no inliers to vouch
    assert not unranked["confident"] and unranked["reason"].endswith("below the threshold 0.200")
    assert Settings().confident_inliers == 50


def test_the_hint_under_a_close_second_depends_on_whether_one_artist_made_both():
    same = "check the title, label, sticker and year"
    names = "check the artist and title; it may also be an item with no sales here"
    pressing = comp("b", 0.58, 47, artist="VERA MARLOWE", year=1998)
    assert what_to_check(comp("a", 0.6, 50), comp("b", 0.58, 47, year=1998)) == same
    assert what_to_check(comp("a", 0.6, 50), pressing) == same
    assert what_to_check(comp("a", 0.6, 50), comp("c", 0.55, 40, artist="The Blue Sparrows")) == names
    # A listing without an artist could be anything: its names decide.
    assert what_to_check(comp("a", 0.6, 50), {**pressing, "artist": None}) == names
    assert what_to_check({**pressing, "artist": None}, {**pressing, "artist": None}) == names
