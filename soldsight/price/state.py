"""What a price query needs besides the embedder, read once from the newest fitted models."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from soldsight.price.index import IndexConfig, latest_models, rows_per_listing
from soldsight.price.model import GradeModel, PriceParams
from soldsight.price.projection import IDENTITY, Projection


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
