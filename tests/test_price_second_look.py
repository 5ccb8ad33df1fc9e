"""A second look through more windows for a photo whose re-ranked match is weakly supported."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from soldsight.price.second_look import GAIN, TURNS, VIEW_SET, takes_second_look, wants_second_look
from soldsight.price.service import price_photos
from soldsight.price.views import VIEW_SETS, read_photo
from tests.fixtures.price import answers_file, with_view_set


def _comps(inliers, similarity=0.5):
    return [{"listing_id": "L1", "similarity": similarity, "inliers": inliers},
            {"listing_id": "L2", "similarity": similarity + 0.1, "inliers": 2}]


def test_only_a_confident_weakly_supported_match_looks_again():
    assert wants_second_look(_comps(24), threshold=0.5, below=25)
    assert not wants_second_look(_comps(25), threshold=0.5, below=25)
    assert not wants_second_look(_comps(3), threshold=0.5, below=0)  # 0 turns it off
    # The best similarity decides confidence, as in identify(): here the second listing's 0.6.
    assert wants_second_look(_comps(3, similarity=0.45), threshold=0.55, below=25)
    assert not wants_second_look(_comps(3, similarity=0.3), threshold=0.55, below=25)  # abstains: stays so
    assert not wants_second_look([{"listing_id": "L1", "similarity": 0.9}], threshold=0.5, below=25)  # not re-ranked
    assert not wants_second_look([], threshold=0.5, below=25)


def test_the_second_answer_is_kept_only_when_clearly_better_supported():
    assert GAIN == 3 and takes_second_look(_comps(10), _comps(13)) and takes_second_look(_comps(10), _comps(30))
    assert not takes_second_look(_comps(10), _comps(12))
    assert not takes_second_look(_comps(10), [])
    # Off the centre square the default search looks through: the corners and the whole photo letterboxed.
    assert (1.0, 0.5, 0.5) not in VIEW_SETS[VIEW_SET] and (1.0, 0.5, 0.5, "pad") in VIEW_SETS[VIEW_SET]
    assert len([w for w in VIEW_SETS[VIEW_SET] if w[1:3] != (0.5, 0.5)]) == 4


def _off_centre(photo, out_dir, side=300, at=(60, 10)):
    """The photo's sleeve small and near a corner of a plain 640x480 frame: half of it outside the
    centre square the default search looks through, as in a quick snapshot on a table."""
    im = Image.open(photo).convert("RGB")
    s = min(im.size)
    sleeve = im.crop(((im.width - s) // 2, (im.height - s) // 2, (im.width + s) // 2, (im.height + s) // 2))
    rng = np.random.default_rng(len(photo.name))
    frame = Image.fromarray((rng.random((480, 640, 3)) * 60 + 90).astype(np.uint8))
    frame.paste(sleeve.resize((side, side)), at)
    out = out_dir / f"corner-{photo.stem}.jpg"
    frame.save(out, quality=92)
    return out


def _with_view_set(settings, tmp_path, name, view_set, **changes):
    return with_view_set(settings, tmp_path / name, view_set, **changes)


def _turned(photo, turn, out_dir, max_pixels):
    """The photo as pricing loads it, turned `turn` degrees counter-clockwise, saved without loss."""
    out = out_dir / f"{photo.stem}-turned-{turn}.png"
    read_photo(photo, max_pixels)[0].rotate(turn, expand=True).save(out)
    return out


def _inliers(answer):
    return answer["comparables"][0].get("inliers") or -1 if answer["comparables"] else -1


def test_a_weak_match_gets_the_answer_of_the_wider_or_turned_search(price_fitted, price_world, lite0_embedder,
                                                                   tmp_path):
    """With the bar set so that every confident answer looks again: an answer is the wider search's (the
    photo searched through the second look's windows and re-ranked the same way) when that one's match has
    GAIN more inliers, then the best supported of the photo searched turned by each of TURNS when that one's
    has GAIN more again, and the first look's otherwise. The session's fit searches five windows, and the
    second look is for the default one, so these copies of its home are switched."""
    held_out = [price_world / a["photo"] for a in answers_file(price_world)]
    lying = [_turned(p, 90, tmp_path, price_fitted[0].max_image_pixels) for p in held_out]  # a sleeve lying sideways
    photos = held_out + [_off_centre(p, tmp_path) for p in held_out] + lying
    # The sleeves are not read: the words would move some matches after either look (tests/test_price_sleeve_text.py).
    home = _with_view_set(price_fitted[0], tmp_path, "full", "full", second_look=10_000, read_text_margin=0)
    wide = _with_view_set(price_fitted[0], tmp_path, "wide", VIEW_SET, second_look=0, read_text_margin=0)
    once = replace(home, second_look=0)
    first = price_photos(once, photos, embedder=lite0_embedder, store=False)
    wider = price_photos(wide, photos, embedder=lite0_embedder, store=False)
    turned = [price_photos(once, [_turned(p, t, tmp_path, home.max_image_pixels) for p in photos],
                           embedder=lite0_embedder, store=False) for t in TURNS]
    both = price_photos(home, photos, embedder=lite0_embedder, store=False, batch=5)
    looked = turned_looks = 0
    for n, (f, w, b) in enumerate(zip(first, wider, both)):
        same = f
        if f["status"] != "no_match":
            same = w if takes_second_look(f["comparables"], w["comparables"]) else f
            best_turned = max((answers[n] for answers in turned), key=_inliers)
            if takes_second_look(same["comparables"], best_turned["comparables"]):
                same = best_turned
                turned_looks += n >= 2 * len(held_out)
        assert b["second_look"] is (same is not f) and not f["second_look"] and not w["second_look"]
        # Keras's float sums differ in the last bits with the CNN batch's size, hence the similarities' tolerance.
        assert [(c["listing_id"], c.get("inliers")) for c in b["comparables"]] == \
            [(c["listing_id"], c.get("inliers")) for c in same["comparables"]]
        assert [c["similarity"] for c in b["comparables"]] == \
            pytest.approx([c["similarity"] for c in same["comparables"]], abs=1e-3)
        assert (b["status"], b["match"]["listing_id"]) == (same["status"], same["match"]["listing_id"])
        looked += same is not f
    assert 0 < looked < sum(f["status"] != "no_match" for f in first)
    assert turned_looks > 0  # photos of a sleeve lying sideways are answered as if upright


def test_an_answer_that_abstains_or_a_wider_fit_does_not_look_again(price_fitted, price_world, lite0_embedder, tmp_path,
                                                                    monkeypatch):
    from soldsight.price import batch

    searched = []  # the windows of every search

    def spy(embedder, photos, config, projection):
        searched.append(config.view_set)
        return query_vectors(embedder, photos, config, projection)

    query_vectors = batch.query_vectors
    monkeypatch.setattr(batch, "query_vectors", spy)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:6]]
    unsure = _with_view_set(price_fitted[0], tmp_path, "unsure", "full", second_look=10_000, match_threshold=0.999,
                             confident_inliers=0)
    answers = price_photos(unsure, photos, embedder=lite0_embedder, store=False)
    assert {a["status"] for a in answers} == {"no_match"} and not any(a["second_look"] for a in answers)
    assert VIEW_SET not in searched
    wide_fit = replace(price_fitted[0], second_look=10_000)  # the session's fit searches five windows already
    answers = price_photos(wide_fit, photos, embedder=lite0_embedder, store=False)
    assert any(a["status"] == "ok" for a in answers) and not any(a["second_look"] for a in answers)
    assert searched == ["crops5"]  # its one search, for the whole batch


def test_a_second_look_beside_the_next_batch_runs_its_cnn_after_that_batchs_scan(price_fitted, price_world,
                                                                                 lite0_embedder, tmp_path, monkeypatch):
    """LiteRT's two threads slow 4x while DuckDB scans beside them, so a batch's second look, which runs beside
    the next batch's index scan, waits for that scan to end before its CNN pass. The scan is slowed here so
    that a CNN pass that did not wait would start inside it."""
    from soldsight.price import batch

    home = _with_view_set(price_fitted[0], tmp_path, "full", "full", second_look=10_000, price_batch=2)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:6]]  # batches [0, 1] [2, 3] [4, 5]
    events, scanning = [], []

    def spy(name, fn):
        def called(*args, **kwargs):
            main = threading.current_thread() is threading.main_thread()
            events.append((name, main, bool(scanning)))
            if name == "_scan" and main:
                scanning.append(True)
                time.sleep(0.5)
            try:
                return fn(*args, **kwargs)
            finally:
                if name == "_scan" and main:
                    scanning.pop()
        return called

    monkeypatch.setattr(batch, "_scan", spy("_scan", batch._scan))
    monkeypatch.setattr(batch, "query_vectors", spy("query_vectors", batch.query_vectors))  # second looks only
    price_photos(home, photos, embedder=lite0_embedder, store=False)
    beside = [e for e in events if e[0] == "query_vectors" and not e[1]]
    assert len(beside) == 2  # batches 0 and 1 looked again, each beside the next batch
    assert not any(during_scan for _, _, during_scan in beside)
