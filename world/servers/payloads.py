"""Bodies for the image host's faults: decompression bombs, corrupt JPEGs, an HTML page. Built once."""
from __future__ import annotations

import functools
import io
import random
import struct
import zlib

BOMB_SIDE = 20_000  # 400 M pixels: past Pillow's DecompressionBombError limit (2 x 89.5 M)

ENDED_PAGE = b"""<!DOCTYPE html><html><head><title>Error Page | eBay</title></head>
<body><h1>We looked everywhere.</h1><p>Looks like this page is missing. If you still need help
finding things, try searching.</p></body></html>"""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def bomb_png() -> bytes:
    """A valid, fully decodable 1-bit PNG of BOMB_SIDE^2 pixels that weighs about 50 KB."""
    row = b"\x00" + b"\x00" * (BOMB_SIDE // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(BOMB_SIDE)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


@functools.cache
def _small_jpeg() -> bytes:
    from PIL import Image

    rng = random.Random(7)
    img = Image.frombytes("RGB", (64, 64), bytes(rng.randrange(256) for _ in range(64 * 64 * 3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@functools.cache
def bomb_jpeg() -> bytes:
    """A 64x64 JPEG whose frame header claims 60000x60000 pixels."""
    data = bytearray(_small_jpeg())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60_000, 60_000)
    return bytes(data)


@functools.cache
def corrupt_jpeg() -> bytes:
    """JPEG headers up to the start of scan, then random bytes and no end marker."""
    data = _small_jpeg()
    sos = data.find(b"\xff\xda")
    header_len = struct.unpack(">H", data[sos + 2:sos + 4])[0]
    rng = random.Random(11)
    garbage = bytes(rng.randrange(256) for _ in range(600)).replace(b"\xff", b"\x00")
    return data[: sos + 2 + header_len] + garbage


def sniff_content_type(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"GIF8":
        return "image/gif"
    return "application/octet-stream"
