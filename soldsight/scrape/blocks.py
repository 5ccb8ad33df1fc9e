"""Tells a bot-check page from a real page, so a block is never read as 'no results'."""
from __future__ import annotations

import re

from bs4 import BeautifulSoup

# Phrases the marketplace's bot-check pages put in their title or heading.
BLOCK_PHRASES = (
    "pardon our interruption",
    "security measure",
    "please verify yourself",
    "verify you are a human",
    "access denied",
    "checking your browser",
)
# Where a captcha widget announces itself: ids, classes, iframe sources and form actions.
_CAPTCHA = re.compile(r"captcha|challenge-form|splashui", re.IGNORECASE)


def block_reason(html: str | BeautifulSoup, raw: str | None = None) -> str | None:
    """Why this page is a bot check ('title: Pardon Our Interruption', 'captcha widget'), or None.

    `raw`, the page's text when html is already parsed, lets pages without any captcha marker
    skip the walk over every element.
    """
    if isinstance(html, str):
        raw = html
    soup = html if isinstance(html, BeautifulSoup) else BeautifulSoup(html or "", "html.parser")
    # A page that holds results, a no-match notice or an item is that page, whatever its title says
    # (a search for a record called "Pardon Our Interruption") or whichever scripts it loads.
    if soup.select_one(".srp-results, li.s-item, li.s-card, .srp-save-null-search, .x-item-title"):
        return None
    for tag in soup.find_all(["title", "h1", "h2"]):
        text = " ".join(tag.get_text(" ").split())
        if any(phrase in text.lower() for phrase in BLOCK_PHRASES):
            return f"{tag.name}: {text[:80]}"
    if raw is not None and not _CAPTCHA.search(raw):
        return None
    for tag in soup.find_all(["div", "iframe", "form", "script", "input"]):
        attrs = " ".join(str(tag.get(a, "")) for a in ("id", "class", "src", "action", "name"))
        if _CAPTCHA.search(attrs):
            return "captcha widget"
    return None


def is_block_page(html: str | BeautifulSoup) -> bool:
    return block_reason(html) is not None
