"""One photo's answer: the comparables identified and priced, as the JSON of `soldsight price --json`."""
from __future__ import annotations

from soldsight.price.model import suggest
from soldsight.price.search import identify, item_key
from soldsight.price.state import State
from soldsight.price.text_match import confirms, contradicts


def answer(photo, status, reason=None, **kw) -> dict:
    out = {"photo": str(photo), "status": status, "reason": reason, "match": None, "alternatives": [],
           "suggested_price": None, "low": None, "high": None, "currency": None, "n_comparables": 0, "comparables": [],
           "second_look": False, "sleeve_text": None}
    out.update(kw)
    return out


def comp_json(c: dict) -> dict:
    sold = c.get("sold_at")
    out = {"listing_id": c["listing_id"], "title": c["title"], "total_price": c["total_price"],
           "similarity": round(float(c["similarity"]), 4),
           "sold_at": sold.isoformat() if hasattr(sold, "isoformat") else sold, "image_path": c["image_path"]}
    if "inliers" in c:  # geometric verification ran on this one (soldsight.price.verify)
        out["inliers"] = c["inliers"]
    return out


def no_comparables(currency: str | None, days: int | None) -> str:
    if currency or days:
        asked = (f" in {currency}" if currency else "") + (f" in the last {days} day{'s' * (days != 1)}" if days else "")
        return f"no comparables: the price index has no listing sold{asked}"
    return "no comparables: the price index holds no sold listing (fit it again after listings are downloaded)"


def price_one(path, comps: list[dict], state: State, media, sleeve, settings, read: list[str] | None = None) -> dict:
    """read: the lines read on the sleeve, if it was read; a match whose listing has none of their words is
    not claimed (text_match.contradicts), and one they plainly name is claimed under the similarity threshold
    (text_match.confirms)."""
    ident = identify(comps, state.threshold, weight=state.config.rerank_weight, margin=settings.ambiguity_margin,
                     confident_inliers=settings.confident_inliers)
    if not ident["confident"] and confirms(comps, read):
        ident = {**ident, "confident": True, "reason": None}
    if ident["confident"] and contradicts(comps[0], read):
        said = " / ".join(read)
        ident = {**ident, "confident": False,
                 "reason": f"no confident match: the sleeve reads '{said[:80]}', and the match's listing has none "
                           "of those words (an item with no sales here?)"}
    min_comparables = settings.min_comparables
    shown = [comp_json(c) for c in comps]
    unpriced = dict(suggested_price=None, low=None, high=None, currency=None, n_comparables=0)
    named = dict(match=ident["match"], alternatives=[{**alt, **unpriced} for alt in ident["alternatives"]],
                 comparables=shown)
    if not ident["confident"]:
        return answer(path, "no_match", ident["reason"], **named, n_comparables=len(comps))
    s = suggest(comps, min_comparables=min_comparables, grades=state.grades, media=media, sleeve=sleeve, params=state.params)
    named["alternatives"] = [priced_as(alt, comps, state, media, sleeve) for alt in ident["alternatives"]]
    if s["status"] != "ok":
        return answer(path, "insufficient", s["reason"], **named, currency=s.get("currency"),
                       n_comparables=s["n_comparables"])
    return answer(path, "ok", None, **named, suggested_price=s["suggested_price"], low=s["low"],
                   high=s["high"], currency=s["currency"], n_comparables=s["n_comparables"])


def priced_as(alt: dict, comps: list[dict], state: State, media, sleeve) -> dict:
    """A close second with the price its own sales among the comparables suggest, were the photo that item:
    pressings of one album can sell at several times each other's price. From as few as one sale, which
    the answer counts: a close second rarely has three among the first 20, and on the bench worlds even
    one or two were nearer the truth than the suggestion when the close second was right (docs/price.md)."""
    own = [c for c in comps if item_key(c) == item_key(alt)]
    s = suggest(own, min_comparables=1, grades=state.grades, media=media, sleeve=sleeve, params=state.params)
    return {**alt, **{k: s.get(k) for k in ("suggested_price", "low", "high", "currency")},
            "n_comparables": s["n_comparables"]}
