"""One batch of query photos, priced in two halves so that a batch's second half can run beside the next
batch's index scan (soldsight.price.service.iter_prices): the CNN pass and the scan, then re-ranking,
pricing and storing."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from soldsight.price.answers import answer, no_comparables, price_one
from soldsight.price.local_fit import uses_local_features
from soldsight.price.local_store import LocalStore
from soldsight.price.model import normalise_grade
from soldsight.price.search import (comparables, comparables_batch, one_window, query_vectors,
                                    query_vectors_and_features)
from soldsight.price.state import State
from soldsight.price.suggestions import store_suggestions, suggestion_row
from soldsight.price.verify import query_features
from soldsight.price.verify import rerank as rerank_by_geometry


def start_batch(settings, con, state: State | None, paths: list[Path], loaded: list, beside: Callable[[], list], *,
                total: int, media, sleeve, top: int, currency, days, embedder, store: bool,
                rerank) -> tuple[Callable, list, object]:
    """The first half of pricing a batch of read photos ((image, error, sha256) each): the CNN pass and the
    index scan, with beside() run meanwhile. Returns finish, what beside() returned, and the embedder (loaded
    if need be); finish(con) re-ranks, prices and stores the batch and returns its answers."""
    inputs = {"media": normalise_grade(media), "sleeve": normalise_grade(sleeve), "top": top, "currency": currency, "days": days}
    answers, images = [], {}
    for i, (p, (im, error, _)) in enumerate(zip(paths, loaded)):
        answers.append(answer(p, "error", error) if error else None)
        if im is not None:
            images[i] = im
    if images and state is None:
        for i in images:
            answers[i] = answer(paths[i], "insufficient", "no price index yet: run `soldsight price --fit`")
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
                answers[i] = (price_one(paths[i], comps, state, media, sleeve, settings) if comps
                              else answer(paths[i], "insufficient", no_comparables(currency, days)))
        if store:
            store_suggestions(finisher, [suggestion_row(p, a, sha, inputs, state, embedder)
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
