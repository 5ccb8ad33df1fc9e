"""Money, shipping and Sold/Ended captions as the marketplace prints them, parsed from plain strings."""
from datetime import datetime, timezone

import pytest

from soldsight.scrape.prices import PriceError, parse_outcome, parse_price, shipping_from_caption


@pytest.mark.parametrize("text, amount, currency", [
    ("$19.99", 19.99, "USD"),
    ("US $1,234.56", 1234.56, "USD"),
    ("GBP 12.50", 12.50, "GBP"),
    ("£7.99", 7.99, "GBP"),
    ("EUR 15,00", 15.00, "EUR"),
    ("EUR 1.234,56", 1234.56, "EUR"),
    ("12,50 EUR", 12.50, "EUR"),
    ("C $20.00", 20.00, "CAD"),
    ("AU $30.00", 30.00, "AUD"),
    ("$5.00 or Best Offer", 5.00, "USD"),
    ("\u00a0$8.00\u00a0", 8.00, "USD"),
])
def test_single_prices_in_every_currency(text, amount, currency):
    price = parse_price(text)
    assert (price.amount, price.currency) == (amount, currency)
    assert not price.is_range


def test_a_range_keeps_both_ends_and_claims_no_single_price():
    price = parse_price("$10.00 to $20.00")
    assert price.is_range
    assert (price.low, price.high, price.amount, price.currency) == (10.0, 20.0, None, "USD")


def test_a_range_in_pounds():
    price = parse_price("£4.99 to £9.99")
    assert (price.low, price.high, price.currency) == (4.99, 9.99, "GBP")


@pytest.mark.parametrize("text", ["", "   ", "Price not available", "$", "$10.00 to £20.00"])
def test_unreadable_prices_raise_with_a_reason(text):
    with pytest.raises(PriceError):
        parse_price(text)


@pytest.mark.parametrize("text, cost", [
    ("+$4.50 shipping", 4.50), ("+£3.20 postage", 3.20), ("+EUR 6,50 delivery", 6.50),
    ("Free shipping", 0.0), ("Free delivery", 0.0), ("Shipping not specified", None), ("", None), (None, None),
])
def test_shipping_captions(text, cost):
    assert shipping_from_caption(text) == cost


def test_sold_and_ended_captions():
    day = datetime(2026, 7, 20, tzinfo=timezone.utc)
    assert parse_outcome("Sold  Jul 20, 2026") == (True, day)
    assert parse_outcome("Ended  Jul 20, 2026") == (False, day)
    assert parse_outcome("Sold\u00a0 20 Jul 2026") == (True, day)
    assert parse_outcome("Sponsored") is None
    assert parse_outcome("") is None
