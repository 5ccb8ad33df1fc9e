"""`soldsight refresh`: run the nightly refresh flow now, in this process, and print what each stage did."""
from __future__ import annotations

import os
import sys

from soldsight.commands.arguments import at_least

NAME = "refresh"
HELP = ("Run the refresh flow now: ingest new exports from <home>/inbox/exports, scrape the configured "
        "searches, download and embed new photos, load the lake, refit the price model, backtest, report. "
        "Uses the Prefect server at PREFECT_API_URL if set, else Prefect's local mode (a temporary server, "
        "state in <home>/prefect).")


def add_arguments(parser) -> None:
    parser.add_argument("--exports", nargs="+", metavar="FILE",
                        help="export files to ingest (default: every new file in <home>/inbox/exports)")
    parser.add_argument("--search", action="append", metavar="QUERY", dest="searches",
                        help="a search to scrape; repeat for several (default: SOLDSIGHT_SEARCHES)")
    parser.add_argument("--pages", type=at_least(1), metavar="N", help="result pages per search (default: SOLDSIGHT_SCRAPE_PAGES)")
    parser.add_argument("--items", action="store_true",
                        help="also fetch each scraped listing's item page (specifics, every gallery photo)")
    parser.add_argument("--download-limit", type=at_least(0), metavar="N", help="fetch at most N photo URLs this run")
    parser.add_argument("--no-proxy", action="store_true", help="connect directly, ignoring the proxy settings")
    parser.add_argument("--no-backtest", action="store_true", help="skip the backtest stage")


# A Prefect server tells a run that finds a concurrency slot taken to retry after up to this many
# seconds (default 30, and a random draw above it): measured here, a free warehouse slot was
# often reported taken for a moment, which cost 2-60 s per warehouse step. 1 s keeps queues short.
SLOT_WAIT = "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS"
STARTUP_WAIT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def prefect_environment(home) -> None:
    """Keep Prefect's own state inside SOLDSIGHT_HOME and off the internet, unless told otherwise.

    Must run before prefect is imported: Prefect reads these once.
    """
    if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
        prefect_home = (home / "prefect").resolve()
        prefect_home.mkdir(parents=True, exist_ok=True)  # its database cannot be created otherwise
        os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "soldsight")
    os.environ.setdefault(SLOT_WAIT, "1")  # used by the local-mode server this process starts
    # Local mode waits 20 s for its temporary server by default; on a new PREFECT_HOME the server
    # first builds its database, which took longer than that here once (make demo then failed).
    os.environ.setdefault(STARTUP_WAIT, "120")


def format_report(result: dict) -> str:
    from soldsight.pipeline import summary_rows

    rows = summary_rows(result["stages"])
    cols = ["stage", "done", "skipped", "failed", "failures by reason", "note"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    lines.append(result["verdict"])
    return "\n".join(lines)


def run(args, settings) -> int:
    prefect_environment(settings.home)
    from flows.refresh import refresh
    from soldsight.secrets import redact

    try:
        result = refresh(home=str(settings.home), exports=args.exports, searches=args.searches,
                         scrape_pages=args.pages, scrape_items=args.items, download_limit=args.download_limit,
                         use_proxies=not args.no_proxy, run_backtest=not args.no_backtest)
    except Exception as exc:  # the flow's own logs say where; here, one clear line and a non-zero exit
        print(f"soldsight refresh: failed: {redact(exc)}", file=sys.stderr)
        return 1
    print(redact(format_report(result)))
    return 0
