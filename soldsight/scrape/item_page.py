"""Parses an item page: item specifics, every gallery image, sold price and date, shipping, condition."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from bs4 import BeautifulSoup, Tag

from soldsight.ingest.dates import DateError, parse_sold_at
from soldsight.scrape.blocks import block_reason
from soldsight.scrape.prices import PriceError, parse_date, parse_price, shipping_from_caption
from soldsight.scrape.urls import listing_id_from_url

# Item-specifics labels we lift into listing columns; every other specific stays in raw.
SPECIFICS = {
    "artist": "artist", "release year": "release_year", "record grading": "record_grading",
    "sleeve grading": "sleeve_grading", "format": "format", "genre": "genre", "label": "label",
    "record label": "label", "catalog number": "catalog_number", "catalogue number": "catalog_number",
}
# The date (and time, and zone) inside 'This listing sold on Jul 20, 2026 15:12:08 PDT.'
_WHEN = re.compile(r"[A-Z][a-z]{2}\.? \d{1,2}, \d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?(?: [A-Z]{1,5}\b)?"
                   r"|\d{1,2} [A-Z][a-z]{2} \d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?(?: [A-Z]{1,5}\b)?")


class ItemPageError(ValueError):
    """An item page that does not hold what every item page holds."""


@dataclass
class ItemDetails:
    listing_id: str
    title: str
    sold: bool
    sold_at: datetime | None
    status_text: str
    price: float | None
    currency: str | None
    price_text: str
    shipping_cost: float | None
    shipping_text: str | None
    condition_text: str | None
    location: str | None
    image_urls: list[str]
    specifics: dict[str, str] = field(default_factory=dict)   # every label as printed -> value
    artist: str | None = None
    release_year: str | None = None
    record_grading: str | None = None
    sleeve_grading: str | None = None
    format: str | None = None
    genre: str | None = None
    label: str | None = None
    catalog_number: str | None = None
    url: str = ""                     # where the page was read from ('' for a saved file)

    def as_raw(self) -> dict:
        raw = asdict(self)
        raw["sold_at"] = self.sold_at.isoformat() if self.sold_at else None
        return raw


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag else ""


def parse_datetime(text: str) -> datetime | None:
    """The sold/ended moment in a status line, in UTC (the ingest date rules); None when absent."""
    m = _WHEN.search(text or "")
    if not m:
        return None
    try:
        return parse_sold_at(m.group(0))
    except DateError:
        return parse_date(m.group(0))


def _specifics(soup: BeautifulSoup) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in soup.select(".ux-labels-values:not(.ux-labels-values--shipping)"):
        label = _text(pair.select_one(".ux-labels-values__labels")).rstrip(":").strip()
        value = _text(pair.select_one(".ux-labels-values__values"))
        if label and value and label not in found:
            found[label] = value
    for row in soup.select(".itemAttr tr, .item-specifics tr"):  # a plain two-column table variant
        cells = row.find_all(["td", "th"])
        for i in range(0, len(cells) - 1, 2):
            label, value = _text(cells[i]).rstrip(":").strip(), _text(cells[i + 1])
            if label and value and label not in found:
                found[label] = value
    return found


def _gallery(soup: BeautifulSoup) -> list[str]:
    urls: list[str] = []
    for img in soup.select(".ux-image-carousel-item img, .ux-image-carousel img, #icImg"):
        for attr in ("src", "data-src", "data-zoom-src"):
            value = img.get(attr)
            if value and not value.startswith("data:"):
                if value not in urls:
                    urls.append(value)
                break
    return urls


def parse_item_page(html: str, url: str = "") -> ItemDetails:
    """The listing an item page shows. Raises ItemPageError (with the reason) when it cannot be read."""
    soup = BeautifulSoup(html or "", "html.parser")
    blocked = block_reason(soup, html or "")
    if blocked:
        raise ItemPageError(f"blocked: {blocked}")
    canonical = soup.select_one("link[rel=canonical][href], meta[property='og:url'][content]")
    listing_id = listing_id_from_url(url) or listing_id_from_url(
        canonical.get("href") or canonical.get("content") if canonical else None) or _text(soup.select_one(
        ".ux-layout-section__textual-display--itemId .ux-textspans--BOLD, [data-testid=item-number]")) or None
    if not listing_id or not listing_id.isdigit():
        raise ItemPageError("no item number")
    title = _text(soup.select_one("h1.x-item-title__mainTitle, .x-item-title h1, h1"))
    if not title:
        raise ItemPageError("no title")
    status = _text(soup.select_one(".d-statusmessage, .x-item-status, .vi-status"))
    lowered = status.lower()
    if "sold on" in lowered or lowered.startswith("sold"):
        sold = True
    elif "ended" in lowered or "no longer available" in lowered:
        sold = False
    else:
        raise ItemPageError(f"no sold/ended status (got {status[:60]!r})")
    price_tag = soup.select_one(".x-price-primary, .x-bin-price__content .x-price-primary, #prcIsum")
    try:
        price = parse_price(_text(price_tag))
    except PriceError as exc:
        raise ItemPageError(f"price: {exc}") from None
    shipping_block = soup.select_one(".ux-labels-values--shipping, .d-shipping-minview, #shippingSummary")
    values = shipping_block.select_one(".ux-labels-values__values") if shipping_block else None
    shipping_text = _text(values.select_one(".ux-textspans--BOLD") or values if values else None) or None
    location = None
    if shipping_block is not None:
        m = re.search(r"Located in:\s*(.+?)(?:$|\s{2,}|Delivery|Returns)", _text(shipping_block))
        location = m.group(1).strip() if m else None
    condition = _text(soup.select_one(".x-item-condition-text .ux-textspans, .x-item-condition-text")) or None
    specifics = _specifics(soup)
    lifted = {}
    for label, value in specifics.items():
        key = SPECIFICS.get(label.lower())
        if key and key not in lifted:
            lifted[key] = value
    if condition is None:
        condition = specifics.get("Condition")
    return ItemDetails(
        listing_id=listing_id, title=title, sold=sold, sold_at=parse_datetime(status), status_text=status,
        price=price.amount, currency=price.currency, price_text=price.text,
        shipping_cost=shipping_from_caption(shipping_text), shipping_text=shipping_text, condition_text=condition,
        location=location, image_urls=_gallery(soup), specifics=specifics, url=url, **lifted)

