"""Tasks: refit the price model and backtest it (cached on the data they read), and price photos."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import AfterValidator

from soldsight import steps
from soldsight.ingest.grades import to_goldmine
from soldsight.pipeline import PHOTO_SUFFIXES, pending_files, warehouse_fingerprint
from tasks import artifacts
from tasks.common import RETRY, settings_for, warehouse_write


def _a_grade(text: str) -> str:
    if to_goldmine(text) is None:
        raise ValueError(f"{text!r} is not a grade (Goldmine M NM VG+ VG G+ G F P, the UK EX, or words such as "
                         "'Near Mint')")
    return text


# A flow parameter's type: Prefect validates it before the run starts, naming the parameter.
Grade = Annotated[str, AfterValidator(_a_grade)]


@lru_cache(maxsize=1)
def _code_version() -> str:
    """A digest of the pricing and embedding code: a new version refits even on unchanged data."""
    import soldsight.embed
    import soldsight.price

    h = hashlib.sha256()
    for package in (soldsight.price, soldsight.embed):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _data_key(context, parameters) -> str:
    """Refit and backtest read only the warehouse's listings and vectors, the pricing settings and
    the code: with all of them unchanged their result is the same, so a quiet night reuses it."""
    s = settings_for(parameters["home"])
    knobs = f"{s.model}-{s.top_k}-{s.min_comparables}-{s.match_threshold}"
    return f"{context.task.name}-{parameters['data']['digest']}-{knobs}-{_code_version()}"


CACHED = dict(cache_key_fn=_data_key, persist_result=True, cache_expiration=timedelta(days=30))


@task(name="fingerprint", task_run_name="warehouse-fingerprint", cache_policy=NO_CACHE, **RETRY)
def fingerprint(home: str) -> dict:
    return warehouse_fingerprint(settings_for(home))


@task(name="refit", task_run_name="refit-price-model", **CACHED, **RETRY)
def refit_model(home: str, data: dict) -> dict:
    # The writer slot is held only while the fit holds the warehouse (reading the photo list, writing the
    # model), not while it runs the network for minutes: a price run gets in between.
    return steps.refit(settings_for(home), data, writing=warehouse_write)


@task(name="backtest", task_run_name="backtest", **CACHED, **RETRY)
def backtest(home: str, data: dict) -> dict:
    with warehouse_write():
        report = steps.backtest(settings_for(home), data)
    if "figures" in report["detail"]:
        artifacts.markdown("backtest-report", steps.backtest_markdown(report["detail"]["figures"]),
                           "Leave-one-out backtest of identification and price, against two baselines.")
    return report


@task(name="list-photos", task_run_name="list-inbox-photos", cache_policy=NO_CACHE)
def inbox_photos(home: str) -> list[str]:
    return [str(p) for p in pending_files(settings_for(home).inbox_photos, PHOTO_SUFFIXES)]


@task(name="price-photos", task_run_name="price-{n_photos}-photos", cache_policy=NO_CACHE, **RETRY)
def price_photos(home: str, photos: list[str], n_photos: int, media: str | None = None,
                 sleeve: str | None = None, top_k: int | None = None, currency: str | None = None,
                 days: int | None = None) -> list[dict]:
    """One compact answer per photo (the comparables stay in price_suggestions)."""
    with warehouse_write():
        return steps.price(settings_for(home), photos, media, sleeve, top_k, currency, days)


@task(name="price-report", task_run_name="price-suggestions-report", cache_policy=NO_CACHE)
def price_report(results: list[dict]) -> dict:
    artifacts.table("price-suggestions", steps.price_rows(results),
                    f"{len(results)} photos: suggested price, range and best match.")
    return steps.price_summary(results)


@task(name="file-photos", task_run_name="file-handled-photos", cache_policy=NO_CACHE)
def file_photos(results: list[dict]) -> dict:
    from soldsight.pipeline import file_photos as file

    return file(results)
