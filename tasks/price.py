"""Tasks: refit the price model and backtest it (cached on the data they read), and price photos."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from soldsight.pipeline import PHOTO_SUFFIXES, file_photo, pending_files, stage_report, warehouse_fingerprint
from tasks import artifacts
from tasks.common import RETRY_BACKOFF_BASE, RETRY_JITTER, retry_if_transient, settings_for, warehouse_write

_RETRY = dict(retries=3, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
              retry_condition_fn=retry_if_transient)


def _data_key(context, parameters) -> str:
    """Refit and backtest read only the warehouse's listings and vectors, plus the pricing settings:
    with the same data and knobs their result is the same, so a quiet night reuses it."""
    s = settings_for(parameters["home"])
    return f"{context.task.name}-{parameters['data']['digest']}-{s.model}-{s.top_k}-{s.min_comparables}-{s.match_threshold}"


@task(name="fingerprint", task_run_name="warehouse-fingerprint", cache_policy=NO_CACHE, **_RETRY)
def fingerprint(home: str) -> dict:
    return warehouse_fingerprint(settings_for(home))


@task(name="refit", task_run_name="refit-price-model", cache_key_fn=_data_key, persist_result=True,
      cache_expiration=timedelta(days=30), **_RETRY)
def refit_model(home: str, data: dict) -> dict:
    if not data["vectors"]:
        return stage_report("refit", note="nothing to fit: no embedded photos yet", derived=True)
    from soldsight.price.service import fit_price_model

    with warehouse_write():  # the fit holds the warehouse while it rebuilds the index
        fit = fit_price_model(settings_for(home))
    index = fit.get("index") or {}
    get_run_logger().info("price model fitted: %s", {k: index.get(k) for k in list(index)[:6]})
    return stage_report("refit", note=f"fitted on data {data['digest']}: match threshold {fit['threshold']:.3f}",
                        derived=True, fit={k: fit[k] for k in ("grades", "calibration", "threshold")}, index=index)


@task(name="backtest", task_run_name="backtest", cache_key_fn=_data_key, persist_result=True,
      cache_expiration=timedelta(days=30), **_RETRY)
def backtest(home: str, data: dict) -> dict:
    if not data["vectors"]:
        return stage_report("backtest", note="nothing to backtest yet", derived=True)
    from soldsight.price.backtest import run_backtest

    with warehouse_write():
        figures = run_backtest(settings_for(home))
    artifacts.markdown("backtest-report", backtest_markdown(figures),
                       "Leave-one-out backtest of identification and price, against two baselines.")
    model = figures["model"]
    return stage_report("backtest", derived=True, figures=figures,
                        note=f"top-1 {_pct(model.get('top1'))}, MdAPE {_pct(model.get('mdape'))}, "
                             f"within ±25% {_pct(model.get('within_25'))}")


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def backtest_markdown(figures: dict) -> str:
    """The backtest figures as a markdown table: the model first, then the baselines."""
    lines = [f"# Backtest {figures.get('run_id', '')}", "",
             "| method | listings | priced | top-1 | top-5 | abstained | MdAPE | within ±25% | range holds truth |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for method, m in figures.items():
        if not isinstance(m, dict):
            continue
        lines.append(f"| {method} | {m.get('listings', '-')} | {m.get('priced', '-')} | {_pct(m.get('top1'))} | "
                     f"{_pct(m.get('top5'))} | {_pct(m.get('abstained'))} | {_pct(m.get('mdape'))} | "
                     f"{_pct(m.get('within_25'))} | {_pct(m.get('coverage'))} |")
    return "\n".join(lines)


@task(name="list-photos", task_run_name="list-inbox-photos", cache_policy=NO_CACHE)
def inbox_photos(home: str) -> list[str]:
    return [str(p) for p in pending_files(settings_for(home).inbox_photos, PHOTO_SUFFIXES)]


@task(name="price-photos", task_run_name="price-{n_photos}-photos", cache_policy=NO_CACHE, **_RETRY)
def price_photos(home: str, photos: list[str], n_photos: int, media: str | None = None,
                 sleeve: str | None = None, top_k: int | None = None) -> list[dict]:
    """One compact answer per photo (the comparables stay in price_suggestions)."""
    if not photos:
        return []
    from soldsight.price.service import price_photos as price

    with warehouse_write():
        answers = price(settings_for(home), photos, media=media, sleeve=sleeve, top=top_k)
    keep = ("photo", "status", "reason", "suggested_price", "low", "high", "currency", "n_comparables")
    return [{**{k: a.get(k) for k in keep}, "match": {k: (a.get("match") or {}).get(k)
                                                       for k in ("listing_id", "title", "similarity")}}
            for a in answers]


@task(name="price-report", task_run_name="price-suggestions-report", cache_policy=NO_CACHE)
def price_report(results: list[dict]) -> dict:
    rows = [{"photo": Path(r["photo"]).name, "status": r["status"], "match": r["match"]["title"] or "-",
             "similarity": r["match"]["similarity"], "suggested": r["suggested_price"], "low": r["low"],
             "high": r["high"], "currency": r["currency"] or "-", "comparables": r["n_comparables"],
             "reason": r["reason"] or "-"} for r in results]
    artifacts.table("price-suggestions", rows, f"{len(results)} photos: suggested price, range and best match.")
    statuses = Counter(r["status"] for r in results)
    errors = Counter((r["reason"] or "error").split(":")[0] for r in results if r["status"] == "error")
    return stage_report("price", done=len(results) - statuses["error"], failed=statuses["error"],
                        failures=dict(errors), note=", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))


@task(name="file-photos", task_run_name="file-handled-photos", cache_policy=NO_CACHE)
def file_photos(results: list[dict]) -> dict:
    moved = Counter()
    for r in results:
        if Path(r["photo"]).exists():
            ok = r["status"] != "error"
            file_photo(Path(r["photo"]), ok)
            moved["done" if ok else "failed"] += 1
    return stage_report("file", done=sum(moved.values()), note=f"done/ {moved['done']}, failed/ {moved['failed']}")
