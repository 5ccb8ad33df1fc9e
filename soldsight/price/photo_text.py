"""The words printed on each indexed photo, read once by the price fit and kept in the warehouse (photo_text).

What they are for is soldsight.price.printed_words; this module reads them (the sleeve reader of
soldsight.price.sleeve_text, two photos at a time), stores them and looks them up.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pyarrow as pa

from soldsight.price import sleeve_text
from warehouse.sql_files import sql

STORE_EVERY = 2000  # photos a fit reads (about 70 s on 2 cores) before storing them


def in_use(settings) -> bool:
    """Whether fits read the listing photos and pricing compares their print: both asked for, and sleeves read."""
    return settings.read_listing_photos and settings.read_text_margin > 0


def reader_id() -> str:
    """Which reader, at which sizes, read a photo: a fit reads again the photos another reader read."""
    try:
        version = metadata.version("rapidocr-onnxruntime")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return (f"rapidocr-onnxruntime {version} side {sleeve_text.READ_SIDE} retry {sleeve_text.RETRY_SIDE} "
            f"min {sleeve_text.MIN_CONFIDENCE} both ways up {sleeve_text.SURE}")


def already_read(con) -> set[str]:
    """The photos this reader has read (or failed to), which a fit does not read again."""
    return {row[0] for row in con.execute(sql("photo_text_known"), {"reader": reader_id()}).fetchall()}


def read_photos(home: Path, paths: list[str], max_pixels: int) -> list[dict]:
    """One photo_text row per path: the lines read, or the reason none could be (errors as values)."""
    from soldsight.price.views import read_photo

    reader, now = reader_id(), datetime.now(timezone.utc)

    def one(rel: str) -> dict:
        image, error, _ = read_photo(Path(home) / rel, max_pixels)
        lines = None
        if image is not None:
            lines, error = sleeve_text.read_sleeve(image)
        return {"image_path": rel, "lines": lines, "error": error, "reader": reader, "read_at": now}

    with ThreadPoolExecutor(sleeve_text.READERS) as pool:
        return list(pool.map(one, paths))


def read_and_store(settings, paths: list[str], writing, chunk: int = STORE_EVERY) -> int:
    """Read `paths` and store their rows `chunk` photos at a time, each time holding the warehouse briefly
    (writing: as fit_price_model's), so that a fit stopped after an hour of reading keeps what it read.
    Returns the photos read."""
    from warehouse.connection import open_warehouse

    for start in range(0, len(paths), chunk):
        rows = read_photos(settings.home, paths[start:start + chunk], settings.max_image_pixels)
        with writing(), open_warehouse(settings) as con:
            store_photo_text(con, rows)
    return len(paths)


def store_photo_text(con, rows: list[dict]) -> None:
    """Write read_photos' rows in one statement (one INSERT a row would hold the warehouse ~1 ms a photo)."""
    if not rows:
        return
    table = pa.Table.from_pylist(rows, schema=_ROWS)
    con.register("new_photo_text", table)
    try:
        con.execute(sql("record_photo_text"))
    finally:
        con.unregister("new_photo_text")


_ROWS = pa.schema([("image_path", pa.string()), ("lines", pa.list_(pa.string())), ("error", pa.string()),
                   ("reader", pa.string()), ("read_at", pa.timestamp("us", tz="UTC"))])


def printed_on(con, comps_per_photo: list[list[dict]]) -> dict[str, list[str]]:
    """image_path -> lines read at fit, for every candidate photo of the batch that has them."""
    paths = sorted({c["image_path"] for comps in comps_per_photo for c in comps if c.get("image_path")})
    if not paths:
        return {}
    return {path: list(lines) for path, lines in con.execute(sql("photo_text_of"), {"paths": paths}).fetchall()}
