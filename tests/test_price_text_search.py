"""Listings named by what was read on a sleeve: the album the image search did not bring among its candidates."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from soldsight.price.search import comparables
from soldsight.price.second_look import GAIN
from soldsight.price.service import price_photos
from soldsight.price.state import load_state
from soldsight.price.text_match import MIN_INLIERS, agreement, read_text, squeeze
from soldsight.price.text_search import (LEAST, SLACK, named_on_sleeve, plainly_named, vouched_for,
                                         wants_name_search)
from tests.fixtures.price import answers_file, with_banner


def test_the_name_search_runs_when_what_was_read_is_mostly_not_the_matchs_words():
    match = [{"listing_id": "L1", "title": "Broken Rivers Summer Tides LP", "artist": "Broken Rivers"}]
    assert read_text(["Broken Rivers", "Echoes of-Highway"]) == "brokenrivers|echoesofhighway"
    assert wants_name_search(match, ["Cal Quill", "Hidden Horizon"])  # nothing of the match's words
    assert wants_name_search(match, ["Broken Rivers", "Echoes of Burning Highway"])  # 12 of 34 characters
    assert not wants_name_search(match, ["Broken Rivers", "Summer Tides"])  # all of them
    assert not wants_name_search(match, ["Cal", "HR"])  # fewer than LEAST characters read
    assert not wants_name_search([], ["Cal Quill", "Hidden Horizon"])
    # Most of what was read is the match's (18 of 25 characters), but a plain line of it is none of its words:
    # the title of another album by the artist, which the image search may have left out.
    assert wants_name_search(match, ["Broken Rivers Summer", "Horizon"])
    assert not wants_name_search(match, ["Broken Rivers Summer", "Hor"])  # a fragment explains nothing
    # A lot matched: its title names every album in it, so it covers what was read, but the photo is of one of
    # them, whose own listings the image search may have left out.
    lot = [{"listing_id": "L9", "title": "Lot of 2 LPs: Broken Rivers Summer Tides, Cal Quill Horizon",
            "artist": "Broken Rivers, Cal Quill"}]
    assert wants_name_search(lot, ["Broken Rivers", "Summer Tides"])
    assert not wants_name_search(lot, ["Cal", "HR"])  # still LEAST characters read


def test_a_named_listing_needs_its_photo_matched_clearly_better_than_the_matchs():
    match = {"listing_id": "L1", "inliers": 27}
    named = [{"listing_id": "N1", "inliers": 6}, {"listing_id": "N2", "inliers": 27 + GAIN - 1},
             {"listing_id": "N3", "inliers": 27 + GAIN}, {"listing_id": "N4", "inliers": 79}]
    assert [c["listing_id"] for c in vouched_for(named, match, [])] == ["N3", "N4"]
    assert [c["listing_id"] for c in vouched_for(named, {"listing_id": "L2"}, [])] == ["N1", "N2", "N3", "N4"]


def _listing(listing_id, title, artist, year, inliers):
    return {"listing_id": listing_id, "title": title, "artist": artist, "release_year": year, "inliers": inliers}


def _weak_match_and_named():
    """A sleeve lying turned, matched weakly to a look-alike; the name search brings two albums of the artist."""
    match = _listing("L1", "Hugo Lindqvist - Silver Nights LP", "Hugo Lindqvist", 1984, 12)
    named = [_listing("N1", "SIGNALS OF SWEET FEVER CLEO PRYCE 2002", "Cleo Pryce", 2002, 10),
             _listing("N2", "Signals of Sweet Fever - Cleo Pryce", "Cleo Pryce", 2002, 11),
             _listing("N3", "Cleo Pryce - Burning Hours 12in", "Cleo Pryce", 1985, 11)]
    return match, named


def test_a_listing_the_sleeve_plainly_names_is_vouched_for_without_more_inliers():
    match, named = _weak_match_and_named()
    read = ["Signalsof Sweet", "CleoPryce"]
    assert agreement(named[1], read_text(read)) - agreement(match, read_text(read)) >= LEAST
    assert plainly_named(named, match, read) is named[1]  # of the item's listings, the best matched
    assert [c["listing_id"] for c in vouched_for(named, match, read)] == ["N2"]
    # The artist's name alone names either album: nothing is plain.
    assert plainly_named(named, match, ["CleoPryce", "Velvet"]) is None
    # Nor with the only album of the artist the search found: the title read is another (an album never sold).
    assert plainly_named(named[2:], match, ["CleoPryce", "Velvet Moons"]) is None
    assert plainly_named(named[2:], match, ["CleoPryce", "Burning Hours"]) is named[2]
    # Another album whose title shares the words read as much: not plain either.
    sweet_signals = _listing("N4", "Cleo Pryce Sweet Signals", "Cleo Pryce", 1990, 11)
    assert plainly_named([*named, sweet_signals], match, read) is None
    # The match agrees nearly as much: a title in common ('Signals') and too little more read.
    near = {**match, "title": "Hugo Lindqvist - Signals of Sweet Rain"}
    assert plainly_named(named, near, ["Signalsof Sweet", "Cleo"]) is None
    assert plainly_named(named, near, ["Signalsof Sweet", "CleoPryce"]) is named[1]
    # The match's photo matched clearly better, or the named one's too weakly to be the sleeve at all.
    assert plainly_named(named, {**match, "inliers": 11 + SLACK + 1}, read) is None
    assert plainly_named(named, {**match, "inliers": 11 + SLACK}, read) is named[1]
    weak = [{**c, "inliers": MIN_INLIERS - 1} for c in named]
    assert plainly_named(weak, {**match, "inliers": 3}, read) is None
    assert plainly_named([], match, read) is None


def test_the_listings_named_are_those_whose_words_were_read_with_their_similarity(price_fitted):
    from warehouse.connection import open_warehouse

    settings = price_fitted[0]
    with open_warehouse(settings) as con:
        state = load_state(con, settings.home)
        rows = con.execute("SELECT l.listing_id, l.title, l.artist, l.currency FROM listings l JOIN price_index i "
                           "USING (source, listing_id) WHERE i.index_id = ? AND l.sold AND l.total_price IS NOT NULL "
                           "AND NOT contains(coalesce(l.artist, ''), ',') ORDER BY l.listing_id",
                           [state.config.index_id]).fetchall()
        listing_id, title, artist, currency = rows[0]
        rng = np.random.default_rng(5)
        vector = rng.normal(size=(1, state.config.dim)).astype(np.float32)
        vector /= np.linalg.norm(vector)
        lines = [title, "a sticker"]
        named = named_on_sleeve(con, vector, lines, state.config.index_id)
        everything = {c["listing_id"]: c for c in comparables(con, vector, state.config.index_id, k=10_000,
                                                              rows_per_listing=state.rows_per_listing)}
        other = "EUR" if currency != "EUR" else "USD"
        elsewhere = named_on_sleeve(con, vector, lines, state.config.index_id, currency=other)
        assert listing_id not in [c["listing_id"] for c in elsewhere] and all(c["currency"] == other for c in elsewhere)
        assert named_on_sleeve(con, vector, ["zzqx", "Vinyl LP"], state.config.index_id) == []
        # Leaving out the listings already in hand, the next ones named come back; k bounds how many.
        wide = named_on_sleeve(con, vector, lines, state.config.index_id, k=50)
        rest = named_on_sleeve(con, vector, lines, state.config.index_id, exclude=[listing_id], k=50)
        assert listing_id in [c["listing_id"] for c in wide]
        assert {c["listing_id"] for c in rest} == {c["listing_id"] for c in wide} - {listing_id}
        assert len(named_on_sleeve(con, vector, lines, state.config.index_id, k=1)) == 1
    said = read_text(lines)
    assert listing_id in [c["listing_id"] for c in named] and len(named) <= 5
    scores = [agreement(c, said) for c in named]
    assert all(s >= LEAST for s in scores)
    # Every listing the SQL left out agrees less than the ones it named (or is a lot, or agrees too little).
    for other_id, other_title, other_artist, _ in rows:
        if other_id not in {c["listing_id"] for c in named}:
            assert agreement({"title": other_title, "artist": other_artist}, said) <= min(scores)
    for c in named:  # the same similarity as the image search gives the listing, and its fields
        assert abs(c["similarity"] - everything[c["listing_id"]]["similarity"]) < 1e-5
        assert c["title"] == everything[c["listing_id"]]["title"] and c["image_path"]
    assert squeeze(title) in said


def test_each_fit_writes_every_listings_words_for_the_name_search(price_fitted):
    import re

    from warehouse.connection import open_warehouse

    with open_warehouse(price_fitted[0], read_only=True) as con:
        listings = con.execute("SELECT source, listing_id, title, artist FROM listings").fetchall()
        stored = con.execute("SELECT source, listing_id, word FROM listing_words").fetchall()
    expected = {(source, listing_id, word) for source, listing_id, title, artist in listings
                for word in re.split(r"[ /,&+-]", f"{title or ''} {artist or ''}".lower()) if len(word) >= 3}
    assert len(stored) == len(set(stored)) and set(stored) == expected and len(listings) > 20


def test_a_read_title_brings_in_an_album_the_image_search_left_out(price_fitted, price_world, lite0_embedder):
    """With two comparables a photo, the true album is often not among them; where its title is read and its
    photo matches at least GAIN more inliers than the image search's match, it becomes the match."""
    from world.generate import load_catalogue

    truth = answers_file(price_world)
    photos = [price_world / a["photo"] for a in truth]
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(price_world)["listings"]}
    narrow = replace(price_fitted[0], top_k=2, min_comparables=1, read_text_margin=1.0)
    read = price_photos(narrow, photos, embedder=lite0_embedder, store=False)
    unread = price_photos(replace(narrow, read_text_margin=0), photos, embedder=lite0_embedder, store=False)
    named = 0
    for r, u in zip(read, unread):
        image = [c["listing_id"] for c in u["comparables"]]
        if r["match"]["listing_id"] in image:
            continue
        named += 1  # the match came from the name search: it leads the image search's comparables
        assert [c["listing_id"] for c in r["comparables"]] == [r["match"]["listing_id"], *image]
        said = read_text(r["sleeve_text"]["lines"])
        assert r["sleeve_text"]["chose_match"] and agreement(r["match"], said) > agreement(u["match"], said)
        assert r["comparables"][0]["inliers"] >= u["comparables"][0]["inliers"] + GAIN
    right = lambda answers: sum(album.get(a["match"]["listing_id"]) == t["album_id"]  # noqa: E731
                                for a, t in zip(answers, truth))
    assert named > 0 and right(read) > right(unread)


def test_words_printed_beside_the_sleeve_do_not_make_a_listing_the_photo_does_not_show_the_match(
        price_fitted, price_world, lite0_embedder, tmp_path, monkeypatch):
    """Another album's artist and title printed across a held-out photo, as a second sleeve or a poster would
    be, an album none of the photo's comparables is of: the name search finds that album's listings, but their
    photos do not match the photo's geometry, so none of them becomes the match. (Among the comparables, the
    words do decide: tests/test_price_sleeve_text.py.)"""
    from soldsight.price import named_listings
    from world.generate import load_catalogue

    catalogue = load_catalogue(price_world)
    albums = {a["album_id"]: a for a in catalogue["albums"]}
    album = {x["listing_id"]: x["album_ids"][0] for x in catalogue["listings"]}
    found = []

    def spy(*args, **kwargs):
        got = named_on_sleeve(*args, **kwargs)
        found.extend(got)
        return got

    monkeypatch.setattr(named_listings, "named_on_sleeve", spy)
    settings = replace(price_fitted[0], read_text_margin=1.0)
    truth = answers_file(price_world)[:12]
    plain = price_photos(replace(settings, read_text_margin=0), [price_world / t["photo"] for t in truth],
                         embedder=lite0_embedder, store=False)
    printed = []
    for t, a in zip(truth, plain):
        near = {album.get(c["listing_id"]) for c in a["comparables"]} | {t["album_id"]}
        printed.append(albums[next(i for i in sorted(albums) if i not in near and albums[i]["artist"] != t["artist"])])
    photos = [with_banner(price_world / t["photo"], f"{a['artist']} {a['title']}", tmp_path / f"{t['query_id']}.jpg")
              for t, a in zip(truth, printed)]
    answers = price_photos(settings, photos, embedder=lite0_embedder, store=False)
    assert any(album.get(c["listing_id"]) in {a["album_id"] for a in printed} for c in found)  # the search named them
    for a, shown in zip(answers, printed):
        assert album.get(a["match"]["listing_id"]) != shown["album_id"]
