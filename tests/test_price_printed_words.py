"""The words printed on listing photos, read at fit, choosing between pressings of one artwork."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from soldsight.price.printed_words import LEGIBLE, RECURRING, choose_by_printed_words, print_differs, print_unread
from tests.fixtures.price import answers_file, contenders

W = 0.02  # the fitted re-ranking weight per inlier
TITLE = "Saul Moreau Electric Lights"


def _comp(listing_id, inliers, title=f"{TITLE} LP", artist="Saul Moreau", similarity=0.5):
    return {"listing_id": listing_id, "title": title, "artist": artist, "release_year": 1998,
            "similarity": similarity, "inliers": inliers, "image_path": f"images/{listing_id}.jpg"}


def _pressings(stickered=("V1", "V2", "V3")):
    """Three listings of the stickered pressing and one of the plain one, the stickered first."""
    comps = [_comp("V1", 60), _comp("V2", 55), _comp("P1", 50), _comp("V3", 45), _comp("X1", 20, "Cal Quill Nocturne",
                                                                                             "Cal Quill")]
    printed = {f"images/{c['listing_id']}.jpg": ["Saul Moreau", "Electric Lights"] for c in comps}
    for listing in stickered:
        printed[f"images/{listing}.jpg"] = ["Saul Moreau", "DELUXE", "Electric Lights"]
    return comps, printed


def _first(comps):
    return comps[0]["listing_id"]


def test_a_sticker_plainly_missing_from_the_photo_moves_the_plain_pressing_first():
    comps, printed = _pressings()
    chosen, moved = choose_by_printed_words(comps, ["SaulMoreau", "Electric Lights"], printed, W, margin=1.0)
    assert moved and _first(chosen) == "P1" and [c["listing_id"] for c in chosen[1:]] == ["V1", "V2", "V3", "X1"]
    assert moved == "'DELUXE' is printed on the photo of listing V1 but not read on the sleeve"
    assert _first(comps) == "V1"  # the caller's list is left as it was


def test_a_sticker_read_on_the_photo_keeps_or_moves_first_the_stickered_pressing():
    comps, printed = _pressings()
    read = ["SaulMoreau", "DELUXE", "Electric Lights"]
    assert choose_by_printed_words(comps, read, printed, W, margin=1.0) == (comps, None)
    plain_first = [comps[2], *comps[:2], *comps[3:]]
    chosen, moved = choose_by_printed_words(plain_first, read, printed, W, margin=1.0)
    assert _first(chosen) == "V1" and moved == "'DELUXE' is printed on its photo and read on the sleeve"
    # A look-alike letter in the reading still finds it ('DELUXE' read with a 1 for the L).
    assert _first(choose_by_printed_words(plain_first, ["SaulMoreau", "DE1UXE"], printed, W, 1.0)[0]) == "V1"


def test_only_words_printed_on_several_contenders_photos_and_not_in_their_titles_count():
    plain = ["SaulMoreau", "Electric Lights"]
    comps, printed = _pressings(stickered=("V1",))  # one photo's reading: a misreading, as likely as print
    assert RECURRING == 2 and choose_by_printed_words(comps, plain, printed, W, margin=1.0) == (comps, None)
    assert choose_by_printed_words(*_pressings(stickered=("V1", "V2"))[:1], plain, _pressings(("V1", "V2"))[1], W,
                                   margin=1.0)[1]
    # 'Deluxe' in every stickered listing's own title is the title, not print that tells pressings apart.
    comps, printed = _pressings()
    titled = [{**c, "title": f"{TITLE} Deluxe"} if c["listing_id"].startswith("V") else c for c in comps]
    assert choose_by_printed_words(titled, plain, printed, W, margin=1.0)[1] is None
    # Nor is the title read with other spaces on the stickered photos ('ElectricLightsSaul'), or with a letter
    # lost ('Electric Lihts'): four letters in a row of the listing's own title.
    for misread in ("ElectricLightsSaul", "Electric Lihts"):
        reread = {path: ["Saul Moreau", misread] if "/V" in path else lines for path, lines in printed.items()}
        assert choose_by_printed_words(comps, plain, reread, W, margin=1.0)[1] is None


def test_a_sticker_misread_on_a_contenders_photo_is_still_print_when_another_candidates_photo_reads_it():
    plain = ["SaulMoreau", "Electric Lights"]
    comps, printed = _pressings(stickered=("V1",))
    printed["images/V2.jpg"] = ["Saul Moreau", "DELUNE", "Electric Lights"]  # the same sticker, misread
    assert not print_differs(comps, printed, W, margin=1.0)
    # A third photo of the stickered pressing, among the candidates but far outside the margin (score 0.60).
    far = _comp("V4", 5)
    printed["images/V4.jpg"] = ["Saul Moreau", "DELUXE", "Electric Lights"]
    with_far = [*comps, far]
    assert print_differs(with_far, printed, W, margin=1.0)
    chosen, moved = choose_by_printed_words(with_far, plain, printed, W, margin=1.0)
    # The plain pressing, not V2: its photo is of the stickered pressing, its sticker misread.
    assert _first(chosen) == "P1"
    assert moved == "'DELUXE' is printed on the photo of listing V1 but not read on the sleeve"
    # The far photo counts the word as print; it is not a contender the words could choose.
    assert _first(choose_by_printed_words(with_far, ["SaulMoreau", "DELUXE"], printed, W, margin=1.0)[0]) == "V1"


def test_a_missing_sticker_counts_only_on_a_plainly_read_sleeve_and_between_titles_the_reading_agrees_with():
    comps, printed = _pressings()
    assert len("saul") < LEGIBLE
    assert choose_by_printed_words(comps, ["Saul"], printed, W, margin=1.0) == (comps, None)  # too little read
    assert choose_by_printed_words(comps, [], printed, W, margin=1.0) == (comps, None)
    other_title = [{**c, "title": "Saul Moreau Nocturne"} if c["listing_id"] == "P1" else c for c in comps]
    read = ["SaulMoreau", "Electric Lights"]
    assert choose_by_printed_words(other_title, read, printed, W, margin=1.0) == (other_title, None)
    # Beyond the margin (V1 scores 1.70, P1 1.50), or with no print read at fit, nothing moves.
    assert choose_by_printed_words(comps, read, printed, W, margin=0.1) == (comps, None)
    assert choose_by_printed_words(comps, read, {}, W, margin=1.0) == (comps, None)


def test_a_challenger_with_print_of_its_own_missing_from_the_photo_is_not_preferred():
    comps, printed = _pressings()
    for listing in ("P1", "X9a", "X9b"):
        printed[f"images/{listing}.jpg"] = ["Saul Moreau", "180g", "Electric Lights"]
    comps = comps[:4] + [_comp("X9a", 40), _comp("X9b", 40)]
    assert choose_by_printed_words(comps, ["SaulMoreau", "Electric Lights"], printed, W, margin=1.0)[1] is None


def test_the_sleeve_is_read_when_the_contenders_photos_differ_in_telling_print():
    comps, printed = _pressings()
    assert print_differs(comps, printed, W, margin=1.0)
    same = {path: ["Saul Moreau", "DELUXE", "Electric Lights"] for path in printed}
    assert not print_differs(comps, same, W, margin=1.0)
    assert not print_differs(comps, {}, W, margin=1.0)
    assert not print_differs(comps, printed, W, margin=0.0)
    assert not print_differs(comps[:1], printed, W, margin=1.0)


def test_print_on_the_matched_photos_that_a_plainly_read_sleeve_lacks_is_told():
    comps, printed = _pressings()
    assert print_unread(comps, ["SaulMoreau", "Electric Lights"], printed, W, margin=1.0)
    assert not print_unread(comps, ["SaulMoreau", "DELUXE", "Electric Lights"], printed, W, margin=1.0)
    assert not print_unread(comps, ["Saul"], printed, W, margin=1.0)  # too little read to tell
    assert not print_unread(comps, [], printed, W, margin=1.0)
    plain_first = [comps[2], *comps[:2], *comps[3:]]  # the plain pressing matched: nothing is missing
    assert not print_unread(plain_first, ["SaulMoreau", "Electric Lights"], printed, W, margin=1.0)
    # One photo's reading is not print, whatever the sleeve reads.
    assert not print_unread(*_pressings(stickered=("V1",))[:1], ["SaulMoreau", "Electric Lights"],
                            _pressings(stickered=("V1",))[1], W, margin=1.0)


def test_the_fit_reads_every_indexed_photo_once_and_keeps_what_it_could_not_read(price_fitted, tmp_path):
    from soldsight.price.photo_text import already_read, read_photos, reader_id, store_photo_text
    from tests.fixtures.price import own_home
    from warehouse.connection import open_warehouse

    settings, summary = price_fitted
    with open_warehouse(settings, read_only=True) as con:
        indexed = {p for (p,) in con.execute("SELECT DISTINCT image_path FROM price_index").fetchall()}
        rows = con.execute("SELECT image_path, lines, error, reader FROM photo_text").fetchall()
        assert already_read(con) == indexed
    assert summary["index"]["photos_read"] == len(indexed) == len(rows) > 0
    from soldsight.commands.price import _fit_text

    assert f"; printed words read on {len(indexed)} new photos;" in _fit_text(summary)
    assert {r[3] for r in rows} == {reader_id()} and all(r[2] is None for r in rows)
    titled = sum(any(len(line) >= 6 for line in r[1]) for r in rows)
    assert titled >= len(rows) // 2  # most front photos have a title or an artist read on them
    home = own_home(settings, tmp_path)
    (home.home / "images" / "broken.jpg").write_bytes(b"not a photo")
    bad = read_photos(home.home, ["images/broken.jpg", "images/gone.jpg"], home.max_image_pixels)
    assert [r["lines"] for r in bad] == [None, None] and all(r["error"] for r in bad)
    with open_warehouse(home) as con:
        store_photo_text(con, bad)
        con.execute("UPDATE photo_text SET reader = 'an older reader' WHERE image_path = ?", [sorted(indexed)[0]])
        known = already_read(con)
    # Kept with its reason and not read again; a row another reader wrote is read again.
    assert {"images/broken.jpg", "images/gone.jpg"} <= known and sorted(indexed)[0] not in known


def test_a_sticker_printed_on_the_matched_photos_but_not_on_the_sleeve_picks_the_plain_pressing(
        price_fitted, price_world, lite0_embedder, tmp_path):
    """End to end with the fixture world: the print of some contenders' photos is made a 'DELUXE' sticker (the
    words read at fit are rewritten; the photos and the search are real), and a held-out photo whose sleeve reads
    its title plainly is priced."""
    from PIL import Image

    from soldsight.price.photo_text import reader_id, store_photo_text
    from soldsight.price.service import price_photos
    from soldsight.price.sleeve_text import read_sleeve
    from soldsight.price.text_match import agreement, read_text
    from tests.fixtures.price import own_home, with_banner
    from warehouse.connection import open_warehouse
    from world.generate import load_catalogue

    settings = own_home(price_fitted[0], tmp_path)
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(price_world)["listings"]}
    for t in answers_file(price_world):
        photo = with_banner(price_world / t["photo"], f"{t['artist']}  {t['title']}", tmp_path / f"{t['query_id']}.jpg")
        near = contenders(price_photos(settings, [photo], embedder=lite0_embedder, store=False)[0])
        lines, _ = read_sleeve(Image.open(photo))
        agreed = agreement(near[0], read_text(lines)) if near else 0
        plain = [c for c in near[1:] if album[c["listing_id"]] == t["album_id"] and agreement(c, read_text(lines)) >= agreed]
        if agreed >= LEGIBLE and album[near[0]["listing_id"]] == t["album_id"] and plain and len(near) >= 4:
            break
    else:
        raise AssertionError("no held-out photo has a second listing of its album among its contenders")
    stickered = [near[0], *[c for c in near[1:] if c is not plain[0]][:RECURRING - 1]]
    sticker_paths = {c["image_path"] for c in stickered}
    with open_warehouse(settings) as con:
        store_photo_text(con, [{"image_path": c["image_path"], "lines": [t["artist"], "DELUXE", t["title"]]
                                if c["image_path"] in sticker_paths else [t["artist"], t["title"]],
                                "error": None, "reader": reader_id(), "read_at": datetime.now(timezone.utc)}
                               for c in near])
    [moved] = price_photos(settings, [photo], embedder=lite0_embedder, store=False)
    assert moved["match"]["listing_id"] != near[0]["listing_id"]
    assert album[moved["match"]["listing_id"]] == t["album_id"] and moved["sleeve_text"]["chose_match"]
    assert moved["sleeve_text"]["print"] == (f"'DELUXE' is printed on the photo of listing {near[0]['listing_id']} "
                                             "but not read on the sleeve")
    from soldsight.commands.price import _text

    assert f"  pressing chosen by print: {moved['sleeve_text']['print']}" in _text(moved, None).splitlines()
    assert next(c["image_path"] for c in moved["comparables"]
                if c["listing_id"] == moved["match"]["listing_id"]) not in sticker_paths
    [kept] = price_photos(replace(settings, read_listing_photos=False), [photo], embedder=lite0_embedder, store=False)
    assert kept["match"]["listing_id"] == near[0]["listing_id"] and not (kept["sleeve_text"] or {}).get("print")
    # The sticker read on the sleeve too: the stickered match stays.
    read_too = with_banner(price_world / t["photo"], f"{t['artist']} DELUXE {t['title']}", tmp_path / "deluxe.jpg")
    [stays] = price_photos(settings, [read_too], embedder=lite0_embedder, store=False)
    assert next(c["image_path"] for c in stays["comparables"]
                if c["listing_id"] == stays["match"]["listing_id"]) in sticker_paths


def test_a_fit_stores_what_it_reads_a_part_at_a_time(price_fitted, tmp_path):
    from contextlib import contextmanager

    from soldsight.price.photo_text import already_read, read_and_store
    from tests.fixtures.price import own_home
    from warehouse.connection import open_warehouse

    home = own_home(price_fitted[0], tmp_path)
    with open_warehouse(home) as con:
        before = dict(con.execute("SELECT image_path, lines FROM photo_text ORDER BY image_path LIMIT 5").fetchall())
        con.execute("DELETE FROM photo_text WHERE image_path IN (SELECT unnest(?::VARCHAR[]))", [list(before)])
    holds = []

    @contextmanager
    def writing():
        with open_warehouse(home, read_only=True) as con:  # what the warehouse holds as each part begins
            holds.append(len(set(before) & already_read(con)))
        yield

    assert read_and_store(home, list(before), writing, chunk=2) == 5
    assert holds == [0, 2, 4]  # three parts, each stored before the next was read
    with open_warehouse(home, read_only=True) as con:
        again = dict(con.execute("SELECT image_path, lines FROM photo_text WHERE image_path IN "
                                 "(SELECT unnest(?::VARCHAR[]))", [list(before)]).fetchall())
    assert again == before  # the same reader reads the same photo the same way
