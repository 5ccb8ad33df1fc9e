"""A sleeve that plainly reads words its match's listing has none of: an item with no sales here, not claimed."""
from __future__ import annotations

from dataclasses import replace

from soldsight.price.service import price_photos
from soldsight.price.text_match import contradicts
from tests.fixtures.price import answers_file

SLEEVE_REASON = "and the match's listing has none of those words (an item with no sales here?)"


def test_a_match_is_contradicted_only_by_two_plain_lines_without_one_of_its_words():
    match = {"title": "Golden Rain Juno Bexley LP Bluebird Sound BS-9063", "artist": "Juno Bexley"}
    assert contradicts(match, ["Nina Castell Quartet", "Driftwood"])
    assert contradicts(match, ["NinaCastellQuartet", "DRIFTWOOD", "LP"])  # joined words, case, a short line
    assert not contradicts(match, ["JunoBexley", "Paper Horizon"])  # the artist was read: the listing has it
    assert not contradicts(match, ["Driftwood"])  # one plain line is not enough
    assert not contradicts(match, ["Lxky", "Tiveri", "oind"])  # fragments: a misread sleeve, not another item
    assert not contradicts(match, ["Nina Castell Quartet", "Sound of Rain"])  # 'rain' is the listing's word
    assert not contradicts(match, []) and not contradicts(match, None)  # not read


def _sleeve_never_sold(out, i: int, artist: str, title: str):
    """A front sleeve in the world's artwork style for an album the warehouse has no listing of."""
    import random

    from world.generate.sleeves import random_art, render_sleeve

    art = random_art(random.Random(i))
    art["logo"]["letters"] = "ZQ"
    album = {"album_id": f"N{i}", "artist": artist, "title": title, "label": "Zenith", "catalog_number": "ZQ-1",
             "art": art}
    render_sleeve(album).convert("RGB").save(out, quality=92)
    return out


def test_a_sleeve_never_sold_that_reads_plainly_is_not_claimed_and_known_ones_are(price_fitted, price_world,
                                                                                   lite0_embedder, tmp_path):
    from world.generate import load_catalogue

    new = [_sleeve_never_sold(tmp_path / f"new{i}.jpg", i, artist, title) for i, (artist, title) in enumerate(
        [("Quentin Zabriskie", "Xylophone Harvest"), ("Ulrika Vandermeer", "Cobalt Lullabies"),
         ("Ignatius Brum", "Orchid Wireless")])]
    truth = answers_file(price_world)
    answers = price_photos(price_fitted[0], new + [price_world / t["photo"] for t in truth], embedder=lite0_embedder,
                           store=False)
    said = [a for a in answers[:len(new)] if a["reason"] and a["reason"].endswith(SLEEVE_REASON)]
    assert len(said) >= 2  # the OCR read at least two of the three sleeves plainly
    for a in answers[:len(new)]:
        lines = (a["sleeve_text"] or {}).get("lines")
        if contradicts(a["match"], lines):  # unclaimed, for this reason or the similarity threshold's
            assert a["status"] == "no_match" and a["suggested_price"] is None
        if a in said:
            assert contradicts(a["match"], lines) and " / ".join(lines)[:80] in a["reason"]
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(price_world)["listings"]}
    for t, a in zip(truth, answers[len(new):]):  # photos of albums with sales: a right match is never doubted
        assert not (a["reason"] or "").endswith(SLEEVE_REASON) or album[a["match"]["listing_id"]] != t["album_id"]
    unread = price_photos(replace(price_fitted[0], read_text_margin=0), new, embedder=lite0_embedder, store=False)
    assert not any((a["reason"] or "").endswith(SLEEVE_REASON) for a in unread)  # the words decide it
