"""A pressing the image search left out, found by the words read on the sleeve and chosen by the print."""
from __future__ import annotations

from datetime import datetime, timezone

from soldsight.price.printed_words import LEGIBLE, RECURRING
from soldsight.price.text_match import MIN_INLIERS, agreement, read_text
from tests.fixtures.price import answers_file, contenders


def test_the_plain_pressing_left_out_of_the_candidates_is_looked_up_by_name_and_chosen_by_print(
        price_fitted, price_world, lite0_embedder, tmp_path):
    """End to end with the fixture world. The print read at fit on the match's photos is made a 'DELUXE' sticker,
    and the one listing of the photo's album whose photo shows none is taken out of the image search's reach
    (its index vectors zeroed: similarity 0, far below the candidates'), as a listing ranked out of the 20 is.
    Its words and its photo's local features are untouched."""
    from PIL import Image

    from soldsight.price.photo_text import reader_id, store_photo_text
    from soldsight.price.service import price_photos
    from soldsight.price.sleeve_text import read_sleeve
    from tests.fixtures.price import own_home, with_banner
    from warehouse.connection import open_warehouse
    from world.generate import load_catalogue

    settings = own_home(price_fitted[0], tmp_path)
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(price_world)["listings"]}
    for t in answers_file(price_world):
        photo = with_banner(price_world / t["photo"], f"{t['artist']}  {t['title']}", tmp_path / f"{t['query_id']}.jpg")
        first = price_photos(settings, [photo], embedder=lite0_embedder, store=False)[0]
        near = contenders(first)
        lines, _ = read_sleeve(Image.open(photo))
        agreed = agreement(near[0], read_text(lines)) if near else 0
        plain = [c for c in near[1:] if album[c["listing_id"]] == t["album_id"]
                 and agreement(c, read_text(lines)) >= agreed and c["inliers"] >= 2 * MIN_INLIERS]
        if agreed >= LEGIBLE and album[near[0]["listing_id"]] == t["album_id"] and plain and len(near) >= 4:
            break
    else:
        raise AssertionError("no held-out photo has a second listing of its album among its contenders")
    hidden = plain[0]
    stickered = [c for c in near if c is not hidden][:RECURRING]
    with open_warehouse(settings) as con:
        store_photo_text(con, [{"image_path": c["image_path"], "lines": [t["artist"], "DELUXE", t["title"]]
                                if c in stickered else [t["artist"], t["title"]],
                                "error": None, "reader": reader_id(), "read_at": datetime.now(timezone.utc)}
                               for c in near])
        con.execute("UPDATE price_index SET vector = list_transform(vector, lambda x: 0.0::FLOAT) WHERE listing_id = ?",
                    [hidden["listing_id"]])
    [found] = price_photos(settings, [photo], embedder=lite0_embedder, store=False)
    assert found["match"]["listing_id"] == hidden["listing_id"] and found["sleeve_text"]["chose_match"]
    assert found["sleeve_text"]["print"] == (f"'DELUXE' is printed on the photo of listing {stickered[0]['listing_id']} "
                                             "but not read on the sleeve")
    # Without the print, the image search's candidates hold no listing of it: it was found by the words read.
    from dataclasses import replace

    [image_only] = price_photos(replace(settings, read_listing_photos=False), [photo], embedder=lite0_embedder,
                                store=False)
    assert hidden["listing_id"] not in [c["listing_id"] for c in image_only["comparables"]]
    assert image_only["match"]["listing_id"] == stickered[0]["listing_id"]
    # The sticker read on the sleeve too: nothing is looked up, and the stickered match stays.
    read_too = with_banner(price_world / t["photo"], f"{t['artist']} DELUXE {t['title']}", tmp_path / "deluxe.jpg")
    [stays] = price_photos(settings, [read_too], embedder=lite0_embedder, store=False)
    assert stays["match"]["listing_id"] != hidden["listing_id"] and not stays["sleeve_text"]["print"]
