"""The price model's arithmetic: weighted quantiles, the suggestion, grade effects, and their calibration."""
from __future__ import annotations

import numpy as np
import pytest

from soldsight.price import synthetic as syn
from soldsight.price.model import GradeModel, PriceParams, fit_grade_effects, normalise_grade, suggest, weighted_quantile


def comp(price, sim, currency="USD", media=None, sleeve=None):
    return {"total_price": price, "similarity": sim, "currency": currency, "media_grade": media, "sleeve_grade": sleeve}


def test_weighted_quantile_follows_weights():
    assert weighted_quantile([1, 2, 3], [1, 1, 1], 0.5)[0] == pytest.approx(2.0)
    assert weighted_quantile([1, 2, 100], [10, 10, 0.001], 0.5)[0] < 2.01
    assert weighted_quantile([1, 2, 100], [0.001, 0.001, 10], 0.5)[0] > 99


def test_suggestion_resists_an_outlier_and_weights_similarity():
    comps = [comp(20, 0.95), comp(22, 0.94), comp(21, 0.93), comp(500, 0.92), comp(80, 0.5), comp(90, 0.5)]
    s = suggest(comps, min_comparables=3, params=PriceParams(tau=0.05))
    assert s["status"] == "ok" and s["currency"] == "USD" and s["n_comparables"] == 6
    assert 20 <= s["suggested_price"] <= 22
    assert s["low"] <= s["suggested_price"] <= s["high"]


def test_insufficient_comparables_give_no_number():
    s = suggest([comp(20, 0.9), comp(21, 0.8)], min_comparables=3)
    assert s["status"] == "insufficient" and "suggested_price" not in s
    mixed = suggest([comp(20, 0.9), comp(21, 0.8, "GBP"), comp(22, 0.7, "EUR")], min_comparables=2)
    assert mixed["status"] == "insufficient"


def test_majority_currency_wins():
    s = suggest([comp(20, 0.9), comp(21, 0.8), comp(15, 0.95, "GBP")], min_comparables=2)
    assert s["currency"] == "USD" and s["n_comparables"] == 2


def test_a_tie_between_currencies_goes_to_the_first_comparables_whatever_the_hash_seed():
    for first, second in (("USD", "EUR"), ("EUR", "USD"), ("GBP", "USD"), ("USD", "GBP")):
        s = suggest([comp(20, 0.9, first), comp(18, 0.8, second)], min_comparables=1)
        assert s["currency"] == first and s["n_comparables"] == 1 and s["suggested_price"] == 20


def test_range_scale_widens_calibrated_range():
    comps = [comp(p, 0.9) for p in (10, 12, 14, 16, 18, 20)]
    narrow = suggest(comps, min_comparables=3, params=PriceParams(range_scale=1.0))
    wide = suggest(comps, min_comparables=3, params=PriceParams(range_scale=2.0))
    assert wide["low"] < narrow["low"] and wide["high"] > narrow["high"]
    assert wide["suggested_price"] == narrow["suggested_price"]


def test_grade_adjustment_moves_price_by_effects():
    g = GradeModel("grades-v1", media={"VG+": 0.0, "G": -0.7}, sleeve={"VG+": 0.0, "G": -0.3})
    comps = [comp(30, 0.9, media="VG+", sleeve="VG+") for _ in range(4)]
    s = suggest(comps, min_comparables=3, grades=g, media="G", sleeve="G")
    assert s["suggested_price"] == pytest.approx(30 * np.exp(-1.0), rel=1e-3)
    assert suggest(comps, min_comparables=3, grades=g)["suggested_price"] == pytest.approx(30)


def test_grades_normalised():
    assert normalise_grade("vg+") == "VG+" and normalise_grade("Near Mint") == "NM" and normalise_grade("EX") == "VG+"
    assert normalise_grade("shiny") is None and normalise_grade(None) is None


def test_a_grade_typed_at_the_prompt_means_what_it_means_in_a_listing():
    """--media/--sleeve and the listings' grades go through one table: 'Excellent' was refused and
    'VG-' unknown at the prompt while ingest read them as VG+ and G+."""
    from soldsight.ingest.grades import GRADE_TABLE

    for text, grade in GRADE_TABLE.items():
        assert normalise_grade(text) == grade and normalise_grade(text.lower()) == grade, text
    assert (normalise_grade("Excellent"), normalise_grade("EX-"), normalise_grade("VG-"), normalise_grade("Sealed")) == (
        "VG+", "VG", "G+", "M")


def test_grade_fit_recovers_effects_despite_item_prices():
    listings, album = syn.listings_table(3000, 150, seed=2)
    model, metrics = fit_grade_effects(album, listings["media_grade"].to_pylist(), listings["sleeve_grade"].to_pylist(),
                                       listings["total_price"].to_numpy())
    assert metrics["items"] == 150
    for g in ("NM", "VG", "G+", "G"):
        assert model.media[g] == pytest.approx(syn.TRUE_EFFECT[g], abs=0.05)
        assert model.sleeve[g] == pytest.approx(0.5 * syn.TRUE_EFFECT[g], abs=0.05)
    assert model.residual_sd == pytest.approx(0.12, abs=0.03)


def test_calibration_sets_the_range_to_the_target_coverage():
    from soldsight.price import backtest as bt

    rng = np.random.default_rng(7)
    rows, comps, items = [], [], {}
    for n in range(300):
        value = float(rng.uniform(10, 60))
        rows.append({"listing_id": f"L{n}", "item": None, "media_grade": None, "sleeve_grade": None,
                     "currency": "USD", "total_price": value * float(np.exp(rng.normal(0, 0.25)))})
        comps.append([{**comp(value * float(np.exp(rng.normal(0, 0.25))), 0.9 - 0.01 * j), "listing_id": f"C{n}-{j}"}
                      for j in range(8)])
    params, _, _ = bt.calibrate(rows, comps, grades=GradeModel(), min_comparables=3, items=items)
    got = bt.evaluate(rows, comps, grades=GradeModel(), params=params, threshold=-1.0, min_comparables=3, items=items)
    assert 0.75 <= bt.TARGET_COVERAGE <= 0.90
    assert got["coverage"] == pytest.approx(bt.TARGET_COVERAGE, abs=0.01)


def test_state_reads_the_newest_model_of_each_kind(tmp_path):
    import json

    from soldsight.price.index import IndexConfig
    from soldsight.price.service import _record, load_state
    from warehouse.connection import connect

    con = connect(tmp_path / "w.duckdb")
    assert load_state(con) is None  # nothing fitted yet
    for version in (1, 2):
        _record(con, "projection", json.loads(IndexConfig(embed_model_id=f"m{version}").to_json()))
        _record(con, "grades", {"media": {"VG": -0.1 * version}, "sleeve": {}, "residual_sd": 0.3})
        _record(con, "calibration", {"price_params": {}, "threshold": 0.1 * version})
    _record(con, "projection", json.loads(IndexConfig(embed_model_id="m3").to_json()))
    state = load_state(con)
    assert state.config.embed_model_id == "m3"
    assert state.grades.media == {"VG": -0.2} and state.threshold == pytest.approx(0.2)
    assert state.model_ids == {"projection": "projection-v3", "grades": "grades-v2", "calibration": "calibration-v2"}
    con.close()
