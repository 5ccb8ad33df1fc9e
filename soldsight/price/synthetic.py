"""Synthetic sold listings and clustered vectors, for tests and bench/price.py (no photos needed).

Each "album" is a random unit centre; its listings are noisy copies of the centre, priced
around an album base price times a condition factor, so every figure has a known truth.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

GRADES = ["M", "NM", "VG+", "VG", "G+", "G", "F", "P"]
# Log-price effect of each grade relative to VG+, the truth the grade fit should recover.
TRUE_EFFECT = {"M": 0.45, "NM": 0.3, "VG+": 0.0, "VG": -0.3, "G+": -0.55, "G": -0.8, "F": -1.1, "P": -1.4}


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def listings_table(n: int, albums: int, seed: int = 0, now: datetime | None = None) -> tuple[pa.Table, np.ndarray]:
    """Arrow table shaped like `listings` for n sold listings, and the album index of each."""
    rng = np.random.default_rng(seed)
    now = now or datetime(2026, 11, 1, tzinfo=timezone.utc)
    album = rng.integers(0, albums, n)
    base = np.exp(rng.normal(np.log(25), 0.8, albums))
    media = rng.choice(GRADES[:6], n)
    sleeve = rng.choice(GRADES[:6], n)
    effect = np.array([TRUE_EFFECT[m] + 0.5 * TRUE_EFFECT[s] for m, s in zip(media, sleeve)])
    price = np.round(base[album] * np.exp(effect + rng.normal(0, 0.12, n)), 2)
    currency = np.where(rng.random(n) < 0.9, "USD", "GBP")
    sold_at = [now - timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    ids = [f"L{i:07d}" for i in range(n)]
    table = pa.table(
        {
            "source": ["ebay"] * n,
            "listing_id": ids,
            "title": [f"Album {a} LP" for a in album],
            "artist": [f"Artist {a % 97}" for a in album],
            "price": price,
            "currency": currency,
            "shipping_cost": np.zeros(n),
            "total_price": price,
            "media_grade": media,
            "sleeve_grade": sleeve,
            "sold": np.ones(n, dtype=bool),
            "sold_at": pa.array(sold_at, pa.timestamp("us", tz="UTC")),
            "query": [f"query {a % 50}" for a in album],
            "origin": ["synthetic"] * n,
            "record_hash": ids,
            "ingested_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
            "raw": [json.dumps({"album": int(a)}) for a in album],
        }
    )
    return table, album


def clustered_vectors(album: np.ndarray, albums: int, dim: int, noise: float = 0.6, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors for each listing near its album centre, and the centres."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((albums, dim), dtype=np.float32))
    out = np.empty((len(album), dim), dtype=np.float32)
    step = 100_000  # bounded temporaries at 1M rows
    for s in range(0, len(album), step):
        a = album[s : s + step]
        out[s : s + step] = unit(centres[a] + noise / np.sqrt(dim) * rng.standard_normal((len(a), dim), dtype=np.float32))
    return out, centres


def load(con, listings: pa.Table, vectors: np.ndarray, index_id: str, chunk: int = 100_000) -> None:
    """Insert listings and their vectors (one photo each) into a migrated warehouse."""
    con.register("synthetic_listings", listings)
    cols = ", ".join(listings.column_names)
    con.execute(f"INSERT INTO listings ({cols}) SELECT {cols} FROM synthetic_listings")
    con.unregister("synthetic_listings")
    ids = listings.column("listing_id").to_numpy(zero_copy_only=False)
    dim = vectors.shape[1]
    for s in range(0, len(ids), chunk):
        part = vectors[s : s + chunk]
        batch = pa.table(
            {
                "listing_id": ids[s : s + chunk],
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(part.ravel()), dim),
                "currency": listings.column("currency").slice(s, len(part)),
                "sold_at": listings.column("sold_at").slice(s, len(part)),
            }
        )
        con.register("synthetic_vectors", batch)
        con.execute(
            "INSERT INTO price_index SELECT ?, 'ebay', listing_id, 'sha-' || listing_id, 0, "
            "'images/' || listing_id || '.jpg', currency, sold_at, vector::FLOAT[], now() FROM synthetic_vectors",
            [index_id],
        )
        con.unregister("synthetic_vectors")
