"""Fitting the local-feature store that geometric re-ranking reads (soldsight.price.local_store).

Split in two so that the CNN pass over the photos runs without holding the warehouse: previous_store
reads which store can be reused (connection held), fit_local_features computes and writes (no connection).
"""
from __future__ import annotations

from pathlib import Path

from soldsight.price.index import IndexConfig, latest_models
from soldsight.price.local_store import LocalStore, build_store
from soldsight.price.verify import KEEP_CELLS, photo_maps, strongest_cells


def uses_local_features(embedder, rerank_top: int | None) -> bool:
    """Whether re-ranking runs: asked for, and the network has the local map it needs (Lite0 only)."""
    return bool(rerank_top) and getattr(embedder, "name", None) == "lite0"


def previous_store(con, home: Path) -> LocalStore | None:
    """The local-feature store of the newest fitted model, whose rows a refit can reuse."""
    latest = latest_models(con).get("projection")
    return LocalStore.open(home, IndexConfig.from_json(latest[3]).local_features) if latest else None


def fit_local_features(settings, embedder, config: IndexConfig, paths: list[str], previous: LocalStore | None) -> dict:
    """Store the re-ranking features of `paths` under SOLDSIGHT_HOME/models; sets config.local_features."""
    recipe = {"embed_model_id": config.embed_model_id, "block": config.rerank_block, "size": config.rerank_size,
              "frame": config.rerank_frame, "keep": KEEP_CELLS}
    models = Path(settings.home) / "models"
    models.mkdir(parents=True, exist_ok=True)

    def compute(part):
        maps = photo_maps(embedder, [Path(settings.home) / p for p in part], settings.max_image_pixels,
                          config.rerank_block, config.rerank_size, config.rerank_frame)
        return [None if m is None else (*strongest_cells(m), m.shape[0]) for m in maps]

    name, summary = build_store(models, recipe, paths, compute, previous)
    config.local_features = f"models/{name}"
    return summary
