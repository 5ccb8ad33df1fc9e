"""Prices and shipping text to numbers with ISO currencies."""
from __future__ import annotations

import math
import re
from functools import lru_cache

# Symbols and prefixes sellers and marketplaces print, to ISO 4217.
CURRENCY_MARKERS: dict[str, str] = {
    "US $": "USD", "US$": "USD", "USD": "USD", "$": "USD",
    "C $": "CAD", "C$": "CAD", "CA $": "CAD", "CAD": "CAD",
    "AU $": "AUD", "AU$": "AUD", "A $": "AUD", "AUD": "AUD",
    "£": "GBP", "GBP": "GBP",
    "€": "EUR", "EUR": "EUR",
    "¥": "JPY", "JPY": "JPY",
    "CHF": "CHF",
}
ISO_CODES = frozenset(CURRENCY_MARKERS.values())

_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_MARKER = re.compile(
    r"(US\s?\$|C\s?\$|CA\s?\$|AU\s?\$|A\s?\$|USD|CAD|AUD|GBP|EUR|JPY|CHF|£|€|¥|\$)\s*"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
)


class MoneyError(ValueError):
    """A price that cannot be read as a number."""


def to_number(value) -> float:
    """A non-negative finite number from a JSON number or a numeric string like '1,234.50'."""
    if isinstance(value, bool) or value is None:
        raise MoneyError(f"price is not a number: {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", " ")
        m = _AMOUNT.fullmatch(text.replace(" ", ""))
        if not m:
            raise MoneyError(f"price is not a number: {value!r}")
        number = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
    else:
        raise MoneyError(f"price is not a number: {value!r}")
    if not math.isfinite(number) or number < 0:
        raise MoneyError(f"price is not a non-negative number: {value!r}")
    return number


def currency_code(marker: str | None) -> str | None:
    if not marker or not isinstance(marker, str):  # a number or object is no currency: the record says why
        return None
    key = re.sub(r"\s+", " ", marker.strip())
    if key.upper() in ISO_CODES:
        return key.upper()
    return CURRENCY_MARKERS.get(key) or CURRENCY_MARKERS.get(key.replace(" ", ""))


def find_amount(text: str) -> tuple[float, str] | None:
    """The first 'marker amount' in free text, as (amount, ISO currency)."""
    m = _MARKER.search(text.replace("\u00a0", " "))
    if not m:
        return None
    code = currency_code(m.group(1))
    return float(m.group(2).replace(",", "")), code


def shipping_cost(text) -> float | None:
    """Shipping from free text: 0 when free, the amount when stated, None when unknown."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _shipping_cost(text)


@lru_cache(maxsize=65536)  # shipping texts repeat across a seller's listings
def _shipping_cost(text: str) -> float | None:
    clean = text.replace("\u00a0", " ").strip()
    if clean.lower().startswith("free"):
        return 0.0
    found = find_amount(clean)
    return found[0] if found else None
