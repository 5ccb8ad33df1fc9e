"""Many export records to one Arrow table of listings, with the same rows normalise_record gives.

normalise_record is the definition. This is the fast path for whole files: it writes straight
into columns, and parses each distinct shipping, condition, grade, currency, artist and year
text once per batch. A record of any unusual shape goes through normalise_record itself.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Iterable

import pyarrow as pa

from soldsight.ingest import columns
from soldsight.ingest.dates import parse_year, sold_at_micros, to_micros
from soldsight.ingest.grades import to_goldmine
from soldsight.ingest.money import currency_code, shipping_cost, to_number
from soldsight.ingest.normalise import _DIGITS, SOURCE, RecordError, condition_category, normalise_record, raw_json, \
    split_artists

_TS = pa.timestamp("us", tz="UTC")
# The fields of store.LISTINGS_SCHEMA, in order (store imports duckdb, which worker processes do not need).
LISTING_FIELDS = ("source", "listing_id", "title", "artist", "artists", "price", "currency", "shipping_cost",
                  "total_price", "condition", "condition_raw", "media_grade", "media_grade_raw", "sleeve_grade",
                  "sleeve_grade_raw", "release_year", "sold", "sold_at", "query", "location", "image_urls",
                  "item_url", "origin", "record_hash", "ingested_at", "raw")

_CONSTANT = ("source", "sold", "origin", "ingested_at")  # the same in every row of a batch


class _Memo(dict):
    """f(text) remembered per distinct str; other values (None, numbers, objects) are computed each time."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def __call__(self, value):
        if type(value) is not str:
            return self.f(value)
        try:
            return self[value]
        except KeyError:
            self[value] = result = self.f(value)
            return result


def _text(value) -> str | None:
    if value is None:
        return None
    return (value if type(value) is str else str(value)).strip() or None


def normalise_batch(records: Iterable[tuple[object, str | None]], *, origin: str, ingested_at: datetime,
                    schema: pa.Schema, last_per_listing: bool = False) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """The listing rows of (record, raw) pairs in order, and (position, reason, raw) of the rejected ones.

    last_per_listing: one row per listing, where the listing was first seen, holding its last record.
    """
    cols: dict[str, list] = {name: [] for name in LISTING_FIELDS}
    (c_listing_id, c_title, c_artist, c_artists, c_price, c_currency, c_shipping, c_total, c_condition,
     c_condition_raw, c_media, c_media_raw, c_sleeve, c_sleeve_raw, c_year, c_sold_at, c_query, c_location,
     c_images, c_item_url, c_hash, c_raw) = (cols[name] for name in LISTING_FIELDS if name not in _CONSTANT)
    errors: list[tuple[int, str, str]] = []
    currency, shipping, year = _Memo(currency_code), _Memo(shipping_cost), _Memo(parse_year)
    # (normalised, as received) pairs for the texts that repeat most
    condition = _Memo(lambda text: (condition_category(text), _text(text)))
    grade = _Memo(lambda text: (to_goldmine(text), _text(text)))
    artist = _Memo(lambda text: (_text(text), split_artists(text)))
    days: dict = {}
    sha256 = hashlib.sha256

    for position, (record, raw) in enumerate(records):
        if raw is None:
            raw = raw_json(record)
        try:
            # The fast path takes the shapes exports have; anything else is settled by normalise_record.
            if type(record) is not dict or "error" in record:
                raise _Unusual
            listing_id = record.get("ebay_id")
            price_field = record.get("price")
            if type(listing_id) is not str or not _DIGITS.match(listing_id) or type(price_field) is not dict:
                raise _Unusual
            value, code = price_field.get("value"), price_field.get("currency")
            if type(value) is not float and type(value) is not int:
                raise _Unusual
            price = to_number(value)
            money = currency(code) if code else currency(price_field.get("symbol"))
            if money is None:
                raise _Unusual
            sold_at = sold_at_micros(record.get("sold_date"), days)
        except (_Unusual, RecordError, ValueError, TypeError, AttributeError):
            try:
                row = normalise_record(record, origin=origin, ingested_at=ingested_at, raw=raw)
            except RecordError as exc:
                errors.append((position, str(exc), raw))
                continue
            for name in LISTING_FIELDS:
                cols[name].append(row[name])
            c_raw[-1] = raw.encode("utf-8")
            c_sold_at[-1] = None if row["sold_at"] is None else to_micros(row["sold_at"])
            continue

        c_listing_id.append(listing_id)
        c_price.append(price)
        c_currency.append(money)
        ship = shipping(record.get("shipping_price"))
        c_shipping.append(ship)
        c_total.append(None if ship is None else round(price + ship, 2))
        c_sold_at.append(sold_at)
        normalised, received = condition(record.get("condition"))
        c_condition.append(normalised)
        c_condition_raw.append(received)
        normalised, received = grade(record.get("record_grading"))
        c_media.append(normalised)
        c_media_raw.append(received)
        normalised, received = grade(record.get("sleeve_grading"))
        c_sleeve.append(normalised)
        c_sleeve_raw.append(received)
        received, names = artist(record.get("artist"))
        c_artist.append(received)
        c_artists.append(names)
        c_title.append(_text(record.get("title")))
        c_year.append(year(record.get("release_year")))
        query_input = record.get("input")
        c_query.append(_text(query_input.get("keyword")) if type(query_input) is dict else None)
        c_location.append(_text(record.get("location")))
        image_url = _text(record.get("image_url"))
        c_images.append([image_url] if image_url else [])
        c_item_url.append(_text(record.get("full_description_url")))
        encoded = raw.encode("utf-8")  # once, for the hash and the raw column
        c_hash.append(sha256(encoded).hexdigest())
        c_raw.append(encoded)

    if last_per_listing:
        latest: dict[str, int] = {}
        for index, listing_id in enumerate(c_listing_id):
            latest[listing_id] = index
        if len(latest) < len(c_listing_id):  # cheaper here, on lists, than as a take on the table
            keep = list(latest.values())
            cols = {name: [values[i] for i in keep] for name, values in cols.items() if name not in _CONSTANT}
    n = len(cols["listing_id"])
    cols["source"], cols["sold"], cols["origin"] = [SOURCE] * n, [True] * n, [origin] * n
    cols["ingested_at"] = [to_micros(ingested_at)] * n
    cols["raw"] = columns.utf8(cols["raw"])
    return columns.table(cols, schema), errors


class _Unusual(Exception):
    """A record for normalise_record to settle."""
