"""A local stand-in for the marketplace: sold-search result pages (both layouts) and item pages.

Listings come from a catalogue: a list of dicts (or a JSON file holding one) with at least
listing_id, title, price, currency, sold, sold_at (ISO 8601) and image_urls; optionally artist,
release_year, media_grade / sleeve_grade (seller text), format, genre, label, catalog_number,
condition, shipping_cost, location, and how the card shows the price: price_high (a range),
original_price (struck through), best_offer, best_offer_accepted.
"""
from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlencode, urlsplit

from world.servers.base import BaseServer, QuietHandler

PAGES = Path(__file__).parent / "marketplace_pages"
LAYOUTS = ("s-card", "s-item")
PER_PAGE = (60, 120, 240)
try:  # the marketplace prints Pacific time, as ebay.com does
    from zoneinfo import ZoneInfo

    PACIFIC = ZoneInfo("America/Los_Angeles")
except Exception:  # no tz database: print UTC
    PACIFIC = timezone.utc


def _template(name: str) -> Template:
    return Template((PAGES / name).read_text(encoding="utf-8"))


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def money(amount: float, currency: str, *, item_page: bool = False, variant: int = 0) -> str:
    """How the marketplace prints an amount: '$19.99', '£7.99' or 'GBP 7.99', 'EUR 15,00', 'C $20.00'."""
    if currency == "USD":
        return f"{'US ' if item_page else ''}${amount:,.2f}"
    if currency == "GBP":
        return f"£{amount:,.2f}" if variant % 2 == 0 else f"GBP {amount:,.2f}"
    if currency == "EUR":
        text = f"{amount:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return f"EUR {text}"
    if currency == "CAD":
        return f"C ${amount:,.2f}"
    if currency == "AUD":
        return f"AU ${amount:,.2f}"
    return f"{currency} {amount:,.2f}"


def load_catalogue(path: Path | str) -> list[dict]:
    """Listings from a JSON list, a {"listings": [...]} object, or a world folder's catalogue.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "catalogue.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("listings", [])
    return list(data)


@dataclass
class MarketFaults:
    """What the marketplace does instead of answering: tests set these and call reset()."""
    block_next: int = 0         # the next N requests get the "Pardon Our Interruption" page
    captcha_next: int = 0       # the next N requests get a captcha page
    empty_next: int = 0         # the next N searches answer "No exact matches found"
    error_next: int = 0         # the next N requests get a 503
    fail_page: int = 0          # searches for this result page (_pgn) get a 503 while set
    next_on_last: bool = False  # the last page still links a next page (which repeats the last one)
    block_status: int = 200     # the bot-check page's status (the real one is often 200)
    blocked_agents: tuple[str, ...] = ("python-requests",)  # User-Agents always shown the block page

    def reset(self) -> None:
        fresh = MarketFaults()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


class _Handler(QuietHandler):
    def do_GET(self):
        self.owner._serve(self)

    do_HEAD = do_GET


class Marketplace(BaseServer):
    """Serves /sch/i.html (sold search), /itm/<id> (item pages), /block, /captcha."""

    handler_class = _Handler

    def __init__(self, catalogue: list[dict] | Path | str, *, layout: str = "s-card", advert_every: int = 5,
                 beyond_last: str = "repeat", host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        listings = load_catalogue(catalogue) if isinstance(catalogue, (str, Path)) else list(catalogue)
        self.listings = {str(x["listing_id"]): x for x in listings}
        self.layout = layout
        self.advert_every = advert_every
        self.beyond_last = beyond_last  # 'repeat' the last page, as the real one does, or 'empty'
        self.faults = MarketFaults()
        self._fault_lock = threading.Lock()

    @classmethod
    def from_world(cls, world_dir: Path | str, image_base_url: str, **kwargs) -> "Marketplace":
        """The marketplace for a generated world folder (catalogue.json), images on a running image host."""
        from world.generate import marketplace_listings

        return cls(marketplace_listings(world_dir, image_base_url), **kwargs)

    def reset(self) -> None:
        """No faults, zero counters."""
        self.faults.reset()
        self.counters.reset()

    # --- request routing --------------------------------------------------------------------
    def _take(self, name: str) -> bool:
        with self._fault_lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    def _serve(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        agent = h.headers.get("User-Agent", "")
        self.counters.add("requests")
        self.counters.add("agents", agent)
        if any(bad in agent for bad in self.faults.blocked_agents) or self._take("block_next") or url.path == "/block":
            self.counters.add("blocked", url.path)
            return h.send_body(self.faults.block_status, _template("block.html").template.encode(), "text/html; charset=utf-8")
        if self._take("captcha_next") or url.path == "/captcha":
            self.counters.add("blocked", url.path)
            return h.send_body(200, _template("captcha.html").template.encode(), "text/html; charset=utf-8")
        if self._take("error_next") or (url.path == "/sch/i.html" and self.faults.fail_page
                                        and params.get("_pgn", "1") == str(self.faults.fail_page)):
            self.counters.add("errors", url.path)
            return h.send_body(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        if url.path == "/sch/i.html":
            self.counters.add("search", params.get("_nkw", ""))
            return h.send_body(200, self.search_page(params).encode(), "text/html; charset=utf-8")
        if url.path.startswith("/itm/"):
            listing_id = url.path.rstrip("/").rsplit("/", 1)[-1]
            if listing_id in self.listings:
                self.counters.add("item", listing_id)
                return h.send_body(200, self.item_page(listing_id).encode(), "text/html; charset=utf-8")
        self.counters.add("not_found", url.path)
        h.send_body(404, b"<html><body><h1>Page not found</h1></body></html>", "text/html")

    # --- search --------------------------------------------------------------------------
    @staticmethod
    def _haystack(x: dict) -> str:
        return " ".join(str(x.get(k) or "") for k in ("title", "artist", "genre", "format", "label")).lower()

    def matches(self, query: str) -> list[dict]:
        """Listings whose title, artist, genre, format or label hold every word of the query (or whose
        catalogue `keyword` is the query), most recent sale first."""
        words = query.lower().split()
        found = [x for x in self.listings.values()
                 if words and (all(w in self._haystack(x) for w in words)
                               or " ".join(str(x.get("keyword") or "").lower().split()) == " ".join(words))]
        return sorted(found, key=lambda x: (x["sold_at"], str(x["listing_id"])), reverse=True)

    def search_page(self, params: dict) -> str:
        query = " ".join(params.get("_nkw", "").split())
        page = max(1, int(params.get("_pgn", "1") or 1))
        per_page = int(params.get("_ipg", "60") or 60)
        per_page = per_page if per_page in PER_PAGE else 60
        layout = params.get("_layout", self.layout)
        found = [] if self._take("empty_next") else self.matches(query)
        if not found:
            self.counters.add("empty", query)
            partial = self._fewer_words(query)
            divider = ('<li class="srp-river-answer srp-river-answer--REWRITE_START"><div class="srp-river-answer__heading">'
                       'Results matching fewer words</div></li>') if partial else ""
            cards = [self._placeholder(layout)] + ([divider] + [self._card(x, layout) for x in partial] if partial else [])
            return _template("search.html").substitute(
                query=_esc(query), count="0", notice=_template("null_search.html").template,
                cards="\n".join(cards), pagination="")
        last = (len(found) + per_page - 1) // per_page
        if page > last:
            if self.beyond_last == "empty":
                return _template("search.html").substitute(
                    query=_esc(query), count="0", notice=_template("null_search.html").template,
                    cards="", pagination="")
            page = last
        shown = found[(page - 1) * per_page: page * per_page]
        cards = [self._placeholder(layout)]
        for i, listing in enumerate(shown, start=1):
            cards.append(self._card(listing, layout))
            if self.advert_every and i % self.advert_every == 0:
                cards.append(self._advert(layout, i))
        return _template("search.html").substitute(
            query=_esc(query), count=f"{len(found):,}", notice="", cards="\n".join(cards),
            pagination=self._pagination(params, page, last))

    def _fewer_words(self, query: str) -> list[dict]:
        words = query.lower().split()
        return [x for x in self.listings.values() if any(w in self._haystack(x) for w in words)][:5]

    def _pagination(self, params: dict, page: int, last: int) -> str:
        def link(n):
            return "/sch/i.html?" + urlencode({**params, "_pgn": str(n)})
        items = "".join(f'<li><a class="pagination__item" href="{_esc(link(n))}"'
                        f'{" aria-current=page" if n == page else ""}>{n}</a></li>' for n in range(1, last + 1))
        nxt = (f'<a class="pagination__next icon-link" href="{_esc(link(page + 1))}" aria-label="Go to next search page">&gt;</a>'
               if page < last or self.faults.next_on_last else '<button class="pagination__next icon-btn" aria-disabled="true" aria-label="Go to next search page">&gt;</button>')
        return f'<nav class="pagination" role="navigation"><ol class="pagination__items">{items}</ol>{nxt}</nav>'

    # --- cards ---------------------------------------------------------------------------
    def _placeholder(self, layout: str) -> str:
        if layout == "s-item":
            return ('<li class="s-item s-item__pl-on-bottom" data-view="mi:1686|iid:1"><div class="s-item__wrapper clearfix">'
                    '<div class="s-item__image-section"><div class="s-item__image"><a href="https://ebay.com/itm/123456?hash=item28caef0a3a:g:E3kAAOSwlGJiMikD" tabindex="-1"><div class="s-item__image-wrapper image-treatment"><img src="https://ir.ebaystatic.com/rs/v/fxxj3ttftm5ltcqnto1o4baovyl.png" alt=""></div></a></div></div>'
                    '<div class="s-item__info clearfix"><a class="s-item__link" href="https://ebay.com/itm/123456?hash=item28caef0a3a:g:E3kAAOSwlGJiMikD">'
                    '<div class="s-item__title"><span role="heading" aria-level="3">Shop on eBay</span></div></a>'
                    '<div class="s-item__details clearfix"><div class="s-item__detail s-item__detail--primary"><span class="s-item__price">$20.00</span></div></div></div></div></li>')
        return ('<li class="s-card s-card--horizontal" id="item0"><div class="su-card-container su-card-container--horizontal">'
                '<div class="su-card-container__content"><div class="su-card-container__header">'
                '<a class="su-link" href="https://ebay.com/itm/123456"><div class="s-card__title" role="heading"><span class="su-styled-text primary default">Shop on eBay</span></div></a></div>'
                '<div class="su-card-container__attributes"><div class="s-card__attribute-row"><span class="su-styled-text primary bold large-1 s-card__price">$20.00</span></div></div>'
                '</div></div></li>')

    def _advert(self, layout: str, n: int) -> str:
        target = "/b/Vinyl-Records/176985/bn_1860318"
        if layout == "s-item":
            return (f'<li class="s-item s-item--ad" data-ad="{n}"><div class="s-item__wrapper clearfix"><div class="s-item__info clearfix">'
                    f'<a class="s-item__link" href="{target}"><div class="s-item__title"><span>Records for every collection</span></div></a>'
                    '<span class="s-item__sep"><span>Sponsored</span></span></div></div></li>')
        return (f'<li class="s-card s-card--ad" data-ad="{n}"><div class="su-card-container"><div class="su-card-container__content">'
                f'<a class="su-link" href="{target}"><div class="s-card__title"><span>Records for every collection</span></div></a>'
                '<div class="s-card__attribute-row"><span class="su-styled-text secondary">Sponsored</span></div></div></div></li>')

    def _caption(self, listing: dict) -> str:
        when = _local(listing["sold_at"]).strftime("%b %d, %Y")
        return f"{'Sold' if listing.get('sold', True) else 'Ended'}  {when}"

    def _price_html(self, listing: dict, layout: str) -> tuple[str, str]:
        """(price markup, struck original markup) for a card."""
        variant = int(str(listing["listing_id"])[-1]) if str(listing["listing_id"])[-1:].isdigit() else 0
        cur = listing["currency"]
        price = money(float(listing["price"]), cur, variant=variant)
        if listing.get("price_high") is not None:
            price = f"{price} to {money(float(listing['price_high']), cur, variant=variant)}"
        original = ""
        if listing.get("original_price") is not None:
            original = money(float(listing["original_price"]), cur, variant=variant)
        return _esc(price), _esc(original)

    def _card(self, listing: dict, layout: str) -> str:
        lid = _esc(listing["listing_id"])
        href = f"{self.url}/itm/{lid}?hash=item{lid[-6:]}&amp;amdata=enc%3AAQAJ"
        title = _esc(listing["title"])
        image = _esc((listing.get("image_urls") or [""])[0])
        price, original = self._price_html(listing, layout)
        sold = listing.get("sold", True)
        ship = listing.get("shipping_cost")
        shipping = ("Free shipping" if ship == 0 else "Shipping not specified" if ship is None
                    else f"+{money(float(ship), listing['currency'])} {'postage' if listing['currency'] == 'GBP' else 'shipping'}")
        condition = _esc(listing.get("condition") or "")
        offer = "Best offer accepted" if listing.get("best_offer_accepted") else ("or Best Offer" if listing.get("best_offer") else "")
        location = f"from {_esc(listing['location'])}" if listing.get("location") else ""
        new = '<span class="LIGHT_HIGHLIGHT">New Listing</span>' if int(lid[-1:] or 0) == 7 else ""
        if layout == "s-item":
            signal = "POSITIVE" if sold else "NEGATIVE"
            strike = f'<span class="s-item__trending-price"><span class="STRIKETHROUGH">{original}</span></span>' if original else ""
            return (f'<li class="s-item s-item__pl-on-bottom" id="item{lid}"><div class="s-item__wrapper clearfix">'
                    f'<div class="s-item__image-section"><div class="s-item__image"><a href="{href}" tabindex="-1">'
                    f'<div class="s-item__image-wrapper image-treatment"><img alt="{title}" src="{image}" loading="eager"></div></a></div></div>'
                    f'<div class="s-item__info clearfix"><div class="s-item__caption-section"><div class="s-item__caption">'
                    f'<span class="s-item__caption--signal {signal}"><span>{self._caption(listing)}</span></span></div></div>'
                    f'<a class="s-item__link" href="{href}"><div class="s-item__title">{new}<span role="heading" aria-level="3">{title}</span>'
                    f'<span class="clipped">Opens in a new window or tab</span></div></a>'
                    f'<div class="s-item__subtitle"><span class="SECONDARY_INFO">{condition}</span></div>'
                    f'<div class="s-item__details clearfix"><div class="s-item__details-section--primary">'
                    f'<div class="s-item__detail s-item__detail--primary"><span class="s-item__price"><span class="{signal}">{price}</span></span></div>'
                    f'<div class="s-item__detail s-item__detail--primary">{strike}</div>'
                    f'<div class="s-item__detail s-item__detail--primary"><span class="s-item__purchase-options s-item__purchaseOptions">{offer}</span></div>'
                    f'<div class="s-item__detail s-item__detail--primary"><span class="s-item__shipping s-item__logisticsCost">{shipping}</span></div>'
                    f'<div class="s-item__detail s-item__detail--primary"><span class="s-item__location s-item__itemLocation">{location}</span></div>'
                    f'</div></div></div></div></li>')
        colour = "positive" if sold else "negative"
        rows = [f'<span class="su-styled-text {colour} bold large-1 s-card__price">{price}</span>']
        if " to " in price:  # a range prints each end in its own price span
            low, high = price.split(" to ", 1)
            rows[0] = (f'<span class="su-styled-text {colour} bold large-1 s-card__price">{low}</span> to '
                       f'<span class="su-styled-text {colour} bold large-1 s-card__price">{high}</span>')
        if original:
            rows.append(f'<span class="su-styled-text strikethrough secondary large">{original}</span>')
        if offer:
            rows.append(f'<span class="su-styled-text secondary large">{offer}</span>')
        rows.append(f'<span class="su-styled-text secondary large">{shipping.replace("shipping", "delivery")}</span>')
        if location:
            rows.append(f'<span class="su-styled-text secondary large">{location}</span>')
        attributes = "".join(f'<div class="s-card__attribute-row">{r}</div>' for r in rows)
        return (f'<li class="s-card s-card--horizontal" id="item{lid}" data-listingid="{lid}" data-view="mi:1686|iid:{lid}">'
                f'<div class="su-card-container su-card-container--horizontal">'
                f'<div class="su-card-container__media"><div class="su-media su-media--image"><a class="su-link image-treatment" href="{href}">'
                f'<img class="s-card__image" src="{image}" alt="{title}"></a></div></div>'
                f'<div class="su-card-container__content"><div class="su-card-container__header">'
                f'<div class="s-card__caption"><span class="su-styled-text {colour} default">{self._caption(listing)}</span></div>'
                f'<a class="su-link" href="{href}"><div role="heading" aria-level="3" class="s-card__title">'
                f'{new}<span class="su-styled-text primary default">{title}</span><span class="clipped">Opens in a new window or tab</span></div></a>'
                f'<div class="s-card__subtitle-row"><div class="s-card__subtitle"><span class="su-styled-text secondary default">{condition}</span></div></div></div>'
                f'<div class="su-card-container__attributes"><div class="su-card-container__attributes__primary">{attributes}</div></div>'
                f'</div></div></li>')

    # --- item pages ----------------------------------------------------------------------
    def item_page(self, listing_id: str) -> str:
        x = self.listings[listing_id]
        when = _local(x["sold_at"])
        stamp = when.strftime("%b %d, %Y %H:%M:%S ") + (when.tzname() or "UTC")
        status = (f"This listing sold on {stamp}." if x.get("sold", True)
                  else f"This listing ended on {stamp}. The item did not sell.")
        ship = x.get("shipping_cost")
        shipping = ("Free Standard Shipping" if ship == 0 else "Does not ship" if ship is None
                    else f"{money(float(ship), x['currency'], item_page=True)} Economy Shipping")
        specifics = {
            "Condition": x.get("condition"), "Artist": x.get("artist"), "Release Year": x.get("release_year"),
            "Record Grading": x.get("media_grade"), "Sleeve Grading": x.get("sleeve_grade"), "Format": x.get("format"),
            "Genre": x.get("genre"), "Record Label": x.get("label"), "Catalog Number": x.get("catalog_number"),
        }
        rows = "\n".join(
            f'<div class="ux-layout-section-evo__col"><dl class="ux-labels-values ux-labels-values--{_esc(k.lower().replace(" ", "-"))}">'
            f'<dt class="ux-labels-values__labels"><span class="ux-textspans">{_esc(k)}</span></dt>'
            f'<dd class="ux-labels-values__values"><span class="ux-textspans">{_esc(v)}</span></dd></dl></div>'
            for k, v in specifics.items() if v not in (None, ""))
        images = x.get("image_urls") or []
        gallery = "\n".join(
            f'<div class="ux-image-carousel-item image-treatment{" active" if i == 0 else ""}">'
            f'<img src="{_esc(u)}" data-zoom-src="{_esc(u.replace("s-l500", "s-l1600"))}" alt="Picture {i + 1} of {len(images)}"></div>'
            for i, u in enumerate(images))
        price_note = ""
        if x.get("original_price") is not None:
            price_note = (f'<div class="x-additional-info"><span class="ux-textspans ux-textspans--STRIKETHROUGH">'
                          f'{_esc(money(float(x["original_price"]), x["currency"], item_page=True))}</span></div>')
        return _template("item.html").substitute(
            title=_esc(x["title"]), og_image=_esc(images[0] if images else ""), status=_esc(status),
            gallery=gallery, price=_esc(money(float(x["price"]), x["currency"], item_page=True)),
            price_note=price_note, condition=_esc(x.get("condition") or ""),
            shipping_label="Postage" if x["currency"] == "GBP" else "Shipping", shipping=_esc(shipping),
            location=_esc(x.get("location") or "United States"), specifics=rows, listing_id=_esc(listing_id))


def _local(iso: str) -> datetime:
    when = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(PACIFIC)
