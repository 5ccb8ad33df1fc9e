"""The plain functions the CLI and Prefect tasks call: fit_price_model, price_photos, load_state.

The embedder (TensorFlow) is imported only when a photo has to be embedded, so that the
commands start fast; nothing here imports prefect.
"""
from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from soldsight.price import backtest as bt
from soldsight.price.index import (IndexConfig, fit_projection, index_rows, index_sources, latest_models, rows_per_listing,
                                   store_index)
from soldsight.price.local_fit import fit_local_features, previous_store, uses_local_features
from soldsight.price.local_store import LocalStore, remove_others
from soldsight.price.model import GradeModel, PriceParams, fit_grade_effects, normalise_grade, suggest
from soldsight.price.projection import IDENTITY, Projection
from soldsight.price.search import (comparables, comparables_batch, identify, item_key, one_window, query_vectors,
                                    query_vectors_and_features)
from soldsight.price.verify import query_features
from soldsight.price.verify import rerank as rerank_by_geometry
from soldsight.price.views import read_photo
from warehouse.sql_files import sql


@dataclass
class State:
    """Everything a price query needs besides the embedder, read once from price_models."""

    config: IndexConfig
    projection: Projection
    grades: GradeModel
    params: PriceParams
    threshold: float
    model_ids: dict = field(default_factory=dict)
    rows_per_listing: int = 1


def _record(con, kind: str, params: dict, metrics: dict | None = None, artifact: str | None = None) -> str:
    return con.execute(sql("record_price_model"), {"kind": kind, "params": json.dumps(params),
                                                    "metrics": json.dumps(metrics or {}), "artifact": artifact}).fetchall()[0][0]


def load_state(con, home: Path | None = None) -> State | None:
    latest = latest_models(con)
    proj_row = latest.get("projection")
    if proj_row is None:
        return None
    config = IndexConfig.from_json(proj_row[3])
    projection = IDENTITY
    if config.artifact:
        projection = _projection(Path(home) / config.artifact) if home else IDENTITY
    grades_row = latest.get("grades")
    grades = GradeModel()
    if grades_row is not None:
        g = json.loads(grades_row[3])
        grades = GradeModel(grades_row[0], g["media"], g["sleeve"], g["residual_sd"])
    cal_row = latest.get("calibration")
    params, threshold = PriceParams(), 0.0
    if cal_row is not None:
        c = json.loads(cal_row[3])
        params, threshold = PriceParams(**c["price_params"]), c["threshold"]
    ids = {"projection": proj_row[0], "grades": grades.model_id, "calibration": cal_row[0] if cal_row else None}
    # Counted when the index was built (a scan of the index on every query cost ~10 ms).
    per_listing = json.loads(proj_row[4] or "{}").get("rows_per_listing") or rows_per_listing(con, config.index_id)
    return State(config, projection, grades, params, threshold, ids, per_listing)


@lru_cache(maxsize=4)
def _projection(path: Path) -> Projection:
    """Loaded once per process: the file is named by its digest, so its content never changes."""
    return Projection.load(path)


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
    local_summary = None
    if uses_local_features(embedder, config.rerank_top):
        photos = sorted(set(index_table.column("image_path").to_pylist()))
        local_summary = fit_local_features(settings, embedder, config, photos, previous)
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


def _answer(photo, status, reason=None, **kw) -> dict:
    out = {"photo": str(photo), "status": status, "reason": reason, "match": None, "alternatives": [],
           "suggested_price": None, "low": None, "high": None, "currency": None, "n_comparables": 0, "comparables": []}
    out.update(kw)
    return out


def _comp_json(c: dict) -> dict:
    sold = c.get("sold_at")
    out = {"listing_id": c["listing_id"], "title": c["title"], "total_price": c["total_price"],
           "similarity": round(float(c["similarity"]), 4),
           "sold_at": sold.isoformat() if hasattr(sold, "isoformat") else sold, "image_path": c["image_path"]}
    if "inliers" in c:  # geometric verification ran on this one (soldsight.price.verify)
        out["inliers"] = c["inliers"]
    return out


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
    # A batch is priced in two halves. The second (re-ranking, pricing, storing: one thread, ~16 ms a photo)
    # runs beside the next batch's index scan, which DuckDB runs on threads of its own at the same speed
    # (docs/price.md, session 19); not beside the CNN pass, whose two XNNPACK threads slow 4x when a core
    # is taken. Decoding (two threads; it releases the GIL) reads the next batch once the answers of the one
    # before this are out, as before.
    with ThreadPoolExecutor(2) as pool, con.cursor() as finisher:
        loading = pool.map(read, chunks[0]) if chunks else None
        unfinished = None  # the previous batch's second half
        for n, chunk in enumerate(chunks):
            loaded = list(loading)
            beside = (lambda f=unfinished: f(finisher)) if unfinished else list
            # The embedder is loaded by the first batch that needs it, then kept for the others.
            unfinished, answers, kw["embedder"] = _price_batch(settings, con, state, chunk, loaded, beside,
                                                                total=len(paths), **kw)
            yield from answers
            if n + 1 < len(chunks):
                loading = pool.map(read, chunks[n + 1])
        if unfinished is not None:
            yield from unfinished(finisher)


def _price_batch(settings, con, state: State | None, paths: list[Path], loaded: list, beside: Callable[[], list], *,
                 total: int, media, sleeve, top: int, currency, days, embedder, store: bool,
                 rerank) -> tuple[Callable, list, object]:
    """The first half of pricing a batch of read photos ((image, error, sha256) each): the CNN pass and the
    index scan, with beside() run meanwhile. Returns finish, what beside() returned, and the embedder (loaded
    if need be); finish(con) re-ranks, prices and stores the batch and returns its answers."""
    inputs = {"media": normalise_grade(media), "sleeve": normalise_grade(sleeve), "top": top, "currency": currency, "days": days}
    answers, images = [], {}
    for i, (p, (im, error, _)) in enumerate(zip(paths, loaded)):
        answers.append(_answer(p, "error", error) if error else None)
        if im is not None:
            images[i] = im
    if images and state is None:
        for i in images:
            answers[i] = _answer(paths[i], "insufficient", "no price index yet: run `soldsight price --fit`")
        images = {}
    photos = list(images.values())
    if images:
        if embedder is None:
            from soldsight.embed import load_query_embedder

            # The block map too: an embed run converts only the head, and a fit from before LiteRT nothing.
            embedder = load_query_embedder(settings, total, blocks=(state.config.rerank_block,))
        n_verify = next(n for n in (rerank, settings.rerank_top, state.config.rerank_top) if n is not None)
        found, queries, done = _search(con, embedder, state, photos, beside, k=top, currency=currency, days=days,
                                       n_verify=n_verify)
    else:
        done = beside()

    def finish(finisher) -> list[dict]:
        if images:
            verified = _verify(settings, embedder, state, photos, found, queries, n_verify)
            for i, comps in zip(images, verified):
                answers[i] = (_price_one(paths[i], comps, state, media, sleeve, settings) if comps
                              else _answer(paths[i], "insufficient", _no_comparables(currency, days)))
        if store:
            _store(finisher, [_suggestion_row(p, a, sha, inputs, state, embedder)
                              for p, a, (_, _, sha) in zip(paths, answers, loaded)])
        return answers

    return finish, done, embedder


def _search(con, embedder, state: State, photos: list, beside: Callable[[], list], *, k: int, currency, days,
            n_verify: int) -> tuple[list, list | None, list]:
    """Each photo's comparables by the global search, best first; their local features if re-ranking runs;
    and what beside() returned, run on another thread while DuckDB scans (after the CNN passes, not beside them)."""
    cfg = state.config
    verify = uses_local_features(embedder, n_verify)
    if verify and one_window(cfg):
        # The search's window is the local features' frame: one CNN pass gives both (docs/price.md, session 19).
        vectors, queries = query_vectors_and_features(embedder, photos, cfg, state.projection)
    else:
        vectors = query_vectors(embedder, photos, cfg, state.projection)
        queries = (query_features(embedder, photos, cfg.rerank_block, cfg.rerank_size, cfg.rerank_frame)
                   if verify else None)
    search = dict(k=k, rows_per_listing=state.rows_per_listing, currency=currency, days=days)
    with ThreadPoolExecutor(1) as side:
        done = side.submit(beside)
        return _scan(con, vectors, cfg.index_id, search), queries, done.result()


def _verify(settings, embedder, state: State, photos: list, found: list, queries: list | None,
            n_verify: int) -> list[list[dict]]:
    """The comparables with the first n_verify re-ranked by geometric verification, when it runs."""
    if queries is None:
        return found
    cfg = state.config
    local_store = LocalStore.open(settings.home, cfg.local_features)
    cache: dict = {}  # photos of one batch often share candidates
    return [rerank_by_geometry(embedder, photo, comps, settings.home, settings.max_image_pixels, top=n_verify,
                               block=cfg.rerank_block, size=cfg.rerank_size, frame=cfg.rerank_frame,
                               weight=cfg.rerank_weight, cache=cache, store=local_store, query=q)
            for photo, comps, q in zip(photos, found, queries)]


def _scan(con, vectors: list, index_id: str, search: dict) -> list[list[dict]]:
    if len(vectors) == 1:  # ORDER BY ... LIMIT beats the batch query's per-photo ranking for one photo
        return [comparables(con, vectors[0], index_id, **search)]
    return comparables_batch(con, vectors, index_id, **search)


def _no_comparables(currency: str | None, days: int | None) -> str:
    if currency or days:
        asked = (f" in {currency}" if currency else "") + (f" in the last {days} day{'s' * (days != 1)}" if days else "")
        return f"no comparables: the price index has no listing sold{asked}"
    return "no comparables: the price index holds no sold listing (fit it again after listings are downloaded)"


def _price_one(path, comps: list[dict], state: State, media, sleeve, settings) -> dict:
    ident = identify(comps, state.threshold, weight=state.config.rerank_weight, margin=settings.ambiguity_margin)
    min_comparables = settings.min_comparables
    shown = [_comp_json(c) for c in comps]
    unpriced = dict(suggested_price=None, low=None, high=None, currency=None, n_comparables=0)
    named = dict(match=ident["match"], alternatives=[{**alt, **unpriced} for alt in ident["alternatives"]],
                 comparables=shown)
    if not ident["confident"]:
        return _answer(path, "no_match", ident["reason"], **named, n_comparables=len(comps))
    s = suggest(comps, min_comparables=min_comparables, grades=state.grades, media=media, sleeve=sleeve, params=state.params)
    named["alternatives"] = [_priced_as(alt, comps, state, media, sleeve) for alt in ident["alternatives"]]
    if s["status"] != "ok":
        return _answer(path, "insufficient", s["reason"], **named, currency=s.get("currency"),
                       n_comparables=s["n_comparables"])
    return _answer(path, "ok", None, **named, suggested_price=s["suggested_price"], low=s["low"],
                   high=s["high"], currency=s["currency"], n_comparables=s["n_comparables"])


def _priced_as(alt: dict, comps: list[dict], state: State, media, sleeve) -> dict:
    """A close second with the price its own sales among the comparables suggest, were the photo that item:
    pressings of one album can sell at several times each other's price. From as few as one sale, which
    the answer counts: a close second rarely has three among the first 20, and on the bench worlds even
    one or two were nearer the truth than the suggestion when the close second was right (docs/price.md)."""
    own = [c for c in comps if item_key(c) == item_key(alt)]
    s = suggest(own, min_comparables=1, grades=state.grades, media=media, sleeve=sleeve, params=state.params)
    return {**alt, **{k: s.get(k) for k in ("suggested_price", "low", "high", "currency")},
            "n_comparables": s["n_comparables"]}


SUGGESTION_COLUMNS = pa.schema([
    ("suggestion_id", pa.string()), ("photo", pa.string()), ("photo_sha256", pa.string()),
    ("embed_model_id", pa.string()), ("index_id", pa.string()), ("price_model_id", pa.string()),
    ("inputs", pa.string()), ("status", pa.string()), ("reason", pa.string()), ("match_listing_id", pa.string()),
    ("match_title", pa.string()), ("similarity", pa.float64()), ("suggested_price", pa.float64()),
    ("low", pa.float64()), ("high", pa.float64()), ("currency", pa.string()), ("n_comparables", pa.int32()),
    ("output", pa.string()),
])


def _suggestion_row(path: Path, answer: dict, sha: str | None, inputs: dict, state: State | None, embedder) -> dict:
    model_ids = {"embed": getattr(embedder, "model_id", None) or (state.config.embed_model_id if state else None),
                 "index": state.config.index_id if state else None, **(state.model_ids if state else {})}
    key = json.dumps([sha or str(path), inputs, model_ids], sort_keys=True)
    match = answer.get("match") or {}
    return {
        "suggestion_id": hashlib.sha256(key.encode()).hexdigest(), "photo": str(path), "photo_sha256": sha,
        "embed_model_id": model_ids["embed"], "index_id": model_ids["index"], "price_model_id": model_ids.get("grades"),
        "inputs": json.dumps({**inputs, "models": model_ids}), "status": answer["status"], "reason": answer["reason"],
        "match_listing_id": match.get("listing_id"), "match_title": match.get("title"), "similarity": match.get("similarity"),
        "suggested_price": answer["suggested_price"], "low": answer["low"], "high": answer["high"],
        "currency": answer["currency"], "n_comparables": answer["n_comparables"], "output": json.dumps(answer),
    }


def _store(con, rows: list[dict]) -> None:
    """One INSERT for the batch (one per photo cost ~7 ms each). A photo given twice in one call is stored once,
    with its last answer as when priced twice in a row (within one INSERT, DuckDB would keep the first)."""
    latest = list({r["suggestion_id"]: r for r in rows}.values())
    if not latest:
        return
    con.register("new_price_suggestions", pa.Table.from_pylist(latest, schema=SUGGESTION_COLUMNS))
    try:
        con.execute(sql("record_price_suggestions"))
    finally:
        con.unregister("new_price_suggestions")
