"""Scrapes sold searches page by page (then item pages), storing each page's rows as it goes; resumable."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from soldsight.ingest.store import changes, store_rows
from soldsight.scrape.fetch import Page, PageSource, page_source
from soldsight.scrape.item_page import ItemPageError, parse_item_page
from soldsight.scrape.rows import SOURCE, listing_row, loads, scrape_error
from soldsight.scrape.search_page import parse_search_page
from soldsight.scrape.urls import item_url, search_url
from soldsight.settings import Settings
from warehouse.connection import open_warehouse
from warehouse.sql_files import sql

DEFAULT_MAX_AGE_HOURS = 20.0   # a page read this recently is not read again (a nightly run reads it anew)
ITEM_BATCH = 25                # item pages stored per lake batch


@dataclass
class ScrapeSummary:
    queries: list[str] = field(default_factory=list)
    pages: Counter = field(default_factory=Counter)      # results / empty / blocked / failed / unrecognised / resumed
    cards: int = 0
    sold: int = 0
    ended_unsold: int = 0
    skipped_adverts: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_export: int = 0                                 # cards of listings an export already holds (left as they are)
    errors: Counter = field(default_factory=Counter)     # scrape_errors rows written, by reason
    items: Counter = field(default_factory=Counter)      # ok / failed / resumed
    attempts: int = 0
    stopped: str | None = None                           # why the run stopped early (every proxy down)
    new_ids: set = field(default_factory=set, repr=False)  # listings first stored by this run

    def as_dict(self) -> dict:
        return {
            "queries": self.queries, "pages": dict(self.pages), "cards": self.cards, "sold": self.sold,
            "ended_unsold": self.ended_unsold, "skipped_adverts": self.skipped_adverts, "new": self.new,
            "updated": self.updated, "unchanged": self.unchanged, "kept_export": self.kept_export, "errors": dict(self.errors),
            "error_count": sum(self.errors.values()), "items": dict(self.items), "attempts": self.attempts,
            "stopped": self.stopped,
        }


def search_key(base: str, query: str, category, per_page: int) -> str:
    return f"{base.rstrip('/')}|{' '.join(query.lower().split())}|{category if category is not None else 0}|{per_page}"


def _batch_id(kind: str, origin: str, rows: list[dict], errors: list[dict]) -> str:
    h = hashlib.sha256(origin.encode())
    for row in rows:
        h.update(row["record_hash"].encode())
    for err in errors:
        h.update(err["error_id"].encode())
    return f"scrape-{kind}-{h.hexdigest()[:24]}"


def store(settings: Settings, con, origin: str, kind: str, rows: list[dict], errors: list[dict],
          summary: ScrapeSummary) -> None:
    """Count new/updated/unchanged against the warehouse, then lake + warehouse via the ingest store."""
    latest = {row["listing_id"]: row for row in rows}
    for listing_id, change in changes(con, SOURCE, {i: row["record_hash"] for i, row in latest.items()}).items():
        if change == "new":
            summary.new += 1
            summary.new_ids.add(listing_id)
        elif change == "unchanged":
            summary.unchanged += 1
        elif listing_id not in summary.new_ids:  # its item page completing a card stored this run: still new
            summary.updated += 1
    for err in errors:
        summary.errors[err["reason"].split(":", 1)[0]] += 1
    if latest or errors:
        store_rows(con, settings.lake_dir, _batch_id(kind, origin, list(latest.values()), errors),
                   list(latest.values()), errors)


def _fetch_failure(page: Page) -> str:
    return f"fetch {page.error or 'failed'}: {page.detail or ''}".strip()


def scrape_query(settings: Settings, source: PageSource, query: str, *, pages: int, per_page: int = 60,
                 category=None, max_age_hours: float = DEFAULT_MAX_AGE_HOURS, fresh: bool = False,
                 summary: ScrapeSummary | None = None) -> ScrapeSummary:
    """Result pages 1..pages of one sold search, until one says there are no more. Each page is stored
    (lake, then warehouse) and recorded in scrape_pages before the next is fetched."""
    summary = summary or ScrapeSummary()
    base = settings.marketplace_url
    key = search_key(base, query, category, per_page)
    seen: set[str] = set()
    for number in range(1, pages + 1):
        url = search_url(base, query, page=number, per_page=per_page, category=category)
        if not fresh:
            with open_warehouse(settings) as con:
                state = con.execute(sql("scrape/page_state"), {"search_key": key, "page": number,
                                                               "max_age_seconds": max_age_hours * 3600}).fetchall()
            if state and state[0][0] in ("results", "empty") and state[0][2]:
                summary.pages["resumed"] += 1
                if state[0][0] == "empty" or not state[0][1]:
                    break
                continue
        page = source.get(url)
        summary.attempts += page.attempts
        now = datetime.now(timezone.utc)
        record = {"search_key": key, "page": number, "url": url, "layout": None, "cards": 0, "errors": 0,
                  "skipped": 0, "has_next": False, "reason": None, "attempts": page.attempts}
        if not page.ok:
            status = "blocked" if page.error == "bot_check" else "failed"
            err = scrape_error(origin=url, position=None, reason=_fetch_failure(page), raw=None, recorded_at=now)
            with open_warehouse(settings) as con:
                store(settings, con, url, "page", [], [err], summary)
                con.execute(sql("scrape/record_page"), {**record, "status": status, "reason": err["reason"]})
            summary.pages[status] += 1
            if page.stopped:
                summary.stopped = page.detail or "every proxy is down"
            break
        parsed = parse_search_page(page.text or "", url)
        record.update(layout=parsed.layout, cards=len(parsed.cards), errors=len(parsed.errors),
                      skipped=len(parsed.skipped), has_next=parsed.next_url is not None, reason=parsed.reason)
        rows, errors = [], []
        if parsed.status in ("blocked", "unrecognised"):
            # A bot check that slipped through, or a page we cannot read: an error, never "no results".
            errors.append(scrape_error(origin=url, position=None, reason=f"{parsed.status} page: {parsed.reason}",
                                       raw=(page.text or "")[:4000], recorded_at=now))
            record["has_next"] = False
        ids = [c.listing_id for c in parsed.cards]
        repeated = bool(ids) and all(i in seen for i in ids)   # past the last page, the last one comes back
        seen.update(ids)
        if repeated:
            record["has_next"] = False   # so a resumed run stops here too
        else:
            summary.cards += len(parsed.cards)
            summary.skipped_adverts += len(parsed.skipped)
            for e in parsed.errors:
                errors.append(scrape_error(origin=url, position=e.position, reason=f"card: {e.reason}",
                                           raw=e.html, recorded_at=now))
        with open_warehouse(settings) as con:
            # Item pages already read are merged in, so a re-read card never drops their details.
            known = {lid: loads(d) for lid, d in con.execute(
                sql("scrape/item_details"), {"source": SOURCE, "ids": ids}).fetchall()} if ids and not repeated else {}
            exported = {lid for (lid,) in con.execute(
                sql("scrape/known_from_exports"), {"source": SOURCE, "ids": ids}).fetchall()} if ids and not repeated else set()
            for card in parsed.cards if not repeated else []:
                if card.listing_id in exported:
                    summary.kept_export += 1
                    continue
                item = known.get(card.listing_id)
                origin = (item.get("url") or url) if item else url
                rows.append(listing_row(card.as_raw(), item, query=query, origin=origin, ingested_at=now))
                summary.sold += card.sold
                summary.ended_unsold += not card.sold
            store(settings, con, url, "page", rows, errors, summary)
            con.execute(sql("scrape/record_page"), {**record, "status": parsed.status})
        summary.pages[parsed.status] += 1
        if parsed.status != "results" or parsed.next_url is None or repeated:
            break
    return summary


def scrape_items(settings: Settings, source: PageSource, query: str, *, limit: int = 10_000,
                 summary: ScrapeSummary | None = None) -> ScrapeSummary:
    """Read the item page of every listing this search found whose item page is not read yet."""
    summary = summary or ScrapeSummary()
    with open_warehouse(settings) as con:
        pending = con.execute(sql("scrape/items_pending"), {"source": SOURCE, "query": query, "limit": limit}).fetchall()
    for start in range(0, len(pending), ITEM_BATCH):
        rows, errors, states = [], [], []
        for listing_id, _stored_url, stored_raw in pending[start:start + ITEM_BATCH]:
            # The configured marketplace is the authority on where item pages live.
            url = item_url(settings.marketplace_url, listing_id)
            page = source.get(url)
            summary.attempts += page.attempts
            now = datetime.now(timezone.utc)
            if not page.ok:
                reason = _fetch_failure(page)
                errors.append(scrape_error(origin=url, position=None, reason=reason, raw=None, recorded_at=now))
                # 404/410: the item page is gone for good, so it is not asked for again.
                status = "gone" if page.permanent else "blocked" if page.error == "bot_check" else "failed"
                states.append((listing_id, url, status, reason, None, page.attempts))
                summary.items[status if status == "gone" else "failed"] += 1
                if page.stopped:
                    summary.stopped = page.detail or "every proxy is down"
                    break
                continue
            try:
                details = parse_item_page(page.text or "", url)
            except ItemPageError as exc:
                reason = f"item page: {exc}"
                errors.append(scrape_error(origin=url, position=None, reason=reason, raw=(page.text or "")[:4000],
                                           recorded_at=now))
                states.append((listing_id, url, "failed", reason, None, page.attempts))
                summary.items["failed"] += 1
                continue
            if details.listing_id != listing_id:
                reason = f"item page: shows item {details.listing_id}, not {listing_id}"
                errors.append(scrape_error(origin=url, position=None, reason=reason, raw=None, recorded_at=now))
                states.append((listing_id, url, "failed", reason, None, page.attempts))
                summary.items["failed"] += 1
                continue
            item = details.as_raw()
            # The card as first parsed (from the stored raw text: a JSON round trip through SQL would
            # re-spell numbers like 15.0 and change the record hash).
            rows.append(listing_row(loads(stored_raw)["card"], item, query=query, origin=url, ingested_at=now))
            states.append((listing_id, url, "ok", None, json.dumps(item, sort_keys=True), page.attempts))
            summary.items["ok"] += 1
        with open_warehouse(settings) as con:
            store(settings, con, f"items:{query}", "items", rows, errors, summary)
            for listing_id, url, status, reason, details, attempts in states:
                con.execute(sql("scrape/record_item"), {"source": SOURCE, "listing_id": listing_id, "url": url,
                                                         "status": status, "reason": reason, "details": details,
                                                         "attempts": attempts})
        if summary.stopped:
            break
    return summary


def scrape_searches(settings: Settings, queries: list[str] | tuple[str, ...] | None = None, pages: int | None = None,
                    items: bool = False, *, per_page: int = 60, category=None,
                    max_age_hours: float = DEFAULT_MAX_AGE_HOURS, fresh: bool = False,
                    source: PageSource | None = None, use_proxy: bool = True) -> dict:
    """Scrape each sold search (default: settings.searches) for up to `pages` pages (default:
    settings.scrape_pages), then, if `items`, every found listing's item page. Returns a summary dict."""
    queries = [q for q in (queries if queries is not None else settings.searches) if q and q.strip()]
    pages = settings.scrape_pages if pages is None else pages
    summary = ScrapeSummary(queries=list(queries))
    own = source is None
    source = source or page_source(settings, use_proxy=use_proxy)
    try:
        for query in queries:
            scrape_query(settings, source, query, pages=pages, per_page=per_page, category=category,
                         max_age_hours=max_age_hours, fresh=fresh, summary=summary)
            if summary.stopped:
                break
            if items:
                scrape_items(settings, source, query, summary=summary)
                if summary.stopped:
                    break
    finally:
        if own:
            source.close()
    return summary.as_dict()
