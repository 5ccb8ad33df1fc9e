"""One batch of query photos, priced in two halves so that a batch's second half can run beside the next
batch's index scan (soldsight.price.service.iter_prices): the CNN pass and the scan, then re-ranking,
pricing and storing."""
from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from soldsight.price.answers import answer, no_comparables, price_one
from soldsight.price.local_fit import uses_local_features
from soldsight.price.local_store import LocalStore
from soldsight.price.model import normalise_grade
from soldsight.price.named_listings import named_match, other_pressing
from soldsight.price.photo_text import in_use, printed_on
from soldsight.price.printed_words import choose_by_printed_words, print_differs, print_unread
from soldsight.price.search import (comparables, comparables_batch, one_window, query_vectors,
                                    query_vectors_and_features)
from soldsight.price.second_look import TURNS, VIEW_SET, match_inliers, takes_second_look, wants_second_look
from soldsight.price.sleeve_text import READERS, read_sleeve
from soldsight.price.state import State
from soldsight.price.suggestions import store_suggestions, suggestion_row
from soldsight.price.text_match import choose_by_text, wants_reading
from soldsight.price.text_search import wants_name_search
from soldsight.price.verify import query_features
from soldsight.price.verify import rerank as rerank_by_geometry


_NOTHING_TO_WAIT_FOR = threading.Event()
_NOTHING_TO_WAIT_FOR.set()
_EARLY_READER = ThreadPoolExecutor(1, thread_name_prefix="soldsight-sleeve")  # a lone photo's reading


def start_batch(settings, con, state: State | None, paths: list[Path], loaded: list,
                beside: Callable[[threading.Event], list], *,
                total: int, media, sleeve, top: int, currency, days, embedder, store: bool,
                rerank) -> tuple[Callable, list, object]:
    """The first half of pricing a batch of read photos ((image, error, sha256) each): the CNN pass and the
    index scan, with beside(scanned) run meanwhile. Returns finish, what beside() returned, and the embedder
    (loaded if need be); finish(con, scanned) re-ranks, prices and stores the batch and returns its answers,
    and runs a CNN pass only once `scanned` is set (when it runs beside a scan, after that scan)."""
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
        search = dict(k=top, rows_per_listing=state.rows_per_listing, currency=currency, days=days)
        found, vectors, queries, done, early = _search(con, embedder, state, photos, beside, search,
                                                       n_verify=n_verify, read_early=settings.read_text_margin > 0)
    else:
        done = beside(_NOTHING_TO_WAIT_FOR)

    def finish(finisher, scanned: threading.Event = _NOTHING_TO_WAIT_FOR) -> list[dict]:
        if images:
            verified = _verify(settings, embedder, state, photos, found, queries, n_verify)
            looked = _look_again(settings, finisher, embedder, state, photos, verified, queries, n_verify, search,
                                 scanned)
            read = _read_sleeves(settings, finisher, embedder, state, photos, verified, vectors, queries, search,
                                 scanned, early)
            for i, comps, again, text in zip(images, verified, looked, read):
                answers[i] = (price_one(paths[i], comps, state, media, sleeve, settings, (text or {}).get("lines"))
                              if comps
                              else answer(paths[i], "insufficient", no_comparables(currency, days)))
                answers[i].update(second_look=again, sleeve_text=text)
        if store:
            store_suggestions(finisher, [suggestion_row(p, a, sha, inputs, state, embedder)
                                         for p, a, (_, _, sha) in zip(paths, answers, loaded)])
        return answers

    return finish, done, embedder


def _search(con, embedder, state: State, photos: list, beside: Callable[[threading.Event], list], search: dict, *,
            n_verify: int, read_early: bool) -> tuple[list, list, list | None, list, Future | None]:
    """Each photo's comparables by the global search, best first; its query vectors; their local features if
    re-ranking runs; what beside() returned, run on another thread while DuckDB scans (after the CNN passes,
    not beside them); and, for a lone photo when read_early, its sleeve being read meanwhile (_read_sleeves)."""
    cfg = state.config
    verify = uses_local_features(embedder, n_verify)
    if verify and one_window(cfg):
        # The search's window is the local features' frame: one CNN pass gives both (docs/price.md, session 19).
        vectors, queries = query_vectors_and_features(embedder, photos, cfg, state.projection)
    else:
        vectors = query_vectors(embedder, photos, cfg, state.projection)
        queries = (query_features(embedder, photos, cfg.rerank_block, cfg.rerank_size, cfg.rerank_frame)
                   if verify else None)
    # One photo asked on its own waits for the answer: its sleeve is read beside the scan and re-ranking,
    # before it is known whether the text is needed (about 6 photos in 10), which halves what reading adds.
    early = _EARLY_READER.submit(read_sleeve, photos[0]) if read_early and verify and len(photos) == 1 else None
    scanned = threading.Event()
    with ThreadPoolExecutor(1) as side:
        done = side.submit(beside, scanned)
        try:
            found = _scan(con, vectors, cfg.index_id, search)
        finally:
            scanned.set()
        return found, vectors, queries, done.result(), early


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


def _look_again(settings, con, embedder, state: State, photos: list, verified: list, queries: list | None,
                n_verify: int, search: dict, scanned: threading.Event) -> list[bool]:
    """Which photos' comparables were replaced, in verified, by a second look through more windows or turned
    (soldsight.price.second_look): one CNN batch and one scan each for the weakly matched photos of the batch."""
    # Measured for the default window only; a search through several windows has had its wider look.
    below = settings.second_look if state.config.view_set == "full" else 0
    weak = [i for i, comps in enumerate(verified) if wants_second_look(comps, state.threshold, below)]
    looked = [False] * len(verified)
    if not weak:
        return looked
    cfg = dataclasses.replace(state.config, view_set=VIEW_SET)
    weak_photos = [photos[i] for i in weak]
    scanned.wait()  # LiteRT's two threads slow 4x beside the scan (docs/price.md, session 19)
    vectors = query_vectors(embedder, weak_photos, cfg, state.projection)
    again = _verify(settings, embedder, state, weak_photos, _scan(con, vectors, cfg.index_id, search),
                    [queries[i] for i in weak], n_verify)
    for i, comps in zip(weak, again):
        if takes_second_look(verified[i], comps):
            verified[i], looked[i] = comps, True
    _look_turned(settings, con, embedder, state, photos, verified, looked, weak, n_verify, search)
    return looked


def _look_turned(settings, con, embedder, state: State, photos: list, verified: list, looked: list, weak: list[int],
                 n_verify: int, search: dict) -> None:
    """The weakly matched photos looked at once more, turned by each of TURNS: a sleeve lying sideways on the
    table or photographed upside down, which the CNN's features do not recognise turned. The best supported
    of the turned answers replaces a photo's answer, in verified, by the windows' rule (takes_second_look).
    Only for the default window, where one CNN pass gives a photo's vector and its local features."""
    cfg = state.config
    if not weak or not one_window(cfg):
        return
    turned = [photos[i].rotate(turn, expand=True) for i in weak for turn in TURNS]
    vectors, queries = query_vectors_and_features(embedder, turned, cfg, state.projection)
    again = _verify(settings, embedder, state, turned, _scan(con, vectors, cfg.index_id, search), queries, n_verify)
    for n, i in enumerate(weak):
        best = max(again[n * len(TURNS):(n + 1) * len(TURNS)], key=lambda comps: match_inliers(comps) or -1)
        if takes_second_look(verified[i], best):
            verified[i], looked[i] = best, True


def _read_sleeves(settings, con, embedder, state: State, photos: list, verified: list, vectors: list,
                  queries: list | None, search: dict, scanned: threading.Event,
                  early: Future | None = None) -> list[dict | None]:
    """Each photo's sleeve_text: None when neither another item's listing is within SOLDSIGHT_READ_TEXT_MARGIN
    of its match nor the contenders' photos differ in print (soldsight.price.printed_words), else what was read
    and whether it changed the match, in verified (soldsight.price.text_match), maybe to a listing named by what
    was read (soldsight.price.text_search) or to another pressing by the print. early: a lone photo's reading,
    started beside its scan."""
    weight, margin = state.config.rerank_weight, settings.read_text_margin
    out: list[dict | None] = [None] * len(verified)
    printed = printed_on(con, verified) if in_use(settings) else {}
    wanted = [i for i, comps in enumerate(verified)
              if wants_reading(comps, weight, margin) or print_differs(comps, printed, weight, margin)]
    if not wanted:
        return out
    if early is not None:
        read = [early.result()]
    else:
        # As the second look's CNN pass: LiteRT's two threads slowed 4x beside DuckDB's scan (session 19), and
        # the readers share the same two cores.
        scanned.wait()
        with ThreadPoolExecutor(READERS) as pool:
            read = list(pool.map(read_sleeve, [photos[i] for i in wanted]))
    for i, (lines, error) in zip(wanted, read):
        comps = verified[i]
        verified[i], moved = choose_by_text(comps, lines or [], weight, margin)
        if lines and queries is not None and wants_name_search(verified[i], lines):
            named = named_match(settings, con, embedder, state, photos[i], comps, vectors[i], queries[i], lines,
                                search)
            if named is not None:
                verified[i], moved = [named, *comps], True
        verified[i], by_print = choose_by_printed_words(verified[i], lines or [], printed, weight, margin)
        if by_print is None and queries is not None and print_unread(verified[i], lines, printed, weight, margin):
            verified[i], by_print = other_pressing(settings, con, embedder, state, photos[i], verified[i], vectors[i],
                                                   queries[i], lines, search, printed)
        out[i] = {"lines": lines, "chose_match": moved or by_print is not None, "print": by_print, "error": error}
    return out


def _scan(con, vectors: list, index_id: str, search: dict) -> list[list[dict]]:
    if len(vectors) == 1:  # ORDER BY ... LIMIT beats the batch query's per-photo ranking for one photo
        return [comparables(con, vectors[0], index_id, **search)]
    return comparables_batch(con, vectors, index_id, **search)
