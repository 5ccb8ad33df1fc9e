"""Reads search and item pages that users saved from their browser, into the same tables."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bs4 import BeautifulSoup

from soldsight.scrape.item_page import ItemPageError, parse_item_page
from soldsight.scrape.rows import listing_row, scrape_error
from soldsight.scrape.run import ScrapeSummary, store
from soldsight.scrape.search_page import parse_search_page
from soldsight.settings import Settings
from warehouse.connection import open_warehouse

HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def page_kind(html: str) -> str:
    """'search', 'item' or 'unknown', from the markup alone (a saved file has no URL)."""
    soup = BeautifulSoup(html, "html.parser")
    if soup.select_one("li.s-item, li.s-card, .srp-results, .srp-controls__count-heading, .srp-save-null-search"):
        return "search"
    if soup.select_one(".x-item-title, .ux-layout-section__textual-display--itemId, #itemTitle"):
        return "item"
    return "unknown"


def saved_query(html: str) -> str | None:
    """The keyword a saved result page was searched for: the search box, or the results heading."""
    soup = BeautifulSoup(html, "html.parser")
    box = soup.select_one("input#gh-ac[value], input[name=_nkw][value]")
    if box and box.get("value", "").strip():
        return " ".join(box["value"].split())
    bold = soup.select(".srp-controls__count-heading .BOLD")
    return " ".join(bold[-1].get_text(" ").split()) if len(bold) >= 2 else None


def html_files(paths: list[Path | str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.iterdir() if q.suffix.lower() in HTML_SUFFIXES))
        else:
            found.append(p)
    return found


def scrape_files(settings: Settings, paths: list[Path | str], *, query: str | None = None) -> dict:
    """Parse saved pages; every card or item becomes a listing row or a scrape_errors row."""
    summary = ScrapeSummary()
    for path in html_files(paths):
        origin = f"html:{path.name}"
        now = datetime.now(timezone.utc)
        rows, errors = [], []
        try:
            html = path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            errors.append(scrape_error(origin=origin, position=None, reason=f"unreadable file: {exc.strerror}",
                                       raw=str(path), recorded_at=now))
            html = None
        kind = page_kind(html) if html is not None else "unreadable"
        if kind == "search":
            parsed = parse_search_page(html, "")
            keyword = query or saved_query(html)
            for card in parsed.cards:
                rows.append(listing_row(card.as_raw(), None, query=keyword, origin=origin, ingested_at=now))
                summary.sold += card.sold
                summary.ended_unsold += not card.sold
            summary.cards += len(parsed.cards)
            summary.skipped_adverts += len(parsed.skipped)
            errors += [scrape_error(origin=origin, position=e.position, reason=f"card: {e.reason}", raw=e.html,
                                    recorded_at=now) for e in parsed.errors]
            if parsed.status in ("blocked", "unrecognised"):
                errors.append(scrape_error(origin=origin, position=None, reason=f"{parsed.status} page: {parsed.reason}",
                                           raw=html[:4000], recorded_at=now))
            summary.pages[parsed.status] += 1
        elif kind == "item":
            try:
                item = parse_item_page(html, "").as_raw()
                rows.append(listing_row(None, item, query=query, origin=origin, ingested_at=now))
                summary.items["ok"] += 1
            except ItemPageError as exc:
                errors.append(scrape_error(origin=origin, position=None, reason=f"item page: {exc}",
                                           raw=html[:4000], recorded_at=now))
                summary.items["failed"] += 1
        elif kind == "unknown":
            from soldsight.scrape.blocks import block_reason

            blocked = block_reason(html)
            reason = f"blocked page: {blocked}" if blocked else "unrecognised page: neither a search nor an item page"
            errors.append(scrape_error(origin=origin, position=None, reason=reason, raw=html[:4000], recorded_at=now))
            summary.pages["blocked" if blocked else "unrecognised"] += 1
        with open_warehouse(settings) as con:
            store(settings, con, origin, "html", rows, errors, summary)
    return summary.as_dict()
