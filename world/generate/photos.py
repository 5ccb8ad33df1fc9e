"""Seller-style photos of a sleeve: tilt, rotation, scale, clutter, uneven light, glare, blur, compression."""
from __future__ import annotations

import functools
import io
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from world.generate.sleeves import SIDE, render_back, render_record, render_sleeve, smooth_noise

ORIENTATIONS = {"landscape": (4, 3), "portrait": (3, 4), "square": (1, 1)}
SCENES = ("wood", "floor", "cloth", "table", "records")


@functools.lru_cache(maxsize=256)
def _sleeve_png(path: str) -> Image.Image:
    return Image.open(path).convert("RGB")


def sleeve_image(album: dict, sleeves_dir: str | None) -> Image.Image:
    """The album's front, from the rendered file when there is one (workers share the disk, not memory)."""
    if sleeves_dir:
        file = Path(sleeves_dir) / f"{album['album_id']}.png"
        if file.exists():
            return _sleeve_png(str(file))
    return render_sleeve(album)


# --- geometry -----------------------------------------------------------------------------------

def perspective_coeffs(dst, src) -> list[float]:
    """PIL PERSPECTIVE data mapping output points `dst` back to input points `src` (4 pairs)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)).tolist()


def _quad(cx, cy, side, angle, tilt, rng: random.Random):
    """Corners (tl, tr, br, bl) of a square of `side` turned by `angle` and skewed by up to `tilt`."""
    h = side / 2
    corners = []
    for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h)):
        x = cx + dx * math.cos(angle) - dy * math.sin(angle)
        y = cy + dx * math.sin(angle) + dy * math.cos(angle)
        corners.append((x + rng.uniform(-tilt, tilt) * side, y + rng.uniform(-tilt, tilt) * side))
    return corners


def _paste_warped(canvas: Image.Image, item: Image.Image, quad, shadow: float = 0.0) -> None:
    """Warp `item` onto the quadrilateral `quad` of `canvas`, with a soft drop shadow."""
    cw, ch = canvas.size
    off = max(2, int(cw * 0.012))
    # Work only inside the quad's bounding box: a full-canvas transform costs 5-10x more.
    x0 = max(0, int(min(x for x, _ in quad)) - 2 * off)
    y0 = max(0, int(min(y for _, y in quad)) - 2 * off)
    x1 = min(cw, int(max(x for x, _ in quad)) + 3 * off)
    y1 = min(ch, int(max(y for _, y in quad)) + 3 * off)
    if x1 <= x0 or y1 <= y0:
        return
    box = (x1 - x0, y1 - y0)
    local = [(x - x0, y - y0) for x, y in quad]
    w, h = item.size
    coeffs = perspective_coeffs(local, [(0, 0), (w, 0), (w, h), (0, h)])
    if shadow > 0:
        sh = Image.new("L", box, 0)
        ImageDraw.Draw(sh).polygon([(x + off, y + off) for x, y in local], fill=int(255 * shadow))
        canvas.paste((0, 0, 0), (x0, y0), sh.filter(ImageFilter.BoxBlur(off * 1.5)))
    if item.mode != "RGBA":
        item = item.convert("RGBA")  # one transform carries colour and coverage together
    warped = item.transform(box, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    canvas.paste(warped, (x0, y0), warped)


# --- scenes --------------------------------------------------------------------------------------

def _scene(kind: str, w: int, h: int, rng: random.Random, nrng: np.random.Generator, clutter,
           main_scale: float = 0.6) -> Image.Image:
    full_w, full_h = w, h
    w, h = (w + 1) // 2, (h + 1) // 2  # surfaces are smooth: draw at half size, then upscale once
    n = max(w, h)
    if kind == "wood":
        noise = smooth_noise(nrng, n, (3, 8))[:h, :w]
        along = np.mgrid[0:h, 0:w][rng.randrange(2)].astype(np.float32) / n  # grain runs either way
        grain = np.sin((along * rng.uniform(20, 60) + noise * rng.uniform(4, 10)) * math.pi) * 0.5 + 0.5
        base = np.float32([rng.uniform(90, 170), rng.uniform(55, 105), rng.uniform(25, 60)])
        arr = base * (0.75 + 0.35 * grain[..., None])
    elif kind == "floor":
        fine = smooth_noise(nrng, n, (48, 96))[:h, :w]
        coarse = smooth_noise(nrng, n, (3,))[:h, :w]
        base = np.float32([rng.uniform(60, 200) for _ in range(3)])
        arr = base * (0.7 + 0.3 * fine[..., None]) * (0.85 + 0.3 * coarse[..., None])
    elif kind == "cloth":
        folds = smooth_noise(nrng, n, (2, 5))[:h, :w]
        base = np.float32([rng.uniform(150, 245) for _ in range(3)])
        arr = base * (0.7 + 0.35 * folds[..., None])
    else:  # table or records: a plain surface
        grey = rng.choice([rng.uniform(20, 50), rng.uniform(200, 245), rng.uniform(110, 160)])
        arr = np.full((h, w, 3), grey, np.float32) * np.float32([rng.uniform(0.92, 1.08) for _ in range(3)])
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8)[:h, :w]).resize((full_w, full_h), Image.BILINEAR)
    w, h = full_w, full_h
    if kind == "records":
        for other in clutter:  # other sleeves lying around, partly out of frame
            side = min(w, h) * min(0.9, main_scale * rng.uniform(0.7, 1.0))
            cx, cy = rng.choice([rng.uniform(-0.1, 0.15), rng.uniform(0.85, 1.1)]) * w, rng.uniform(0, 1) * h
            _paste_warped(img, other, _quad(cx, cy, side, rng.uniform(-0.6, 0.6), 0.04, rng), shadow=0.3)
    return img


# --- wear and light ---------------------------------------------------------------------------------

def wear(sleeve: Image.Image, amount: float, rng: random.Random) -> Image.Image:
    """Ring wear, scuffs and edge wear for worn sleeves (amount 0: mint, 1: poor)."""
    if amount <= 0.05:
        return sleeve
    img = sleeve.copy()
    n = img.size[0]
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    a = int(120 * amount)
    r = n * rng.uniform(0.41, 0.45)
    cx, cy = n / 2 + rng.uniform(-8, 8), n / 2 + rng.uniform(-8, 8)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(235, 235, 230, a), width=max(2, int(n * 0.02 * amount)))
    for _ in range(int(25 * amount)):
        x, y = rng.uniform(0, n), rng.uniform(0, n)
        d.line([(x, y), (x + rng.uniform(-30, 30), y + rng.uniform(-30, 30))], fill=(240, 240, 235, a), width=1)
    d.rectangle([0, 0, n - 1, n - 1], outline=(230, 228, 220, a), width=max(1, int(n * 0.012 * amount)))
    img.paste(over, (0, 0), over)
    return img


def _light(arr: np.ndarray, rng: random.Random, glare_at, glare_size: float, strong: bool) -> np.ndarray:
    """Uneven light (a slope and a vignette), a colour cast, and a glare spot, in place."""
    h, w, _ = arr.shape
    x = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    y = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    a = rng.uniform(0, 2 * math.pi)
    gain = rng.uniform(0.85, 1.15) * (1 + rng.uniform(0.1, 0.5 if strong else 0.35) * (x * math.cos(a) + y * math.sin(a)))
    vignette = 1 - rng.uniform(0, 0.25) * 2 * (x * x + y * y)
    cast = np.float32([rng.uniform(0.9, 1.1), rng.uniform(0.95, 1.05), rng.uniform(0.88, 1.1)])
    arr *= (gain * vignette)[..., None]
    arr *= cast
    if glare_at is not None:
        gx, gy = glare_at
        r = 3 * glare_size
        gx0, gx1 = int(max(0, gx - r)), int(min(w, gx + r))
        gy0, gy1 = int(max(0, gy - r)), int(min(h, gy + r))
        if gx1 > gx0 and gy1 > gy0:
            bx = np.arange(gx0, gx1, dtype=np.float32)[None, :] - gx
            by = np.arange(gy0, gy1, dtype=np.float32)[:, None] - gy
            blob = rng.uniform(0.3, 0.8) * np.exp(-(bx * bx + by * by) / (2 * glare_size**2))
            win = arr[gy0:gy1, gx0:gx1]
            win += (255 - win) * blob[..., None]
    return arr


# --- the photo ---------------------------------------------------------------------------------------

def defocus(img: Image.Image, radius: float) -> Image.Image:
    """A soft blur of about `radius` px: down- then up-sampling, several times cheaper than GaussianBlur."""
    factor = 1 + radius
    small = img.resize((max(1, round(img.width / factor)), max(1, round(img.height / factor))), Image.BOX)
    return small.resize(img.size, Image.BICUBIC)


@functools.cache
def _noise_tile() -> np.ndarray:
    return np.random.default_rng(1234).standard_normal((1100, 1100, 3), dtype=np.float32)


def _sensor_noise(shape, rng: random.Random) -> np.ndarray:
    """Unit Gaussian noise: a window of one fixed tile, much cheaper than fresh draws per photo."""
    h, w, _ = shape
    tile = _noise_tile()
    y, x = rng.randrange(tile.shape[0] - h + 1), rng.randrange(tile.shape[1] - w + 1)
    return tile[y:y + h, x:x + w]


def canvas_size(orientation: str, longest: int) -> tuple[int, int]:
    a, b = ORIENTATIONS[orientation]
    return (longest, longest * b // a) if a >= b else (longest * a // b, longest)


def compose(job: dict, sleeves_dir: str | None) -> Image.Image:
    """One photo as described by `job` (see plan_photo in world.generate.catalogue)."""
    rng, nrng = random.Random(job["seed"]), np.random.default_rng(job["seed"])
    w, h = canvas_size(job["orientation"], job["longest"])
    albums = job["albums"]
    clutter = [sleeve_image(a, sleeves_dir) for a in job.get("clutter", [])]
    scene = job["scene"]
    canvas = _scene(scene, w, h, rng, nrng, clutter if scene == "records" else [], job["scale"])
    kind, short = job["kind"], min(w, h)
    glare_centre, glare_size = None, 0.0
    if kind == "lot":
        cols = 2 if len(albums) <= 4 else 3
        cell = short * rng.uniform(0.42, 0.5)
        for i, album in enumerate(albums):
            cx = w / 2 + (i % cols - (cols - 1) / 2) * cell * 1.05
            cy = h / 2 + (i // cols - 0.5 * (len(albums) > cols)) * cell * 1.05
            quad = _quad(cx, cy, cell, rng.gauss(0, 0.05), 0.03, rng)
            _paste_warped(canvas, wear(sleeve_image(album, sleeves_dir), job["wear"], rng), quad, shadow=0.4)
    else:
        album = albums[0]
        if kind == "back":
            item = wear(render_back(album), job["wear"], rng)
        elif kind in ("label", "vinyl"):
            item = render_record(album, label_only=kind == "label")
        else:
            item = wear(sleeve_image(album, sleeves_dir), job["wear"], rng)
        side = short * job["scale"]
        margin = side / 2 if not job["cut"] else side * 0.25
        cx = rng.uniform(min(margin, w / 2), max(w - margin, w / 2))
        cy = rng.uniform(min(margin, h / 2), max(h - margin, h / 2))
        angle = math.radians(job["rotation"])
        quad = _quad(cx, cy, side, angle, job["tilt"], rng)
        if kind == "vinyl":  # the record half out of its sleeve
            sleeve_quad = _quad(cx - side * 0.3, cy, side, angle, job["tilt"], rng)
            _paste_warped(canvas, sleeve_image(album, sleeves_dir), sleeve_quad, shadow=0.4)
            quad = _quad(cx + side * 0.2, cy, side * 0.95, angle, job["tilt"] / 2, rng)
        _paste_warped(canvas, item, quad, shadow=0.45)
        if job["glare"]:
            glare_centre = (cx + rng.uniform(-0.3, 0.3) * side, cy + rng.uniform(-0.3, 0.3) * side)
            glare_size = side * rng.uniform(0.04, 0.12)
    arr = _light(np.asarray(canvas, np.float32), rng, glare_centre, glare_size, job.get("hard", False))
    arr += _sensor_noise(arr.shape, rng) * np.float32(job["noise"])
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if job["blur"] > 0:
        img = defocus(img, job["blur"] * job["longest"] / 500)
    return img


def encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        img.save(out, "WEBP", quality=quality, method=2)
    else:
        img.save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


def render_job(job: dict, sleeves_dir: str | None) -> list[tuple[str, int, int, int]]:
    """Render one photo and write every size it is served at; returns (path, width, height, bytes)."""
    img = compose(job, sleeves_dir)
    written = []
    for path, longest in job["outputs"]:
        sized = img if longest >= max(img.size) else img.resize(
            canvas_size(job["orientation"], longest), Image.BILINEAR, reducing_gap=2.0)
        data = encode(sized, job["format"], job["quality"])
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
        written.append((path, sized.size[0], sized.size[1], len(data)))
    return written


__all__ = ["compose", "encode", "render_job", "canvas_size", "perspective_coeffs", "SIDE", "SCENES"]
