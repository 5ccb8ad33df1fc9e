"""Ingest throughput: generate N export records (NDJSON) and ingest them into a fresh warehouse.

Prints records/s (wall and per CPU-second, worker processes included), peak memory and the
load average before and after, since a figure taken on a busy machine is not a quiet-machine
figure. Usage: python bench/ingest.py [N] [WORKERS]   (WORKERS: processes; default: as ingest chooses,
one per core the load average leaves idle)
"""
from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from soldsight.ingest.ingest import ingest_file
from soldsight.ingest.pieces import default_workers
from warehouse.connection import connect

GRADES = ["Very Good Plus (VG+)", "Near Mint (NM or M-)", "Excellent (EX)", "E-", "VG+", "Good Plus (G+)",
          "See Item Description", "Very Good Plus (VG+)  -  wear, stain", None]
SHIPPING = ["US $4.87\u00a0Economy Shipping. See detailsfor shippingLocated in: Henderson, NV",
            "Free Economy Shipping. See details...", None]


def make_records(n: int, rng: random.Random):
    for i in range(n):
        if i % 97 == 0:
            yield {"input": {"keyword": "bench", "count": 60, "condition": "Used"},
                   "error": "Crawler error: Unexpected Status 502"}
            continue
        yield {
            "ebay_id": str(300000000000 + rng.randrange(n)),  # some ids repeat, as in real exports
            "title": f"Artist {i % 500} Album {i % 2000} LP Vinyl VG+",
            "price": {"value": round(rng.uniform(3, 200), 2), "currency": "USD", "symbol": "$"},
            "shipping_price": rng.choice(SHIPPING),
            "location": "Henderson, Nevada, United States",
            "condition": rng.choice(["UsedAn item that has been used previously.", "Pre-owned", "New", None]),
            "artist": f"Artist {i % 500}, Guest {i % 7}",
            "record_grading": rng.choice(GRADES),
            "sleeve_grading": rng.choice(GRADES),
            "release_year": str(rng.randrange(1955, 2025)),
            "sold_date": f"May {rng.randrange(1, 29):02d}, 2024 16:11:12 PDT",
            "image_url": f"https://i.ebayimg.com/images/g/{i:08x}/s-l500.webp",
            "full_description_url": f"https://www.ebay.com/itm/{300000000000 + i}",
            "input": {"keyword": f"Artist {i % 500} Vinyl", "count": 60, "condition": "Used"},
        }


def cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(n: int = 100_000, workers: int | None = None) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "bench.ndjson"
        with export.open("w", encoding="utf-8") as fh:
            for record in make_records(n, rng):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        size_mb = export.stat().st_size / 1e6
        con = connect(Path(tmp) / "home" / "soldsight.duckdb")
        load_before = os.getloadavg()
        workers = workers or default_workers()  # what ingest_file would choose now
        started, cpu_started = time.perf_counter(), cpu_seconds()
        summary = ingest_file(con, Path(tmp) / "home" / "lake", export, workers=workers)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        load_after = os.getloadavg()
        con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"ingest: {n} records ({size_mb:.1f} MB NDJSON) in {elapsed:.2f} s = {n / elapsed:,.0f} records/s"
          f" on {workers} process(es), {os.cpu_count()} cores")
    print(f"  CPU time {cpu:.2f} s = {n / cpu:,.0f} records per CPU-second (wall is inflated when the machine is shared)")
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(f"  new {summary.new}, updated {summary.updated}, duplicates {summary.duplicates}, errors {summary.error_count}")
    print(f"  peak RSS {peak_mb:,.0f} MB (largest worker process {child_mb:,.0f} MB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else None)
