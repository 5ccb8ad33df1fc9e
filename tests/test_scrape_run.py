"""Scraping the local marketplace end to end: both layouts, pagination, resume, blocks, empty pages."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from soldsight.scrape.fetch import PoolPageSource
from soldsight.scrape.run import scrape_searches
from tests.fixtures.scrape import many_rumours, small_catalogue
from warehouse.connection import open_warehouse
from world.marketplace import Marketplace


def fast(settings, market, **more):
    """Settings pointed at the local marketplace, with tiny delays so tests stay quick."""
    return replace(settings, marketplace_url=market.url, scrape_rate=500.0, proxy_cooldown=0.01,
                   backoff_base=0.001, backoff_max=0.01, http_timeout=5.0, user_agent="soldsight-test/1.0", **more)


def rows(s, query="SELECT * FROM listings ORDER BY listing_id"):
    with open_warehouse(s) as con:
        cur = con.execute(query)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def test_both_layouts_store_every_card_with_sold_flags(settings, marketplace):
    s = fast(settings, marketplace)
    summary = scrape_searches(s, ["rumours"], pages=3, use_proxy=False)
    expected = {x["listing_id"]: x for x in small_catalogue() if "Rumours" in x["title"]}
    got = {r["listing_id"]: r for r in rows(s)}
    assert set(got) == set(expected)
    assert summary["cards"] == 12 and summary["new"] == 12 and summary["error_count"] == 0
    assert summary["skipped_adverts"] == 3          # 'Shop on eBay' and two sponsored cards
    for lid, x in expected.items():
        r = got[lid]
        assert r["sold"] is x["sold"], lid
        assert r["source"] == "ebay" and r["query"] == "rumours"
        assert r["origin"].startswith(marketplace.url + "/sch/i.html?")
        assert r["record_hash"] == hashlib.sha256(r["raw"].encode()).hexdigest()
        assert json.loads(r["raw"])["card"]["layout"] == marketplace.layout
        assert r["image_urls"] == x["image_urls"][:1]
        assert r["item_url"] == f"{marketplace.url}/itm/{lid}"
        assert r["currency"] == x["currency"]
        if x.get("price_high") is None:
            assert r["price"] == pytest.approx(x["price"])
    assert got["186000000008"]["price"] is None      # a range: which variation sold is unknown from the card
    assert got["186000000009"]["price"] == 18.0      # not the struck-through 25.00
    assert got["186000000005"]["shipping_cost"] is None and got["186000000005"]["total_price"] is None
    assert got["186000000003"]["total_price"] == 12.5  # free shipping


def test_ended_listings_are_kept_but_never_comparables(settings, card_market):
    s = fast(settings, card_market)
    scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
    ended = {r["listing_id"] for r in rows(s, "SELECT listing_id FROM listings WHERE NOT sold")}
    assert ended == {"186000000007", "186000000012"}
    sold_view = {r["listing_id"] for r in rows(s, "SELECT listing_id FROM sold_prices")}
    assert not ended & sold_view and len(sold_view) == 10


def test_item_pages_add_specifics_grades_and_gallery(settings, marketplace):
    s = fast(settings, marketplace)
    summary = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
    assert summary["items"] == {"ok": 12}
    r = {x["listing_id"]: x for x in rows(s)}["186000000004"]
    assert (r["artist"], r["artists"], r["release_year"]) == ("Fleetwood Mac", ["Fleetwood Mac"], 1977)
    assert (r["media_grade"], r["media_grade_raw"]) == ("VG+", "Very Good Plus (VG+)")
    assert (r["sleeve_grade"], r["condition"]) == ("NM", "used")
    assert len(r["image_urls"]) == 2
    assert (r["price"], r["currency"], r["shipping_cost"], r["total_price"]) == (15.0, "EUR", 6.5, 21.5)
    assert r["sold_at"].isoformat().startswith("2026-07-17T18:03:08")   # the item page's exact time
    assert r["origin"] == f"{marketplace.url}/itm/186000000004"
    raw = json.loads(r["raw"])
    assert raw["card"]["listing_id"] == raw["item"]["listing_id"] == "186000000004"
    assert raw["item"]["catalog_number"] == "BSK 3013" and raw["item"]["label"] == "Warner Bros. Records"
    # Item pages already read are never fetched again, and a later card-only pass keeps the details.
    before = marketplace.counters.get("item")
    again = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False, fresh=True)
    assert marketplace.counters.get("item") == before and again["unchanged"] == 12
    assert {x["listing_id"]: x for x in rows(s)}["186000000004"]["media_grade"] == "VG+"


def test_pagination_follows_next_pages_until_there_are_none(settings):
    with Marketplace(many_rumours(130), layout="s-card") as market:
        s = fast(settings, market)
        summary = scrape_searches(s, ["rumours"], pages=10, use_proxy=False)
        assert summary["pages"] == {"results": 3}
        assert market.counters.get("search") == 3
        assert len(rows(s)) == 130
        assert summary["ended_unsold"] == len([i for i in range(130) if i % 9 == 0])


def test_page_limit_stops_early(settings):
    with Marketplace(many_rumours(130), layout="s-item") as market:
        s = fast(settings, market)
        summary = scrape_searches(s, ["rumours"], pages=2, use_proxy=False)
        assert summary["pages"] == {"results": 2} and market.counters.get("search") == 2
        assert len(rows(s)) == 120


def test_a_next_link_that_brings_back_the_last_page_again_ends_the_search(settings):
    with Marketplace(many_rumours(70), layout="s-card") as market:
        market.faults.next_on_last = True
        s = fast(settings, market)
        summary = scrape_searches(s, ["rumours"], pages=10, use_proxy=False)
        assert market.counters.get("search") == 3          # page 3 repeats page 2: stop there
        assert summary["cards"] == 70 and summary["pages"] == {"results": 3}
        assert len(rows(s)) == 70
        again = scrape_searches(s, ["rumours"], pages=10, use_proxy=False)
        assert again["pages"] == {"resumed": 3} and market.counters.get("search") == 3


def test_an_interrupted_run_resumes_at_the_page_that_failed(settings):
    with Marketplace(many_rumours(130), layout="s-card") as market:
        s = fast(settings, market, max_attempts=2)
        market.faults.fail_page = 2
        first = scrape_searches(s, ["rumours"], pages=5, use_proxy=False)
        assert first["pages"] == {"results": 1, "failed": 1}
        assert len(rows(s)) == 60
        errors = rows(s, "SELECT origin, reason FROM scrape_errors")
        assert len(errors) == 1 and "_pgn=2" in errors[0]["origin"] and errors[0]["reason"].startswith("fetch http_503")
        market.reset()
        second = scrape_searches(s, ["rumours"], pages=5, use_proxy=False)
        assert second["pages"] == {"resumed": 1, "results": 2}
        assert market.counters.get("search") == 2            # pages 2 and 3 only
        assert len(rows(s)) == 130
        state = rows(s, "SELECT page, status FROM scrape_pages ORDER BY page")
        assert [(x["page"], x["status"]) for x in state] == [(1, "results"), (2, "results"), (3, "results")]
        third = scrape_searches(s, ["rumours"], pages=5, use_proxy=False)
        assert third["pages"] == {"resumed": 3} and market.counters.get("search") == 2


def test_a_fresh_rerun_gives_the_same_rows_and_no_duplicates(settings, marketplace):
    s = fast(settings, marketplace)
    scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
    cols = "listing_id, title, price, currency, shipping_cost, sold, sold_at, raw, record_hash, ingested_at"
    before = rows(s, f"SELECT {cols} FROM listings ORDER BY listing_id")
    lake = sorted(p.name for p in (s.lake_dir / "listings").glob("*.parquet"))
    again = scrape_searches(s, ["rumours"], pages=1, use_proxy=False, fresh=True)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 12)
    assert rows(s, f"SELECT {cols} FROM listings ORDER BY listing_id") == before
    assert sorted(p.name for p in (s.lake_dir / "listings").glob("*.parquet")) == lake


def test_an_empty_result_page_is_zero_results_and_nothing_else(settings, card_market):
    s = fast(settings, card_market)
    summary = scrape_searches(s, ["zzzz nothing", "rumours zzzz"], pages=3, use_proxy=False)
    assert summary["pages"] == {"empty": 2}
    assert rows(s) == [] and rows(s, "SELECT * FROM scrape_errors") == []
    card_market.faults.empty_next = 1       # the marketplace says "no matches" for a query that has some
    assert scrape_searches(s, ["rumours"], pages=3, use_proxy=False)["pages"] == {"empty": 1}


def test_a_block_page_is_an_error_never_zero_results_and_is_retried_next_run(settings, card_market):
    s = fast(settings, card_market, max_attempts=2)
    card_market.faults.block_next = 2
    summary = scrape_searches(s, ["rumours"], pages=3, use_proxy=False)
    assert summary["pages"] == {"blocked": 1} and summary["cards"] == 0
    [err] = rows(s, "SELECT reason, origin FROM scrape_errors")
    assert err["reason"].startswith("fetch bot_check")
    assert rows(s, "SELECT status FROM scrape_pages") == [{"status": "blocked"}]
    assert card_market.counters.get("blocked") == 2
    assert scrape_searches(s, ["rumours"], pages=3, use_proxy=False)["pages"] == {"results": 1}
    assert len(rows(s)) == 12


def test_a_captcha_page_is_fetched_again(settings, card_market):
    s = fast(settings, card_market)
    card_market.faults.captcha_next = 1
    summary = scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
    assert summary["pages"] == {"results": 1} and summary["attempts"] == 2
    assert card_market.counters.get("blocked") == 1 and len(rows(s)) == 12


@pytest.mark.parametrize("wall", ["block_next", "captcha_next"])  # "Pardon Our Interruption", a captcha form
def test_a_bot_wall_bans_that_proxy_and_the_page_comes_through_another(settings, card_market, world, wall):
    s = fast(settings, card_market, proxies=world.proxies_file)
    source = PoolPageSource.from_settings(s)
    setattr(card_market.faults, wall, 1)
    try:
        summary = scrape_searches(s, ["rumours"], pages=1, source=source)
        health = source.fetcher.pool.health
    finally:
        source.close()
    assert summary["pages"] == {"results": 1} and summary["attempts"] == 2
    assert sorted(h.bans for h in health.values()) == [0, 0, 0, 1]
    assert sum(h.failures for h in health.values()) == 0     # a ban, not a failure
    assert sum(p.requests for p in world.proxies) == 2       # both attempts went through the proxies
    assert len(rows(s)) == 12


def test_a_proxy_that_serves_bot_checks_is_banned_and_avoided(settings, card_market, world):
    s = fast(settings, card_market, proxies=world.proxies_file)
    world.proxies[0].set_mode("banned", ban_style="botcheck")
    source = PoolPageSource.from_settings(s)
    try:
        summary = scrape_searches(s, ["rumours"], pages=1, items=True, source=source)
        key = next(p.key for p in source.fetcher.pool.proxies if "user0" in p.label)
        bans = source.fetcher.pool.health[key].bans
    finally:
        source.close()
    assert summary["items"] == {"ok": 12} and summary["error_count"] == 0
    assert bans >= 1
    assert card_market.counters.get("requests") == 13


def test_the_user_agent_comes_from_settings(settings, card_market):
    s = fast(settings, card_market)
    scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
    assert card_market.counters.by_key("agents") == {"soldsight-test/1.0": 1}
    card_market.reset()
    bot = replace(s, user_agent="python-requests/2.32", max_attempts=1)   # the marketplace refuses this agent
    assert scrape_searches(bot, ["miles davis"], pages=1, use_proxy=False)["pages"] == {"blocked": 1}


def test_the_marketplace_gets_its_own_rate_limit_one_request_at_a_time(settings, card_market):
    source = PoolPageSource.from_settings(replace(settings, scrape_rate=0.25), use_proxy=False)
    try:
        assert source.fetcher.limiter.interval == pytest.approx(4.0)
        assert source.fetcher.limiter.concurrency == 1
        assert source.fetcher.user_agent == settings.user_agent
    finally:
        source.close()


def test_a_card_that_cannot_be_read_becomes_a_scrape_errors_row(settings):
    catalogue = small_catalogue()
    catalogue[0]["currency"] = "XYZ"           # printed as 'XYZ 19.99': no currency we know
    with Marketplace(catalogue, layout="s-item") as market:
        s = fast(settings, market)
        summary = scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
        [err] = rows(s, "SELECT * FROM scrape_errors")
    assert summary["errors"] == {"card": 1} and summary["cards"] == 11
    assert err["reason"].startswith("card: price:") and err["position"] == 0
    assert err["origin"].startswith(market.url + "/sch/i.html") and "186000000001" in err["raw"]
    assert "186000000001" not in {r["listing_id"] for r in rows(s)}


def test_when_every_proxy_is_down_pages_fail_as_rows_and_no_credential_is_stored(settings, card_market, world, capsys):
    for proxy in world.proxies:
        proxy.set_mode("dead")
    s = fast(settings, card_market, proxies=world.proxies_file, max_attempts=4)
    summary = scrape_searches(s, ["rumours", "miles davis"], pages=2)
    failed = summary["pages"].get("failed", 0)
    assert set(summary["pages"]) == {"failed"} and summary["cards"] == 0
    assert failed == (1 if summary["stopped"] else 2)        # the pool may give up before the second search
    stored = rows(s, "SELECT origin, reason, raw FROM scrape_errors") + rows(s, "SELECT * FROM scrape_pages")
    assert summary["error_count"] == failed and len(stored) == 2 * failed
    assert all(r["reason"].startswith("fetch ") for r in stored)
    text = json.dumps(stored, default=str) + json.dumps(summary) + capsys.readouterr().out
    for i in range(len(world.proxies)):
        assert f"secret{i}" not in text
    assert card_market.counters.get("requests") == 0


def test_a_card_never_replaces_the_richer_row_of_an_export(settings, card_market, tmp_path):
    from soldsight.ingest.ingest import ingest_file

    export = tmp_path / "export.json"
    export.write_text(json.dumps([{
        "ebay_id": "186000000001", "title": "Fleetwood Mac Rumours (export)", "artist": "Fleetwood Mac",
        "price": {"value": 21.0, "currency": "USD", "symbol": "$"}, "record_grading": "Near Mint (NM or M-)",
        "sold_date": "Jul 20, 2026 10:00:00 PDT", "input": {"keyword": "rumours", "count": 60},
    }]))
    s = fast(settings, card_market)
    with open_warehouse(s) as con:
        ingest_file(con, s.lake_dir, export)
    summary = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
    assert summary["kept_export"] == 1 and summary["new"] == 11
    kept = {r["listing_id"]: r for r in rows(s)}["186000000001"]
    assert (kept["title"], kept["price"], kept["media_grade"]) == ("Fleetwood Mac Rumours (export)", 21.0, "NM")
    assert kept["origin"] == "export:export.json"
    assert summary["items"] == {"ok": 11}              # no item page fetched for it either


def test_an_interrupted_item_pass_fetches_only_the_items_left(settings, card_market):
    s = fast(settings, card_market, max_attempts=1)
    scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
    card_market.faults.error_next = 3
    first = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
    assert first["items"] == {"ok": 9, "failed": 3} and first["errors"] == {"fetch http_503": 3}
    assert rows(s, "SELECT count(*) AS n FROM scrape_items WHERE status = 'failed'") == [{"n": 3}]
    card_market.reset()
    second = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
    assert second["items"] == {"ok": 3} and card_market.counters.get("item") == 3
    assert rows(s, "SELECT count(*) AS n FROM listings WHERE media_grade = 'VG+'") == [{"n": 12}]


def test_an_item_page_that_is_gone_is_not_asked_for_again(settings):
    catalogue = small_catalogue()
    with Marketplace(catalogue, layout="s-card") as market:
        s = fast(settings, market)
        scrape_searches(s, ["rumours"], pages=1, use_proxy=False)
        del market.listings["186000000002"]             # the marketplace now answers 404 for it
        first = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
        assert first["items"] == {"ok": 11, "gone": 1} and first["errors"] == {"fetch http_404": 1}
        second = scrape_searches(s, ["rumours"], pages=1, items=True, use_proxy=False)
        assert second["items"] == {} and market.counters.get("item") == 11
    card_only = {r["listing_id"]: r for r in rows(s)}["186000000002"]
    assert card_only["price"] == 12.5 and card_only["media_grade"] is None   # the card's row stays


@pytest.mark.parametrize("items", [False, True])
def test_the_refresh_scrape_step_fetches_item_pages_only_when_asked(settings, marketplace, items):
    from soldsight import steps

    s = replace(fast(settings, marketplace), searches=("rumours",), scrape_pages=1)
    before = marketplace.counters.get("item")
    report = steps.scrape(s, use_proxies=False, items=items)
    assert report["stage"] == "scrape" and report["done"] == 12 and report["failed"] == 0   # 12 listings, once each
    assert marketplace.counters.get("item") - before == (12 if items else 0)
    with_year = [r for r in rows(s) if r["release_year"] is not None]
    assert bool(with_year) == items   # release years come from the item pages' specifics
