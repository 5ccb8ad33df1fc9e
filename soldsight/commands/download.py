"""`soldsight download`: fetch the photos of every listing not downloaded yet, through the proxy pool."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from soldsight.commands.arguments import at_least
from soldsight.download.proxies import ProxyConfigError
from soldsight.download.run import DownloadSummary, download_pending
from soldsight.secrets import RedactingFilter, redact

NAME = "download"
HELP = ("Download the photos of every listing that has not been fetched yet, through the rotating proxy "
        "pool (SOLDSIGHT_PROXIES / SOLDSIGHT_PROXY_GATEWAY), with retries, validation and dedupe.")


def add_arguments(parser) -> None:
    parser.add_argument("--limit", type=at_least(0), metavar="N", help="fetch at most N image URLs this run")
    parser.add_argument("--concurrency", type=at_least(1), metavar="N",
                        help="worker threads (default SOLDSIGHT_DOWNLOAD_CONCURRENCY)")
    parser.add_argument("--proxies", type=Path, metavar="FILE",
                        help="proxy list, one URL a line (default SOLDSIGHT_PROXIES)")
    parser.add_argument("--no-proxy", action="store_true", help="connect directly, ignoring every proxy setting")
    parser.add_argument("--retry-permanent", action="store_true",
                        help="also retry URLs that failed for good before (404, 410, not an image, ...)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs and summary only)")


def _setup_logging(settings) -> logging.Handler:
    """Log the run to <home>/logs/download.log, with every message redacted."""
    folder = settings.home / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "download.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("soldsight")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


def format_summary(s: DownloadSummary) -> str:
    lines = [
        f"downloaded {s.downloaded} URLs ({s.new_files} new files, {s.bytes / 1e6:.1f} MB) in {s.seconds:.1f}s"
        + (f" = {s.downloaded / s.seconds:.0f}/s" if s.seconds > 0 and s.downloaded else ""),
        f"reused {s.reused} (URL already stored for another listing); skipped {s.skipped} already settled "
        f"of {s.wanted} listing photos",
        f"failed {s.failed_total} URLs: {sum(s.failed.values())} for good, "
        f"{sum(s.failed_transient.values())} to retry next run; retries {s.retries}",
    ]
    for reason, n in s.failed.most_common():
        lines.append(f"  failed for good  {n:>6}  {reason}")
    for reason, n in s.failed_transient.most_common():
        lines.append(f"  retry next run   {n:>6}  {reason}")
    if s.not_attempted:
        lines.append(f"not attempted {s.not_attempted} URLs (left for the next run)")
    if s.recovered:
        lines.append(f"recovered {s.recovered} rows from an interrupted run")
    if s.stopped:
        lines.append(f"STOPPED: {s.stopped}")
    return redact("\n".join(lines))


def print_proxy_table(s: DownloadSummary, console) -> None:
    from rich.table import Table

    table = Table(title="proxies")
    for col in ("proxy", "state", "ok", "failed", "bans", "origin 5xx", "in a row", "latency ms", "cool-downs",
                "rotations", "last error"):
        table.add_column(col)
    for p in s.proxies:
        table.add_row(redact(p["proxy"]), p["state"], str(p["successes"]), str(p["failures"]), str(p["bans"]),
                      str(p["origin_errors"]),
                      str(p["consecutive_failures"]), "" if p["latency_ms"] is None else f"{p['latency_ms']:.0f}",
                      str(p["cooldowns"]), str(p["rotations"]), p["last_error"] or "")
    console.print(table)


def run(args, settings) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(highlight=False)
    if not console.is_terminal:   # a log file or a pipe: wide enough that proxy labels stay whole
        console = Console(highlight=False, width=200)
    handler = _setup_logging(settings)
    show = not args.no_progress and console.is_terminal
    progress = Progress(TextColumn("downloading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=not show)
    task = progress.add_task("download", total=None)

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    try:
        with progress:
            summary = download_pending(
                settings, limit=args.limit, concurrency=args.concurrency, proxies_file=args.proxies,
                use_proxy=not args.no_proxy, retry_permanent=args.retry_permanent, progress=on_progress)
    except ProxyConfigError as exc:
        print(f"soldsight download: {redact(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("soldsight download: interrupted; finished photos are saved, the rest come next run",
              file=sys.stderr)
        return 130
        logging.getLogger("soldsight.download").info("run summary: %s",
                                                     format_summary(summary).replace("\n", " | "))
    finally:
        logging.getLogger("soldsight").removeHandler(handler)
        handler.close()
    console.print(format_summary(summary), markup=False)
    print_proxy_table(summary, console)
    # Failed photos are rows with reasons, not an error of the run; stopping early is (exit 3).
    return 3 if summary.stopped else 0
