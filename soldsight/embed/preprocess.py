"""Turns any photo into the uint8 [224,224,3] RGB array the embedders take; one policy for indexing and queries.

Policy (PREPROCESS_VERSION 1), in order:
1. For JPEGs, let the decoder downscale by a power of two (Image.draft) while keeping both sides
   at least 224 / crop_fraction: a cheap, good-quality reduction that makes big photos 4-6x faster to decode.
2. Refuse images whose decoded pixels (after step 1) exceed settings.max_image_pixels, from the header,
   before decoding them (decompression bombs). So a 50-200 MP phone JPEG is taken at what it costs to
   decode (1/8 scale: 3 MP), while a PNG or HEIC is counted whole.
3. Apply the EXIF orientation (ImageOps.exif_transpose).
4. Convert to RGB: transparent pixels (RGBA, LA, PA, P with transparency) are composited on white;
   16-bit and 32-bit greyscale (I;16*, I, F) are scaled to 0-255 (values / 257); CMYK, L, 1, P,
   YCbCr etc. go through Pillow's convert('RGB').
5. Take the centred square whose side is the short side (crop_fraction 1.0), and resize it to
   224x224 with Pillow's antialiased bilinear filter, in one step (resize with a box).
   An image that is already 224x224 RGB is passed through untouched: no crop, no resampling.
Changing anything here must bump PREPROCESS_VERSION, which is part of every model id.
"""
from __future__ import annotations

import io
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin

PREPROCESS_VERSION = 1
SIZE = 224
DEFAULT_MAX_PIXELS = 64_000_000  # a 48-50 MP phone photo in any format; what a 200 MP JPEG decodes to at 1/8


class ImageRejected(ValueError):
    """A photo that cannot be embedded, with the reason as its message."""


# ISO media brands of HEIF stills: what iPhones save photos as by default (.heic).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _head(source, n: int = 12) -> bytes:
    """The file's first bytes; a file object is left where it was."""
    if isinstance(source, (str, Path)):
        try:
            with open(source, "rb") as f:
                return f.read(n)
        except OSError:
            return b""  # Image.open gives the reason
    at = source.tell()
    head = source.read(n)
    source.seek(at)
    return head


def _is_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def _open(source, head: bytes, draft_side: int | None) -> Image.Image:
    if draft_side and head[:3] == b"\xff\xd8\xff":
        # Not through Image.open, whose process-wide bomb check (89 MP warns, 179 MP raises) reads the
        # header's size: a phone's 200 MP JPEG decodes at 1/8 scale, and our limit counts that instead.
        return JpegImagePlugin.JpegImageFile(source)
    return Image.open(source)


@lru_cache(maxsize=1)
def _read_heif() -> None:
    """Teach Pillow HEIF, once and only when one comes: the import costs ~45 ms, paid by HEIF photos alone."""
    from pi_heif import register_heif_opener

    register_heif_opener()


def open_image(source, max_pixels: int = DEFAULT_MAX_PIXELS, draft_side: int | None = None) -> Image.Image:
    """Open a path, bytes or file object lazily, refusing an oversized image before it is decoded.

    draft_side: a JPEG is set to decode at the smallest power-of-two scale whose sides stay at least
    this long, and the limit counts those pixels.
    """
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    head = _head(source)
    if _is_heif(head):
        _read_heif()
    try:
        im = _open(source, head, draft_side)
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"too many pixels: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"cannot identify image: {_short(exc)}") from None
    w, h = im.size
    if draft_side and im.format == "JPEG":
        im.draft("RGB", (draft_side, draft_side))
    decoded = im.size[0] * im.size[1]
    if decoded > max_pixels:
        im.close()
        at = f" decodes at {im.size[0]}x{im.size[1]}" if im.size != (w, h) else ""
        raise ImageRejected(f"too many pixels: {w}x{h}{at} = {decoded} > limit {max_pixels} "
                            "(SOLDSIGHT_MAX_IMAGE_PIXELS)")
    if w < 1 or h < 1:
        raise ImageRejected(f"empty image {w}x{h}")
    return im


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB, by the policy in the module docstring."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16") or values.max(initial=0) > 255:
            values = values / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[..., None], 3, axis=2), "RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


def square_box(width: int, height: int, crop_fraction: float = 1.0) -> tuple[float, float, float, float]:
    """The centred square, crop_fraction of the short side, in source pixel coordinates."""
    side = min(width, height) * crop_fraction
    left, top = (width - side) / 2.0, (height - side) / 2.0
    return (left, top, left + side, top + side)


def preprocess(source, *, max_pixels: int = DEFAULT_MAX_PIXELS, crop_fraction: float = 1.0) -> np.ndarray:
    """A path, bytes, file object, PIL image or uint8 array -> uint8 [224,224,3] RGB.

    Raises ImageRejected with a reason when the photo cannot be used.
    """
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim != 3 or source.shape[2] != 3:
            raise ImageRejected(f"arrays must be uint8 [H,W,3], got {source.dtype} {source.shape}")
        im = Image.fromarray(source, "RGB")
    elif isinstance(source, Image.Image):
        im = source
    else:
        # Both sides stay >= the size requested, so the crop still covers 224 pixels.
        im = open_image(source, max_pixels, draft_side=math.ceil(SIZE / crop_fraction))
    opened = im if im is not source else None  # ours to close (a caller's PIL image is left open)
    try:
        if im.format == "JPEG":  # a caller's PIL image: decoded as small as the crop allows
            im.draft("RGB", (math.ceil(SIZE / crop_fraction),) * 2)
        im.load()
        im = ImageOps.exif_transpose(im, in_place=True) or im  # in place: no copy when nothing to turn
        im = to_rgb(im)
        if im.size == (SIZE, SIZE) and crop_fraction == 1.0:
            out = np.asarray(im, dtype=np.uint8)
        else:
            box = square_box(*im.size, crop_fraction)
            out = np.asarray(im.resize((SIZE, SIZE), Image.Resampling.BILINEAR, box=box), dtype=np.uint8)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"too many pixels: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"cannot decode image: {_short(exc)}") from None
    finally:
        if opened is not None:
            opened.close()
    if out.shape != (SIZE, SIZE, 3):
        raise ImageRejected(f"unexpected decoded shape {out.shape}")
    return np.ascontiguousarray(out)


def _short(exc: Exception) -> str:
    # Pillow names an in-memory file by its address ("<_io.BytesIO object at 0x7f..>"): the same bad photo
    # must give the same reason on every run, so that goes.
    text = re.sub(r" ?<[\w.]+ object at 0x[0-9a-f]+>", "", f"{type(exc).__name__}: {exc}")
    return text if len(text) <= 300 else text[:297] + "..."
