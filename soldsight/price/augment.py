"""Synthetic seller-style photos of an indexed photo, for learning the whitening and the threshold.

The sleeve is tilted and warped a little, shrunk to part of the frame, put among clutter (other
sleeves, noise), lit with a glare spot and given a colour cast: what hand-held photos do.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def seller_view(cover: Image.Image, rng: np.random.Generator, others: list[Image.Image] = (), out_side: int = 320) -> Image.Image:
    w = h = out_side
    bg = Image.fromarray(rng.integers(60, 200, (8, 8, 3), dtype=np.uint8)).resize((w, h), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(bg)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = rng.integers(0, w, 2)
        draw.rectangle([int(x0), int(y0), int(x0 + rng.integers(20, 120)), int(y0 + rng.integers(20, 120))],
                       fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    for other in list(others)[:2]:
        side = int(w * rng.uniform(0.3, 0.6))
        o = other.resize((side, side)).rotate(float(rng.uniform(-30, 30)), expand=True, fillcolor=(128, 128, 128))
        bg.paste(o, (int(rng.integers(-side // 2, w - side // 2)), int(rng.integers(-side // 2, h - side // 2))))
    frac = rng.uniform(0.35, 0.95)
    side = int(np.sqrt(frac) * w)
    c = cover.convert("RGBA").resize((side, side), Image.Resampling.BILINEAR)
    # A mild perspective: move each corner by up to 8% of the side; alpha keeps the sleeve's outline.
    d = side * 0.08
    quad = [float(v) for v in (rng.uniform(-d, d), rng.uniform(-d, d), rng.uniform(-d, d), side + rng.uniform(-d, d),
                               side + rng.uniform(-d, d), side + rng.uniform(-d, d), side + rng.uniform(-d, d), rng.uniform(-d, d))]
    c = c.transform((side, side), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    c = c.rotate(float(rng.uniform(-15, 15)), expand=True, resample=Image.Resampling.BILINEAR)
    x = int(rng.integers(0, max(1, w - c.size[0]) + 1))
    y = int(rng.integers(0, max(1, h - c.size[1]) + 1))
    bg.paste(c, (x, y), c)
    arr = np.asarray(bg, dtype=np.float32)
    # Glare: a soft bright ellipse; colour cast: per-channel gain.
    gy, gx = np.mgrid[0:h, 0:w]
    gcx, gcy, gr = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.3) * w
    arr += rng.uniform(0, 140) * np.exp(-(((gx - gcx) ** 2 + (gy - gcy) ** 2) / (2 * gr * gr)))[..., None]
    arr *= rng.uniform(0.85, 1.15, 3)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.5))))
    return img
