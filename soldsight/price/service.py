"""The plain functions the CLI and Prefect tasks call: fit_price_model, price_photos, iter_prices, load_state.

The embedder (TensorFlow) is imported only when a photo has to be embedded, so that the
commands start fast; nothing here imports prefect.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path
from typing import Iterator

from soldsight.price import backtest as bt
from soldsight.price import photo_text
from soldsight.price.batch import start_batch
from soldsight.price.index import IndexConfig, fit_projection, index_rows, index_sources, store_index
from soldsight.price.local_fit import fit_local_features, previous_store, uses_local_features
from soldsight.price.local_store import remove_others
from soldsight.price.model import GradeModel, fit_grade_effects, normalise_grade
from soldsight.price.state import load_state
from soldsight.price.views import read_photo
from warehouse.sql_files import sql


def _record(con, kind: str, params: dict, metrics: dict | None = None, artifact: str | None = None) -> str:
    return con.execute(sql("record_price_model"), {"kind": kind, "params": json.dumps(params),
                                                    "metrics": json.dumps(metrics or {}), "artifact": artifact}).fetchall()[0][0]


def fit_grades(con) -> tuple[GradeModel, str]:
    rows = con.execute(sql("grade_fit_rows")).fetchall()
    model, metrics = fit_grade_effects([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
    model.model_id = _record(con, "grades", model.params(), metrics)
    return model, model.model_id


class NothingToFit(ValueError):
    """No photo to index: a fit would record a model of nothing, which every later answer would use."""


def fit_price_model(settings, *, embedder=None, config: IndexConfig | None = None, writing=nullcontext) -> dict:
    """Fit the whitening, rebuild the index, fit grade effects, calibrate on leave-one-out. Returns a summary.

    writing: a context manager factory entered around each time the warehouse is held (the Prefect task
    passes its warehouse-writer slot), so an orchestrator's other writers queue only for those holds.
    Raises NothingToFit, recording nothing, when no downloaded photo of a sold listing has a price.
    """
    from soldsight.embed import load_batch_embedder
    from warehouse.connection import open_warehouse

    config = config or IndexConfig()
    with writing(), open_warehouse(settings) as con:
        sources = index_sources(con)
        previous = previous_store(con, settings.home)
        read_before = photo_text.already_read(con) if photo_text.in_use(settings) else None
    if not sources:
        raise NothingToFit("nothing to fit: the warehouse has no downloaded photo of a sold listing with a price; "
                           "run `soldsight ingest` or `soldsight scrape`, then `soldsight download`")
    # The CNN passes run on LiteRT, converted here from TensorFlow's network if need be (for price queries too).
    embedder, exported = load_batch_embedder(settings, blocks=(config.rerank_block,), embedder=embedder)
    config = replace(config, embed_model_id=embedder.model_id)
    # The CNN passes (whitening, index vectors, local features) run without holding the warehouse, so
    # price commands keep answering from the previous model meanwhile; it is held again only to write.
    projection, proj_metrics = fit_projection(settings, sources, embedder, config)
    config.projection = projection.digest
    if projection.matrix is not None:
        rel = f"models/price-projection-{projection.digest}.npz"
        projection.save(Path(settings.home) / rel)
        config.artifact = rel
    index_table, index_summary = index_rows(settings, sources, embedder, config, projection)
    photos = sorted(set(index_table.column("image_path").to_pylist()))
    local_summary = None
    if uses_local_features(embedder, config.rerank_top):
        local_summary = fit_local_features(settings, embedder, config, photos, previous)
    if read_before is not None:
        unread = [p for p in photos if p and p not in read_before]
        index_summary["photos_read"] = photo_text.read_and_store(settings, unread, writing)
    held_from = time.monotonic()
    with writing(), open_warehouse(settings) as con:
        index_summary["rows_per_listing"] = store_index(con, config, index_table)
        _record(con, "projection", asdict(config), {**proj_metrics, **index_summary, "local_features": local_summary},
                config.artifact)
        if config.local_features:
            remove_others(Path(settings.home) / "models", Path(config.local_features).name)
        grades, grades_id = fit_grades(con)
        rows = bt.held_out(con, config.index_id)
        comps = bt.loo_comparables(con, config.index_id, rows, settings.top_k)
        items = {r["listing_id"]: r["item"] for r in rows}
        params, threshold, cal_metrics = bt.calibrate(rows, comps, grades=grades, min_comparables=settings.min_comparables, items=items)
        if settings.match_threshold is not None:
            threshold = settings.match_threshold
        cal_id = _record(con, "calibration", {"price_params": asdict(params), "threshold": threshold}, cal_metrics)
    return {"warehouse_held_s": round(time.monotonic() - held_from, 1), "litert_exported": exported, "index": index_summary, "local_features": local_summary, "projection": proj_metrics, "grades": grades_id, "calibration": cal_id,
            "price_params": asdict(params), "threshold": threshold}


def price_photos(settings, paths, **kwargs) -> list[dict]:
    """Identify and price each photo; one answer dict per photo, in order. Bad photos get status 'error'.

    Keyword arguments as for iter_prices, which this collects.
    """
    return list(iter_prices(settings, paths, **kwargs))


def iter_prices(settings, paths, *, media: str | None = None, sleeve: str | None = None, top: int | None = None,
                currency: str | None = None, days: int | None = None, embedder=None, store: bool = True,
                con=None, rerank: int | None = None, batch: int | None = None) -> Iterator[dict]:
    """Each photo's answer, in order, as soon as its batch of photos is priced and stored.

    Photos are priced SOLDSIGHT_PRICE_BATCH at a time (batch): one CNN batch and one scan of the index
    each, so memory stays flat however many photos are given, and the first answers come out early.
    con: an open warehouse connection to reuse (a long-running service keeps DuckDB's cache warm);
    by default the warehouse is opened for this call only.
    rerank: how many best listings to re-rank by geometric verification (None: SOLDSIGHT_RERANK_TOP,
    else the fitted config's rerank_top; 0: off, the cheaper global ranking alone).
    currency: an ISO 4217 code, any case. Raises ValueError for a grade that is not one, a malformed
    currency, top or days below 1, or a negative rerank, before any photo is read.
    """
    for label, grade in (("media", media), ("sleeve", sleeve)):
        if grade is not None and normalise_grade(grade) is None:
            raise ValueError(f"--{label} {grade!r} is not a Goldmine grade (M NM VG+ VG G+ G F P)")
    for label, n, least in (("top", top, 1), ("days", days, 1), ("rerank", rerank, 0)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < least):
            raise ValueError(f"--{label} must be a whole number of at least {least}, not {n!r}")
    if currency is not None:
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise ValueError(f"--currency {currency!r} is not an ISO 4217 code such as USD, EUR or GBP")
        currency = currency.upper()
    return _iter_prices(settings, [Path(p) for p in paths], media=media, sleeve=sleeve, top=top or settings.top_k,
                        currency=currency, days=days, embedder=embedder, store=store, con=con, rerank=rerank,
                        batch=max(1, batch or settings.price_batch))


def _iter_prices(settings, paths: list[Path], *, con, batch: int, **kw) -> Iterator[dict]:
    if con is None:
        from warehouse.connection import open_warehouse

        with open_warehouse(settings) as con:
            yield from _iter_prices(settings, paths, con=con, batch=batch, **kw)
        return
    state = load_state(con, settings.home)
    if state is not None and settings.match_threshold is not None:
        state.threshold = settings.match_threshold
    chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
    read = lambda p: read_photo(p, settings.max_image_pixels)  # noqa: E731
    # A batch is priced in two halves. The second (re-ranking, any second look, pricing, storing: one thread)
    # runs beside the next batch's index scan, which DuckDB runs on threads of its own at the same speed
    # (docs/price.md, session 19); not beside the CNN pass, whose two XNNPACK threads slow 4x when a core
    # is taken. Decoding (two threads; it releases the GIL) reads the next batch once the answers of the one
    # before this are out, as before.
    with ThreadPoolExecutor(2) as pool, con.cursor() as finisher:
        loading = pool.map(read, chunks[0]) if chunks else None
        unfinished = None  # the previous batch's second half
        for n, chunk in enumerate(chunks):
            loaded = list(loading)
            beside = (lambda scanned, f=unfinished: f(finisher, scanned)) if unfinished else (lambda scanned: [])
            # The embedder is loaded by the first batch that needs it, then kept for the others.
            unfinished, answers, kw["embedder"] = start_batch(settings, con, state, chunk, loaded, beside,
                                                               total=len(paths), **kw)
            yield from answers
            if n + 1 < len(chunks):
                loading = pool.map(read, chunks[n + 1])
        if unfinished is not None:
            yield from unfinished(finisher)
