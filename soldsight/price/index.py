"""Builds the pricing search index: listing photos -> pooled CNN features -> learned whitening -> price_index.

Also fits that whitening from synthetic seller-style views of the indexed photos themselves.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from soldsight.embed.preprocess import ImageRejected
from soldsight.price import augment
from soldsight.price.projection import IDENTITY, Projection, fit_learned_whitening
from soldsight.price.verify import LOCAL_BLOCK, LOCAL_FRAME, LOCAL_SIZE
from soldsight.price.views import load_photo, pool, views
from warehouse.sql_files import sql


@dataclass
class IndexConfig:
    """What a search index is made of; stored with the projection so queries use the same recipe."""

    embed_model_id: str = ""
    pooling: str = "gem"
    dim: int = 128                 # whitened dims kept (0: no projection, raw pooled features)
    index_rotations: tuple = (0,)  # listing photos are also indexed turned by these degrees
    view_set: str = "full"         # query windows, see soldsight.price.views.VIEW_SETS (docs/price.md: more
                                   # windows gained under 2 points of top-1 once whitened, at V x the cost)
    train_view_set: str = "crops9" # windows of each synthetic seller view the whitening learns from
    query_rotations: tuple = (0,)
    augment_per_photo: int = 4
    max_fit_photos: int = 400
    seed: int = 0
    rerank_top: int = 20           # query time: re-rank this many best listings by geometric verification
                                   # (soldsight.price.verify; 0 turns it off); +14 points of top-1 on the world
    rerank_block: int = LOCAL_BLOCK  # Lite0 block whose map gives the local features (4: 28x28x40 at 224 px)
    rerank_size: int = LOCAL_SIZE    # input side for them
    rerank_frame: str = LOCAL_FRAME  # what they are read from: the global view's centre square, or "letterbox"
                                     # (the whole photo; block 7 at 448 px before session 18, docs/price.md)
    rerank_weight: float = 0.02    # similarity added per affine inlier
    projection: str = "none"       # digest of the projection, filled in when fitted
    artifact: str | None = None    # file under SOLDSIGHT_HOME holding the projection
    local_features: str | None = None  # directory under SOLDSIGHT_HOME with every indexed photo's local
                                       # features for re-ranking (soldsight.price.local_store)

    @property
    def index_id(self) -> str:
        rot = "-".join(str(r) for r in self.index_rotations)
        return f"{self.embed_model_id}|{self.pooling}|{self.projection}|r{rot}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "IndexConfig":
        d = json.loads(text)
        d["index_rotations"] = tuple(d["index_rotations"])
        d["query_rotations"] = tuple(d["query_rotations"])
        d.setdefault("rerank_frame", "letterbox")  # fitted before frames were recorded: all were letterboxed
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def features(embedder, batch: np.ndarray, pooling: str) -> np.ndarray:
    """uint8 [N,224,224,3] -> unit pooled features [N,C] from the embedder's feature map."""
    if len(batch) == 0:
        return np.zeros((0, embedder.dim), np.float32)
    out = []
    for s in range(0, len(batch), 64):
        out.append(pool(embedder.feature_map(batch[s:s + 64]), pooling))
    return np.concatenate(out)


def index_sources(con) -> list[dict]:
    cur = con.execute(sql("price_index_sources"))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _load(settings, rel_path: str):
    try:
        return load_photo(Path(settings.home) / rel_path, settings.max_image_pixels)
    except (ImageRejected, FileNotFoundError, OSError):
        return None


def fit_projection(settings, sources: list[dict], embedder, config: IndexConfig) -> tuple[Projection, dict]:
    """Learned whitening from (indexed photo, synthetic seller view of it) pairs; identity when dim == 0."""
    if not config.dim:
        return IDENTITY, {"note": "no projection asked"}
    rng = np.random.default_rng(config.seed)
    seen, photos = set(), []
    for row in sources:
        if row["sha256"] not in seen:
            seen.add(row["sha256"])
            photos.append(row)
    if len(photos) > config.max_fit_photos:
        photos = [photos[i] for i in sorted(rng.choice(len(photos), config.max_fit_photos, replace=False))]
    images = [im for im in (_load(settings, p["path"]) for p in photos) if im is not None]
    if len(images) < 8:
        return IDENTITY, {"note": f"only {len(images)} photos; projection needs 8 or more"}
    clean = features(embedder, np.stack([views(im, "full")[0] for im in images]), config.pooling)
    aug_views, owner = [], []
    for i, im in enumerate(images):
        for _ in range(config.augment_per_photo):
            others = [images[j] for j in rng.choice(len(images), 2)]
            v = views(augment.seller_view(im, rng, others), config.train_view_set, config.query_rotations)
            owner += [i] * len(v)
            aug_views.extend(v)
    # Every window is a pair (clean, window): on the world this beat keeping only the best-matching
    # window by 2-5 points of top-1, as the whitening then also learns what off-centre framing does.
    aug = features(embedder, np.stack(aug_views), config.pooling)
    owner = np.array(owner)
    dim = min(config.dim, len(images) - 1)
    proj = fit_learned_whitening(clean, aug, owner, dim)
    return proj, {"photos": len(images), "augmented": len(aug), "dim": proj.dim}


def latest_models(con) -> dict:
    """kind -> the newest price_models row of that kind: (model_id, kind, version, params, metrics, artifact, fitted_at)."""
    return {row[1]: row for row in con.execute(sql("price_models_latest")).fetchall()}


def rows_per_listing(con, index_id: str) -> int:
    """The most rows (photos x rotations) one listing has in the index: the search keeps k x this many rows."""
    return int(con.execute(sql("price_index_rows_per_listing"), {"index_id": index_id}).fetchall()[0][0] or 1)


def index_rows(settings, sources: list[dict], embedder, config: IndexConfig, projection: Projection) -> tuple[pa.Table, dict]:
    """The price_index rows of every sold listing photo in sources, projected (no warehouse needed), and a summary."""
    by_sha: dict[str, list[dict]] = {}
    for row in sources:
        by_sha.setdefault(row["sha256"], []).append(row)
    rows: dict[str, list] = {k: [] for k in ("source", "listing_id", "sha256", "rotation", "image_path", "currency", "sold_at", "vector")}
    vectors, unreadable = [], []
    shas = list(by_sha)
    n_rot = len(config.index_rotations)
    for s in range(0, len(shas), 128):
        loaded = [(sha, _load(settings, by_sha[sha][0]["path"])) for sha in shas[s:s + 128]]
        unreadable += [sha for sha, im in loaded if im is None]
        loaded = [(sha, im) for sha, im in loaded if im is not None]
        if not loaded:
            continue
        batch = np.stack([v for _, im in loaded for v in views(im, "full", config.index_rotations)])
        vecs = projection.apply(features(embedder, batch, config.pooling))
        for n, (sha, _) in enumerate(loaded):
            for listing in by_sha[sha]:
                for j, rot in enumerate(config.index_rotations):
                    for key in ("source", "listing_id", "currency", "sold_at"):
                        rows[key].append(listing[key])
                    rows["sha256"].append(sha)
                    rows["rotation"].append(rot)
                    rows["image_path"].append(listing["path"])
                    vectors.append(vecs[n * n_rot + j])
    dim = len(vectors[0]) if vectors else 0
    offsets = pa.array(np.arange(len(vectors) + 1, dtype=np.int32) * dim)
    flat = pa.array(np.asarray(vectors, np.float32).reshape(-1), pa.float32())
    table = pa.table({**rows, "vector": pa.ListArray.from_arrays(offsets, flat),
                      "sold_at": pa.array(rows["sold_at"], pa.timestamp("us", tz="UTC"))})
    summary = {"index_id": config.index_id, "rows": table.num_rows, "photos": len(shas) - len(unreadable),
               "unreadable": len(unreadable), "listings": len({(r["source"], r["listing_id"]) for r in sources})}
    return table, summary


def store_index(con, config: IndexConfig, table: pa.Table) -> int:
    """Replace every row of price_index with table (config.index_id), and listing_words with the words of the
    listings now, in one transaction; returns rows_per_listing."""
    con.begin()
    try:
        con.execute(sql("clear_price_index"))
        con.register("new_index_rows", table)
        con.execute(sql("insert_price_index"), {"index_id": config.index_id})
        con.unregister("new_index_rows")
        con.execute(sql("clear_listing_words"))
        con.execute(sql("insert_listing_words"))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return rows_per_listing(con, config.index_id)
