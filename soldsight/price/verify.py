"""Re-ranking by geometric verification: local CNN features, mutual nearest neighbours, a RANSAC affine fit.

The global descriptor finds the right album in its top 10 for ~95% of photos but ranks it first for
only ~70%: albums by one artist share an artwork style, and pressings differ by a sticker or a logo.
Local features from a finer map of the same Lite0 network (by default block 7: stride 16, so 28x28
cells of 80 channels at a 448 px input) are matched query -> candidate photo; matches that agree on one affine transform of the
sleeve are counted. The count of such inliers is added to the global similarity (docs/price.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

LOCAL_SIZE = 448      # letterboxed input side for local features; the map is LOCAL_SIZE / 16 cells a side
INLIER_PX = 0.05      # inlier distance, as a fraction of the image side (about 1.4 cells of 28)
ITERATIONS = 300      # RANSAC hypotheses, tested all at once


def letterbox(im: Image.Image, size: int = LOCAL_SIZE) -> np.ndarray:
    """The whole photo on a square of its mean colour, uint8 [size,size,3]: nothing of the sleeve is cut off."""
    w, h = im.size
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), tuple(int(c) for c in np.asarray(im).reshape(-1, 3).mean(0)))
    canvas.paste(im, ((side - w) // 2, (side - h) // 2))
    return np.asarray(canvas.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def local_features(fmap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[H,W,C] map -> (unit descriptors [H*W,C], cell centres [H*W,2] as fractions of the side)."""
    h, w, c = fmap.shape
    desc = fmap.reshape(-1, c).astype(np.float32)
    desc /= np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-6)
    yy, xx = np.mgrid[0:h, 0:w]
    pos = (np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32) + 0.5) / np.float32(h)
    return desc, pos


def mutual_matches(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) where a[i] and b[j] are each other's nearest neighbour (cosine)."""
    s = a @ b.T
    ab, ba = s.argmax(1), s.argmax(0)
    i = np.nonzero(ba[ab] == np.arange(len(a)))[0]
    return i, ab[i]


def affine_inliers(p: np.ndarray, q: np.ndarray, rng: np.random.Generator, *, threshold: float = INLIER_PX,
                   iterations: int = ITERATIONS) -> int:
    """Most matches (p[k] -> q[k]) that one affine map explains within threshold; RANSAC, vectorised."""
    n = len(p)
    if n < 4:
        return 0
    pick = rng.integers(0, n, (iterations, 3))
    src = np.concatenate([p[pick], np.ones((iterations, 3, 1), np.float32)], 2)
    keep = np.abs(np.linalg.det(src)) > 1e-4  # three nearly collinear points fix no affine map
    if not keep.any():
        return 0
    maps = np.linalg.solve(src[keep], q[pick][keep])  # [h,3,2]: x' = [x y 1] @ map
    # A sleeve seen at another distance and tilt keeps its handedness and a plausible area change.
    det = np.linalg.det(maps[:, :2, :])
    plausible = (det > 0.1) & (det < 10)
    err = np.linalg.norm(np.einsum("nk,hkj->hnj", np.concatenate([p, np.ones((n, 1), np.float32)], 1), maps) - q[None], axis=2)
    return int(((err < threshold).sum(1) * plausible).max())


def rerank(embedder, photo: Image.Image, comps: list[dict], home: Path, max_pixels: int, *, top: int = 10, block: int = 7,
           size: int = LOCAL_SIZE, weight: float = 0.01, cache: dict | None = None) -> list[dict]:
    """comps with the first `top` re-ordered by similarity + weight x affine inliers; each gets `inliers`.

    Candidate photos are read from SOLDSIGHT_HOME (images.path) and embedded here, for the top few only;
    cache (image_path -> local features) lets the photos of one batch share that work. A candidate
    whose photo cannot be read keeps 0 inliers (it can only fall, never vanish).
    """
    from soldsight.price.views import read_photo

    head, tail = comps[:top], comps[top:]
    if len(head) < 2:
        return comps
    cache = {} if cache is None else cache
    need = list(dict.fromkeys(c["image_path"] for c in head if c.get("image_path") and c["image_path"] not in cache))
    loaded = []
    for rel in need:
        im, _error = read_photo(Path(home) / rel, max_pixels)
        if im is None:  # a missing or broken index photo only loses its verification
            cache[rel] = None
        else:
            loaded.append((rel, letterbox(im, size)))
    batch = np.stack([letterbox(photo, size)] + [x for _, x in loaded])
    maps = embedder.local_map(batch, block)
    for (rel, _), fmap in zip(loaded, maps[1:]):
        cache[rel] = local_features(fmap)
    qdesc, qpos = local_features(maps[0])
    rng = np.random.default_rng(0)  # fixed: the same photo gets the same answer every time
    for c in head:
        cand = cache.get(c.get("image_path"))
        if cand is None:
            c["inliers"] = 0
            continue
        i, j = mutual_matches(qdesc, cand[0])
        c["inliers"] = affine_inliers(qpos[i], cand[1][j], rng)
    head = sorted(head, key=lambda c: -(float(c["similarity"]) + weight * c["inliers"]))
    return head + tail
