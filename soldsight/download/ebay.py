"""eBay image URLs name their size (…/s-l500.jpg); the same photo is usually there at s-l1600."""
from __future__ import annotations

import re

LARGEST = 1600
_SIZE = re.compile(r"/s-l(\d{2,4})\.(jpg|jpeg|png|webp)(?=$|[?#])", re.IGNORECASE)


def larger_variant(url: str, size: int = LARGEST) -> str | None:
    """The URL asking for `size` px instead, or None when the URL names no smaller eBay size."""
    m = _SIZE.search(url)
    if not m or int(m.group(1)) >= size:
        return None
    return url[: m.start()] + f"/s-l{size}.{m.group(2)}" + url[m.end():]
