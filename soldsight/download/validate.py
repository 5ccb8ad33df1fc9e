"""Checks that a body is a whole, sane image: type header agrees with magic bytes, Pillow decodes it all."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from soldsight.download.fetch import PERMANENT, SUSPECT

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {
    "image/jpeg": "JPEG", "image/jpg": "JPEG", "image/pjpeg": "JPEG",
    "image/png": "PNG", "image/x-png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
# Types that say nothing about the format, so only the magic bytes decide.
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/binary"}


@dataclass(frozen=True)
class ImageInfo:
    format: str     # JPEG | PNG | WEBP | GIF
    ext: str
    width: int
    height: int


@dataclass(frozen=True)
class Invalid:
    error: str      # not_image | content_type_mismatch | corrupt | too_many_pixels | too_large
    kind: str
    detail: str


def sniff(body: bytes) -> str | None:
    """The image format named by the first bytes, or None."""
    if body[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "WEBP"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def _looks_like_markup(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"{", b"<"))


def validate_image(body: bytes, content_type: str | None, *, max_bytes: int, max_pixels: int) -> ImageInfo | Invalid:
    if len(body) > max_bytes:
        return Invalid("too_large", PERMANENT, f"{len(body)} bytes exceeds the {max_bytes}-byte limit")
    if not body:
        return Invalid("not_image", SUSPECT, "empty body")
    magic = sniff(body)
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if magic is None:
        what = "an HTML/text page" if _looks_like_markup(body) else "unknown bytes"
        return Invalid("not_image", SUSPECT, f"{what} (Content-Type {declared or 'none'})")
    if declared not in GENERIC_TYPES and CONTENT_TYPES.get(declared) != magic:
        return Invalid("content_type_mismatch", SUSPECT, f"Content-Type {declared} but the bytes are {magic}")
    # No warnings.catch_warnings() here: it swaps process-wide state and is not thread-safe. Our own
    # pixel limit (below Pillow's) rejects bombs; Pillow's error covers the rest.
    try:
        with Image.open(io.BytesIO(body), formats=[magic]) as im:
            width, height = im.size
            if width * height > max_pixels:
                return Invalid("too_many_pixels", PERMANENT,
                               f"{width}x{height} = {width * height} pixels exceeds the {max_pixels} limit")
            im.load()   # the whole image, so truncated and corrupt data show up here
    except Image.DecompressionBombError as exc:
        return Invalid("too_many_pixels", PERMANENT, f"decompression bomb: {exc}"[:300])
    except OSError as exc:
        # A body that ends early but had the promised length is the file's fault, not the transport's:
        # 'corrupt' (suspect) here; transport-level truncation is caught in fetch_once (transient).
        if "truncated" in str(exc).lower():
            return Invalid("corrupt", SUSPECT, f"{magic} data ends early: {exc}"[:300])
        return Invalid("corrupt", SUSPECT, f"{magic} does not decode: {exc}"[:300])
    except Exception as exc:  # Pillow raises SyntaxError, ValueError, ... on garbage
        return Invalid("corrupt", SUSPECT, f"{magic} does not decode: {type(exc).__name__}: {exc}"[:300])
    if width <= 0 or height <= 0:
        return Invalid("corrupt", SUSPECT, f"{magic} has no pixels")
    return ImageInfo(magic, FORMATS[magic], width, height)
