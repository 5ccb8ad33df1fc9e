"""Builds sold-and-completed search URLs and item URLs, and reads item ids out of links."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

ITEMS_PER_PAGE = (60, 120, 240)  # the page sizes the marketplace offers
_ITEM_ID = re.compile(r"/itm/(?:[^/?#]+/)?(\d{6,19})(?:[/?#]|$)")


def search_url(base: str, query: str, *, page: int = 1, per_page: int = 60, category: int | str | None = None) -> str:
    """The sold-and-completed search URL for query: _nkw, LH_Sold=1&LH_Complete=1, _sacat, _pgn, _ipg."""
    if not query or not query.strip():
        raise ValueError("a search needs a keyword")
    if page < 1:
        raise ValueError(f"pages count from 1, not {page}")
    if per_page not in ITEMS_PER_PAGE:
        raise ValueError(f"items per page must be one of {ITEMS_PER_PAGE}, not {per_page}")
    params = {"_nkw": " ".join(query.split()), "_sacat": str(category if category is not None else 0),
              "LH_Sold": "1", "LH_Complete": "1", "_pgn": str(page), "_ipg": str(per_page)}
    return f"{base.rstrip('/')}/sch/i.html?{urlencode(params)}"


def item_url(base: str, listing_id: str) -> str:
    return f"{base.rstrip('/')}/itm/{listing_id}"


def listing_id_from_url(url: str | None) -> str | None:
    """'https://www.ebay.com/itm/Some-Title/186012345678?hash=...' -> '186012345678'."""
    if not url:
        return None
    m = _ITEM_ID.search(urlsplit(url).path + "/")
    return m.group(1) if m else None


def page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("_pgn")
    try:
        return int(values[0]) if values else 1
    except ValueError:
        return 1


def absolute(base_url: str, href: str | None) -> str | None:
    return urljoin(base_url, href) if href else None
