"""A sleeve that plainly reads its match's title and artist: answered although its similarity is weak."""
from __future__ import annotations

import numpy as np

from soldsight.price.answers import price_one
from soldsight.price.search import comparables
from soldsight.price.state import load_state
from soldsight.price.text_match import CONFIRM, MIN_INLIERS, agreement, confirms, read_text


def _listing(listing_id, title, artist, year, inliers=20):
    return {"listing_id": listing_id, "title": title, "artist": artist, "release_year": year, "inliers": inliers}


def test_the_sleeve_confirms_its_match_only_by_its_whole_artist_and_words_of_its_title():
    match = _listing("L1", "Cold Machines - The Rusty Foxes 1st Press", "The Rusty Foxes", 1971)
    other = _listing("L2", "The Silver Engines Last Avenue", "The Silver Engines", 1980, inliers=9)
    read = ["THERUSTYFOXES", "COLD MACHINE"]  # 'machines' cut short: 'cold' is the title's word read
    assert agreement(match, read_text(read)) >= CONFIRM
    assert confirms([match, other], read)
    assert not confirms([match, other], ["THERUSTY", "COLD MACHINES"])  # the artist only in part: another band?
    assert not confirms([match, other], ["THERUSTYFOXES", "LIVE AT DAWN"])  # the artist's other album, maybe unsold
    short = _listing("L4", "Ava Lux - Cold Harbour", "Ava Lux", 1990)
    assert not confirms([short, other], ["AVALUX", "COLD"])  # too little read: CONFIRM characters
    assert confirms([short, other], ["AVALUX", "COLD HARBOUR"])
    # Another item among the candidates agrees as much: the words do not say which.
    twin = _listing("L3", "The Rusty Foxes - Cold Machines (live)", "The Rusty Foxes", 1979, inliers=9)
    assert not confirms([match, other, twin], read)
    assert confirms([match, {**twin, "release_year": 1971}], read)  # another sale of the same item
    assert not confirms([{**match, "inliers": MIN_INLIERS - 1}, other], read)  # the photo hardly matches it
    assert not confirms([{**match, "inliers": None}, other], read)  # not verified
    lot = {**match, "title": "Lot of 2: Cold Machines, Juno Vance", "artist": "The Rusty Foxes, Juno Vance"}
    assert not confirms([lot, other], [*read, "JUNOVANCE"])  # a lot names several albums: not one identified
    assert confirms([match, lot, other], read)  # nor is such a lot a rival: its title names the match's album too
    assert not confirms([match, other], []) and not confirms([match, other], None) and not confirms([], read)


def test_a_match_under_the_threshold_is_answered_when_the_sleeve_names_it(price_fitted):
    from warehouse.connection import open_warehouse

    settings = price_fitted[0]
    with open_warehouse(settings) as con:
        state = load_state(con, settings.home)
        vector = np.random.default_rng(7).normal(size=(1, state.config.dim)).astype(np.float32)
        found = comparables(con, vector / np.linalg.norm(vector), state.config.index_id, k=20,
                            rows_per_listing=state.rows_per_listing)
    weak = [{**c, "similarity": state.threshold - 0.1, "inliers": 20 if i == 0 else 5} for i, c in enumerate(found)]
    named = [weak[0]["artist"], weak[0]["title"]]
    assert 20 < settings.confident_inliers and confirms(weak, named)

    def status(read):
        return price_one("p.jpg", weak, state, None, None, settings, read)

    answered = status(named)
    assert answered["status"] == "ok" and answered["match"]["listing_id"] == weak[0]["listing_id"]
    assert answered["suggested_price"] is not None and answered["reason"] is None
    unread = status(None)
    assert unread["status"] == "no_match" and "below the threshold" in unread["reason"]
    assert status(["Quentin Zabriskie", "Xylophone Harvest"])["status"] == "no_match"
