"""Scraping a generated world's catalogue (the world helper's format) reproduces every listing it shows."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime

import pytest

from soldsight.ingest.grades import to_goldmine
from soldsight.scrape.run import scrape_searches
from warehouse.connection import open_warehouse
from world.marketplace import Marketplace

IMAGES = "http://127.0.0.1:9"   # never fetched here


def fold(text):
    return " ".join(text.split()) if text else None


@pytest.fixture(scope="module")
def world_listings():
    from world.generate.catalogue import default_as_of, plan_albums, plan_listings

    rng = random.Random(11)
    albums = plan_albums(rng, 24)
    listings, _jobs = plan_listings(rng, albums, 240, "/nowhere", default_as_of())
    for x in listings:
        x["image_urls"] = [IMAGES + p for p in x["image_paths"]]
    return listings


@pytest.mark.parametrize("layout", ["s-card", "s-item"])
def test_every_listing_a_search_shows_is_stored_as_the_catalogue_has_it(settings, world_listings, layout):
    by_id = {x["listing_id"]: x for x in world_listings}
    keyword = max({x["keyword"] for x in world_listings},
                  key=lambda k: (sum(x["keyword"] == k for x in world_listings), k))
    with Marketplace(world_listings, layout=layout) as market:
        shown = [x["listing_id"] for x in market.matches(keyword)]
        s = replace(settings, marketplace_url=market.url, scrape_rate=500.0, user_agent="soldsight-test")
        summary = scrape_searches(s, [keyword], pages=5, items=True, use_proxy=False)
    assert summary["error_count"] == 0 and summary["items"] == {"ok": len(shown)}
    with open_warehouse(s) as con:
        cur = con.execute("SELECT * FROM listings")
        names = [d[0] for d in cur.description]
        rows = {d["listing_id"]: d for d in (dict(zip(names, t)) for t in cur.fetchall())}
    assert set(rows) == set(shown) and len(shown) >= 5
    for lid, r in rows.items():
        x = by_id[lid]
        assert (r["title"], r["price"], r["currency"], r["sold"]) == (x["title"], x["price"], x["currency"], x["sold"]), lid
        assert r["shipping_cost"] == x["shipping_cost"]
        assert r["artist"] == x["artist"] and r["release_year"] == x["release_year"]
        # HTML shows runs of spaces as one, so the raw grade text is compared with spaces folded.
        assert r["media_grade_raw"] == fold(x["media_grade"]) and r["sleeve_grade_raw"] == fold(x["sleeve_grade"])
        assert r["media_grade"] == to_goldmine(x["media_grade"])
        assert r["condition_raw"] == fold(x["condition"])
        assert r["image_urls"] == x["image_urls"]
        assert r["sold_at"] == datetime.fromisoformat(x["sold_at"])
        assert r["query"] == keyword
