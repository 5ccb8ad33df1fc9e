"""Album artwork from a small JSON-able spec: backgrounds, motifs, text, logos, stickers; plus backs and labels."""
from __future__ import annotations

import colorsys
import functools
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIDE = 512
BACKGROUNDS = ("linear", "radial", "noise", "stripes", "flat", "grid", "halftone", "rings")
MOTIFS = ("shapes", "sun", "blocks", "landscape", "portrait", "waves", "none", "shapes")
TEXT_LAYOUTS = ("top", "bottom", "split", "center", "band", "left")


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


# --- the spec -----------------------------------------------------------------------------

def random_palette(rng: random.Random, hue: float | None = None) -> list[list[int]]:
    """Five colours around one hue, in one of a few colour schemes."""
    hue = rng.random() if hue is None else hue
    scheme = rng.choice(["analogous", "complementary", "triad", "mono", "vivid"])
    offsets = {"analogous": [0, 0.06, -0.06, 0.12, 0.03], "complementary": [0, 0.5, 0.04, 0.46, 0.0],
               "triad": [0, 0.33, 0.66, 0.02, 0.35], "mono": [0, 0, 0.02, -0.02, 0],
               "vivid": [0, 0.2, 0.45, 0.7, 0.85]}[scheme]
    out = []
    for i, off in enumerate(offsets):
        s = rng.uniform(0.35, 1.0) if scheme != "mono" else rng.uniform(0.2, 0.9)
        v = [rng.uniform(0.15, 0.45), rng.uniform(0.55, 1.0)][i % 2] if i < 2 else rng.uniform(0.3, 1.0)
        r, g, b = colorsys.hsv_to_rgb((hue + off) % 1.0, s, v)
        out.append([int(r * 255), int(g * 255), int(b * 255)])
    return out


def random_art(rng: random.Random, style: dict | None = None) -> dict:
    """A new sleeve spec; `style` (from another album of the same artist) fixes the look but not the shapes."""
    art = {
        "seed": rng.randrange(2**31),
        "palette": random_palette(rng),
        "background": rng.choice(BACKGROUNDS),
        "motif": rng.choice(MOTIFS),
        "text": {"layout": rng.choice(TEXT_LAYOUTS), "size": rng.randint(30, 64), "upper": rng.random() < 0.5,
                 "title_colour": None},
        "logo": {"letters": "", "shape": rng.choice(["circle", "square"]), "corner": rng.randrange(4),
                 "colour": [rng.randrange(256) for _ in range(3)]},
        "sticker": None,
        "frame": rng.random() < 0.2,
    }
    if style:
        hue_shift = rng.uniform(-0.08, 0.08)
        art["palette"] = [_shift_hue(c, hue_shift) for c in style["palette"]]
        for key in ("background", "motif", "frame"):
            art[key] = style[key]
        art["text"] = dict(style["text"])
        art["logo"] = dict(style["logo"])
    return art


def _shift_hue(rgb, shift: float) -> list[int]:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    r, g, b = colorsys.hsv_to_rgb((h + shift) % 1.0, s, v)
    return [int(r * 255), int(g * 255), int(b * 255)]


# --- rendering ---------------------------------------------------------------------------------

def smooth_noise(rng: np.random.Generator, size: int, octaves=(4, 8, 16, 48)) -> np.ndarray:
    """Cloud-like noise in [0, 1]: random grids at several scales, upsampled and summed."""
    acc = np.zeros((size, size), np.float32)
    weight = 1.0
    for cells in octaves:
        grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
        up = np.asarray(Image.fromarray(grid).resize((size, size), Image.BICUBIC), np.float32) / 255
        acc += up * weight
        weight *= 0.55
    acc -= acc.min()
    return acc / max(acc.max(), 1e-6)


def _ramp(t: np.ndarray, colours) -> np.ndarray:
    """Map t in [0, 1] (H, W) through a list of colours to RGB float (H, W, 3)."""
    cols = np.asarray(colours, np.float32)
    pos = np.clip(t, 0, 1) * (len(cols) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(cols) - 2)
    frac = (pos - lo)[..., None]
    return cols[lo] * (1 - frac) + cols[lo + 1] * frac


def _background(kind: str, pal, rng: random.Random, nrng: np.random.Generator, n: int) -> np.ndarray:
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    if kind == "linear":
        a = rng.uniform(0, 2 * math.pi)
        t = (xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a) + 0.5
        return _ramp(t, [pal[0], pal[2], pal[1]][: rng.choice([2, 3])])
    if kind == "radial":
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) * rng.uniform(1.0, 1.8)
        return _ramp(t, [pal[1], pal[3], pal[0]])
    if kind == "noise":
        return _ramp(smooth_noise(nrng, n), [pal[0], pal[2], pal[1], pal[4]])
    if kind == "stripes":
        a, width = rng.choice([0, math.pi / 2, math.pi / 4, -math.pi / 4]), rng.uniform(0.04, 0.2)
        t = ((xx * math.cos(a) + yy * math.sin(a)) / width).astype(int) % 3
        return np.asarray([pal[0], pal[1], pal[3]], np.float32)[t]
    if kind == "grid":
        k = rng.randint(3, 9)
        t = ((xx * k).astype(int) + (yy * k).astype(int)) % 2
        return np.asarray([pal[0], pal[3]], np.float32)[t]
    if kind == "halftone":
        k = rng.randint(12, 30)
        d = np.sqrt(((xx * k) % 1 - 0.5) ** 2 + ((yy * k) % 1 - 0.5) ** 2)
        radius = 0.15 + 0.35 * yy if rng.random() < 0.5 else 0.15 + 0.35 * xx
        return np.where((d < radius)[..., None], np.float32(pal[1]), np.float32(pal[0]))
    if kind == "rings":
        cx, cy, k = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(8, 25)
        t = (np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) * k).astype(int) % 4
        return np.asarray([pal[0], pal[1], pal[2], pal[4]], np.float32)[t]
    # flat with grain
    return np.float32(pal[0]) + (smooth_noise(nrng, n, (64, 128))[..., None] - 0.5) * 30


def _poly(cx, cy, r, sides, rot):
    return [(cx + r * math.cos(rot + 2 * math.pi * i / sides), cy + r * math.sin(rot + 2 * math.pi * i / sides))
            for i in range(sides)]


def _motif(img: Image.Image, kind: str, pal, rng: random.Random, nrng: np.random.Generator) -> None:
    n = img.size[0]
    d = ImageDraw.Draw(img, "RGBA")
    col = lambda i, a=255: tuple(pal[i % len(pal)]) + (a,)  # noqa: E731
    if kind == "shapes":
        for _ in range(rng.randint(3, 12)):
            cx, cy, r = rng.uniform(0, n), rng.uniform(0, n), rng.uniform(0.05, 0.3) * n
            c, shape = col(rng.randrange(5), rng.choice([255, 200, 150])), rng.randrange(4)
            if shape == 0:
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=c)
            elif shape == 1:
                d.rectangle([cx - r, cy - r * rng.uniform(0.3, 1), cx + r, cy + r], fill=c)
            elif shape == 2:
                d.polygon(_poly(cx, cy, r, rng.randint(3, 7), rng.uniform(0, 6.3)), fill=c)
            else:
                d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=c, width=max(3, int(r / 4)))
    elif kind == "sun":
        cx, cy, r = n * rng.uniform(0.35, 0.65), n * rng.uniform(0.35, 0.6), n * rng.uniform(0.15, 0.3)
        for i in range(rng.randint(3, 7), 0, -1):
            rr = r * (0.4 + 0.25 * i)
            d.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=col(i, 255 if i == 1 else 110))
    elif kind == "blocks":
        x0, y0, x1, y1 = 0, 0, n, n
        for i in range(rng.randint(4, 9)):
            if rng.random() < 0.5:
                cut = rng.uniform(x0, x1)
                box, x0 = [x0, y0, cut, y1], cut if rng.random() < 0.5 else x0
            else:
                cut = rng.uniform(y0, y1)
                box, y0 = [x0, y0, x1, cut], cut if rng.random() < 0.5 else y0
            d.rectangle(box, fill=col(rng.randrange(5)), outline=(20, 20, 20, 255), width=rng.choice([0, 6]))
    elif kind == "landscape":
        top = int(n * rng.uniform(0.15, 0.35))
        box = [int(n * 0.1), top, int(n * 0.9), top + int(n * rng.uniform(0.4, 0.55))]
        w, h = box[2] - box[0], box[3] - box[1]
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None].repeat(w, 1)
        sky = _ramp(yy, [pal[2], pal[4]])
        hills = smooth_noise(nrng, max(w, h), (3, 6))[:h, :w]
        ground = yy > 0.45 + 0.3 * (hills - 0.5)
        sky[ground] = np.float32(pal[0]) * (0.6 + 0.4 * hills[ground, None])
        img.paste(Image.fromarray(sky.clip(0, 255).astype(np.uint8)), box[:2])
    elif kind == "portrait":
        cx, cy, r = n * rng.uniform(0.4, 0.6), n * rng.uniform(0.4, 0.5), n * rng.uniform(0.12, 0.18)
        d.rectangle([cx - 2.2 * r, cy - 2 * r, cx + 2.2 * r, n * 0.95], fill=col(3))
        d.ellipse([cx - 1.9 * r, cy + 1.1 * r, cx + 1.9 * r, cy + 4 * r], fill=col(1))
        d.ellipse([cx - r, cy - 1.2 * r, cx + r, cy + 1.2 * r], fill=col(1))
    elif kind == "waves":
        k, amp = rng.uniform(2, 6), rng.uniform(0.02, 0.08)
        for i in range(rng.randint(4, 9)):
            base = n * (0.2 + 0.08 * i)
            pts = [(x, base + amp * n * math.sin(k * x / n * 6.28 + i)) for x in range(0, n + 8, 8)]
            d.line(pts, fill=col(i), width=rng.randint(6, 18))


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
    while size > 12 and draw.textlength(text, font=font(size)) > width:
        size -= 3
    return font(size)


def _text(img: Image.Image, art: dict, artist: str, title: str, rng: random.Random) -> None:
    n, t, pal = img.size[0], art["text"], art["palette"]
    d = ImageDraw.Draw(img, "RGBA")
    if t["upper"]:
        artist, title = artist.upper(), title.upper()
    light = sum(pal[0]) > 380
    ink = (20, 20, 24) if light else (245, 242, 235)
    title_ink = tuple(t["title_colour"]) if t.get("title_colour") else tuple(pal[1]) if rng.random() < 0.4 else ink
    big, small = _fit(d, title, t["size"], int(n * 0.86)), _fit(d, artist, int(t["size"] * 0.7), int(n * 0.86))
    margin = int(n * 0.07)
    layout = t["layout"]
    if layout == "band":
        y = int(n * 0.72)
        d.rectangle([0, y - 10, n, y + big.size + small.size + 24], fill=tuple(pal[3]) + (230,))
        d.text((margin, y), title, font=big, fill=title_ink)
        d.text((margin, y + big.size + 6), artist, font=small, fill=ink)
    elif layout == "left":
        d.text((margin, int(n * 0.35)), artist, font=small, fill=ink)
        d.text((margin, int(n * 0.35) + small.size + 8), title, font=big, fill=title_ink)
    elif layout == "split":
        d.text((margin, margin), artist, font=small, fill=ink)
        d.text((n - margin, n - margin), title, font=big, fill=title_ink, anchor="rs")
    elif layout == "center":
        d.text((n / 2, n / 2 - 4), artist, font=small, fill=ink, anchor="ms", stroke_width=2,
               stroke_fill=tuple(pal[0]))
        d.text((n / 2, n / 2 + 4), title, font=big, fill=title_ink, anchor="mt", stroke_width=2,
               stroke_fill=tuple(pal[0]))
    elif layout == "top":
        d.text((n / 2, margin), artist, font=small, fill=ink, anchor="mt")
        d.text((n / 2, margin + small.size + 8), title, font=big, fill=title_ink, anchor="mt")
    else:  # bottom
        d.text((margin, n - margin - big.size - small.size - 8), artist, font=small, fill=ink)
        d.text((margin, n - margin - big.size), title, font=big, fill=title_ink)


def _logo(img: Image.Image, logo: dict) -> None:
    n = img.size[0]
    r = int(n * 0.045)
    corner = logo["corner"]
    cx = n - 2 * r if corner in (1, 2) else 2 * r
    cy = n - 2 * r if corner in (2, 3) else 2 * r
    d = ImageDraw.Draw(img)
    box = [cx - r, cy - r, cx + r, cy + r]
    (d.ellipse if logo["shape"] == "circle" else d.rectangle)(box, fill=tuple(logo["colour"]), outline=(250, 250, 250), width=2)
    d.text((cx, cy), logo["letters"], font=font(int(r * 0.9)), fill=(250, 250, 250), anchor="mm")


def _sticker(img: Image.Image, st: dict) -> None:
    n = img.size[0]
    cx, cy, r = st["x"] * n, st["y"] * n, st["r"] * n
    d = ImageDraw.Draw(img)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(st["colour"]), outline=(255, 255, 255), width=3)
    lines = st["text"].split(" ", 1) if len(st["text"]) > 8 else [st["text"]]
    f = font(max(10, int(r * 0.55 / max(1, len(lines)) * 1.6)))
    for i, line in enumerate(lines):
        dy = (i - (len(lines) - 1) / 2) * f.size * 1.05
        d.text((cx, cy + dy), line, font=_fit(d, line, f.size, int(r * 1.8)), fill=(255, 255, 255), anchor="mm")


def render_sleeve(album: dict, side: int = SIDE) -> Image.Image:
    """The front cover of an album (its 'art' spec, artist and title) as an RGB square."""
    art = album["art"]
    rng, nrng = random.Random(art["seed"]), np.random.default_rng(art["seed"])
    pal = art["palette"]
    bg = _background(art["background"], pal, rng, nrng, side)
    img = Image.fromarray(bg.clip(0, 255).astype(np.uint8))
    _motif(img, art["motif"], pal, rng, nrng)
    if art["frame"]:
        ImageDraw.Draw(img).rectangle([6, 6, side - 7, side - 7], outline=tuple(pal[4]), width=int(side * 0.03))
    _text(img, art, album["artist"], album["title"], rng)
    if art["logo"]["letters"]:
        _logo(img, art["logo"])
    if art.get("sticker"):
        _sticker(img, art["sticker"])
    return img


def render_back(album: dict, side: int = SIDE) -> Image.Image:
    """The back cover: a pale version of the palette, a track list, a barcode."""
    art, rng = album["art"], random.Random(art_seed(album, "back"))
    base = np.float32(album["art"]["palette"][0]) * 0.35 + 160
    img = Image.new("RGB", (side, side), tuple(int(c) for c in base.clip(0, 255)))
    d = ImageDraw.Draw(img)
    f = font(int(side * 0.035))
    d.text((side * 0.08, side * 0.06), f"{album['artist']} - {album['title']}", font=font(int(side * 0.05)), fill=(30, 30, 30))
    for i in range(rng.randint(8, 12)):
        side_letter = "A" if i < 5 else "B"
        d.text((side * 0.08, side * (0.17 + 0.055 * i)),
               f"{side_letter}{i % 5 + 1}  {rng.choice(['Night', 'Road', 'Sweet', 'Lost', 'Blue'])} "
               f"{rng.choice(['Song', 'Train', 'Fever', 'Rain', 'Lights'])}   {rng.randint(2, 6)}:{rng.randint(0, 59):02d}",
               font=f, fill=(40, 40, 40))
    x0, y0 = side * 0.68, side * 0.8
    for i in range(40):
        if rng.random() < 0.6:
            d.rectangle([x0 + i * 3.5, y0, x0 + i * 3.5 + rng.choice([1, 2]), y0 + side * 0.1], fill=(10, 10, 10))
    d.text((side * 0.08, side * 0.9), f"{album['label']}  {album['catalog_number']}", font=f, fill=(50, 50, 50))
    return img


def render_record(album: dict, side: int = SIDE, label_only: bool = False) -> Image.Image:
    """The vinyl disc with its centre label (label_only: a close-up of the label), on transparent ground."""
    rng = random.Random(art_seed(album, "label"))
    img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = side / 2
    label_colour = tuple(album["art"]["logo"]["colour"])
    if label_only:
        d.ellipse([0, 0, side - 1, side - 1], fill=(18, 18, 18, 255))
        r = side * 0.44
    else:
        d.ellipse([0, 0, side - 1, side - 1], fill=(14, 14, 16, 255))
        for k in range(30, int(side / 2) - 4, 3):  # grooves
            shade = 22 + (k * 7) % 18
            d.ellipse([c - k, c - k, c + k, c + k], outline=(shade, shade, shade + 2, 255), width=1)
        r = side * 0.17
    d.ellipse([c - r, c - r, c + r, c + r], fill=label_colour + (255,))
    d.text((c, c - r * 0.45), album["label"], font=font(max(8, int(r * 0.2))), fill=(250, 250, 250), anchor="mm")
    d.text((c, c + r * 0.35), album["title"], font=font(max(8, int(r * 0.17))), fill=(250, 250, 250), anchor="mm")
    d.text((c, c + r * 0.6), f"{album['catalog_number']}  {'SIDE ' + rng.choice('AB')}",
           font=font(max(8, int(r * 0.12))), fill=(240, 240, 240), anchor="mm")
    hole = max(2, side * 0.012)
    d.ellipse([c - hole, c - hole, c + hole, c + hole], fill=(0, 0, 0, 0))
    return img.filter(ImageFilter.SMOOTH) if label_only else img


def art_seed(album: dict, what: str) -> int:
    return (album["art"]["seed"] * 31 + sum(map(ord, what))) % 2**31
