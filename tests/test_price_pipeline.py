"""End to end on a small generated world: fit, price held-out photos (and bad files), backtest.

The `soldsight price` command itself is in test_price_cli.py; both share the session's price_fitted."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from PIL import Image

from soldsight.price.index import IndexConfig
from soldsight.price.service import fit_price_model, price_photos
from tests.fixtures.price import ANSWER_FIELDS as FIELDS, answers_file, own_home, with_view_set
from warehouse.connection import open_warehouse

COMP_FIELDS = {"listing_id", "title", "total_price", "similarity", "sold_at", "image_path"}


def _close_items(comps: list[dict], match: dict, items: dict, margin: float = 0.15) -> list[str]:
    """The listings an answer should name as alternatives, worked out from its printed comparables and the items
    (artist + year) the warehouse gives their listings."""
    weight = IndexConfig().rerank_weight
    verified = [c for c in comps if "inliers" in c]
    if not verified:
        return []
    first = verified[0]["similarity"] + weight * verified[0]["inliers"]
    out, seen = [], {items[match["listing_id"]]}
    for c in verified:
        if c["similarity"] + weight * c["inliers"] >= first - margin and items[c["listing_id"]] not in seen:
            seen.add(items[c["listing_id"]])
            out.append(c["listing_id"])
    return out[:2]


def test_fit_indexes_listings_and_stores_versioned_models(price_fitted):
    settings, summary = price_fitted
    assert summary["index"]["rows"] > 0 and summary["index"]["unreadable"] == 0
    with open_warehouse(settings) as con:
        assert con.execute("SELECT DISTINCT index_id FROM price_index").fetchall() == [(summary["index"]["index_id"],)]
        kinds = dict(con.execute("SELECT kind, max(version) FROM price_models GROUP BY kind").fetchall())
        grades = json.loads(con.execute("SELECT params FROM price_models WHERE kind = 'grades'").fetchall()[0][0])
    assert set(kinds) == {"projection", "grades", "calibration"}
    from soldsight.embed.litert_engine import models_dir  # what price queries run on (soldsight.embed.litert_engine)

    block = f"block{IndexConfig().rerank_block}.tflite"  # the local features' map (block 4 since session 18)
    both = f"head+{block}"  # the search's and re-ranking's maps of a query photo from one pass (session 19)
    assert summary["litert_exported"] == ["head.tflite", block, both]
    assert sorted(p.name for p in models_dir(settings.home).iterdir()) == sorted([block, "head.tflite", both])
    # The world's media grade moves prices more than the sleeve grade, and G is cheaper than NM.
    assert grades["media"]["G"] < 0 < grades["media"]["NM"]


def test_price_held_out_photos_and_bad_files(price_fitted, price_world, lite0_embedder, tmp_path):
    settings = own_home(price_fitted[0], tmp_path)  # it counts the rows it stores
    answers = answers_file(price_world)[:4]
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not a photo")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    bomb = tmp_path / "bomb.png"
    Image.new("L", (9000, 9000)).save(bomb)  # 81 Mpx, over the 64 Mpx limit
    photos = [price_world / answers[0]["photo"], not_image, empty, bomb, *[price_world / a["photo"] for a in answers[1:]]]
    got = price_photos(settings, photos, media="VG", sleeve="VG+", embedder=lite0_embedder)
    assert [a["status"] for a in got[1:4]] == ["error"] * 3
    assert all(a["reason"] for a in got[1:4])
    priced = [got[0], *got[4:]]
    assert all(a["status"] in ("ok", "no_match", "insufficient") for a in priced)
    assert any(a["status"] == "ok" for a in priced)
    for a in got:
        assert FIELDS <= set(a)
        json.dumps(a)
    ok = [a for a in priced if a["status"] == "ok"][0]
    assert ok["low"] <= ok["suggested_price"] <= ok["high"] and ok["currency"]
    assert set(ok["match"]) == {"listing_id", "title", "artist", "release_year", "similarity"}
    with open_warehouse(settings) as con:  # the item as the matched listing's details name it
        assert con.execute("SELECT artist, release_year FROM listings WHERE listing_id = ?",
                           [ok["match"]["listing_id"]]).fetchall() == [(ok["match"]["artist"], ok["match"]["release_year"])]
    assert ok["match"]["artist"]
    assert ok["comparables"] and COMP_FIELDS <= set(ok["comparables"][0])
    # The first rerank_top are ordered by similarity + weight x inliers (geometric verification), the rest by similarity.
    comps = ok["comparables"]
    verified = [c for c in comps if "inliers" in c]
    assert verified and comps[:len(verified)] == verified
    scores = [c["similarity"] + IndexConfig().rerank_weight * c["inliers"] for c in verified]
    assert scores == sorted(scores, reverse=True)
    rest = [c["similarity"] for c in comps[len(verified):]]
    assert rest == sorted(rest, reverse=True)
    with open_warehouse(settings) as con:
        listed = con.execute("SELECT listing_id, artist, release_year, currency FROM listings").fetchall()
    items = {lid: (artist.casefold(), year) if artist else ("listing", lid) for lid, artist, year, _ in listed}
    sold_in = {lid: currency for lid, _, _, currency in listed}
    for a in priced:  # a close second item is named exactly when it comes within the margin (search.alternatives)
        assert [alt["listing_id"] for alt in a["alternatives"]] == _close_items(a["comparables"], a["match"], items)
    # The small world's photos have no close second at the default margin; a wide one names the next two items.
    wide = price_photos(replace(settings, ambiguity_margin=5.0), photos[4:], embedder=lite0_embedder, store=False)
    assert any(a["alternatives"] for a in wide)
    assert any(alt["suggested_price"] is not None for a in wide for alt in a["alternatives"])
    for a in wide:
        named = [alt["listing_id"] for alt in a["alternatives"]]
        assert named == _close_items(a["comparables"], a["match"], items, margin=5.0)
        for alt in a["alternatives"]:
            assert set(alt) == {"listing_id", "title", "artist", "release_year", "similarity", "inliers",
                                "suggested_price", "low", "high", "currency", "n_comparables"}
            # Priced, were the photo that item, from its own sales among the comparables only, in the
            # currency most of them (on a tie, the best of them) were sold in.
            own = [c for c in a["comparables"] if items[c["listing_id"]] == items[alt["listing_id"]]]
            if own:
                by_currency = [sold_in[c["listing_id"]] for c in own]
                majority = max(dict.fromkeys(by_currency), key=by_currency.count)
                assert alt["currency"] == majority or a["status"] != "ok"
                own = [c for c in own if sold_in[c["listing_id"]] == majority]
            assert alt["n_comparables"] == len(own)
            if a["status"] == "ok" and own:  # even from one sale: the answer says how many
                assert alt["low"] <= alt["suggested_price"] <= alt["high"] and alt["currency"]
                assert min(c["total_price"] for c in own) <= alt["suggested_price"] <= max(c["total_price"] for c in own)
            else:
                assert alt["suggested_price"] is None
    with open_warehouse(settings) as con:
        first = con.execute("SELECT count(*), count(DISTINCT photo) FROM price_suggestions").fetchall()[0]
    price_photos(settings, photos, media="VG", sleeve="VG+", embedder=lite0_embedder)
    with open_warehouse(settings) as con:
        again = con.execute("SELECT count(*) FROM price_suggestions").fetchall()[0][0]
        stored = con.execute("SELECT status, photo_sha256, inputs, output FROM price_suggestions WHERE photo = ?",
                             [str(photos[0])]).fetchall()
    assert first == (len(photos), len(photos)) and again == len(photos)
    assert stored[0][1] == hashlib.sha256(photos[0].read_bytes()).hexdigest() and json.loads(stored[0][2])["media"] == "VG" and json.loads(stored[0][3])["status"] == stored[0][0]
    twice = price_photos(settings, [photos[0], photos[0]], media="VG", sleeve="VG+", embedder=lite0_embedder)
    with open_warehouse(settings) as con:  # one photo twice in one call: one row, as when priced twice in a row
        assert con.execute("SELECT count(*) FROM price_suggestions").fetchall()[0][0] == len(photos)
        assert json.loads(con.execute("SELECT output FROM price_suggestions WHERE photo = ?", [str(photos[0])]).fetchall()[0][0]) == twice[1]


def test_rerank_setting_and_argument(price_fitted, price_world, lite0_embedder):
    from dataclasses import replace

    settings, _ = price_fitted
    photo = price_world / answers_file(price_world)[0]["photo"]

    def verified(s, **kw):
        [a] = price_photos(s, [photo], embedder=lite0_embedder, store=False, **kw)
        return a, sum("inliers" in c for c in a["comparables"])

    off, n_off = verified(replace(settings, rerank_top=0))
    assert n_off == 0   # SOLDSIGHT_RERANK_TOP=0: the global ranking alone
    sims = [c["similarity"] for c in off["comparables"]]
    assert sims == sorted(sims, reverse=True)
    assert verified(replace(settings, rerank_top=0), rerank=2)[1] == 2   # the argument wins over the setting
    assert verified(replace(settings, rerank_top=3))[1] == 3
    assert verified(settings)[1] == min(IndexConfig().rerank_top, len(off["comparables"]))   # unset: the fitted 20


def test_fit_stores_local_features_so_a_query_embeds_only_itself(price_fitted, price_world, lite0_embedder, tmp_path):
    import shutil
    from dataclasses import replace

    from soldsight.price.local_store import LocalStore
    from soldsight.price.local_fit import fit_local_features, previous_store
    from soldsight.price.service import load_state

    settings, summary = price_fitted
    with open_warehouse(settings) as con:
        state = load_state(con, settings.home)
        indexed = {r[0] for r in con.execute("SELECT DISTINCT image_path FROM price_index").fetchall()}
    store = LocalStore.open(settings.home, state.config.local_features)
    assert store is not None and set(store.rows) == indexed
    assert summary["local_features"]["photos"] == len(indexed) and summary["local_features"]["unreadable"] == 0
    # Without the indexed photos on disk, candidates are still verified: their features come from the store.
    home = tmp_path / "home"
    shutil.copytree(settings.home, home, ignore=shutil.ignore_patterns("images"))
    photo = price_world / answers_file(price_world)[0]["photo"]
    [a] = price_photos(replace(settings, home=home), [photo], embedder=lite0_embedder, store=False)
    [b] = price_photos(settings, [photo], embedder=lite0_embedder, store=False)
    assert max(c["inliers"] for c in a["comparables"] if "inliers" in c) > 10
    assert [c["listing_id"] for c in a["comparables"]] == [c["listing_id"] for c in b["comparables"]]
    # A query reads its cells as the fit read the store's (block, size, frame): an indexed photo, priced,
    # meets its own stored cells, and nearly every one of them agrees on the identity map.
    from soldsight.price.verify import KEEP_CELLS

    # Not square: there the centre square and the letterbox would be the same pixels.
    sizes = {p: Image.open(settings.home / p).size for p in sorted(indexed)}
    own = next(p for p, (w, h) in sizes.items() if abs(w / h - 1) > 0.2)
    [c] = price_photos(replace(settings, home=home), [settings.home / own], embedder=lite0_embedder, store=False)
    assert c["comparables"][0]["image_path"] == own and c["comparables"][0]["inliers"] >= 0.9 * KEEP_CELLS
    # A refit reuses every stored row: the nightly refresh pays only for new photos.
    with open_warehouse(settings) as con:
        previous = previous_store(con, settings.home)
    assert previous is not None and previous.directory == store.directory
    again = fit_local_features(settings, lite0_embedder, state.config, sorted(indexed), previous)
    assert again["computed"] == 0 and again["reused"] == len(indexed)


def test_condition_moves_the_price(price_fitted, price_world, lite0_embedder):
    settings, _ = price_fitted
    photo = price_world / answers_file(price_world)[0]["photo"]
    good, poor = (price_photos(settings, [photo], media=g, sleeve=g, embedder=lite0_embedder, store=False)[0]
                  for g in ("NM", "G"))
    if good["status"] == "ok" and poor["status"] == "ok":
        assert poor["suggested_price"] < good["suggested_price"]
    else:
        assert good["status"] == poor["status"]


def test_backtest_writes_model_and_baselines(price_fitted):
    from soldsight.price.backtest import run_backtest

    settings, _ = price_fitted
    result = run_backtest(settings)
    assert {"model", "global_median", "same_query_median"} <= set(result)
    assert 0 <= result["model"]["top1"] <= result["model"]["top5"] <= 1
    assert result["model"]["mdape"] is not None and result["same_query_median"]["mdape"] is not None
    with open_warehouse(settings) as con:
        methods = {r[0] for r in con.execute("SELECT method FROM backtest_results WHERE run_id = ?", [result["run_id"]]).fetchall()}
    assert methods == {"model", "global_median", "same_query_median"}


def test_filters_that_leave_no_comparables_say_so(price_fitted, price_world, lite0_embedder):
    settings, _ = price_fitted
    photo = price_world / answers_file(price_world)[1]["photo"]
    price = lambda **kw: price_photos(settings, [photo], embedder=lite0_embedder, store=False, **kw)[0]  # noqa: E731
    currency = price()["currency"]
    assert currency is not None
    # An ISO code in any case is the same filter.
    assert price(currency=currency.lower())["comparables"] == price(currency=currency)["comparables"] != []
    none = price(currency="JPY")
    assert (none["status"], none["reason"]) == ("insufficient", "no comparables: the price index has no listing sold in JPY")
    assert none["comparables"] == [] and none["suggested_price"] is None
    # The world's sales end on 2026-11-01 (world.generate's as_of): a one-day window before now holds none.
    assert price(days=1)["reason"] == "no comparables: the price index has no listing sold in the last 1 day"


def test_the_flow_step_takes_the_filters_and_names_the_item(price_fitted, price_world):
    from soldsight import steps

    settings, _ = price_fitted
    photo = str(price_world / answers_file(price_world)[1]["photo"])
    [plain] = steps.price(settings, [photo])
    assert set(plain["match"]) == {"listing_id", "title", "artist", "release_year", "similarity"}
    [row] = steps.price_rows([plain])
    assert row["item"] == f"{plain['match']['artist']}, {plain['match']['release_year']}"
    [filtered] = steps.price(settings, [photo], currency="jpy", days=30)
    assert (filtered["status"], filtered["reason"]) == (
        "insufficient", "no comparables: the price index has no listing sold in JPY in the last 30 days")


def test_below_threshold_abstains_with_reason(price_fitted, price_world, lite0_embedder):
    from dataclasses import replace

    settings, _ = price_fitted
    # Nothing read: a sleeve that plainly names its match is answered under the threshold too
    # (tests/test_price_confirmed.py), and this is the geometry's own rule.
    strict = replace(settings, match_threshold=0.9999, confident_inliers=0, read_text_margin=0)
    photo = price_world / answers_file(price_world)[2]["photo"]
    got = price_photos(strict, [photo], embedder=lite0_embedder, store=False)[0]
    assert got["status"] == "no_match" and "no confident match" in got["reason"]
    assert got["suggested_price"] is None and got["match"]["similarity"] < 0.9999


def test_a_match_verified_by_enough_inliers_is_answered_under_the_threshold(price_fitted, price_world, lite0_embedder):
    from dataclasses import replace

    settings, _ = price_fitted
    photos = [price_world / a["photo"] for a in answers_file(price_world)]
    # Nothing read: a sleeve that plainly names its match is answered under the threshold too
    # (tests/test_price_confirmed.py), and this is the geometry's own rule.
    strict = replace(settings, match_threshold=0.9999, confident_inliers=0, read_text_margin=0)
    assert {a["status"] for a in price_photos(strict, photos, embedder=lite0_embedder, store=False)} == {"no_match"}
    need = settings.confident_inliers
    answers = price_photos(replace(strict, confident_inliers=need), photos, embedder=lite0_embedder, store=False)
    vouched = [a for a in answers if a["comparables"] and a["comparables"][0].get("inliers", 0) >= need]
    assert 0 < len(vouched) < len(answers)  # the world has both kinds, so both branches are seen
    for a in answers:
        if a in vouched:
            assert a["status"] in ("ok", "insufficient") and a["match"]["listing_id"] == a["comparables"][0]["listing_id"]
        else:
            assert a["status"] == "no_match" and a["reason"].endswith(
                f"and the match's photo agrees at {a['comparables'][0]['inliers']} inliers, under {need}")


def test_fit_leaves_the_warehouse_free_while_it_runs_the_network(price_world, lite0_embedder, tmp_path):
    """Price commands during a nightly fit: another process can open the warehouse while the fit embeds."""
    import subprocess
    from contextlib import contextmanager
    import sys
    from pathlib import Path

    from soldsight.price.photo_text import STORE_EVERY
    from soldsight.settings import Settings
    from tests.fixtures.price import load_world_warehouse

    settings = Settings(home=tmp_path / "home")
    load_world_warehouse(settings, price_world)
    probe = "import sys\nfrom warehouse.connection import connect\nconnect(sys.argv[1], lock_timeout=0).close()"
    opened, holds, during_network = [], [], []

    @contextmanager
    def writing():  # stands for the Prefect task's writer slot: it must not be held while the network runs
        holds.append("held")
        yield
        holds.append("released")

    class Probing:
        """The session's embedder; on its first CNN batch, another process tries the warehouse without waiting."""

        name, model_id, dim = lite0_embedder.name, lite0_embedder.model_id, lite0_embedder.dim

        def feature_map(self, images):
            during_network.append(holds[-1:])
            if not opened:
                run = subprocess.run([sys.executable, "-c", probe, str(settings.warehouse_path)], capture_output=True,
                                     text=True, cwd=Path(__file__).resolve().parents[1], timeout=120, check=False)
                opened.append((run.returncode, run.stderr[-300:]))
            return lite0_embedder.feature_map(images)

    summary = fit_price_model(settings, embedder=Probing(), config=IndexConfig(dim=0, rerank_top=0), writing=writing)
    assert opened and opened[0][0] == 0, opened
    # Read the photo list; store the print read on the photos (one part, read with no hold); write the model.
    assert holds == ["held", "released"] * 3 and 0 < summary["index"]["photos_read"] < STORE_EVERY
    assert during_network and all(h == ["released"] for h in during_network)
    assert summary["index"]["rows"] > 0
    with open_warehouse(settings) as con:
        assert con.execute("SELECT count(*) FROM price_index").fetchall()[0][0] == summary["index"]["rows"]


def test_price_without_the_block_model_falls_back(price_fitted, price_world, lite0_embedder):
    """A home whose LiteRT export has only the head (an embed run, or a fit from before LiteRT) still prices."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from soldsight.embed.litert_engine import block_file, models_dir

    settings, _ = price_fitted
    photo = price_world / answers_file(price_world)[3]["photo"]
    block = models_dir(settings.home) / block_file(IndexConfig().rerank_block)
    aside = block.with_name("aside.tflite")
    script = "import sys\nfrom soldsight import cli\nsys.exit(cli.main(['price', sys.argv[1], '--json']))"
    block.rename(aside)
    try:  # a new process: this one keeps the block's interpreter from the fit
        run = subprocess.run([sys.executable, "-c", script, str(photo)], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "SOLDSIGHT_HOME": str(settings.home)},
                             cwd=Path(__file__).resolve().parents[1], check=False)
    finally:
        aside.rename(block)
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    [warm] = price_photos(settings, [photo], embedder=lite0_embedder, store=False)
    assert answer["status"] == warm["status"] and answer["match"] == warm["match"]
    assert any("inliers" in c for c in answer["comparables"])  # re-ranked, on another engine


def test_a_heic_photo_is_priced(price_fitted, lite0_embedder):
    """Phones save HEIC; it is read like any other photo (not a world album, so any status but error)."""
    from pathlib import Path

    settings, _ = price_fitted
    heic = Path(__file__).parent / "fixtures" / "photos" / "sleeve.heic"
    [answer] = price_photos(settings, [heic], embedder=lite0_embedder, store=False)
    assert answer["status"] in ("ok", "no_match", "insufficient"), answer["reason"]
    assert answer["comparables"]


def test_one_window_prices_alike_from_litert_one_pass_and_keras_two(price_fitted, price_world, lite0_embedder, tmp_path):
    """The default query window (the centre square, which the local features also read): LiteRT's one pass for
    the global vector and block 4 answers as Keras's two passes do. The session's fit searched five windows;
    the window is a query-time choice, so this copy of its home is switched to the default one."""
    from soldsight.embed import load_query_embedder
    from soldsight.embed.litert_engine import LiteRTEmbedder, available, head_block_file, models_dir
    from soldsight.price.search import one_window
    from soldsight.price.service import load_state

    home = with_view_set(price_fitted[0], tmp_path, "full")
    with open_warehouse(home) as con:
        assert one_window(load_state(con, home.home).config)
    photos = [price_world / a["photo"] for a in answers_file(price_world)[:8]]
    engine = load_query_embedder(home, len(photos), blocks=(IndexConfig().rerank_block,))
    assert isinstance(engine, LiteRTEmbedder) and available(models_dir(home.home), (4,), shared=True)
    one_pass = price_photos(home, photos, embedder=engine, store=False)
    assert (head_block_file(4), 224) in engine._interpreters and ("block4.tflite", 224) not in engine._interpreters
    two_passes = price_photos(home, photos, embedder=lite0_embedder, store=False)
    assert sum(a["status"] == "ok" for a in one_pass) >= 6
    for a, b in zip(one_pass, two_passes):
        assert (a["status"], a["match"]["listing_id"]) == (b["status"], b["match"]["listing_id"])
        assert {c["listing_id"] for c in a["comparables"]} == {c["listing_id"] for c in b["comparables"]}
        assert a["match"]["similarity"] == pytest.approx(b["match"]["similarity"], abs=1e-3)
