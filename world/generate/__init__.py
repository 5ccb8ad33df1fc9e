"""The deterministic synthetic catalogue: `generate(out, seed, albums, photos)` writes a whole world folder.

The folder (format documented in docs/world.md):
    catalogue.json          albums, listings and photo files (the marketplace renders it)
    answers.json            held-out query photos with their true album and price
    sleeves/<album>.png     clean front covers (512 px)
    images/g/<id>/s-l500.*  listing photos as the image host serves them (+ s-l1600.* for some)
    queries/<q>.jpg|webp    held-out query photos (never among the listings)
Exports pointing at a running image host are written afterwards by `write_export(dir, base_url)`.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from world.generate.catalogue import (
    EXPECTED_SHIPPING, default_as_of, plan_albums, plan_listings, plan_queries,
)
from world.generate.export import marketplace_listings, write_export  # noqa: F401 - public API
from world.generate.photos import render_job
from world.generate.sleeves import render_sleeve

CATALOGUE_FORMAT = "soldsight-world-catalogue"
CATALOGUE_VERSION = 1
INLINE_BELOW = 48  # jobs; fewer than this are not worth starting worker processes for


def _sleeve_task(args):
    album, out = args
    render_sleeve(album).save(out, compress_level=1)
    return out


def _photo_task(args):
    job, sleeves_dir = args
    return render_job(job, sleeves_dir)


def _run(fn, items, workers: int):
    if workers <= 1 or len(items) < INLINE_BELOW:
        return [fn(x) for x in items]
    # spawn, not fork: callers (pytest, `world up`) run server threads, and forking threads is unsafe.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(fn, items, chunksize=max(1, len(items) // (workers * 8))))


def check_sizes(albums: int, photos: int, queries: int | None) -> None:
    """ValueError, with what was asked, for sizes no world can have; the CLIs call it before anything runs."""
    if albums < 1 or photos < albums:
        raise ValueError(f"need at least one album and at least one photo per album, not {albums} albums "
                         f"and {photos} photos")
    if queries is not None and queries < 0:
        raise ValueError(f"queries must be at least 0, not {queries}")


def generate(out: Path | str, seed: int = 0, albums: int = 60, photos: int = 400, queries: int | None = None,
             workers: int | None = None, as_of: datetime | None = None) -> dict:
    """Write a world of `albums` sleeves and `photos` listing photos into `out`; returns a summary.

    The same arguments always give the same files (byte for byte with the same Pillow build).
    """
    check_sizes(albums, photos, queries)
    out = Path(out)
    for sub in ("images", "queries", "sleeves"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "sleeves").mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    as_of = as_of or default_as_of()
    started = time.perf_counter()

    album_list, listings, jobs, answers, query_jobs = plan(out, seed, albums, photos, queries, as_of)
    planned = time.perf_counter()

    _run(_sleeve_task, [(a, str(out / "sleeves" / f"{a['album_id']}.png")) for a in album_list], workers)
    sleeves_done = time.perf_counter()
    written = _run(_photo_task, [(j, str(out / "sleeves")) for j in jobs + query_jobs], workers)
    photos_done = time.perf_counter()

    sizes = {Path(path).relative_to(out).as_posix(): (w, h, n) for files in written for path, w, h, n in files}
    for listing in listings:
        for photo in listing["photos"]:
            w, h, n = sizes[photo["path"].lstrip("/")]
            photo.update(width=w, height=h, bytes=n)
    catalogue = {
        "format": CATALOGUE_FORMAT, "version": CATALOGUE_VERSION, "seed": seed,
        "as_of": as_of.isoformat(), "currency": "USD", "expected_shipping": EXPECTED_SHIPPING,
        "counts": {"albums": len(album_list), "listings": len(listings), "photos": len(jobs),
                   "queries": len(answers)},
        "albums": [{**a, "sleeve": f"sleeves/{a['album_id']}.png"} for a in album_list],
        "listings": listings,
    }
    _write_json(out / "catalogue.json", catalogue)
    _write_json(out / "answers.json", {"format": "soldsight-world-answers", "version": 1, "seed": seed,
                                       "queries": answers})
    finished = time.perf_counter()
    return {
        "out": str(out), "seed": seed, **catalogue["counts"], "workers": workers,
        "seconds": {"plan": round(planned - started, 2), "sleeves": round(sleeves_done - planned, 2),
                    "photos": round(photos_done - sleeves_done, 2), "total": round(finished - started, 2)},
        "photos_per_second": round((len(jobs) + len(query_jobs)) / max(photos_done - sleeves_done, 1e-9), 1),
    }


def plan(out: Path | str, seed: int = 0, albums: int = 60, photos: int = 400, queries: int | None = None,
         as_of: datetime | None = None):
    """Everything `generate` decides, without drawing: (albums, listings, photo jobs, answers, query jobs)."""
    rng = random.Random(seed)
    album_list = plan_albums(rng, albums)
    listings, jobs = plan_listings(rng, album_list, photos, str(out), as_of or default_as_of())
    # The queries draw from their own stream, so asking for more of them leaves the listings alone.
    answers, query_jobs = plan_queries(random.Random(f"{seed}/queries"), album_list,
                                       albums if queries is None else queries, str(out))
    return album_list, listings, jobs, answers, query_jobs


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def load_catalogue(world_dir: Path | str) -> dict:
    return json.loads((Path(world_dir) / "catalogue.json").read_text(encoding="utf-8"))


def load_answers(world_dir: Path | str) -> list[dict]:
    return json.loads((Path(world_dir) / "answers.json").read_text(encoding="utf-8"))["queries"]
