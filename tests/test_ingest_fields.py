"""Every field variant of the scraper export, normalised by the plain functions."""
from datetime import datetime, timezone

import pytest

from soldsight.ingest.dates import DateError, parse_sold_at, parse_year
from soldsight.ingest.grades import GOLDMINE, GRADE_TABLE, to_goldmine
from soldsight.ingest.money import MoneyError, shipping_cost, to_number
from soldsight.ingest.normalise import RecordError, condition_category, normalise_record, split_artists

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, grade", [
    ("Very Good Plus (VG+)", "VG+"),
    ("Near Mint (NM or M-)", "NM"),
    ("Excellent (EX)", "VG+"),
    ("E-", "VG"),
    ("E", "VG+"),
    ("VG+", "VG+"),
    ("VG++", "VG+"),
    ("Good Plus (G+)", "G+"),
    ("Fair (F)", "F"),
    ("See Item Description", None),
    ("Very Good Plus (VG+)  -  wear, stain", "VG+"),
    ("Mint (M)", "M"),
    ("Poor (P)", "P"),
    ("  very   good  ", "VG"),
    (None, None),
    ("", None),
])
def test_grades_map_to_goldmine(text, grade):
    assert to_goldmine(text) == grade


def test_grade_table_only_targets_the_goldmine_scale():
    assert set(GRADE_TABLE.values()) <= set(GOLDMINE)


@pytest.mark.parametrize("text, cost", [
    ("US $4.87\u00a0Economy Shipping. See detailsfor shippingLocated in: Henderson, ...", 4.87),
    ("Free Economy Shipping. See details...", 0.0),
    ("free shipping", 0.0),
    ("GBP 3.20 Standard Delivery", 3.20),
    ("C $12.00 Expedited", 12.0),
    ("US $1,204.50 Freight", 1204.5),
    ("See details", None),
    (None, None),
    ("", None),
])
def test_shipping_text(text, cost):
    assert shipping_cost(text) == cost


@pytest.mark.parametrize("value, number", [(19.9, 19.9), (20, 20.0), ("42.50", 42.5), ("1,234.50", 1234.5)])
def test_price_numbers(value, number):
    assert to_number(value) == number


@pytest.mark.parametrize("value", ["call me", None, True, -3, float("nan"), [1], "12.3.4"])
def test_price_that_is_not_a_number(value):
    with pytest.raises(MoneyError):
        to_number(value)


@pytest.mark.parametrize("text, expected", [
    ("May 06, 2024 16:11:12 PDT", datetime(2024, 5, 6, 23, 11, 12, tzinfo=timezone.utc)),
    ("Jan 15, 2024 11:00:00 GMT", datetime(2024, 1, 15, 11, 0, tzinfo=timezone.utc)),
    ("Mar 02, 2024 20:15:00 PST", datetime(2024, 3, 3, 4, 15, tzinfo=timezone.utc)),
    ("Jul 20, 2026", datetime(2026, 7, 20, tzinfo=timezone.utc)),
    (None, None),
    ("", None),
])
def test_sold_dates_are_utc(text, expected):
    assert parse_sold_at(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "May 06, 2024 16:11:12 XYZT", 20240506])
def test_unreadable_sold_dates(text):
    with pytest.raises(DateError):
        parse_sold_at(text)


@pytest.mark.parametrize("text, year", [("1977", 1977), ("1977.0", 1977), ("Unknown", None), (None, None), ("12", None)])
def test_release_year(text, year):
    assert parse_year(text) == year


@pytest.mark.parametrize("text, category", [
    ("UsedAn item that has been used...", "used"),
    ("Used", "used"),
    ("Pre-owned", "used"),
    ("Pre-Owned: An item...", "used"),
    ("New", "new"),
    ("NewA brand-new, unused...", "new"),
    (None, None),
    ("Something else", "other"),
])
def test_condition_categories(text, category):
    assert condition_category(text) == category


def test_artists_split_on_commas():
    assert split_artists("Stevie Nicks, Lindsey Buckingham,") == ["Stevie Nicks", "Lindsey Buckingham"]
    assert split_artists(None) == []


def full_record(**changes):
    record = {
        "ebay_id": "305512345001",
        "title": "Fleetwood Mac Rumours LP",
        "price": {"value": 19.9, "currency": "USD", "symbol": "$"},
        "shipping_price": "US $4.87\u00a0Economy Shipping. See details",
        "location": "Henderson, Nevada",
        "condition": "UsedAn item that has been used",
        "artist": "Fleetwood Mac",
        "record_grading": "Very Good Plus (VG+)",
        "sleeve_grading": "Near Mint (NM or M-)",
        "release_year": "1977",
        "sold_date": "May 06, 2024 16:11:12 PDT",
        "image_url": "https://i.ebayimg.com/images/g/AbC/s-l500.webp",
        "full_description_url": "https://www.ebay.com/itm/305512345001",
        "input": {"keyword": "Fleetwood Mac Rumors Vinyl", "count": 60, "condition": "Used"},
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def test_a_full_record_normalises():
    row = normalise_record(full_record(), origin="export:a.json", ingested_at=NOW)
    assert row["listing_id"] == "305512345001" and row["source"] == "ebay"
    assert (row["price"], row["currency"], row["shipping_cost"], row["total_price"]) == (19.9, "USD", 4.87, 24.77)
    assert (row["condition"], row["media_grade"], row["sleeve_grade"]) == ("used", "VG+", "NM")
    assert row["media_grade_raw"] == "Very Good Plus (VG+)"
    assert row["release_year"] == 1977 and row["query"] == "Fleetwood Mac Rumors Vinyl"
    assert row["image_urls"] == ["https://i.ebayimg.com/images/g/AbC/s-l500.webp"]
    assert row["sold_at"] == datetime(2024, 5, 6, 23, 11, 12, tzinfo=timezone.utc)
    assert '"ebay_id":"305512345001"' in row["raw"]


def test_missing_optional_fields_give_nulls_not_errors():
    row = normalise_record(
        full_record(shipping_price=None, condition=None, record_grading=None, sleeve_grading=None,
                    release_year=None, sold_date=None, image_url=None),
        origin="x", ingested_at=NOW,
    )
    assert row["shipping_cost"] is None and row["total_price"] is None
    assert row["condition"] is None and row["media_grade"] is None and row["sleeve_grade"] is None
    assert row["release_year"] is None and row["sold_at"] is None and row["image_urls"] == []


def test_free_shipping_total_equals_price():
    row = normalise_record(full_record(shipping_price="Free Economy Shipping. See details..."), origin="x", ingested_at=NOW)
    assert row["shipping_cost"] == 0.0 and row["total_price"] == 19.9


def test_currency_from_symbol_when_code_missing():
    row = normalise_record(full_record(price={"value": 15, "symbol": "£"}), origin="x", ingested_at=NOW)
    assert row["currency"] == "GBP"


@pytest.mark.parametrize("changes, reason", [
    ({"ebay_id": None}, "missing ebay_id"),
    ({"ebay_id": "12a4"}, "ebay_id is not a string of digits"),
    ({"price": None}, "missing price"),
    ({"price": {"value": "call me", "currency": "USD"}}, "price is not a number"),
    ({"price": {"value": 3, "currency": "XXX"}}, "unknown currency"),
    ({"sold_date": "someday"}, "unreadable sold_date"),
])
def test_bad_records_give_reasons(changes, reason):
    with pytest.raises(RecordError, match=reason):
        normalise_record(full_record(**changes), origin="x", ingested_at=NOW)


def test_scraper_failed_record_is_an_error_with_its_message():
    with pytest.raises(RecordError, match="scraper error: Crawler error: Unexpected Status 502"):
        normalise_record({"input": {"keyword": "k"}, "error": "Crawler error: Unexpected Status 502"}, origin="x", ingested_at=NOW)


@pytest.mark.parametrize("field", ["record_grading", "sleeve_grading", "shipping_price", "condition", "artist",
                                   "release_year", "title"])
def test_fields_of_the_wrong_type_do_not_crash(field):
    row = normalise_record(full_record(**{field: {"unexpected": ["shape"]}}), origin="x", ingested_at=NOW)
    assert row["listing_id"] == "305512345001"
    assert '"unexpected"' in row["raw"]
