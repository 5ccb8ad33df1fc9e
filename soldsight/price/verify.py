"""Re-ranking by geometric verification: local CNN features, mutual nearest neighbours, a RANSAC affine fit.

The global descriptor finds the right album among its 20 best for ~98% of photos but ranks it first
for only ~70%: albums by one artist share an artwork style, and pressings differ by a sticker or a logo.
Local features from a finer map of the same Lite0 network (by default block 4: stride 8, so 28x28
cells of 40 channels of the 224 px centre square the global search embeds; fits before session 18 used
block 7 of a 448 px letterbox) are matched query -> candidate photo; matches that agree on one
affine transform of the sleeve are counted. The count of such inliers is added to the global similarity
(docs/price.md). The candidates' features are computed once, at fit (soldsight.price.local_store).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageStat
from threadpoolctl import ThreadpoolController

from soldsight.price.views import view

LOCAL_BLOCK = 4       # Lite0 block whose map gives the local features: stride 8, 40 channels
LOCAL_SIZE = 224      # their input side, so the map is LOCAL_SIZE / 8 = 28 cells a side
LOCAL_FRAME = "centre"  # the photo's centre square, the window the global search embeds (framed())
INLIER_PX = 0.05      # inlier distance, as a fraction of the image side (about 1.4 cells of 28)
ITERATIONS = 1000     # RANSAC hypotheses, tested all at once
KEEP_CELLS = 300      # the most active cells matched per photo: background cells only add false matches,
                      # and 300 of 784 cut the matching 7x for the same top-1 on the world (docs/price.md)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """Found once: looking up the loaded BLAS libraries costs ~5 ms, on every photo otherwise."""
    return ThreadpoolController()


def framed(im: Image.Image, size: int = LOCAL_SIZE, frame: str = LOCAL_FRAME) -> np.ndarray:
    """The square uint8 [size,size,3] the local features are read from.

    'centre': the photo's centre square, as the global search sees it; the sleeve is larger in it than in
    the whole photo letterboxed, and on the bench worlds block 4 of it verified better than block 7 of a
    448 px letterbox (docs/price.md, session 18). 'letterbox': the whole photo (fits before session 18).
    """
    if frame == "letterbox":
        return letterbox(im, size)
    if frame != "centre":
        raise ValueError(f"unknown local-feature frame {frame!r}: 'centre' or 'letterbox'")
    return view(im, 1.0, 0.5, 0.5, size=size)


def letterbox(im: Image.Image, size: int = LOCAL_SIZE) -> np.ndarray:
    """The whole photo on a square of its mean colour, uint8 [size,size,3]: nothing of the sleeve is cut off."""
    w, h = im.size
    scale = size / max(w, h)
    fitted = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    mean = tuple(int(c) for c in ImageStat.Stat(fitted).mean)  # 10x faster than numpy's mean, the same value
    canvas = Image.new("RGB", (size, size), mean)
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def strongest_cells(fmap: np.ndarray, keep: int = KEEP_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """[H,W,C] map -> (unit descriptors [K,C] of its `keep` most active cells, their cell numbers [K], row-major)."""
    h, w, c = fmap.shape
    cells = fmap.reshape(-1, c).astype(np.float32)
    norm = np.linalg.norm(cells, axis=1)
    where = np.sort(np.argsort(-norm, kind="stable")[:keep])
    return cells[where] / np.maximum(norm[where, None], 1e-6), where


def cell_centres(where: np.ndarray, side: int) -> np.ndarray:
    """Cell numbers -> centres [K,2] (x, y) as fractions of the side."""
    return (np.stack([where % side, where // side], 1).astype(np.float32) + 0.5) / np.float32(side)


def local_features(fmap: np.ndarray, keep: int = KEEP_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """[H,W,C] map -> (unit descriptors [K,C], cell centres [K,2] as fractions of the side)."""
    desc, where = strongest_cells(fmap, keep)
    return desc, cell_centres(where, fmap.shape[0])


def mutual_matches(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) where a[i] and b[j] are each other's nearest neighbour (cosine)."""
    s = a @ b.T
    ab, ba = s.argmax(1), s.argmax(0)
    i = np.nonzero(ba[ab] == np.arange(len(a)))[0]
    return i, ab[i]


def affine_inliers(p: np.ndarray, q: np.ndarray, rng: np.random.Generator, *, threshold: float = INLIER_PX,
                   iterations: int = ITERATIONS) -> int:
    """Most matches (p[k] -> q[k]) that one affine map explains within threshold; RANSAC, vectorised.

    Each hypothesis is the affine map through three random matches, solved in closed form for all at
    once (batched LAPACK calls on 3x3 systems cost more than the arithmetic).
    """
    n = len(p)
    if n < 4:
        return 0
    pick = rng.integers(0, n, (iterations, 3))
    (a, b, c), (qa, qb, qc) = p[pick].transpose(1, 0, 2), q[pick].transpose(1, 0, 2)  # each [h,2]
    s00, s10, s01, s11 = a[:, 0] - c[:, 0], a[:, 1] - c[:, 1], b[:, 0] - c[:, 0], b[:, 1] - c[:, 1]
    t00, t10, t01, t11 = qa[:, 0] - qc[:, 0], qa[:, 1] - qc[:, 1], qb[:, 0] - qc[:, 0], qb[:, 1] - qc[:, 1]
    det = s00 * s11 - s01 * s10
    keep = np.abs(det) > 1e-4  # three nearly collinear points fix no affine map
    det = np.where(keep, det, 1)
    m00, m01 = (t00 * s11 - t01 * s10) / det, (t01 * s00 - t00 * s01) / det
    m10, m11 = (t10 * s11 - t11 * s10) / det, (t11 * s00 - t10 * s01) / det
    # A sleeve seen at another distance and tilt keeps its handedness and a plausible area change.
    area = m00 * m11 - m01 * m10
    keep &= (area > 0.1) & (area < 10)
    if not keep.any():
        return 0
    m00, m01, m10, m11, c, qc = m00[keep], m01[keep], m10[keep], m11[keep], c[keep], qc[keep]
    tx, ty = qc[:, 0] - m00 * c[:, 0] - m01 * c[:, 1], qc[:, 1] - m10 * c[:, 0] - m11 * c[:, 1]
    # [n,h]: every hypothesis applied to every match, minus where it went: [x y 1 x'] . [m00 m01 tx -1]
    # as one matrix product (a third less time than the broadcast arithmetic, the same numbers).
    one, minus = np.ones((n, 1), p.dtype), -np.ones_like(tx)
    dx = np.hstack([p, one, q[:, :1]]) @ np.stack([m00, m01, tx, minus])
    dy = np.hstack([p, one, q[:, 1:]]) @ np.stack([m10, m11, ty, minus])
    dx *= dx
    dy *= dy
    dx += dy
    return int(np.count_nonzero(dx < threshold * threshold, axis=0).max())


def query_features(embedder, photos: list[Image.Image], block: int, size: int = LOCAL_SIZE,
                   frame: str = LOCAL_FRAME) -> list:
    """Local features of each query photo, from one CNN batch."""
    maps = embedder.local_map(np.stack([framed(im, size, frame) for im in photos]), block)
    return [local_features(m) for m in maps]


def photo_maps(embedder, paths: list[Path], max_pixels: int, block: int, size: int = LOCAL_SIZE,
               frame: str = LOCAL_FRAME) -> list:
    """The block map of each photo file, or None for one that cannot be read (errors as values)."""
    from soldsight.price.views import read_photo

    out: list = [None] * len(paths)
    loaded = [(i, read_photo(Path(p), max_pixels)[0]) for i, p in enumerate(paths)]
    loaded = [(i, im) for i, im in loaded if im is not None]
    if loaded:
        maps = embedder.local_map(np.stack([framed(im, size, frame) for _, im in loaded]), block)
        for (i, _), m in zip(loaded, maps):
            out[i] = m
    return out


def candidate_features(embedder, paths: list[str], home: Path, max_pixels: int, block: int, size: int,
                       cache: dict, store=None, frame: str = LOCAL_FRAME) -> None:
    """Fill cache (image_path -> features, or None if unreadable) from the store, else from the photos."""
    missing = []
    for rel in dict.fromkeys(paths):
        if rel in cache:
            continue
        got = store.get(rel) if store is not None else None
        if got is not None:
            cache[rel] = got
        else:
            missing.append(rel)
    if missing:
        for rel, m in zip(missing, photo_maps(embedder, [Path(home) / rel for rel in missing], max_pixels, block, size,
                                              frame)):
            cache[rel] = None if m is None else local_features(m)


def rerank(embedder, photo: Image.Image, comps: list[dict], home: Path, max_pixels: int, *, top: int = 20,
           block: int = LOCAL_BLOCK, size: int = LOCAL_SIZE, frame: str = LOCAL_FRAME, weight: float = 0.02,
           cache: dict | None = None, store=None, query=None) -> list[dict]:
    """comps with the first `top` re-ordered by similarity + weight x affine inliers; each gets `inliers`.

    A candidate's local features come from the store fitted with the index (soldsight.price.local_store)
    when it has the photo, else from its photo under SOLDSIGHT_HOME (images.path), embedded here; cache
    (image_path -> features) lets the photos of one batch share that work. query: the photo's features
    when the caller computed them already (query_features). A candidate whose photo cannot be read keeps
    0 inliers (it can only fall, never vanish).
    """
    head, tail = comps[:top], comps[top:]
    if len(head) < 2:
        return comps
    count_inliers(embedder, photo, head, home, max_pixels, block=block, size=size, frame=frame, cache=cache,
                  store=store, query=query)
    head = sorted(head, key=lambda c: -reranked_score(c, weight))
    return head + tail


def reranked_score(c: dict, weight: float) -> float:
    """A re-ranked comparable's score: its global similarity plus `weight` per affine inlier."""
    return float(c["similarity"]) + weight * c["inliers"]


def count_inliers(embedder, photo: Image.Image, comps: list[dict], home: Path, max_pixels: int, *,
                  block: int = LOCAL_BLOCK, size: int = LOCAL_SIZE, frame: str = LOCAL_FRAME, cache: dict | None = None,
                  store=None, query=None) -> None:
    """Sets each comparable's `inliers`: the query's matches to its photo that agree on one affine placement."""
    cache = {} if cache is None else cache
    candidate_features(embedder, [c["image_path"] for c in comps if c.get("image_path")], home, max_pixels, block,
                       size, cache, store, frame)
    query = query if query is not None else query_features(embedder, [photo], block, size, frame)[0]
    rng = np.random.default_rng(0)  # fixed: the same photo gets the same answer every time
    with one_blas_thread():
        for c in comps:
            cand = cache.get(c.get("image_path"))
            c["inliers"] = 0 if cand is None else inliers_between(query, cand, rng)


def inliers_between(query: tuple, candidate: tuple, rng: np.random.Generator) -> int:
    """Affine inliers among the mutual matches of two photos' local features, each (descriptors, centres)."""
    i, j = mutual_matches(query[0], candidate[0])
    return affine_inliers(query[1][i], candidate[1][j], rng)


def one_blas_thread():
    """A context for many small matrix products: OpenBLAS waking its thread pool for each cost 5-70x the product."""
    return _blas().limit(limits=1, user_api="blas")
