"""Reading the words on a sleeve, and letting them choose among look-alike candidates."""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from soldsight.price import sleeve_text
from soldsight.price.service import price_photos
from soldsight.price.text_match import (MIN_INLIERS, agreement, choose_by_text, item_agreement, squeeze,
                                        wants_reading, words)
from tests.fixtures.price import answers_file, with_banner
from world.generate.sleeves import font

W = 0.02  # the fitted re-ranking weight per inlier


def _comp(listing_id, title, artist, similarity, inliers, year=2001):
    return {"listing_id": listing_id, "title": title, "artist": artist, "release_year": year,
            "similarity": similarity, "inliers": inliers}


def _look_alikes():
    """One artist's two albums in one artwork style, the wrong one first by 0.24 of re-ranked score."""
    return [_comp("L1", "Broken Rivers Summer Tides F-3674 NM Record", "Broken Rivers", 0.55, 20, 1999),
            _comp("L2", "Broken Rivers Echoes of Burning Highway 2023", "Broken Rivers", 0.53, 9, 2023),
            _comp("L3", "Vera Marlowe - Afterglow", "Vera Marlowe", 0.31, 2, 1990)]


def test_agreement_counts_the_characters_of_a_listings_words_found_in_what_was_read():
    read = "|".join(squeeze(t) for t in ["EchoesofBurning Highway", "Broken-Rivers"])
    assert read == "echoesofburninghighway|brokenrivers"
    # 'of' is too short to count; '2023' was not read.
    assert words(_look_alikes()[1]) == {"broken", "rivers", "echoes", "burning", "highway", "2023"}
    assert agreement(_look_alikes()[1], read) == 6 + 6 + 6 + 7 + 7
    assert agreement(_look_alikes()[0], read) == 6 + 6  # the artist only
    assert agreement(_look_alikes()[2], read) == 0
    assert squeeze("Sigur Rós – Ágætis Byrjun") == "sigurróságætisbyrjun"  # letters beyond ASCII are kept


def test_letters_the_recogniser_confuses_count_as_the_same_letter():
    iron = _comp("L7", "The Iron Machines Paper Shadows 2001", "The Iron Machines", 0.5, 20)
    assert agreement(iron, squeeze("The lron Machines")) == 3 + 4 + 8  # 'lron': an I read as l
    assert agreement(_comp("L8", "Bram Pryce Undertow", "Bram Pryce", 0.5, 20), squeeze("UNDERTOV")) == 8
    assert agreement(_comp("L9", "Silver 1950 Hits", "Cal Quill", 0.5, 20), squeeze("SILVER I95O")) == 6 + 4
    # Other letters still differ: a word with one letter of another shape is not found.
    assert agreement(iron, squeeze("The Irom Machimes")) == 3


def test_the_text_moves_the_contender_it_agrees_with_most_to_the_front():
    comps = _look_alikes()
    chosen, moved = choose_by_text(comps, ["Echoes of Burning Highway", "Broken Rivers"], W, margin=1.0)
    assert moved and [c["listing_id"] for c in chosen] == ["L2", "L1", "L3"]
    assert comps[0]["listing_id"] == "L1"  # the caller's list is left as it was
    # Out of reach of the margin (scores 0.95 and 0.71), the text changes nothing.
    assert choose_by_text(comps, ["Echoes of Burning Highway"], W, margin=0.2) == (comps, False)
    # The text agrees with the match as much as with the contender (the artist only): the match stays.
    assert choose_by_text(comps, ["Broken Rivers"], W, margin=1.0) == (comps, False)
    # The text agrees with the match most: nothing moves.
    assert choose_by_text(comps, ["Summer Tides", "Broken Rivers"], W, margin=1.0) == (comps, False)
    assert choose_by_text(comps, [], W, margin=1.0) == (comps, False)  # nothing read
    assert choose_by_text(comps, ["Echoes of Burning Highway"], W, margin=0) == (comps, False)  # 0: off


def test_the_words_choose_only_a_candidate_whose_photo_matches_at_least_min_inliers():
    weak = [{**c, "inliers": MIN_INLIERS - 1} if c["listing_id"] == "L2" else c for c in _look_alikes()]
    assert choose_by_text(weak, ["Echoes of Burning Highway", "Broken Rivers"], W, margin=1.0) == (weak, False)
    enough = [{**c, "inliers": MIN_INLIERS} if c["listing_id"] == "L2" else c for c in _look_alikes()]
    assert choose_by_text(enough, ["Echoes of Burning Highway", "Broken Rivers"], W, margin=1.0)[1]


def test_of_several_that_agree_as_much_the_higher_score_wins_and_a_lot_is_never_chosen():
    comps = _look_alikes()
    comps.insert(2, _comp("L4", "Broken Rivers - Echoes of Burning Highway", "Broken Rivers", 0.52, 8, 2023))
    chosen, moved = choose_by_text(comps, ["Echoes of Burning Highway", "Broken Rivers"], W, margin=1.0)
    assert moved and [c["listing_id"] for c in chosen[:2]] == ["L2", "L1"]
    lot = _comp("L9", "Lot of 3 LPs: Broken Rivers Echoes of Burning Highway, Vera Marlowe, Cal Quill",
                "Broken Rivers, Vera Marlowe, Cal Quill", 0.54, 10, None)
    chosen, _ = choose_by_text([comps[0], lot, *comps[1:]], ["Echoes of Burning Highway", "Broken Rivers"], W, 1.0)
    assert chosen[0]["listing_id"] == "L2"  # the lot's title names every album in it


def test_a_lot_matched_gives_way_to_a_single_item_the_text_agrees_with_as_much():
    comps = _look_alikes()
    lot = _comp("L9", "Lot of 2 LPs: Broken Rivers Echoes of Burning Highway, Vera Marlowe Afterglow",
                "Broken Rivers, Vera Marlowe", 0.60, 30, None)
    read = ["Echoes of Burning Highway", "Broken Rivers"]
    chosen, moved = choose_by_text([lot, *comps], read, W, margin=1.0)
    assert moved and chosen[0]["listing_id"] == "L2" and chosen[1]["listing_id"] == "L9"
    # Only for a lot: a single item the text agrees with as much as with the match leaves the match.
    twin = {**comps[1], "listing_id": "L8", "similarity": 0.60, "inliers": 30}
    assert choose_by_text([twin, *comps], read, W, margin=1.0) == ([twin, *comps], False)
    # Nothing read that either names: the lot stays, as it does when the text agrees with the lot more.
    assert choose_by_text([lot, *comps], ["Cal Quill"], W, margin=1.0)[1] is False
    assert choose_by_text([lot, *comps], ["Afterglow", "Vera Marlowe"], W, margin=1.0)[1] is False


def test_one_sellers_misspelling_or_stray_keyword_does_not_choose_between_two_pressings():
    # Two pressings of one album, named alike on the sleeve; the match's own listing misspells the title.
    original = [_comp("O1", "Cleo Moreau Oveerture Record Cascade", "Cleo Moreau", 0.67, 69, 1973),
                _comp("O2", "Cleo Moreau - Overture 1973 NICE Cascade LP", "Cleo Moreau", 0.40, 40, 1973)]
    reissue = [_comp("R1", "Cleo Moreau - Overture Plays Great LP Cascade", "Cleo Moreau", 0.67, 54, 2006),
               _comp("R2", "Overture Cleo Moreau 2006 NM", "Cleo Moreau", 0.60, 55, 2006)]
    comps = [original[0], *reissue, original[1]]
    read = ["OVERTURE", "CLEOMOREAU"]
    assert agreement(original[0], squeeze("|".join(read))) < agreement(reissue[0], squeeze("|".join(read)))
    assert item_agreement(comps, "overture|cleomoreau") == {("cleo moreau", 1973): 18, ("cleo moreau", 2006): 18}
    assert choose_by_text(comps, read, W, margin=1.0) == (comps, False)

    # '1st' read as 'lst' in 'Distant': a keyword of one listing, not a word of its pressing's name.
    ours = [_comp("A1", "Wes Bexley Shadows of Distant Parade 2023 LP", "Wes Bexley", 0.75, 81, 2023),
            _comp("A2", "Wes Bexley Shadows of Distant Parade Original", "Wes Bexley", 0.70, 70, 2023)]
    theirs = [_comp("B1", "Wes Bexley Shadows of Distant Parade 2024 1st Press", "Wes Bexley", 0.46, 56, 2024),
              _comp("B2", "Shadows of Distant Parade Wes Bexley 2024 LP Vinyl", "Wes Bexley", 0.60, 63, 2024)]
    comps = [*ours, *theirs]
    read = ["WesBexley", "Shadows of Distant Parad"]
    assert agreement(theirs[0], squeeze("|".join(read))) > agreement(ours[0], squeeze("|".join(read)))
    assert choose_by_text(comps, read, W, margin=1.0) == (comps, False)
    # A word the other pressing's listings share, read on the sleeve, still chooses it: its best-scored listing.
    chosen, moved = choose_by_text(comps, [*read, "2024"], W, margin=1.0)
    assert moved and chosen[0]["listing_id"] == "B2"


def test_the_sleeve_is_read_only_when_another_item_is_within_the_margin():
    comps = _look_alikes()
    assert wants_reading(comps, W, margin=0.3) and not wants_reading(comps, W, margin=0.2)
    assert not wants_reading(comps, W, margin=0)
    same_item = [comps[0], {**comps[0], "listing_id": "L5", "similarity": 0.5}]
    assert not wants_reading(same_item, W, margin=1.0)  # two sales of one item: nothing to decide
    not_reranked = [{k: v for k, v in c.items() if k != "inliers"} for c in comps]
    assert not wants_reading(not_reranked, W, margin=1.0) and not wants_reading([], W, margin=1.0)


def _sleeve_photo(lines, tilt=7.0, side=640):
    """Printed words on a coloured square, turned and set on a noisy table, as a hand-held photo."""
    rng = np.random.default_rng(3)
    sleeve = Image.new("RGB", (420, 420), (40, 70, 150))
    draw = ImageDraw.Draw(sleeve)
    for i, (text, size) in enumerate(lines):
        draw.text((30, 60 + 90 * i), text, font=font(size), fill=(245, 235, 200))
    turned = sleeve.rotate(tilt, expand=True, fillcolor=(0, 0, 0))
    photo = Image.fromarray((rng.random((side, side, 3)) * 50 + 100).astype(np.uint8))
    photo.paste(turned, ((side - turned.width) // 2, (side - turned.height) // 2),
                turned.convert("L").point(lambda v: 255 if v else 0))
    return photo


def test_the_reader_reads_a_tilted_sleeve():
    lines, error = sleeve_text.read_sleeve(_sleeve_photo([("Broken Rivers", 40), ("Echoes of Highway", 42)]))
    assert error is None
    read = "|".join(squeeze(t) for t in lines)
    assert "brokenrivers" in read and "echoesofhighway" in read
    blank, error = sleeve_text.read_sleeve(Image.new("RGB", (300, 300), (90, 90, 90)))
    assert (blank, error) == ([], None)


@pytest.mark.parametrize("turn", [90, -90, 180])
def test_a_sleeve_lying_turned_a_quarter_either_way_or_upside_down_is_read(turn):
    # RapidOCR turns a tall line one way only: a sleeve lying the other way was read upside down, and nothing
    # of its title was kept; nor of a sleeve photographed upside down. All must read it.
    lines, error = sleeve_text.read_sleeve(
        _sleeve_photo([("Broken Rivers", 40), ("Echoes of Highway", 42)], tilt=turn + 4.0))
    read = "|".join(squeeze(t) for t in lines)
    assert error is None and "brokenrivers" in read and "echoesofhighway" in read


def test_small_lettering_found_nowhere_is_read_again_larger_in_the_centre_only(monkeypatch):
    photo = Image.new("RGB", (640, 480), (200, 190, 170))
    draw = ImageDraw.Draw(photo)
    draw.rectangle([220, 140, 420, 340], fill=(30, 60, 90))
    for y, text in ((200, "Broken Rivers"), (260, "Echoes of Highway")):
        draw.text((235, y), text, font=font(10), fill=(240, 230, 200))
    draw.text((10, 20), "Summer Tides", font=font(10), fill=(20, 20, 20))  # another sleeve's words, off the centre
    first, error = sleeve_text._read_at(photo, sleeve_text.READ_SIDE)
    assert error is None and not any(words({"title": line}) for line in first)  # too small at READ_SIDE
    read = "|".join(squeeze(t) for t in sleeve_text.read_sleeve(photo)[0])
    assert "brokenrivers" in read and "echoesofhighway" in read and "summer" not in read
    calls = []
    read_at = sleeve_text._read_at
    monkeypatch.setattr(sleeve_text, "_read_at", lambda im, side: calls.append(im.size) or read_at(im, side))
    blank = Image.new("RGB", (448, 336), (90, 90, 90))
    assert sleeve_text.read_sleeve(blank) == ([], None) and calls == [(448, 336)]  # no larger size to read it at


def test_threads_share_the_readers_and_read_what_one_reader_reads():
    from concurrent.futures import ThreadPoolExecutor

    photos = [_sleeve_photo([("Broken Rivers", 40), (title, 42)], tilt=tilt)
              for title, tilt in (("Echoes of Highway", 7.0), ("Summer Tides", -4.0), ("Cold Weather", 2.0))]
    alone = [sleeve_text.read_sleeve(p) for p in photos]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(sleeve_text.read_sleeve, photos * 2))
    assert together == alone * 2 and all(lines and error is None for lines, error in alone)
    assert sleeve_text._made <= sleeve_text.READERS


def test_a_reader_that_cannot_load_is_a_reason_not_a_crash(monkeypatch):
    sleeve_text.discard_readers()
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # as when the package is not installed
    try:
        lines, error = sleeve_text.read_sleeve(_sleeve_photo([("Broken Rivers", 40)]))
    finally:
        sleeve_text.discard_readers()
    assert lines is None and error.startswith("the sleeve's text could not be read: ModuleNotFoundError")


def _contender_banners(answers, photos, out_dir):
    """For each answer that read its sleeve, the photo with the title of another listing scoring within the
    margin printed across it: words that agree with a contender, which may then become the match."""
    from soldsight.price.verify import reranked_score

    made = []
    for photo, a in zip(photos, answers):
        if a["sleeve_text"] is None or a["status"] != "ok":
            continue
        ranked = [c for c in a["comparables"] if "inliers" in c]
        near = [c for c in ranked if reranked_score(c, W) >= reranked_score(ranked[0], W) - 1.0]
        other = next((c for c in near if c["title"].split()[:2] != a["match"]["title"].split()[:2]), None)
        if other is not None:
            made.append(with_banner(photo, other["title"][:28], out_dir / f"banner-{photo.stem}.jpg"))
    return made


def test_answers_say_what_was_read_and_the_text_moves_a_match_only_towards_itself(price_fitted, price_world,
                                                                                  lite0_embedder, tmp_path):
    """On the held-out photos, and on copies with a contender's title printed across them: an answer that
    read its sleeve keeps the match it had without reading, or moves to a listing the words agree with more."""
    from world.generate import load_catalogue

    truth = answers_file(price_world)
    held_out = [price_world / a["photo"] for a in truth]
    album = {x["listing_id"]: x["album_ids"][0] for x in load_catalogue(price_world)["listings"]}
    never, reading = replace(price_fitted[0], read_text_margin=0), replace(price_fitted[0], read_text_margin=1.0)
    read = price_photos(reading, held_out, embedder=lite0_embedder, store=False)
    banners = _contender_banners(read, held_out, tmp_path)
    read += price_photos(reading, banners, embedder=lite0_embedder, store=False)
    unread = price_photos(never, held_out + banners, embedder=lite0_embedder, store=False)
    n_read = n_moved = 0
    for u, r in zip(unread, read):
        assert u["sleeve_text"] is None  # 0: never read
        text = r["sleeve_text"]
        if text is None:
            assert r["match"] == u["match"]
            continue
        n_read += 1
        assert text["error"] is None and isinstance(text["lines"], list)
        said = "|".join(squeeze(line) for line in text["lines"])
        if text["chose_match"]:
            n_moved += 1
            assert agreement(r["match"], said) > agreement(u["match"], said)
            assert r["comparables"][0]["listing_id"] == r["match"]["listing_id"]
        else:
            assert r["match"]["listing_id"] == u["match"]["listing_id"]
    right = lambda answers: sum(album.get((a["match"] or {}).get("listing_id")) == t["album_id"]  # noqa: E731
                                for a, t in zip(answers, truth))
    assert banners and n_read > len(banners) and n_moved > 0
    assert right(read[:len(truth)]) >= right(unread[:len(truth)])


def test_a_photo_priced_alone_is_read_beside_its_scan_and_answered_as_in_a_batch(price_fitted, price_world,
                                                                                  lite0_embedder, monkeypatch):
    import threading

    from soldsight.price import batch

    readers = []

    def spy(image):
        readers.append(threading.current_thread().name)
        return read_sleeve(image)

    read_sleeve = batch.read_sleeve
    monkeypatch.setattr(batch, "read_sleeve", spy)
    settings = replace(price_fitted[0], read_text_margin=1.0)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:8]]
    together = price_photos(settings, photos, embedder=lite0_embedder, store=False)
    assert readers and not any(name.startswith("soldsight-sleeve") for name in readers)
    readers.clear()
    alone = [price_photos(settings, [p], embedder=lite0_embedder, store=False)[0] for p in photos]
    # Every lone photo is read early, needed or not; only the answers that want the text show it.
    assert len(readers) == len(photos) and all(name.startswith("soldsight-sleeve") for name in readers)
    assert [a["sleeve_text"] for a in alone] == [a["sleeve_text"] for a in together]
    assert [a["match"]["listing_id"] for a in alone] == [a["match"]["listing_id"] for a in together]
    assert any(a["sleeve_text"] for a in alone) and not all(a["sleeve_text"] for a in alone)
