"""Reads the money and date captions printed on result cards and item pages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from soldsight.ingest.money import currency_code

# A currency marker, then an amount. Amounts use either 1,234.56 or the European 1.234,56.
_MARKER = r"(US\s?\$|C\s?\$|CA\s?\$|AU\s?\$|A\s?\$|USD|CAD|AUD|GBP|EUR|JPY|CHF|£|€|¥|\$)"
_AMOUNT = r"(\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_MONEY = re.compile(_MARKER + r"\s*" + _AMOUNT)
# 'EUR 15,00' may also be printed '15,00 EUR' on continental sites.
_MONEY_AFTER = re.compile(_AMOUNT + r"\s*(EUR|€|GBP|£|CHF)")
_RANGE = re.compile(r"\bto\b|\s[-–]\s", re.IGNORECASE)


class PriceError(ValueError):
    """A caption that should hold a price but holds none that can be read."""


@dataclass(frozen=True)
class Price:
    amount: float | None        # None for a range: which variation sold is not known from the card
    currency: str
    low: float
    high: float
    text: str

    @property
    def is_range(self) -> bool:
        return self.high != self.low


def _amount(text: str) -> float:
    digits = text.replace("\u00a0", "").replace(" ", "")
    # The last separator followed by one or two digits is the decimal mark.
    m = re.fullmatch(r"([\d.,]*?)(?:([.,])(\d{1,2}))?", digits)
    whole, mark, cents = (m.group(1), m.group(2), m.group(3)) if m else (digits, None, None)
    whole = re.sub(r"[.,]", "", whole)
    return float(whole + ("." + cents if mark else ""))


def find_money(text: str) -> list[tuple[float, str]]:
    """Every 'marker amount' in text, in order, as (amount, ISO currency)."""
    text = text.replace("\u00a0", " ")
    found = [(m.start(), _amount(m.group(2)), currency_code(m.group(1))) for m in _MONEY.finditer(text)]
    if not found:
        found = [(m.start(), _amount(m.group(1)), currency_code(m.group(2))) for m in _MONEY_AFTER.finditer(text)]
    return [(amount, code) for _, amount, code in sorted(found) if code]


def parse_price(text: str | None) -> Price:
    """'$19.99', 'GBP 12.50', 'C $20.00', 'EUR 15,00', '$10.00 to $20.00', '$5.00 or Best Offer'."""
    if not text or not text.strip():
        raise PriceError("no price shown")
    clean = " ".join(text.replace("\u00a0", " ").split())
    amounts = find_money(clean)
    if not amounts:
        raise PriceError(f"no price in {clean!r}")
    currencies = {code for _, code in amounts}
    if len(currencies) > 1:
        raise PriceError(f"mixed currencies in {clean!r}")
    currency = amounts[0][1]
    if len(amounts) >= 2 and _RANGE.search(clean):
        low, high = amounts[0][0], amounts[1][0]
        if high < low:
            low, high = high, low
        return Price(None if high != low else low, currency, low, high, clean)
    value = amounts[0][0]
    return Price(value, currency, value, value, clean)


def shipping_from_caption(text: str | None) -> float | None:
    """'+$4.50 shipping', '+£3.20 postage', 'Free delivery' -> a number; unknown -> None."""
    if not text:
        return None
    clean = " ".join(text.replace("\u00a0", " ").split()).lower()
    if clean.startswith("free"):
        return 0.0
    if "not specified" in clean or "pickup" in clean or "collection" in clean:
        return None
    amounts = find_money(text)
    return amounts[0][0] if amounts else None


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_CAPTION = re.compile(r"^\s*(Sold|Ended)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
_DATE = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})")
_DATE_DMY = re.compile(r"(\d{1,2})\.?\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})")


def parse_date(text: str) -> datetime | None:
    """'Jul 20, 2026' or '20 Jul 2026' -> midnight UTC of that day (the card shows no time)."""
    m = _DATE.search(text)
    if m and m.group(1).lower() in _MONTHS:
        month, day, year = _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))
    else:
        m = _DATE_DMY.search(text)
        if not m or m.group(2).lower() not in _MONTHS:
            return None
        day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    try:
        return datetime(year, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None


def parse_outcome(caption: str | None) -> tuple[bool, datetime | None] | None:
    """'Sold  Jul 20, 2026' -> (True, date); 'Ended  Jul 20, 2026' -> (False, date); else None."""
    if not caption:
        return None
    m = _CAPTION.match(" ".join(caption.replace("\u00a0", " ").split()))
    if not m:
        return None
    return m.group(1).lower() == "sold", parse_date(m.group(2))
