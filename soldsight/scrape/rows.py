"""Turns what a result card and an item page showed into a `listings` row, in the export rows' shape."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlsplit

from soldsight.ingest.dates import DateError, parse_sold_at, parse_year
from soldsight.ingest.grades import to_goldmine
from soldsight.ingest.normalise import SOURCE, condition_category, record_hash, split_artists
from soldsight.ingest.store import error_row

__all__ = ["SOURCE", "listing_row", "scrape_error", "canonical_item_url"]


def canonical_item_url(url: str | None, listing_id: str) -> str | None:
    """'https://www.ebay.com/itm/186...?hash=..&amdata=..' -> 'https://www.ebay.com/itm/186...'."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme:
        return None
    return f"{parts.scheme}://{parts.netloc}/itm/{listing_id}"


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_sold_at(value)
    except DateError:
        return None


def _text(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def listing_row(card: dict | None, item: dict | None, *, query: str | None, origin: str,
                ingested_at: datetime) -> dict:
    """One listings row from a card's raw dict and/or an item page's raw dict (item wins where it speaks).

    `raw` keeps both as parsed: {"card": {...}, "item": {...}}; record_hash is its sha256.
    """
    if card is None and item is None:
        raise ValueError("a listing needs a card or an item page")
    both = {k: v for k, v in (("card", card), ("item", item)) if v is not None}
    # Sorted keys: the same card and item always give the same text, hence the same record_hash.
    raw = json.dumps(both, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    first = item or card
    listing_id = str(first["listing_id"])

    def pick(key, fallback_key=None):
        for source in (item, card):
            if source is not None:
                value = source.get(key if source is item or fallback_key is None else fallback_key)
                if value is not None:
                    return value
        return None

    if item is not None:
        price, currency = item.get("price"), item.get("currency")
        shipping = item.get("shipping_cost")
        if shipping is None and card is not None:
            shipping = card.get("shipping_cost")
    else:
        price, currency, shipping = card.get("price"), card.get("currency"), card.get("shipping_cost")
    condition_text = pick("condition_text")
    images = list(item.get("image_urls") or []) if item is not None else []
    if not images and card is not None and card.get("image_url"):
        images = [card["image_url"]]
    # The item page's sold flag and time are the authority; the card's date has no time of day.
    sold = item["sold"] if item is not None else card["sold"]
    sold_at = _when(item.get("sold_at")) if item is not None else None
    if sold_at is None and card is not None:
        sold_at = _when(card.get("sold_at"))
    artist = _text(item.get("artist")) if item is not None else None
    return {
        "source": SOURCE,
        "listing_id": listing_id,
        "title": _text(pick("title")),
        "artist": artist,
        "artists": split_artists(artist),
        "price": price,
        "currency": currency,
        "shipping_cost": shipping,
        "total_price": None if price is None or shipping is None else round(price + shipping, 2),
        "condition": condition_category(condition_text),
        "condition_raw": _text(condition_text),
        "media_grade": to_goldmine(item.get("record_grading")) if item is not None else None,
        "media_grade_raw": _text(item.get("record_grading")) if item is not None else None,
        "sleeve_grade": to_goldmine(item.get("sleeve_grading")) if item is not None else None,
        "sleeve_grade_raw": _text(item.get("sleeve_grading")) if item is not None else None,
        "release_year": parse_year(item.get("release_year")) if item is not None else None,
        "sold": bool(sold),
        "sold_at": sold_at,
        "query": _text(query),
        "location": _text(pick("location")),
        "image_urls": images,
        "item_url": canonical_item_url((card or {}).get("item_url") or (item or {}).get("url"), listing_id),
        "origin": origin,
        "record_hash": record_hash(raw),
        "ingested_at": ingested_at,
        "raw": raw,
    }


def scrape_error(*, origin: str, position: int | None, reason: str, raw: str | None,
                 recorded_at: datetime | None = None) -> dict:
    """A scrape_errors row for a page, card or item that could not be read."""
    return error_row(source=SOURCE, origin=origin, position=position, reason=reason, raw=raw,
                     recorded_at=recorded_at)


def loads(value) -> dict | None:
    """A JSON column value (DuckDB hands JSON back as text) as a dict."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    parsed = json.loads(value)
    return parsed if isinstance(parsed, dict) else None
