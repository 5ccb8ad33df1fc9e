"""Tasks: refit the price model, backtest it, and price photos."""
from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight.pipeline import warehouse_fingerprint
from tasks.common import settings_for, unavailable


@task(name="fingerprint", task_run_name="warehouse-fingerprint", cache_policy=NO_CACHE)
def fingerprint(home: str) -> str:
    return warehouse_fingerprint(settings_for(home))


@task(name="refit", task_run_name="refit-price-model", cache_policy=NO_CACHE)
def refit_model(home: str, data_fingerprint: str) -> dict:
    return unavailable("refit", "soldsight.price")


@task(name="backtest", task_run_name="backtest", cache_policy=NO_CACHE)
def backtest(home: str, data_fingerprint: str) -> dict:
    return unavailable("backtest", "soldsight.price")


@task(name="list-photos", task_run_name="list-inbox-photos", cache_policy=NO_CACHE)
def inbox_photos(home: str) -> list[str]:
    from soldsight.pipeline import PHOTO_SUFFIXES, pending_files

    return [str(p) for p in pending_files(settings_for(home).inbox_photos, PHOTO_SUFFIXES)]


@task(name="price-photos", task_run_name="price-{photos_count}-photos", cache_policy=NO_CACHE)
def price_photos(home: str, photos: list[str], photos_count: int, media: str | None = None,
                 sleeve: str | None = None, top_k: int | None = None) -> list[dict]:
    return []


@task(name="file-photos", task_run_name="file-handled-photos", cache_policy=NO_CACHE)
def file_photos(results: list[dict]) -> dict:
    from soldsight.pipeline import file_photo, stage_report

    moved = {"done": 0, "failed": 0}
    for r in results:
        ok = r["status"] != "error"
        if Path(r["photo"]).exists():
            file_photo(Path(r["photo"]), ok)
            moved["done" if ok else "failed"] += 1
    return stage_report("file", done=moved["done"] + moved["failed"], note=f"done/ {moved['done']}, failed/ {moved['failed']}")


@task(name="price-report", task_run_name="price-suggestions-report", cache_policy=NO_CACHE)
def price_report(results: list[dict]) -> dict:
    from collections import Counter

    from soldsight.pipeline import stage_report
    from tasks import artifacts

    rows = [{"photo": Path(r["photo"]).name, "status": r["status"], "match": r.get("match_title") or "-",
             "similarity": r.get("similarity"), "suggested": r.get("suggested_price"), "low": r.get("low"),
             "high": r.get("high"), "currency": r.get("currency") or "-", "reason": r.get("reason") or "-"}
            for r in results]
    artifacts.table("price-suggestions", rows, f"{len(results)} photos priced: suggestion, range and best match.")
    statuses = Counter(r["status"] for r in results)
    errors = Counter(r.get("reason") or "error" for r in results if r["status"] == "error")
    return stage_report("price", done=len(results) - statuses["error"], failed=statuses["error"],
                        failures=dict(errors), note=", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
