"""download_pending(): fetch every listing photo not yet downloaded, with workers, dedupe and resume."""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from soldsight.download.client import Fetcher, Outcome
from soldsight.download.journal import ResultWriter, new_run_id, recover
from soldsight.download.store import file_ok, store_image, sweep_temp_files
from soldsight.secrets import redact
from soldsight.settings import Settings
from warehouse.connection import open_warehouse
from warehouse.sql_files import sql

log = logging.getLogger("soldsight.download")


@dataclass
class DownloadSummary:
    wanted: int = 0            # (listing, url) pairs in the listings
    skipped: int = 0           # already done before this run (ok with its file, or failed for good)
    pending: int = 0           # pairs this run had to settle
    urls: int = 0              # distinct URLs among them to fetch (before --limit)
    downloaded: int = 0        # URLs fetched and stored now
    new_files: int = 0         # files written (the rest had identical bytes already on disk)
    reused: int = 0            # pairs settled from a URL already stored (no request made)
    failed: Counter = field(default_factory=Counter)            # reason -> URLs, failed for good
    failed_transient: Counter = field(default_factory=Counter)  # reason -> URLs, retried next run
    not_attempted: int = 0     # URLs left for the next run (--limit, or the run stopped)
    stopped: str | None = None # why the run stopped early, if it did
    retries: int = 0
    bytes: int = 0
    rows: int = 0              # rows merged into images
    recovered: int = 0         # rows merged from a killed run's journal
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    proxies: list[dict] = field(default_factory=list)

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values()) + sum(self.failed_transient.values())


def _row(source: str, listing_id: str, url: str, outcome: Outcome | None, *, stored: dict | None = None,
         now: datetime) -> dict:
    row = {"source": source, "listing_id": listing_id, "url": url, "fetched_at": now}
    if stored is not None:   # the file is already there
        row.update(status="ok", error=None, detail=None, permanent=False, attempts=0 if outcome is None
                   else outcome.attempts, **{k: stored[k] for k in ("sha256", "path", "width", "height",
                                                                   "format", "bytes", "fetched_url")})
        if outcome is not None:
            last = outcome.last
            row.update(http_status=last.status, proxy=last.proxy, elapsed_ms=round(last.elapsed * 1000, 2))
        return row
    last = outcome.last
    row.update(status="failed", error=outcome.error or "failed", detail=redact(outcome.detail or "")[:500],
               permanent=outcome.permanent, attempts=outcome.attempts, fetched_url=None,
               http_status=last.status, proxy=last.proxy,
               elapsed_ms=round(last.elapsed * 1000, 2) if last.elapsed else None)
    return row


def download_pending(
    settings: Settings,
    *,
    limit: int | None = None,
    concurrency: int | None = None,
    proxies_file: Path | None = None,
    use_proxy: bool = True,
    retry_permanent: bool = False,
    fetcher: Fetcher | None = None,
    progress: Callable[[int, int], None] | None = None,
    flush_every: int = 500,
    flush_interval: float = 2.0,
) -> DownloadSummary:
    """Download the photos of every listing that are not stored yet; returns what happened.

    Holds the warehouse for the whole run (DuckDB has one writer). Results reach `images` through
    the lake every `flush_every` rows or `flush_interval` seconds; see journal.py for resume.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be at least 0, not {limit}")
    started = time.monotonic()
    summary = DownloadSummary()
    workers_n = max(1, concurrency or settings.download_concurrency)
    own_fetcher = fetcher is None
    if fetcher is not None:
        fetcher.stop_event.clear()   # a caller's fetcher may have been stopped by an earlier run
    else:
        fetcher = Fetcher.from_settings(settings, proxies_file=proxies_file, use_proxy=use_proxy,
                                        gateway_slots=workers_n)
    home = settings.home
    try:
        with open_warehouse(settings) as con:
            swept = sweep_temp_files(settings.images_dir)
            if swept:
                log.info("removed %d temp files left by an interrupted run", swept)
            summary.recovered = recover(con, home, settings.lake_dir)
            counts = con.execute(sql("images_wanted_counts")).fetchall()[0]
            pending = con.execute(sql("images_pending"), {"retry_permanent": retry_permanent}).fetchall()
            stored_rows = con.execute(sql("images_stored")).fetchall()

            stored_by_url: dict[str, dict] = {}
            pending_keys = {(s, l, u) for s, l, u in pending}
            missing_files = 0
            checked: dict[str, bool] = {}
            for s, l, u, sha, path, w, h, fmt, size, fetched_url in stored_rows:
                if path not in checked:
                    checked[path] = file_ok(home, path, sha)
                if checked[path]:
                    stored_by_url.setdefault(u, dict(sha256=sha, path=path, width=w, height=h, format=fmt,
                                                     bytes=size, fetched_url=fetched_url))
                elif (s, l, u) not in pending_keys:
                    pending.append((s, l, u))   # its file is gone: fetch it again
                    pending_keys.add((s, l, u))
                    missing_files += 1
            if missing_files:
                log.warning("%d stored photos are missing on disk and will be fetched again", missing_files)
            wanted, ok, failed_perm, _failed_tmp, _untried = counts
            summary.wanted = wanted
            summary.pending = len(pending)
            summary.skipped = max(0, wanted - len(pending))

            writer = ResultWriter(con, home, settings.lake_dir, new_run_id(), every=flush_every,
                                  interval=flush_interval)
            now = datetime.now(timezone.utc)
            groups: dict[str, list[tuple[str, str]]] = {}
            for s, l, u in pending:
                if u in stored_by_url:
                    writer.submit([_row(s, l, u, None, stored=stored_by_url[u], now=now)])
                    summary.reused += 1
                else:
                    groups.setdefault(u, []).append((s, l))
            summary.urls = len(groups)
            work = list(groups.items())
            if limit is not None and limit < len(work):
                summary.not_attempted += len(work) - limit
                work = work[:limit]
            try:
                _run_workers(fetcher, work, workers_n, writer, summary, home, progress)
            finally:
                writer.close()   # also on Ctrl-C: what finished is kept
                summary.rows = writer.written
    finally:
        summary.retries = fetcher.retries
        summary.proxies = fetcher.pool.snapshot()
        if own_fetcher:
            fetcher.close()
    summary.seconds = time.monotonic() - started
    return summary


def _run_workers(fetcher: Fetcher, work: list, workers_n: int, writer: ResultWriter,
                 summary: DownloadSummary, home: Path, progress) -> None:
    """Workers fetch, store and journal; this thread tallies, reports progress and flushes to DuckDB."""
    todo: queue.Queue = queue.Queue()
    for item in work:
        todo.put(item)
    results: queue.Queue = queue.Queue()
    stop_reason: list[str] = []

    def worker() -> None:
        while not fetcher.stop_event.is_set():
            try:
                url, keys = todo.get_nowait()
            except queue.Empty:
                return
            try:
                item = _download_one(fetcher, url, keys, home)
            except Exception as exc:   # a bug on one URL must not kill the run; it becomes a row
                log.exception("unexpected error on %s", redact(url))
                item = ("crash", url, keys, None, redact(f"{type(exc).__name__}: {exc}"), False)
            rows = _rows_for(item)
            if rows:
                writer.submit(rows)    # journaled before anyone counts it as done
            results.put(item)

    threads = [threading.Thread(target=worker, name=f"download-{i}", daemon=True) for i in range(workers_n)]
    for t in threads:
        t.start()
    done = 0
    total = len(work)
    if progress:
        progress(0, total)
    try:
        while done < total:
            try:
                item = results.get(timeout=0.2)
            except queue.Empty:
                writer.tick()
                if not any(t.is_alive() for t in threads) and results.empty():
                    break
                continue
            done += 1
            _settle(item, summary, stop_reason, fetcher)
            writer.tick()
            if progress:
                progress(done, total)
    except KeyboardInterrupt:
        summary.stopped = "interrupted"
        raise
    finally:
        fetcher.stop()
        for t in threads:
            t.join(timeout=fetcher.timeout + 5)
        while True:   # results that arrived while stopping
            try:
                _settle(results.get_nowait(), summary, stop_reason, fetcher)
                done += 1
            except queue.Empty:
                break
        summary.not_attempted += total - done
        if stop_reason and not summary.stopped:
            summary.stopped = stop_reason[0]


def _download_one(fetcher: Fetcher, url: str, keys: list, home: Path):
    outcome = fetcher.fetch_image(url)
    if outcome.ok:
        info = outcome.info
        body = outcome.last.body or b""
        sha, rel, written = store_image(home, body, info.ext)
        outcome.last.body = None   # free the bytes before queueing
        stored = dict(sha256=sha, path=rel.as_posix(), width=info.width, height=info.height,
                      format=info.format, bytes=len(body), fetched_url=outcome.fetched_url)
        return ("ok", url, keys, outcome, stored, written)
    outcome.last.body = None
    return ("failed", url, keys, outcome, None, False)


def _rows_for(item) -> list[dict]:
    kind, url, keys, outcome, stored, _written = item
    now = datetime.now(timezone.utc)
    if kind == "crash":
        return [{"source": s, "listing_id": l, "url": url, "status": "failed", "error": "internal",
                 "detail": stored[:500], "permanent": False, "attempts": 0, "fetched_at": now} for s, l in keys]
    if kind == "ok":
        return [_row(s, l, url, outcome, stored=stored, now=now) for s, l in keys]
    if outcome.stopped and outcome.attempts == 0:
        return []   # never tried: no row; the next run picks it up
    return [_row(s, l, url, outcome, now=now) for s, l in keys]


def _settle(item, summary: DownloadSummary, stop_reason: list, fetcher: Fetcher) -> None:
    kind, url, keys, outcome, stored, written = item
    if kind == "crash":
        summary.failed_transient["internal"] += 1
        return
    if kind == "ok":
        summary.downloaded += 1
        summary.new_files += int(written)
        summary.bytes += stored["bytes"]
        summary.latencies.append(outcome.last.elapsed)
        return
    if outcome.stopped and outcome.error == "no_proxy" and outcome.detail:
        stop_reason.append(outcome.detail)
        fetcher.stop()
    if outcome.stopped and outcome.attempts == 0:
        summary.not_attempted += 1
        return
    (summary.failed if outcome.permanent else summary.failed_transient)[outcome.error or "failed"] += 1
    log.info("failed %s after %d attempts: %s (%s)", redact(url), outcome.attempts, outcome.error,
             "permanent" if outcome.permanent else "will retry next run")
