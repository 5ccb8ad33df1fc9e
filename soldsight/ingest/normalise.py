"""One scraper-export record to one normalised listing row, or a reason it cannot be one."""
from __future__ import annotations

import hashlib
from functools import lru_cache
import json
import re
from datetime import datetime

from soldsight.ingest.dates import DateError, parse_sold_at, parse_year
from soldsight.ingest.grades import to_goldmine
from soldsight.ingest.money import MoneyError, currency_code, shipping_cost, to_number

SOURCE = "ebay"
_DIGITS = re.compile(r"^\d+$")
_CONDITIONS = (("pre-owned", "used"), ("preowned", "used"), ("used", "used"), ("new", "new"),
               ("for parts", "for_parts"), ("refurbished", "refurbished"))


class RecordError(ValueError):
    """A record that cannot become a listing; the message is the stored reason."""


def raw_json(record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def record_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def condition_category(text) -> str | None:
    """'UsedAn item that has been used...' -> 'used'; None when missing."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _condition_category(text)


@lru_cache(maxsize=4096)  # condition texts are boilerplate that repeats
def _condition_category(text: str) -> str:
    low = text.strip().lower()
    for prefix, category in _CONDITIONS:
        if low.startswith(prefix):
            return category
    return "other"


def split_artists(text) -> list[str]:
    if not isinstance(text, str):
        return []
    return [name.strip() for name in text.split(",") if name.strip()]


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalise_record(record, *, origin: str, ingested_at: datetime, raw: str | None = None) -> dict:
    """The listing row for one export record. Raises RecordError with the reason."""
    if not isinstance(record, dict):
        raise RecordError(f"record is a {type(record).__name__}, not an object")
    if "error" in record and "ebay_id" not in record:
        raise RecordError(f"scraper error: {record.get('error')}")
    listing_id = record.get("ebay_id")
    if isinstance(listing_id, int) and not isinstance(listing_id, bool):
        listing_id = str(listing_id)
    if listing_id is None or listing_id == "":
        raise RecordError("missing ebay_id")
    if not isinstance(listing_id, str) or not _DIGITS.match(listing_id):
        raise RecordError(f"ebay_id is not a string of digits: {listing_id!r}")

    price_field = record.get("price")
    if price_field is None:
        raise RecordError("missing price")
    if isinstance(price_field, dict):
        value, code = price_field.get("value"), price_field.get("currency")
        currency = currency_code(code) if code else currency_code(price_field.get("symbol"))
    else:
        value, currency = price_field, None
    try:
        price = to_number(value)
    except MoneyError as exc:
        raise RecordError(str(exc)) from None
    if currency is None:
        raise RecordError(f"unknown currency: {price_field!r}")  # "reason: detail", so the summary counts by reason

    shipping = shipping_cost(record.get("shipping_price"))
    try:
        sold_at = parse_sold_at(record.get("sold_date"))
    except DateError as exc:
        raise RecordError(str(exc)) from None

    query_input = record.get("input") if isinstance(record.get("input"), dict) else {}
    image_url = _text(record.get("image_url"))
    raw = raw if raw is not None else raw_json(record)
    return {
        "source": SOURCE,
        "listing_id": listing_id,
        "title": _text(record.get("title")),
        "artist": _text(record.get("artist")),
        "artists": split_artists(record.get("artist")),
        "price": price,
        "currency": currency,
        "shipping_cost": shipping,
        "total_price": None if shipping is None else round(price + shipping, 2),
        "condition": condition_category(record.get("condition")),
        "condition_raw": _text(record.get("condition")),
        "media_grade": to_goldmine(record.get("record_grading")),
        "media_grade_raw": _text(record.get("record_grading")),
        "sleeve_grade": to_goldmine(record.get("sleeve_grading")),
        "sleeve_grade_raw": _text(record.get("sleeve_grading")),
        "release_year": parse_year(record.get("release_year")),
        "sold": True,
        "sold_at": sold_at,
        "query": _text(query_input.get("keyword")),
        "location": _text(record.get("location")),
        "image_urls": [image_url] if image_url else [],
        "item_url": _text(record.get("full_description_url")),
        "origin": origin,
        "record_hash": record_hash(raw),
        "ingested_at": ingested_at,
        "raw": raw,
    }
