"""Embedding throughput: model-only, end-to-end (decode, resize, infer, write), their ratio, peak memory.

    .venv/bin/python bench/embed.py [--photos 512] [--size 500] [--model lite0] [--workers 2]

Photos are rendered album sleeves (world.generate) shot as phone-like JPEGs (jitter, rotation,
light), registered in a temporary warehouse as downloaded; nothing is written outside a temp dir.
The machine is shared with other helpers: the load average is printed before and after.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from soldsight.settings import Settings  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402


def sleeve(rng: random.Random) -> Image.Image:
    try:
        from world.generate.sleeves import random_art, render_sleeve

        return render_sleeve({"art": random_art(rng), "artist": "Bench Artist", "title": f"Take {rng.random():.3f}"})
    except ImportError:  # the world package is optional for this bench
        small = np.random.default_rng(rng.randrange(2**31)).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        return Image.fromarray(small).resize((512, 512), Image.Resampling.BICUBIC)


def photos(n: int, side: int, seed: int = 0) -> list[bytes]:
    """n distinct JPEGs of side x side pixels, from n // 8 sleeves seen with jitter, as a seller's photos are."""
    rng = random.Random(seed)
    sleeves = [sleeve(rng) for _ in range(max(1, n // 8))]
    out = []
    for i in range(n):
        im = sleeves[i % len(sleeves)].rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR, fillcolor=(40, 38, 36))
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.7, 1.2))
        box = [rng.uniform(0, 40), rng.uniform(0, 40)]
        im = im.crop((*box, 512 - rng.uniform(0, 40), 512 - rng.uniform(0, 40))).resize((side, side), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=rng.randint(80, 92))
        out.append(buf.getvalue())
    return out


def register(settings: Settings, blobs: list[bytes]) -> None:
    rows = []
    for i, data in enumerate(blobs):
        sha = hashlib.sha256(data).hexdigest()
        rel = f"images/{sha[:2]}/{sha}.jpg"
        (settings.home / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings.home / rel).write_bytes(data)
        rows.append(("bench", str(i), f"https://img.example/{i}.jpg", sha, rel, len(data)))
    with open_warehouse(settings) as con:
        con.executemany("INSERT INTO images (source, listing_id, url, status, permanent, attempts, sha256, path, bytes, "
                        "fetched_at) VALUES (?, ?, ?, 'ok', false, 1, ?, ?, ?, now())", rows)


def clear_embeddings(settings: Settings) -> None:
    with open_warehouse(settings) as con:
        con.execute("DELETE FROM embeddings")
        con.execute("DELETE FROM lake_files WHERE table_name = 'embeddings'")
    shutil.rmtree(settings.lake_dir / "embeddings", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=512)
    parser.add_argument("--size", type=int, default=500, help="photo side in pixels (eBay s-l500: 500, s-l1600: 1600)")
    parser.add_argument("--model", default="lite0")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads in the end-to-end run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f} (shared with other helpers)")
    with tempfile.TemporaryDirectory(prefix="soldsight-bench-") as tmp:
        settings = Settings.from_env(home=Path(tmp))
        t = time.perf_counter()
        blobs = photos(args.photos, args.size)
        register(settings, blobs)
        print(f"photos: {len(blobs)} JPEGs {args.size}x{args.size}, {statistics.mean(map(len, blobs)) / 1024:.0f} KiB each "
              f"(made in {time.perf_counter() - t:.1f}s)")

        from soldsight.embed import load_embedder, preprocess
        from soldsight.embed.pending import embed_pending

        t = time.perf_counter()
        embedder = load_embedder(settings, args.model)
        print(f"model: {embedder.model_id}, dim {embedder.dim}, built in {time.perf_counter() - t:.1f}s "
              f"(TensorFlow import included)")

        t = time.perf_counter()
        decoded = np.stack([preprocess(b) for b in blobs])
        decode_rate = len(blobs) / (time.perf_counter() - t)
        print(f"decode+resize only, 1 thread: {decode_rate:.0f} photos/s")

        results = {}
        for batch in (32, 64):
            embedder.batch_size = batch
            embedder.embed_batch(decoded[:batch])  # trace and warm up
            rates = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                embedder.embed_batch(decoded)
                rates.append(len(decoded) / (time.perf_counter() - t))
            results[batch] = max(rates)
            print(f"model-only, batch {batch}: {statistics.median(rates):.0f} photos/s median, {max(rates):.0f} best "
                  f"of {args.repeats}")
        embedder.batch_size = settings.embed_batch_size
        model_only = results[settings.embed_batch_size]

        e2e = []
        for _ in range(args.repeats):
            clear_embeddings(settings)
            report = embed_pending(settings, embedder, workers=args.workers)
            assert report.embedded == len(blobs), report
            e2e.append(report.rate)
        print(f"end-to-end (read, decode, resize, infer, lake write, warehouse load), batch {settings.embed_batch_size}, "
              f"{args.workers} decode threads: {statistics.median(e2e):.0f} photos/s median, {max(e2e):.0f} best")
        print(f"ratio end-to-end / model-only (best runs, batch {settings.embed_batch_size}): {max(e2e) / model_only:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS of this process): {peak:.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
