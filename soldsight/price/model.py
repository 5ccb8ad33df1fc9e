"""The price model: a similarity-weighted robust suggestion with a calibrated range, and grade effects.

Grade effects come from least squares on log total price with one fixed effect per item (album)
and one term per media grade and per sleeve grade (VG+ is the reference, effect 0). The item
effects are removed by demeaning within each item (Frisch-Waugh), so the fit stays a small solve
however many items there are.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from soldsight.ingest.grades import to_goldmine

GRADES = ("M", "NM", "VG+", "VG", "G+", "G", "F", "P")
REFERENCE = "VG+"
# Ridge penalty on grade terms: a grade seen in only a handful of items stays near the reference.
RIDGE = 1.0


def normalise_grade(grade: str | None) -> str | None:
    """The Goldmine grade for a grade as a user or a listing writes it, by the one table ingest uses."""
    return to_goldmine(grade)


def weighted_quantile(values, weights, qs) -> np.ndarray:
    """Quantiles of values under weights (the weighted empirical CDF, midpoint interpolated)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = np.cumsum(w) - 0.5 * w
    cum /= w.sum()
    return np.interp(np.atleast_1d(qs), cum, v)


@dataclass
class GradeModel:
    model_id: str | None = None
    media: dict = field(default_factory=dict)     # grade -> effect on log price
    sleeve: dict = field(default_factory=dict)
    residual_sd: float = 0.25

    def effect(self, media: str | None, sleeve: str | None) -> float:
        return self.media.get(normalise_grade(media) or "", 0.0) + self.sleeve.get(normalise_grade(sleeve) or "", 0.0)

    def params(self) -> dict:
        return {"reference": REFERENCE, "media": self.media, "sleeve": self.sleeve, "residual_sd": self.residual_sd}


def fit_grade_effects(items, media, sleeve, price) -> tuple[GradeModel, dict]:
    """Least squares: log price = item effect + media term + sleeve term. Rows without a price are dropped."""
    items = np.asarray(items, dtype=object)
    price = np.asarray(price, dtype=np.float64)
    keep = np.isfinite(price) & (price > 0)
    items, price = items[keep], price[keep]
    media = [normalise_grade(g) for g, k in zip(media, keep) if k]
    sleeve = [normalise_grade(g) for g, k in zip(sleeve, keep) if k]
    levels = [g for g in GRADES if g != REFERENCE]
    cols = [("media", g) for g in levels] + [("sleeve", g) for g in levels]
    X = np.zeros((len(price), len(cols)))
    for j, (side, g) in enumerate(cols):
        X[:, j] = [1.0 if (m if side == "media" else s) == g else 0.0 for m, s in zip(media, sleeve)]
    y = np.log(price)
    _, inverse, counts = np.unique(items, return_inverse=True, return_counts=True)
    multi = counts[inverse] > 1  # an item seen once says nothing about grades
    X, y, inverse = X[multi], y[multi], inverse[multi]
    metrics = {"rows": int(len(y)), "items": int(len(np.unique(inverse)))}
    if len(y) < 2:
        return GradeModel(), {**metrics, "note": "too few repeated items to fit"}
    n_items = inverse.max() + 1
    size = np.bincount(inverse, minlength=n_items)

    def demean(a):
        sums = np.zeros((n_items,) + a.shape[1:])
        np.add.at(sums, inverse, a)
        return a - (sums / np.maximum(size, 1)[:, None] if a.ndim > 1 else sums / np.maximum(size, 1))[inverse]

    Xd, yd = demean(X), demean(y)
    beta = np.linalg.solve(Xd.T @ Xd + RIDGE * np.eye(len(cols)), Xd.T @ yd)
    resid = yd - Xd @ beta
    dof = max(1, len(y) - metrics["items"] - len(cols))
    sd = float(np.sqrt(resid @ resid / dof))
    model = GradeModel(
        media={REFERENCE: 0.0, **{g: round(float(b), 4) for (side, g), b in zip(cols, beta) if side == "media"}},
        sleeve={REFERENCE: 0.0, **{g: round(float(b), 4) for (side, g), b in zip(cols, beta) if side == "sleeve"}},
        residual_sd=round(sd, 4),
    )
    return model, {**metrics, "residual_sd": sd}


@dataclass
class PriceParams:
    """The calibrated knobs of the suggestion (fitted by soldsight.price.calibrate)."""

    tau: float = 0.03          # similarity temperature of the weights: w = exp((s - s_best) / tau)
    range_scale: float = 1.0   # log half-widths of the weighted 10th-90th range are multiplied by this
    q_low: float = 0.10
    q_high: float = 0.90
    floor: float = 0.10        # least log half-width, for when one near-duplicate carries all the weight


def suggest(comparables: list[dict], *, min_comparables: int, grades: GradeModel | None = None,
            media: str | None = None, sleeve: str | None = None, params: PriceParams | None = None) -> dict:
    """Suggested price, low and high from comparables (dicts with total_price, similarity, currency, grades).

    Each comparable's price is moved to the asked condition by the grade effects, then weighted
    by how similar it is to the best match, so near-duplicates of the item dominate.
    """
    params = params or PriceParams()
    rows = [c for c in comparables if c.get("total_price") and c["total_price"] > 0]
    if len(rows) < min_comparables:
        return {"status": "insufficient", "reason": f"insufficient comparables: {len(rows)} < {min_comparables}",
                "n_comparables": len(rows)}
    # The majority currency; on a tie, that of the first (best) comparable. Not a set's order: that
    # changes with each process's hash seed, and so would the same photo's price.
    seen = list(dict.fromkeys(c.get("currency") for c in rows))
    currency = max(seen, key=lambda cur: sum(c.get("currency") == cur for c in rows))
    rows = [c for c in rows if c.get("currency") == currency]
    if len(rows) < min_comparables:
        return {"status": "insufficient", "currency": currency, "n_comparables": len(rows),
                "reason": f"insufficient comparables in {currency}: {len(rows)} < {min_comparables}"}
    logp = np.log([c["total_price"] for c in rows])
    if grades is not None and (media or sleeve):
        for i, c in enumerate(rows):
            shift = 0.0
            if media:
                shift += grades.media.get(normalise_grade(media) or "", 0.0) - grades.media.get(normalise_grade(c.get("media_grade")) or "", 0.0)
            if sleeve:
                shift += grades.sleeve.get(normalise_grade(sleeve) or "", 0.0) - grades.sleeve.get(normalise_grade(c.get("sleeve_grade")) or "", 0.0)
            logp[i] += shift
    sims = np.array([c["similarity"] for c in rows], dtype=np.float64)
    weights = np.exp((sims - sims.max()) / max(params.tau, 1e-6))
    lo_q, mid, hi_q = weighted_quantile(logp, weights, [params.q_low, 0.5, params.q_high])
    low = mid - params.range_scale * max(mid - lo_q, params.floor)
    high = mid + params.range_scale * max(hi_q - mid, params.floor)
    return {
        "status": "ok",
        "reason": None,
        "suggested_price": round(float(np.exp(mid)), 2),
        "low": round(float(np.exp(low)), 2),
        "high": round(float(np.exp(high)), 2),
        "currency": currency,
        "n_comparables": len(rows),
        "effective_comparables": round(float(weights.sum() ** 2 / (weights ** 2).sum()), 2),
    }
