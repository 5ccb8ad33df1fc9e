"""Query-side robustness: the views (crops, rotations) of one photo and how their features are pooled.

A hand-held photo shows the sleeve tilted, in clutter, filling only part of the frame. Rather
than one centre crop, the photo is looked at through several square windows; each window is
embedded and the best-scoring window decides (see soldsight.price.search). The embedder's
feature_map is pooled here (average or GeM), so the embedder itself needs no change.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageStat

from soldsight.embed.preprocess import ImageRejected, open_image, to_rgb

SIZE = 224
GEM_P = 3.0

# (scale of the short side, centre x, centre y) in fractions of the image; 1.0 is the whole square.
VIEW_SETS = {
    "full": [(1.0, 0.5, 0.5)],
    "crops5": [(1.0, 0.5, 0.5), (0.75, 0.5, 0.5), (0.55, 0.5, 0.5), (0.75, 0.35, 0.5), (0.75, 0.65, 0.5)],
    "crops9": [(1.0, 0.5, 0.5), (0.8, 0.5, 0.5), (0.6, 0.5, 0.5)]
    + [(0.7, x, y) for x in (0.35, 0.65) for y in (0.35, 0.65)] + [(0.45, 0.5, 0.5), (1.0, 0.5, 0.5, "pad")],
}
# crops9's four corner windows and the letterboxed photo: where a sleeve off the centre square is
# (soldsight.price.second_look)
VIEW_SETS["corners+pad"] = VIEW_SETS["crops9"][3:7] + VIEW_SETS["crops9"][8:]


def load_photo(source, max_pixels: int, work_side: int = 640) -> Image.Image:
    """Decode a photo once, upright (EXIF), RGB, at most work_side on its long side; ImageRejected if unusable."""
    im = open_image(source, max_pixels, draft_side=work_side)
    try:
        im.load()
        im = to_rgb(ImageOps.exif_transpose(im))
        if max(im.size) > work_side:
            im.thumbnail((work_side, work_side), Image.Resampling.BILINEAR)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"too many pixels: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"cannot decode image: {type(exc).__name__}: {exc}"[:300]) from None
    return im


def view(im: Image.Image, scale: float, cx: float, cy: float, mode: str = "crop", size: int = SIZE) -> np.ndarray:
    """One square window of the photo as uint8 [size,size,3]; mode 'pad' letterboxes the whole photo instead."""
    w, h = im.size
    if mode == "pad":
        side = max(w, h)
        canvas = Image.new("RGB", (side, side), tuple(int(c) for c in ImageStat.Stat(im).mean))
        canvas.paste(im, ((side - w) // 2, (side - h) // 2))
        return np.asarray(canvas.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
    side = min(w, h) * scale
    left = min(max(cx * w - side / 2, 0), w - side)
    top = min(max(cy * h - side / 2, 0), h - side)
    box = (left, top, left + side, top + side)
    return np.asarray(im.resize((size, size), Image.Resampling.BILINEAR, box=box), dtype=np.uint8)


def views(im: Image.Image, view_set: str = "crops5", rotations=(0,)) -> np.ndarray:
    """uint8 [V,224,224,3]: each window of view_set, at each rotation (degrees counter-clockwise)."""
    out = []
    for rot in rotations:
        base = im if rot == 0 else im.rotate(rot, expand=True)
        for spec in VIEW_SETS[view_set]:
            out.append(view(base, *spec))
    return np.stack(out)


def pool(fmap: np.ndarray, pooling: str = "gem") -> np.ndarray:
    """[N,7,7,C] feature maps -> [N,C] unit vectors, by average or generalised-mean (p=3) pooling."""
    if pooling == "gem":
        pooled = np.mean(np.maximum(fmap, 1e-6) ** GEM_P, axis=(1, 2)) ** (1.0 / GEM_P)
    elif pooling == "avg":
        pooled = fmap.mean(axis=(1, 2))
    else:
        raise ValueError(f"pooling must be avg or gem, not {pooling!r}")
    return l2n(pooled)


def l2n(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def read_photo(path: Path, max_pixels: int) -> tuple[Image.Image | None, str | None, str | None]:
    """(decoded photo, None, sha256) or (None, reason, sha256 or None): errors as values, so one bad file cannot
    stop the batch. The file is read once: the digest is of the very bytes decoded."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, "no such file" if not path.exists() else f"cannot read photo: {exc.strerror or exc}", None
    digest = hashlib.sha256(data).hexdigest()
    try:
        if not data:
            raise ImageRejected("empty file")
        return load_photo(data, max_pixels), None, digest
    except ImageRejected as exc:
        return None, str(exc), digest
    except Exception as exc:  # a decoder bug on a hostile file is still just this photo's error
        return None, f"cannot read photo: {type(exc).__name__}: {exc}"[:300], digest
