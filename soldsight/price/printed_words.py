"""The words printed on the listing photos, against the words read on the query photo: which pressing it is.

Two pressings of one album share artwork, artist and title; what often tells them apart is print on the
sleeve, such as a sticker ('180g', 'DELUXE', 'Includes the hit'). To the image features a sticker is a
few cells among hundreds, and a photo of the plain pressing matched its stickered pressing as often as
not (docs/price.md, session 23). The price fit reads each indexed photo once (warehouse table photo_text).
When a query photo's sleeve is read, a challenger among the contenders (text_match.contenders) that the
title words agree with as much as with the match becomes the match when
- a word printed on the challenger's photo is read on the query and is not printed on the match's; or
- a word printed on the match's photo is not read on the query, though the query was read plainly enough
  (LEGIBLE characters of the match's title and artist), and is not printed on the challenger's, whose own
  such words were all read.
Only words printed on RECURRING contenders' photos count, and only those that are not the listing's own title
and artist read another way: one photo's misreading, or the title, is not print that tells pressings apart.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pyarrow as pa

from soldsight.price import sleeve_text
from soldsight.price.text_match import MIN_INLIERS, MIN_WORD, agreement, contenders, look_alike, one_item, read_text
from warehouse.sql_files import sql

RECURRING = 2  # contenders' photos a printed word must be read on: one photo's misreading is not print
LEGIBLE = 8    # characters of the match's title and artist read on the query for a missing word to count
STORE_EVERY = 2000  # photos a fit reads (about 70 s on 2 cores) before storing them
TITLE_RUN = 4  # characters in a row that a printed word shares with the listing's title or artist for it to be
               # that title read another way ('inofSummStatic', a seller's 'Last Feer'), not print of its own


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
            f"min {sleeve_text.MIN_CONFIDENCE}")


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


def _words(lines) -> set[str]:
    return {w for w in (look_alike(line) for line in lines or []) if len(w) >= MIN_WORD}


class _Print:
    """The printed words of one photo's contenders: each one's words, and which of them tell pressings apart."""

    def __init__(self, near: list[dict], printed: dict[str, list[str]]):
        self.words = {id(c): _words(printed.get(c.get("image_path"))) for c in near}
        seen = Counter(w for ws in self.words.values() for w in ws)
        self.telling = {id(c): {w for w in self.words[id(c)] if seen[w] >= RECURRING and not _titled(w, c)}
                        for c in near}

    def on(self, c: dict) -> set[str]:
        return self.words[id(c)]

    def telling_on(self, c: dict) -> set[str]:
        return self.telling[id(c)]


def _titled(word: str, c: dict) -> bool:
    """Whether a printed word is the listing's own title or artist, read or spelt another way."""
    own = look_alike(f"{c.get('title') or ''}{c.get('artist') or ''}")
    return word in own or any(word[i:i + TITLE_RUN] in own for i in range(len(word) - TITLE_RUN + 1))


def _near(comps: list[dict], weight: float, margin: float) -> list[dict]:
    return [c for c in contenders(comps, weight, margin)
            if one_item(c) and (c is comps[0] or c["inliers"] >= MIN_INLIERS)]


def print_differs(comps: list[dict], printed: dict[str, list[str]], weight: float, margin: float) -> bool:
    """Whether the match's photo and a contender's differ in a word that tells pressings apart: the sleeve is
    then worth reading even when every contender is the same item by its details (a pressing of the same year)."""
    near = _near(comps, weight, margin)
    if len(near) < 2:
        return False
    words = _Print(near, printed)
    match = near[0]
    return any(words.telling_on(match) - words.on(c) or words.telling_on(c) - words.on(match) for c in near[1:])


def choose_by_printed_words(comps: list[dict], lines: list[str], printed: dict[str, list[str]], weight: float,
                            margin: float) -> tuple[list[dict], str | None]:
    """comps with the first contender that the printed words prefer to the match moved first (the module's
    rule), and why, in words for the answer; (comps, None) when the match stays."""
    near = _near(comps, weight, margin)
    if len(near) < 2 or not lines:
        return comps, None
    words, title_read, read = _Print(near, printed), read_text(lines), "".join(look_alike(line) for line in lines)
    match = near[0]
    agreed = agreement(match, title_read)

    def why(c: dict) -> str | None:
        if agreement(c, title_read) < agreed:
            return None
        found = {w for w in words.telling_on(c) if w in read} - words.on(match)
        if found and {w for w in words.telling_on(match) if w in read} <= words.on(c):
            return f"{_as_printed(found, c, printed)} is printed on its photo and read on the sleeve"
        missing = {w for w in words.telling_on(match) if w not in read} - words.on(c)
        unexplained = {w for w in words.telling_on(c) if w not in read} - words.on(match)
        if missing and agreed >= LEGIBLE and not unexplained:
            return (f"{_as_printed(missing, match, printed)} is printed on the photo of listing "
                    f"{match['listing_id']} but not read on the sleeve")
        return None

    for c in near[1:]:
        reason = why(c)
        if reason:
            return [c, *(x for x in comps if x is not c)], reason
    return comps, None


def _as_printed(found: set[str], c: dict, printed: dict[str, list[str]]) -> str:
    """The words as read on the listing's photo ('DELUXE', not the comparison's 'deluxe')."""
    shown = [line for line in printed.get(c.get("image_path")) or [] if look_alike(line) in found]
    return " / ".join(f"'{line}'" for line in dict.fromkeys(shown))
