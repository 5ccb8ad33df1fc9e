"""Each pipeline step as one plain call that returns a stage report (see pipeline.stage_report).

The Prefect tasks in tasks/ wrap these one-to-one, adding only retries, concurrency slots and
artifacts; anything else (the CLI, a test, a notebook) can call them without Prefect.
"""
from __future__ import annotations

import logging
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

from soldsight.pipeline import EXPORT_SUFFIXES, embed_needed, pending_files, stage_report
from soldsight.secrets import redact
from soldsight.settings import Settings

log = logging.getLogger("soldsight.steps")
Progress = Callable[[int, int], None]


def ingest(settings: Settings, paths: list[str] | None = None) -> dict:
    """Ingest the given export files, or every export in the inbox; files seen before are skipped."""
    from soldsight.ingest.ingest import ingest_file
    from warehouse.connection import open_warehouse

    files = [Path(p) for p in (paths or pending_files(settings.inbox_exports, EXPORT_SUFFIXES))]
    failures = Counter()
    for missing in [f for f in files if not f.is_file()]:
        failures["no such file"] += 1
        log.error("no such export file: %s", missing)
    files = [f for f in files if f.is_file()]
    with open_warehouse(settings) as con:
        summaries = [ingest_file(con, settings.lake_dir, f) for f in files]
    for s in summaries:
        failures.update(s.errors)
        if s.failure:
            failures["file rejected"] += 1
            log.error("rejected %s", s.failure)
    seen = sum(s.already_ingested for s in summaries)
    new_files = len(files) - seen - sum(bool(s.failure) for s in summaries)
    return stage_report("ingest", done=sum(s.new + s.updated for s in summaries), skipped=seen,
                        failed=sum(failures.values()), failures=dict(failures),
                        note=f"{new_files} new export files of {len(files)}",
                        records=sum(s.records for s in summaries), duplicates=sum(s.duplicates for s in summaries))


def scrape(settings: Settings, searches: list[str] | None = None, pages: int | None = None,
           use_proxies: bool = True, items: bool = False) -> dict:
    """Scrape the configured (or given) sold searches through the proxy pool; items: every item page too."""
    from soldsight.scrape.run import scrape_searches

    queries = list(searches if searches is not None else settings.searches)
    if not queries:
        return stage_report("scrape", note="no searches configured (SOLDSIGHT_SEARCHES)")
    s = scrape_searches(settings, queries, pages, items, use_proxy=use_proxies)
    if s["stopped"]:
        log.warning("scrape stopped early: %s", redact(s["stopped"]))
    # kept_export: listings an export already gave in full; the thinner search card does not replace them.
    return stage_report("scrape", done=s["new"] + s["updated"], skipped=s["unchanged"] + s.get("kept_export", 0),
                        failed=s["error_count"], failures=s["errors"], pages=s["pages"],
                        note=redact(s["stopped"] or f"{len(queries)} searches, {s['cards']} cards, pages {s['pages']}"))


PROXY_COLUMNS = ("proxy", "state", "successes", "failures", "bans", "consecutive_failures", "latency_ms",
                 "cooldowns", "last_error")


def download(settings: Settings, limit: int | None = None, use_proxies: bool = True,
             progress: Progress | None = None) -> dict:
    """Fetch every listing photo not stored yet; detail['proxies'] is the pool's health, masked."""
    from soldsight.download import download_pending

    s = download_pending(settings, limit=limit, use_proxy=use_proxies, progress=progress)
    if s.stopped:
        log.warning("download stopped early: %s", redact(s.stopped))
    failures = {**dict(s.failed), **{f"{k} (retry next run)": v for k, v in s.failed_transient.items()}}
    proxies = [{k: (redact(p.get(k)) if isinstance(p.get(k), str) else p.get(k)) for k in PROXY_COLUMNS}
               for p in s.proxies]
    return stage_report("download", done=s.downloaded + s.reused, skipped=s.skipped, failed=s.failed_total,
                        failures=failures, note=redact(s.stopped or f"{s.new_files} new files, {s.retries} retries"),
                        not_attempted=s.not_attempted, bytes=s.bytes, proxies=proxies)




def embed(settings: Settings, progress: Progress | None = None) -> dict:
    """Embed every downloaded photo without a vector for the current model; TensorFlow only if needed."""
    if not embed_needed(settings):
        return stage_report("embed", note="no new photos to embed")
    from soldsight.embed import embed_pending

    r = embed_pending(settings, log=log.info, progress=progress)
    return stage_report("embed", done=r.embedded, failed=r.failed, failures=r.errors,
                        note=f"{r.model_id}: {r.rate:.0f} photos/s", model_id=r.model_id)


def refit(settings: Settings, data: dict, writing=nullcontext) -> dict:
    """Fit the price model on the warehouse as it is (data: warehouse_fingerprint, for the note).

    writing: entered around each hold of the warehouse (see fit_price_model), not around the whole fit.
    """
    if not data["vectors"]:
        return stage_report("refit", note="nothing to fit: no embedded photos yet", derived=True)
    from soldsight.price.service import NothingToFit, fit_price_model

    try:
        fit = fit_price_model(settings, writing=writing)
    except NothingToFit as exc:  # photos embedded, but none of a sold listing with a price
        return stage_report("refit", note=str(exc), derived=True)
    return stage_report("refit", note=f"fitted on data {data['digest']}: match threshold {fit['threshold']:.3f}",
                        derived=True, fit={k: fit[k] for k in ("grades", "calibration", "threshold")},
                        index=fit.get("index") or {})


def backtest(settings: Settings, data: dict) -> dict:
    """Leave-one-out backtest of the fitted model; detail['figures'] holds every method's figures."""
    if not data["vectors"]:
        return stage_report("backtest", note="nothing to backtest yet", derived=True)
    from soldsight.price.backtest import run_backtest

    figures = run_backtest(settings)
    model = figures["model"]
    return stage_report("backtest", derived=True, figures=figures,
                        note=f"top-1 {pct(model.get('top1'))}, MdAPE {pct(model.get('mdape'))}, "
                             f"within ±25% {pct(model.get('within_25'))}")


def pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def backtest_markdown(figures: dict) -> str:
    """The backtest figures as a markdown table: the model first, then the baselines."""
    lines = [f"# Backtest {figures.get('run_id', '')}", "",
             "| method | listings | priced | top-1 | top-5 | abstained | MdAPE | within ±25% | range holds truth |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for method, m in figures.items():
        if isinstance(m, dict):
            lines.append(f"| {method} | {m.get('listings', '-')} | {m.get('priced', '-')} | {pct(m.get('top1'))} | "
                         f"{pct(m.get('top5'))} | {pct(m.get('abstained'))} | {pct(m.get('mdape'))} | "
                         f"{pct(m.get('within_25'))} | {pct(m.get('coverage'))} |")
    return "\n".join(lines)


def price(settings: Settings, photos: list[str], media: str | None = None, sleeve: str | None = None,
          top_k: int | None = None, currency: str | None = None, days: int | None = None) -> list[dict]:
    """Price the photos (stored in price_suggestions); one compact answer per photo."""
    if not photos:
        return []
    from soldsight.price.service import price_photos

    answers = price_photos(settings, photos, media=media, sleeve=sleeve, top=top_k, currency=currency, days=days)
    keep = ("photo", "status", "reason", "suggested_price", "low", "high", "currency", "n_comparables")
    match_keys = ("listing_id", "title", "artist", "release_year", "similarity")
    return [{**{k: a.get(k) for k in keep}, "match": {k: (a.get("match") or {}).get(k) for k in match_keys},
             "alternatives": [{k: alt.get(k) for k in (*match_keys, "suggested_price", "currency")}
                              for alt in a.get("alternatives") or []]}
            for a in answers]


def price_rows(results: list[dict]) -> list[dict]:
    """The price answers as table rows for people."""
    from soldsight.price.search import item_name

    return [{"photo": Path(r["photo"]).name, "status": r["status"], "item": item_name(r["match"]) or "-",
             "match": r["match"]["title"] or "-",
             "close second": "; ".join(_second(alt) for alt in r.get("alternatives") or []) or "-",
             "similarity": r["match"]["similarity"], "suggested": r["suggested_price"], "low": r["low"],
             "high": r["high"], "currency": r["currency"] or "-", "comparables": r["n_comparables"],
             "reason": r["reason"] or "-"} for r in results]


def _second(alt: dict) -> str:
    from soldsight.price.search import item_name

    price = alt.get("suggested_price")
    return (item_name(alt) or alt["title"]) + ("" if price is None else f" ({price:.2f} {alt['currency']})")


def price_summary(results: list[dict]) -> dict:
    statuses = Counter(r["status"] for r in results)
    errors = Counter((r["reason"] or "error").split(":")[0] for r in results if r["status"] == "error")
    return stage_report("price", done=len(results) - statuses["error"], failed=statuses["error"],
                        failures=dict(errors), note=", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
