"""A learned whitening: project pooled features to a few whitened dims where photo noise is small.

Fitted from pairs (clean indexed photo, synthetic seller-style view of it): the covariance of
their differences is what a hand-held photo adds, so it is whitened away (Radenovic et al.'s
learned whitening), then PCA on the indexed photos keeps the `dim` directions that tell items
apart. Fewer dims also make the comparables scan in DuckDB proportionally cheaper.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soldsight.price.views import l2n

EPS = 1e-3  # eigenvalue floor relative to the largest, so rare directions are not blown up


@dataclass
class Projection:
    name: str                # 'none' or 'lw<dim>'
    mean: np.ndarray | None  # [C]
    matrix: np.ndarray | None  # [C, dim]

    @property
    def dim(self) -> int | None:
        return None if self.matrix is None else self.matrix.shape[1]

    @property
    def digest(self) -> str:
        if self.matrix is None:
            return "none"
        h = hashlib.sha256(self.mean.tobytes() + self.matrix.tobytes()).hexdigest()[:10]
        return f"{self.name}-{h}"

    def apply(self, x: np.ndarray) -> np.ndarray:
        if self.matrix is None:
            return l2n(x)
        return l2n((x - self.mean) @ self.matrix)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, name=self.name, mean=self.mean, matrix=self.matrix)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Projection":
        with np.load(path) as z:
            return cls(str(z["name"]), z["mean"].astype(np.float32), z["matrix"].astype(np.float32))


IDENTITY = Projection("none", None, None)


def _inv_sqrt(cov: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, EPS * vals.max())
    return (vecs / np.sqrt(vals)) @ vecs.T


def fit_learned_whitening(clean: np.ndarray, augmented: np.ndarray, owner: np.ndarray, dim: int) -> Projection:
    """clean [N,C] unit vectors of indexed photos; augmented [M,C] views; owner [M] their row in clean."""
    clean = clean.astype(np.float64)
    diffs = augmented.astype(np.float64) - clean[owner]
    cw = diffs.T @ diffs / max(1, len(diffs)) + 1e-6 * np.eye(clean.shape[1])
    whiten = _inv_sqrt(cw)
    mean = clean.mean(axis=0)
    z = (clean - mean) @ whiten
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    dim = min(dim, vt.shape[0])
    matrix = whiten @ vt[:dim].T
    return Projection(f"lw{dim}", mean.astype(np.float32), matrix.astype(np.float32))


def fit_pca(clean: np.ndarray, dim: int) -> Projection:
    """Plain PCA to dim (no whitening): the speed-only baseline for the comparison in docs/price.md."""
    mean = clean.mean(axis=0)
    _, _, vt = np.linalg.svd(clean - mean, full_matrices=False)
    dim = min(dim, vt.shape[0])
    return Projection(f"pca{dim}", mean.astype(np.float32), vt[:dim].T.astype(np.float32))
