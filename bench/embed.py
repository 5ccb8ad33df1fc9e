"""Embedding throughput: model-only, end-to-end (decode, resize, infer, write), their ratio, peak memory.

    .venv/bin/python bench/embed.py [--photos 512] [--sizes 500,1600] [--model lite0] [--workers 1,2] [--engine litert]

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


def end_to_end_once(settings: Settings, embedder, n: int, workers: int) -> tuple[float, float]:
    """(photos/s, CPU ms per photo) of one embed_pending run over n registered photos."""
    from soldsight.embed.pending import embed_pending

    clear_embeddings(settings)
    cpu = time.process_time()
    report = embed_pending(settings, embedder, workers=workers)
    cpu = time.process_time() - cpu
    assert report.embedded == n, report
    return report.rate, 1000 * cpu / n


def model_only_once(embedder, decoded: np.ndarray) -> tuple[float, float]:
    """(photos/s, CPU ms per photo) of embed_batch over already-decoded photos."""
    t, cpu = time.perf_counter(), time.process_time()
    embedder.embed_batch(decoded)
    return len(decoded) / (time.perf_counter() - t), 1000 * (time.process_time() - cpu) / len(decoded)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=512)
    parser.add_argument("--sizes", default="500,1600", help="photo sides in pixels (eBay s-l500 and s-l1600)")
    parser.add_argument("--model", default="lite0")
    parser.add_argument("--workers", default="1,2", help="decoding threads to try in the end-to-end runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", choices=["litert", "tensorflow"], default="litert",
                        help="litert: what `soldsight embed` runs for lite0 (converted from TensorFlow's network first)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    workers = [int(x) for x in args.workers.split(",")]

    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f} (shared with other helpers)")
    with tempfile.TemporaryDirectory(prefix="soldsight-bench-") as tmp:
        settings = Settings.from_env(home=Path(tmp) / "model-only")
        from soldsight.embed import load_batch_embedder, load_embedder, preprocess

        t = time.perf_counter()
        embedder = load_embedder(settings, args.model)
        if args.engine == "litert":
            embedder, _ = load_batch_embedder(settings, args.model, embedder=embedder)
        print(f"model: {embedder.model_id} on {type(embedder).__name__}, dim {embedder.dim}, built (and converted) in "
              f"{time.perf_counter() - t:.1f}s (TensorFlow import included)")

        homes, decoded = {}, None
        for side in sizes:
            t = time.perf_counter()
            blobs = photos(args.photos, side)
            kib = statistics.mean(map(len, blobs)) / 1024
            made = time.perf_counter() - t
            t = time.perf_counter()
            decoded = np.stack([preprocess(b) for b in blobs])
            print(f"photos {side}x{side}: {len(blobs)} JPEGs, {kib:.0f} KiB each (made in {made:.1f}s); "
                  f"decode+resize alone, 1 thread: {len(decoded) / (time.perf_counter() - t):.0f} photos/s")
            homes[side] = Settings.from_env(home=Path(tmp) / f"e2e-{side}")
            register(homes[side], blobs)

        for batch in (4, 8, 16, 32, 64):
            embedder.batch_size = batch
            embedder.embed_batch(decoded[:batch])  # warm up
            runs = [model_only_once(embedder, decoded) for _ in range(args.repeats)]
            rates = [r for r, _ in runs]
            print(f"model-only, batch {batch}: {statistics.median(rates):.0f} photos/s median, {max(rates):.0f} best "
                  f"of {args.repeats}; {statistics.median(c for _, c in runs):.1f} CPU ms per photo")
        embedder.batch_size = settings.embed_batch_size

        # The machine is shared, so each end-to-end run is paired with a model-only run just before it,
        # and the ratio is taken within pairs (median of pairs).
        for side in sizes:
            for n in workers:
                pairs = []
                for _ in range(args.repeats):
                    m = model_only_once(embedder, decoded)
                    e = end_to_end_once(homes[side], embedder, args.photos, n)
                    pairs.append((m, e))
                ratios = [e[0] / m[0] for m, e in pairs]
                cpu_ratio = statistics.median(m[1] for m, _ in pairs) / statistics.median(e[1] for _, e in pairs)
                print(f"end-to-end {side}px (read, decode, resize, infer, lake write, warehouse load), batch "
                      f"{settings.embed_batch_size}, {n} decode thread(s): {statistics.median(e[0] for _, e in pairs):.0f} "
                      f"photos/s median ({max(e[0] for _, e in pairs):.0f} best), "
                      f"{statistics.median(e[1] for _, e in pairs):.1f} CPU ms per photo; paired model-only "
                      f"{statistics.median(m[0] for m, _ in pairs):.0f}/s; ratio {statistics.median(ratios):.2f} median of "
                      f"pairs ({', '.join(f'{r:.2f}' for r in ratios)}); CPU-cost ratio {cpu_ratio:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS of this process): {peak:.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
