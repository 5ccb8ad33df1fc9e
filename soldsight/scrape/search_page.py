"""Parses a sold-search result page, in the older `li.s-item` and the current `s-card` layouts."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache

import soupsieve as sv
from bs4 import BeautifulSoup, Tag

from soldsight.scrape.blocks import block_reason
from soldsight.scrape.prices import Price, PriceError, find_money, parse_outcome, parse_price, shipping_from_caption
from soldsight.scrape.urls import absolute, listing_id_from_url

# Cards the marketplace inserts that are not listings. "Shop on eBay" is the first card of the
# older layout and links to a fake item 123456.
PLACEHOLDER_TITLES = ("shop on ebay",)
PLACEHOLDER_IDS = ("123456",)
_STRIKE = re.compile(r"strikethrough", re.IGNORECASE)
_NOISE = re.compile(r"^(new listing|opens in a new window or tab)$", re.IGNORECASE)
_COUNT = re.compile(r"([\d,.]+)\s+results?", re.IGNORECASE)


@dataclass
class Card:
    """One listing as its result card shows it."""
    listing_id: str
    title: str
    layout: str                      # 's-item' (older) or 's-card' (current)
    position: int                    # 0-based index among the page's cards
    sold: bool                       # False: 'Ended' without a sale; never a comparable
    sold_at: datetime | None
    caption: str
    price: float | None              # None when the card shows a range
    price_low: float | None
    price_high: float | None
    currency: str | None
    price_text: str
    original_price: float | None     # a struck-through earlier price, for the record only
    best_offer: bool                 # 'or Best Offer' was offered
    best_offer_accepted: bool        # the shown price is the asking price; the accepted offer is hidden
    shipping_cost: float | None
    shipping_text: str | None
    condition_text: str | None
    location: str | None
    image_url: str | None
    item_url: str

    def as_raw(self) -> dict:
        raw = asdict(self)
        raw["sold_at"] = self.sold_at.isoformat() if self.sold_at else None
        return raw


@dataclass
class CardError:
    position: int
    listing_id: str | None
    reason: str
    html: str


@dataclass
class SearchPage:
    url: str
    status: str                      # 'results' | 'empty' | 'blocked' | 'unrecognised'
    layout: str | None
    cards: list[Card] = field(default_factory=list)
    errors: list[CardError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # why each advert/placeholder card was skipped
    next_url: str | None = None
    total_results: int | None = None
    reason: str | None = None        # for 'blocked' and 'unrecognised'


@lru_cache(maxsize=None)
def _css(selector: str):
    """A compiled selector: compiling once per selector, not per card, is most of the parse speed."""
    return sv.compile(selector)


def _one(tag, selector: str) -> Tag | None:
    return _css(selector).select_one(tag)


def _all(tag, selector: str) -> list[Tag]:
    return _css(selector).select(tag)


def _unstruck_text(holder: Tag) -> str:
    """The text of holder without the parts inside a strike-through element."""
    parts = []
    for string in holder.find_all(string=True):
        node, struck = string.parent, False
        while node is not None and not struck:
            struck = bool(_STRIKE.search(" ".join(node.get("class") or [])))
            node = None if node is holder else node.parent
        if not struck:
            parts.append(str(string))
    return " ".join(" ".join(parts).split())


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag else ""


def _title(tag: Tag | None) -> str:
    if tag is None:
        return ""
    parts = [" ".join(s.split()) for s in tag.find_all(string=True)]
    return " ".join(p for p in parts if p and not _NOISE.match(p))


def _image(card: Tag, selector: str) -> str | None:
    img = _one(card, selector) or card.find("img")
    if img is None:
        return None
    for attr in ("src", "data-src", "data-defer-load"):
        value = img.get(attr)
        if value and not value.startswith("data:"):
            return value
    return None


def _price_fields(price_tag: Tag | None, card: Tag) -> dict:
    """Price, the struck-through original price and the Best Offer flags from a card."""
    card_text = _text(card).lower()
    struck = [_text(t) for t in _all(card, "[class*=strikethrough i]")]
    original = None
    for text in struck:
        found = find_money(text)
        if found:
            original = found[0][0]
            break
    shown = ""
    if price_tag is not None:
        holder = price_tag.parent if price_tag.parent and len(_all(price_tag.parent, ".s-card__price")) > 1 else price_tag
        # Read the price without its struck-through parts; if only a struck price is shown
        # (a Best Offer was accepted), that asking price is all the card tells.
        shown = _unstruck_text(holder) or _text(holder)
    price: Price = parse_price(shown)
    return {
        "price": price.amount, "price_low": price.low, "price_high": price.high, "currency": price.currency,
        "price_text": price.text, "original_price": original if original != price.amount else None,
        "best_offer": "best offer" in card_text,
        "best_offer_accepted": "best offer accepted" in card_text or "offer accepted" in card_text,
    }


def _attribute_rows(card: Tag) -> list[str]:
    return [_text(r) for r in _all(card, ".s-card__attribute-row") if _text(r)]


def _parse_s_item(card: Tag, position: int, page_url: str) -> Card | str:
    title = _title(_one(card, ".s-item__title"))
    link = _one(card, "a.s-item__link") or _one(card, "a[href*='/itm/']")
    href = absolute(page_url, link.get("href") if link else None)
    listing_id = listing_id_from_url(href)
    if title.lower() in PLACEHOLDER_TITLES or listing_id in PLACEHOLDER_IDS:
        return f"placeholder card {title!r}"
    if listing_id is None:
        return "advert card (no item link)"
    caption = _text(_one(card, ".s-item__caption--signal, .s-item__title--tagblock .POSITIVE, "
                                    ".s-item__title--tagblock .NEGATIVE, .s-item__caption"))
    shipping_text = _text(_one(card, ".s-item__shipping, .s-item__logisticsCost")) or None
    location = _text(_one(card, ".s-item__location, .s-item__itemLocation")) or None
    return _card(card, "s-item", position, listing_id, title, href, caption,
                 _one(card, ".s-item__price"), shipping_text,
                 _text(_one(card, ".s-item__subtitle .SECONDARY_INFO, .s-item__subtitle")) or None,
                 location, _image(card, ".s-item__image-wrapper img, .s-item__image img"))


def _parse_s_card(card: Tag, position: int, page_url: str) -> Card | str:
    title = _title(_one(card, ".s-card__title"))
    link = _one(card, "a[href*='/itm/']")
    href = absolute(page_url, link.get("href") if link else None)
    listing_id = card.get("data-listingid") or listing_id_from_url(href)
    if title.lower() in PLACEHOLDER_TITLES or listing_id in PLACEHOLDER_IDS:
        return f"placeholder card {title!r}"
    if listing_id is None or href is None:
        return "advert card (no item link)"
    rows = _attribute_rows(card)
    shipping_text = next((r for r in rows if re.search(r"shipping|delivery|postage", r, re.I)), None)
    location = next((r for r in rows if re.match(r"(located in|from)\b", r, re.I)), None)
    return _card(card, "s-card", position, str(listing_id), title, href, _text(_one(card, ".s-card__caption")),
                 _one(card, ".s-card__price"), shipping_text,
                 _text(_one(card, ".s-card__subtitle")) or None, location,
                 _image(card, "img.s-card__image"))


def _card(card, layout, position, listing_id, title, href, caption, price_tag, shipping_text,
          condition, location, image) -> Card:
    if not title:
        raise CardProblem(listing_id, "no title")
    outcome = parse_outcome(caption)
    if outcome is None:
        raise CardProblem(listing_id, f"no Sold/Ended caption (got {caption[:60]!r})")
    sold, sold_at = outcome
    try:
        prices = _price_fields(price_tag, card)
    except PriceError as exc:
        raise CardProblem(listing_id, f"price: {exc}") from None
    return Card(listing_id=listing_id, title=title, layout=layout, position=position, sold=sold, sold_at=sold_at,
                caption=caption, shipping_cost=shipping_from_caption(shipping_text), shipping_text=shipping_text,
                condition_text=condition, location=location, image_url=image, item_url=href, **prices)


class CardProblem(ValueError):
    def __init__(self, listing_id: str | None, reason: str):
        super().__init__(reason)
        self.listing_id, self.reason = listing_id, reason


def parse_search_page(html: str, url: str = "") -> SearchPage:
    """Every listing card on a sold-search page, what was skipped and why, and the next page's URL.

    A page is 'results', 'empty' (the marketplace says nothing matched), 'blocked' (a bot check)
    or 'unrecognised' (neither cards nor an explicit no-match notice: never taken for zero results).
    """
    soup = BeautifulSoup(html or "", "html.parser")
    blocked = block_reason(soup, html or "")
    if blocked:
        return SearchPage(url, "blocked", None, reason=blocked)
    # Results after the 'fewer words' divider do not match the whole query.
    nodes = _all(soup, "li.s-item, li.s-card, li.srp-river-answer--REWRITE_START, div.srp-river-answer--REWRITE_START")
    page = SearchPage(url, "results", None, total_results=_total(soup))
    position = 0
    for node in nodes:
        classes = node.get("class") or []
        if "srp-river-answer--REWRITE_START" in classes:
            break
        layout = "s-card" if "s-card" in classes else "s-item"
        page.layout = page.layout or layout
        parse = _parse_s_card if layout == "s-card" else _parse_s_item
        try:
            result = parse(node, position, url)
        except CardProblem as exc:
            page.errors.append(CardError(position, exc.listing_id, exc.reason, str(node)[:4000]))
            position += 1
            continue
        if isinstance(result, str):
            page.skipped.append(result)
            continue
        page.cards.append(result)
        position += 1
    nxt = _one(soup, "a.pagination__next[href], a[rel=next][href]")
    if nxt is not None and nxt.get("aria-disabled") != "true":
        page.next_url = absolute(url, nxt["href"])
    if not page.cards and not page.errors:
        if _says_no_match(soup):
            page.status, page.next_url = "empty", None
        else:
            page.status = "unrecognised"
            page.reason = "no result cards and no 'no matches' notice" + (
                f" ({len(page.skipped)} advert cards only)" if page.skipped else "")
    return page


def _total(soup: BeautifulSoup) -> int | None:
    m = _COUNT.search(_text(_one(soup, ".srp-controls__count-heading, h1.srp-controls__count-heading")))
    return int(re.sub(r"[,.]", "", m.group(1))) if m else None


def _says_no_match(soup: BeautifulSoup) -> bool:
    if _one(soup, ".srp-save-null-search, .srp-save-null-search__heading"):
        return True
    heading = _text(_one(soup, ".srp-controls__count-heading"))
    return bool(re.match(r"0\s+results", heading)) or "no exact matches found" in _text(soup.body).lower()
