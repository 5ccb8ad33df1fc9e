"""Listings the words read on a sleeve name that the image search left out of the candidates, looked up
(text_search.named_on_sleeve), verified like the candidates, and chosen by the same rules: the words
(text_match.choose_by_text) for an album not among them, the print (printed_words) for another pressing of
the match's album."""
from __future__ import annotations

from soldsight.price.local_store import LocalStore
from soldsight.price.photo_text import printed_on
from soldsight.price.printed_words import choose_by_printed_words
from soldsight.price.state import State
from soldsight.price.text_match import choose_by_text
from soldsight.price.text_search import NAMED, OTHER_PRESSINGS, named_on_sleeve, vouched_for
from soldsight.price.verify import count_inliers, reranked_score


def named_match(settings, con, embedder, state: State, photo, comps: list[dict], vectors, query, lines: list[str],
                search: dict) -> dict | None:
    """A listing named by what was read that the image search did not bring, verified like the candidates,
    when the text would choose it over them (choose_by_text on both together); else None."""
    have = {c["listing_id"] for c in comps}
    # The NAMED best named, then those in hand left out (as measured in sessions 21-22), where other_pressing
    # leaves them out of the lookup itself to reach past the candidates' own pressing.
    named = [c for c in _named(con, state, vectors, lines, search, k=NAMED) if c["listing_id"] not in have]
    if not named:
        return None
    _verify(settings, embedder, state, photo, named, query)
    named = vouched_for(named, comps[0], lines)
    chosen, moved = choose_by_text(_beside(comps, named, state), lines, state.config.rerank_weight,
                                   settings.read_text_margin)
    return chosen[0] if moved and chosen[0]["listing_id"] not in have else None


def other_pressing(settings, con, embedder, state: State, photo, comps: list[dict], vectors, query,
                   lines: list[str], search: dict, printed: dict) -> tuple[list[dict], str | None]:
    """comps with a listing the sleeve names that the image search left out moved first, when the printed words
    choose it (choose_by_printed_words), and why; (comps, None) otherwise. For a match whose photo shows print
    the sleeve plainly lacks (printed_words.print_unread), when the album's other pressing, whose photos lack
    it too, is not among the candidates (seed 17: the plain pressing at 42 inliers against its `LIMITED`
    reissue's 66, ranked out of the 20). printed gains the named listings' print."""
    named = _named(con, state, vectors, lines, search, k=OTHER_PRESSINGS, exclude=[c["listing_id"] for c in comps])
    if not named:
        return comps, None
    _verify(settings, embedder, state, photo, named, query)
    printed.update(printed_on(con, [named]))
    chosen, why = choose_by_printed_words(_beside(comps, named, state), lines, printed, state.config.rerank_weight,
                                          settings.read_text_margin)
    if why is None:
        return comps, None
    return [chosen[0], *(c for c in comps if c is not chosen[0])], why


def _named(con, state: State, vectors, lines: list[str], search: dict, *, k: int,
           exclude: list[str] = ()) -> list[dict]:
    return named_on_sleeve(con, vectors, lines, state.config.index_id, currency=search["currency"],
                           days=search["days"], exclude=exclude, k=k)


def _verify(settings, embedder, state: State, photo, named: list[dict], query) -> None:
    """Count the inliers of each named listing's photo, as the candidates' were counted."""
    cfg = state.config
    count_inliers(embedder, photo, named, settings.home, settings.max_image_pixels, block=cfg.rerank_block,
                  size=cfg.rerank_size, frame=cfg.rerank_frame,
                  store=LocalStore.open(settings.home, cfg.local_features), query=query)


def _beside(comps: list[dict], named: list[dict], state: State) -> list[dict]:
    """The match first, then the re-ranked candidates and the named listings by re-ranked score."""
    others = [c for c in comps[1:] if c.get("inliers") is not None] + named
    return [comps[0], *sorted(others, key=lambda c: reranked_score(c, state.config.rerank_weight), reverse=True)]
