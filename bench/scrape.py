"""Scraper figures: parse speed per layout, and whole runs against the local marketplace (direct and via proxies).

Usage: python bench/scrape.py [ALBUMS] [PHOTOS]   (defaults 60 and 2000: a planned world, no photos rendered)
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from soldsight.scrape.fetch import PoolPageSource
from soldsight.scrape.item_page import parse_item_page
from soldsight.scrape.run import scrape_searches
from soldsight.scrape.search_page import parse_search_page
from soldsight.settings import Settings
from world.generate.catalogue import default_as_of, plan_albums, plan_listings
from world.marketplace import Marketplace
from world.servers import ForwardProxy


def planned_world(albums: int, photos: int) -> list[dict]:
    rng = random.Random(7)
    listings, _ = plan_listings(rng, plan_albums(rng, albums), photos, "/nowhere", default_as_of())
    for x in listings:
        x["image_urls"] = ["http://127.0.0.1:9" + p for p in x["image_paths"]]
        x["keyword"] = "bench vinyl"   # one search that shows every listing, for full pages
    return listings


def parse_speed(listings: list[dict]) -> None:
    for layout in ("s-card", "s-item"):
        with Marketplace(listings, layout=layout) as m:
            html = m.search_page({"_nkw": "bench vinyl", "_pgn": "1", "_ipg": "240"})
            item = m.item_page(listings[0]["listing_id"])
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            page = parse_search_page(html, "http://x/sch/i.html")
            n += 1
        secs = (time.perf_counter() - start) / n
        print(f"parse {layout:6s} result page (240 cards, {len(html) / 1024:.0f} KiB): {secs * 1000:.1f} ms/page, "
              f"{len(page.cards) / secs:,.0f} cards/s")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        parse_item_page(item, f"http://x/itm/{listings[0]['listing_id']}")
        n += 1
    print(f"parse item page ({len(item) / 1024:.1f} KiB): {(time.perf_counter() - start) / n * 1000:.2f} ms/page")


def whole_run(listings: list[dict], label: str, proxies_file: Path | None = None, items: bool = True) -> None:
    with tempfile.TemporaryDirectory() as home, Marketplace(listings, layout="s-card") as m:
        s = replace(Settings.from_env(), home=Path(home), marketplace_url=m.url, scrape_rate=1000.0,
                    user_agent="soldsight-bench", proxies=proxies_file, proxy_cooldown=0.05, backoff_base=0.01)
        source = PoolPageSource.from_settings(s, use_proxy=proxies_file is not None)
        start = time.perf_counter()
        summary = scrape_searches(s, ["bench vinyl"], pages=50, items=False, source=source)
        pages_s = time.perf_counter() - start
        npages = sum(v for k, v in summary["pages"].items() if k != "resumed")
        print(f"{label}: {npages} result pages, {summary['cards']} cards in {pages_s:.1f} s: "
              f"{npages / pages_s:.1f} pages/s, {summary['cards'] / pages_s:,.0f} listings/s stored")
        if items:
            start = time.perf_counter()
            summary = scrape_searches(s, ["bench vinyl"], pages=50, items=True, source=source)
            secs = time.perf_counter() - start
            ok = summary["items"].get("ok", 0)
            print(f"{label}: {ok} item pages in {secs:.1f} s: {ok / secs:.1f} item pages/s "
                  f"(errors {summary['error_count']}, attempts {summary['attempts']})")
        bans = sum(h.bans for h in source.fetcher.pool.health.values())
        source.close()
        if proxies_file is not None:
            print(f"{label}: proxy bans recorded {bans}; marketplace requests {m.counters.get('requests')}")


def main() -> None:
    albums = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    photos = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    listings = planned_world(albums, photos)
    print(f"world: {albums} albums, {len(listings)} listings (planned, seed 7)")
    parse_speed(listings)
    whole_run(listings, "direct")
    proxies = [ForwardProxy(username=f"u{i}", password=f"p{i}", seed=i).start() for i in range(4)]
    proxies[0].set_mode("banned", ban_style="botcheck")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "proxies.txt"
            f.write_text("".join(p.proxy_url + "\n" for p in proxies))
            whole_run(listings, "4 proxies, 1 serving bot checks", f)
    finally:
        for p in proxies:
            p.stop()


if __name__ == "__main__":
    main()
