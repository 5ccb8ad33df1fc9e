"""Scraper exports (the shape `soldsight ingest` reads) and marketplace listings, for a running image host."""
from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

try:
    from zoneinfo import ZoneInfo

    PACIFIC = ZoneInfo("America/Los_Angeles")
except Exception:  # no tz database here: fall back to a fixed PDT offset
    from datetime import timedelta, timezone

    PACIFIC = timezone(timedelta(hours=-7), "PDT")

FAILED_SHARE = 0.015    # records the scraper itself failed on: only `input` and `error`
DUPLICATE_SHARE = 0.01  # listings scraped twice (the same ebay_id again later in the file)
SCRAPER_ERRORS = ("Crawler error: Unexpected Status 502", "Parse error: Cannot read property 'href' of null",
                  "Crawler error: Navigation timeout of 30000 ms exceeded")
SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}
PREFIX = {"USD": "US $", "GBP": "£", "EUR": "EUR "}


def _catalogue(world_dir) -> dict:
    return json.loads((Path(world_dir) / "catalogue.json").read_text(encoding="utf-8"))


def sold_date_text(iso: str) -> str:
    """'2024-05-06T23:11:12+00:00' -> 'May 06, 2024 16:11:12 PDT', the way the scraper prints it."""
    local = datetime.fromisoformat(iso).astimezone(PACIFIC)
    return local.strftime("%b %d, %Y %H:%M:%S ") + (local.tzname() or "PDT")


def shipping_text(listing: dict, rng: random.Random) -> str | None:
    cost, where = listing["shipping_cost"], listing["location"]
    if rng.random() < 0.03:
        return None  # the scraper sometimes misses it
    if cost == 0:
        return rng.choice(["Free Economy Shipping. See details", "Free shipping",
                           f"Free Standard Shipping. See detailsfor shippingLocated in: {where}"])
    amount = f"{PREFIX.get(listing['currency'], listing['currency'] + ' ')}{cost:.2f}"
    return f"{amount}\u00a0{rng.choice(['Economy', 'Standard', 'USPS Media Mail'])} Shipping. " \
           f"See detailsfor shippingLocated in: {where}"


def export_record(listing: dict, image_base_url: str, marketplace_url: str, rng: random.Random) -> dict:
    """One listing as the scraping service writes it. Fields the scraper missed are left out."""
    base = image_base_url.rstrip("/")
    rec = {
        "ebay_id": listing["listing_id"],
        "title": listing["title"],
        "price": {"value": listing["price"], "currency": listing["currency"],
                  "symbol": SYMBOLS.get(listing["currency"], listing["currency"])},
        "shipping_price": shipping_text(listing, rng),
        "location": listing["location"],
        "condition": listing["condition"],
        "artist": listing["artist"],
        "record_grading": listing["media_grade"],
        "sleeve_grading": listing["sleeve_grade"],
        "release_year": str(listing["release_year"]) if listing["release_year"] else None,
        "sold_date": sold_date_text(listing["sold_at"]) if rng.random() > 0.01 else None,
        "image_url": base + listing["image_paths"][0],
        "full_description_url": f"{marketplace_url.rstrip('/')}/itm/{listing['listing_id']}",
        "input": {"keyword": listing["keyword"], "count": rng.choice([60, 120, 240]), "condition": "Used"},
    }
    return {k: v for k, v in rec.items() if v is not None}


def export_records(world_dir, image_base_url: str, marketplace_url: str = "https://www.ebay.com") -> list[dict]:
    """Every sold listing once, a few twice, and a few scraper failures, in a seeded order."""
    cat = _catalogue(world_dir)
    rng = random.Random(f"{cat['seed']}/export")
    sold = sorted((x for x in cat["listings"] if x["sold"]), key=lambda x: (x["sold_at"], x["listing_id"]), reverse=True)
    records = [export_record(x, image_base_url, marketplace_url, rng) for x in sold]  # newest first, as searched
    for rec in rng.sample(records, round(len(records) * DUPLICATE_SHARE)):
        records.insert(rng.randrange(records.index(rec) + 1, len(records) + 1), dict(rec))
    keywords = sorted({x["keyword"] for x in cat["listings"]})
    for _ in range(max(1, round(len(records) * FAILED_SHARE))):
        failed = {"input": {"keyword": rng.choice(keywords), "count": 60, "condition": "Used"},
                  "error": rng.choice(SCRAPER_ERRORS)}
        records.insert(rng.randrange(len(records) + 1), failed)
    return records


def write_export(world_dir, image_base_url: str, out: Path | str | None = None,
                 marketplace_url: str = "https://www.ebay.com", ndjson: bool = False) -> Path:
    """Write the scraper export with image URLs on `image_base_url`; returns its path.

    Default path: <world_dir>/export.json (or export.ndjson).
    """
    records = export_records(world_dir, image_base_url, marketplace_url)
    out = Path(out) if out else Path(world_dir) / ("export.ndjson" if ndjson else "export.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        if ndjson:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            json.dump(records, fh, indent=1, ensure_ascii=False)
    tmp.replace(out)
    return out


def marketplace_listings(world_dir, image_base_url: str) -> list[dict]:
    """The catalogue's listings with absolute `image_urls`, ready for world.marketplace.Marketplace."""
    base = image_base_url.rstrip("/")
    return [{**x, "image_urls": [base + p for p in x["image_paths"]]} for x in _catalogue(world_dir)["listings"]]
