"""`soldsight scrape`: sold listings from the marketplace's search and item pages, or from saved pages."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from soldsight.commands.arguments import at_least

NAME = "scrape"
HELP = ("Scrape sold listings from marketplace searches (through the proxy pool), or parse saved "
        "search/item pages with --html; rows go to the same listings table as exports.")


def add_arguments(parser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  soldsight scrape --query \"fleetwood mac rumours vinyl\" --pages 2 --items\n"
        "  soldsight scrape                      # the searches in SOLDSIGHT_SEARCHES\n"
        "  soldsight scrape --html saved/*.html  # pages saved from a browser\n"
        "Pages read within --max-age-hours are skipped (resume); item pages read once are never read again.\n"
        "Marketplace: SOLDSIGHT_MARKETPLACE_URL; proxies: SOLDSIGHT_PROXIES / SOLDSIGHT_PROXY_GATEWAY;\n"
        "politeness: SOLDSIGHT_SCRAPE_RATE (requests/s) and SOLDSIGHT_USER_AGENT.")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--query", action="append", metavar="TEXT",
                      help="a sold search keyword (repeatable); default: SOLDSIGHT_SEARCHES")
    what.add_argument("--html", nargs="+", type=Path, metavar="FILE",
                      help="saved search or item pages (or folders of *.html) to parse instead of fetching")
    parser.add_argument("--pages", type=at_least(1), default=None, metavar="N",
                        help="result pages per search, at most (default: SOLDSIGHT_SCRAPE_PAGES)")
    parser.add_argument("--items", action="store_true",
                        help="also read every found listing's item page (specifics, grades, gallery)")
    parser.add_argument("--per-page", type=int, default=60, choices=(60, 120, 240), help="results per page")
    parser.add_argument("--category", default=None, help="marketplace category id (_sacat), e.g. 176985 for vinyl")
    parser.add_argument("--max-age-hours", type=at_least(0, float), default=20.0,
                        help="treat pages read within this many hours as done (default 20)")
    parser.add_argument("--fresh", action="store_true", help="ignore the resume state and read every page again")
    parser.add_argument("--marketplace", default=None, metavar="URL",
                        help="base URL of the marketplace for this run (default: SOLDSIGHT_MARKETPLACE_URL)")
    parser.add_argument("--direct", action="store_true", help="connect without the proxy pool")


def format_summary(s: dict) -> str:
    pages = ", ".join(f"{n} {k}" for k, n in sorted(s["pages"].items())) or "none"
    lines = [
        f"searches: {', '.join(s['queries']) or '-'}",
        f"pages: {pages}",
        f"cards: {s['cards']} ({s['sold']} sold, {s['ended_unsold']} ended unsold), "
        f"{s['skipped_adverts']} adverts skipped",
        f"listings: {s['new']} new, {s['updated']} updated, {s['unchanged']} unchanged"
        + (f", {s['kept_export']} already known from exports (kept)" if s.get("kept_export") else ""),
        f"item pages: " + (", ".join(f"{n} {k}" for k, n in sorted(s["items"].items())) or "none"),
        f"errors: {s['error_count']}",
    ]
    lines += [f"  errors: {n:>6}  {reason}" for reason, n in sorted(s["errors"].items(), key=lambda kv: -kv[1])]
    if s.get("attempts"):
        lines.append(f"HTTP attempts: {s['attempts']}")
    if s.get("stopped"):
        lines.append(f"STOPPED EARLY: {s['stopped']}")
    return "\n".join(lines)


def run(args, settings) -> int:
    from soldsight.scrape.files import html_files, scrape_files
    from soldsight.scrape.run import scrape_searches

    if args.marketplace:
        settings = replace(settings, marketplace_url=args.marketplace)
    if args.html:
        files = html_files(args.html)
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            print(f"soldsight scrape: no such file: {', '.join(missing)}", file=sys.stderr)
            return 2
        summary = scrape_files(settings, files, query=None)
        print(format_summary(summary))
        return 0
    queries = args.query if args.query else list(settings.searches)
    if not queries:
        print("soldsight scrape: no search given: use --query TEXT or set SOLDSIGHT_SEARCHES", file=sys.stderr)
        return 2
    summary = scrape_searches(settings, queries, args.pages, args.items, per_page=args.per_page,
                              category=args.category, max_age_hours=args.max_age_hours, fresh=args.fresh,
                              use_proxy=not args.direct)
    print(format_summary(summary))
    print(warehouse_totals(settings, queries))
    return 1 if summary.get("stopped") else 0


def warehouse_totals(settings, queries: list[str]) -> str:
    """Scraped listings now in the warehouse for these searches (sold, ended unsold, with item page)."""
    from soldsight.scrape.rows import SOURCE
    from warehouse.connection import open_warehouse
    from warehouse.sql_files import sql

    with open_warehouse(settings) as con:
        found = {q: (sold, ended, items) for q, sold, ended, items in
                 con.execute(sql("scrape/summary"), {"source": SOURCE}).fetchall()}
    lines = ["in the warehouse:"]
    for q in queries:
        sold, ended, items = found.get(q, (0, 0, 0))
        lines.append(f"  {q}: {sold} sold, {ended} ended unsold, {items} with item page")
    return "\n".join(lines)
