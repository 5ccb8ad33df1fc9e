"""Pricing benchmarks: similarity search in DuckDB vs numpy, one-photo latency, batch rate, cold start, accuracy.

    .venv/bin/python bench/price.py [--world DIR] [--sizes 10000,100000,1000000] [--skip-accuracy] [--rerank N]
        [--latency-index 10000,100000,1000000] [--engines litert,tensorflow] [--refit] [--skip-search] [--turn DEGREES]

--world is a folder made by world.generate (answers.json, queries/); it is generated (60 albums)
when missing. The warehouse for it lives in DIR/bench-home and is reused between runs.
--rerank N re-ranks the best N listings by geometric verification (default: the fitted config's, 20; 0: off);
the cold start uses the fitted config's, for each engine (LiteRT, numpy and TensorFlow).
Prints figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _price_accuracy import accuracy, words_as_a_fit_writes_them  # noqa: E402  (bench/ is on the path)
from soldsight.price import synthetic as syn  # noqa: E402
from warehouse.connection import connect  # noqa: E402
from warehouse.sql_files import sql  # noqa: E402

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
K = 20


def timed(fn, repeat=7):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def numpy_topk(X, q, k=K):
    s = X @ q
    i = np.argpartition(-s, k)[:k]
    return i[np.argsort(-s[i])]


def available_gb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) / 1e6
    return 0.0


def arrow_udf(con, dim):
    """The vectorised Arrow Python UDF option, for the side-by-side."""
    from duckdb.sqltypes import FLOAT

    def cos(a, b):
        a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        b = b.combine_chunks() if isinstance(b, pa.ChunkedArray) else b
        A = a.flatten().to_numpy(zero_copy_only=False).reshape(len(a), -1)
        B = b.flatten().to_numpy(zero_copy_only=False).reshape(len(b), -1)
        s = np.einsum("ij,ij->i", A, B) / (np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=1))
        return pa.array(s.astype(np.float32))

    con.create_function("cosine_similarity_arrow", cos, ["FLOAT[]", "FLOAT[]"], FLOAT, type="arrow")


def search_bench(sizes, dim):
    print(f"\n== comparables search: top-{K}, index vectors of {dim} dims (learned whitening), 1280 = raw Lite0 ==")
    print(f"{'N':>9} {'SQL ms':>8} {'numpy same data':>16} {'ratio':>6} {'numpy 1280-d floor':>19} {'ratio':>6} "
          f"{'SQL macro 1280-d':>17} {'Arrow UDF':>10}")
    for n in sizes:
        con = connect(":memory:")
        albums = max(10, n // 5)
        listings, album = syn.listings_table(n, albums, seed=1, now=NOW)
        X, _ = syn.clustered_vectors(album, albums, dim)
        syn.load(con, listings, X, "bench")
        del listings
        q = syn.unit(X[7] + 0.01)
        params = {"queries": [q.tolist()], "index_id": "bench", "currency": None, "days": None, "now": NOW,
                  "exclude": [], "k": K, "candidates": K}
        t_sql = timed(lambda: con.execute(sql("comparables"), params).fetchall())
        t_np = timed(lambda: numpy_topk(X, q))
        got = [r[1] for r in con.execute(sql("comparables"), params).fetchall()]
        want = [f"L{i:07d}" for i in numpy_topk(X, q)]
        assert_same = "same top-k" if got == want else "DIFFERENT top-k"
        t_floor = t_big = t_udf = None
        if n * 1280 * 4 / 1e9 < available_gb() / 3:
            big = np.empty((n, 1280), np.float32)
            rng = np.random.default_rng(3)
            for s in range(0, n, 100_000):
                big[s:s + 100_000] = syn.unit(rng.standard_normal((min(100_000, n - s), 1280), dtype=np.float32))
            qb = big[5].copy()
            t_floor = timed(lambda: numpy_topk(big, qb))
            if n <= 100_000:
                tbl = pa.table({"id": np.arange(n), "v": pa.FixedSizeListArray.from_arrays(pa.array(big.ravel()), 1280)})
                con.execute("CREATE TABLE raw AS SELECT id, v::FLOAT[1280] AS v FROM tbl")
                t_big = timed(lambda: con.execute(
                    "SELECT id, cosine_similarity(v, $q::FLOAT[1280]) AS s FROM raw ORDER BY s DESC LIMIT 20",
                    {"q": qb.tolist()}).fetchall(), repeat=3)
                del tbl
            del big
        if n <= 100_000:
            arrow_udf(con, dim)
            t_udf = timed(lambda: con.execute(
                "SELECT listing_id, cosine_similarity_arrow(vector, $q::FLOAT[]) AS s FROM price_index ORDER BY s DESC LIMIT 20",
                {"q": q.tolist()}).fetchall(), repeat=3)
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        print(f"{n:>9} {t_sql:>8.1f} {t_np:>16.2f} {t_sql / t_np:>6.1f} {fmt(t_floor):>19} "
              f"{'-' if t_floor is None else f'{t_sql / t_floor:.2f}':>6} {fmt(t_big):>17} {fmt(t_udf):>10}   ({assert_same})",
              flush=True)
        con.close()


def ensure_world(world: Path | None):
    from world.generate import generate

    world = world or Path(tempfile.gettempdir()) / "soldsight-bench-world"
    if not (world / "answers.json").exists():
        print(f"generating a world in {world} ...", flush=True)
        generate(world, seed=11, albums=60, photos=400, queries=120, workers=1)
    return world


def fitted_home(world: Path, embedder, refit: bool):
    from soldsight.price.service import fit_price_model
    from soldsight.settings import Settings
    from tests.fixtures.price import load_world_warehouse

    settings = Settings.from_env(home=world / "bench-home")  # SOLDSIGHT_* settings apply, e.g. SOLDSIGHT_SECOND_LOOK=0
    if not settings.warehouse_path.exists():
        print(load_world_warehouse(settings, world))
    from soldsight.price.service import load_state
    from warehouse.connection import open_warehouse

    with open_warehouse(settings) as con:
        fitted = load_state(con, settings.home) is not None
    if fitted and not refit:
        print("reusing the fitted price model in", settings.home)
        return settings
    t = time.perf_counter()
    summary = fit_price_model(settings, embedder=embedder)
    print(f"fit (whitening, index, grades, calibration): {time.perf_counter() - t:.1f}s  {json.dumps(summary)}", flush=True)
    return settings


def query_engine(settings, name: str, tensorflow_embedder):
    """The embedder price queries run on: 'litert' is what price_photos picks by default after a fit."""
    if name == "tensorflow":
        return tensorflow_embedder
    from soldsight.embed import load_query_embedder
    from soldsight.embed.litert_engine import LiteRTEmbedder

    engine = load_query_embedder(settings, 64)
    if not isinstance(engine, LiteRTEmbedder):
        raise SystemExit(f"no LiteRT models under {settings.home}: run with --refit")
    return engine


def synthetic_index(settings, n_index: int) -> None:
    """Make price_index hold n_index rows: the world's own, plus synthetic listings (ids SYN...) near album centres."""
    from soldsight.price.service import load_state

    con = connect(settings.warehouse_path)
    state = load_state(con, settings.home)
    con.execute("DELETE FROM price_index WHERE listing_id LIKE 'SYN%'")
    con.execute("DELETE FROM listings WHERE listing_id LIKE 'SYN%'")
    have = con.execute("SELECT count(*) FROM price_index WHERE index_id = ?", [state.config.index_id]).fetchall()[0][0]
    extra = n_index - have
    if extra > 0:
        listings, album = syn.listings_table(extra, max(10, extra // 5), seed=9, now=NOW)
        X, _ = syn.clustered_vectors(album, max(10, extra // 5), state.projection.dim)
        listings = listings.set_column(1, "listing_id", pa.array([f"SYN{i:08d}" for i in range(extra)]))
        syn.load(con, listings, X, state.config.index_id)
    # Synthetic listings borrow the photos of real ones, so that re-ranking verifies real candidates
    # (with features in the local store), as it would in an index of real photos.
    con.execute("UPDATE price_index SET image_path = real.paths[(1 + hash(listing_id) % len(real.paths))::BIGINT] "
                "FROM (SELECT list(DISTINCT image_path) AS paths FROM price_index WHERE listing_id NOT LIKE 'SYN%') AS real "
                "WHERE listing_id LIKE 'SYN%'")
    words_as_a_fit_writes_them(con)
    con.execute("CHECKPOINT")
    con.close()


def latency(settings, world, embedder, n_index: int, rerank=None):
    from soldsight.price.service import price_photos
    from world.generate import load_answers

    photos = [world / a["photo"] for a in load_answers(world)]
    times = []
    for i in range(15):
        t = time.perf_counter()
        price_photos(settings, [photos[i % len(photos)]], embedder=embedder, store=True, rerank=rerank)
        times.append((time.perf_counter() - t) * 1000)
    from warehouse.connection import open_warehouse

    held = []
    with open_warehouse(settings) as con:  # a long-running service: connection and DuckDB cache stay warm
        for i in range(16):
            t = time.perf_counter()
            price_photos(settings, [photos[i % len(photos)]], embedder=embedder, store=True, con=con, rerank=rerank)
            held.append((time.perf_counter() - t) * 1000)
    held = held[1:]
    batch = [photos[i % len(photos)] for i in range(256)]  # several SOLDSIGHT_PRICE_BATCH batches, as a long list would be
    cpu0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with stage_timers() as spent:
        price_photos(settings, batch, embedder=embedder, store=True, rerank=rerank)
    wall, cpu1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    rate = len(batch) / wall
    print(f"\n== one photo end to end, warm model ({type(embedder).__name__}), {n_index} indexed vectors, rerank {rerank} ==")
    print(f"warehouse opened per call: p50 {np.percentile(times, 50):.0f} ms  p90 {np.percentile(times, 90):.0f} ms"
          "  (open, decode, view, CNN, SQL, model, store)")
    print(f"connection held open:      p50 {np.percentile(held, 50):.0f} ms  p90 {np.percentile(held, 90):.0f} ms")
    print(f"{len(batch)} photos in one call, {settings.price_batch} at a time: {rate:.1f} photos/s, "
          f"{cpu / len(batch) * 1000:.0f} core-ms a photo, {cpu / wall:.2f} cores busy")
    print(f"  of its {wall:.1f} s (stages overlap: a batch is re-ranked and stored beside the next one's scan; "
          "reading is summed over its two threads): "
          + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in spent.items()))
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return photos


@contextmanager
def stage_timers():
    """Seconds spent in each stage of batch pricing, by timing soldsight.price.batch's functions (here only)."""
    from soldsight.price import batch

    stages = {"CNN passes and crops": ("query_vectors_and_features", "query_vectors", "query_features"),
              "index scans": ("_scan",), "re-ranking": ("_verify",), "reading sleeves": ("read_sleeve",),
              "storing": ("store_suggestions",)}
    spent = dict.fromkeys(stages, 0.0)
    originals = {name: getattr(batch, name) for names in stages.values() for name in names}

    def timed(label, fn):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start
        return call

    for label, names in stages.items():
        for name in names:
            setattr(batch, name, timed(label, originals[name]))
    try:
        yield spent
    finally:
        for name, fn in originals.items():
            setattr(batch, name, fn)


def cold_start(settings, photos):
    """Wall time of `soldsight price` in a new process, per engine: 1 photo (best of 3) and 32 photos (the default
    SOLDSIGHT_NUMPY_ENGINE_PHOTOS, where the numpy engine should still be ahead of TensorFlow's start-up)."""
    print("\n== cold start: soldsight price PHOTO... in a new process ==")
    engines = (("LiteRT (default)", {"SOLDSIGHT_LITERT": "1"}),
               ("numpy engine", {"SOLDSIGHT_LITERT": "0", "SOLDSIGHT_NUMPY_ENGINE_PHOTOS": "1000"}),
               ("TensorFlow engine", {"SOLDSIGHT_LITERT": "0", "SOLDSIGHT_NUMPY_ENGINE_PHOTOS": "0"}))
    for n, repeat in ((1, 3), (32, 1)):
        cli = [sys.executable, "-m", "soldsight", "price", *[str(p) for p in photos[:n]]]
        for engine, choice in engines:
            env = {**os.environ, "SOLDSIGHT_HOME": str(settings.home), "TF_CPP_MIN_LOG_LEVEL": "3", **choice}
            walls = []
            for _ in range(repeat):
                t = time.perf_counter()
                subprocess.run(cli, env=env, cwd=Path(__file__).resolve().parents[1], capture_output=True, check=False)
                walls.append(time.perf_counter() - t)
            print(f"{n:>2} photo(s), {engine + ':':<18} wall {min(walls):.2f} s best of {repeat}"
                  "  (load average {:.2f} {:.2f} {:.2f})".format(*os.getloadavg()), flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", type=Path)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--latency-index", default="10000,100000,1000000",
                   help="index sizes (rows) at which one-photo latency and the batch rate are measured")
    p.add_argument("--skip-search", action="store_true")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--rerank", type=int, help="listings re-ranked by geometric verification (default: the fitted config's)")
    p.add_argument("--turn", type=int, default=0,
                   help="degrees counter-clockwise to turn each held-out photo before the accuracy run (90, 180, ...)")
    p.add_argument("--refit", action="store_true", help="fit again even if the world's warehouse has a model")
    p.add_argument("--engines", default="litert,tensorflow",
                   help="query-time CNN engines to time (accuracy uses the first): litert (the product's default once "
                        "fitted), tensorflow")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, {available_gb():.1f} GB available; duckdb threads default")
    if not args.skip_search:
        search_bench([int(s) for s in args.sizes.split(",")], args.dim)
    from soldsight.embed import load_embedder
    from soldsight.settings import Settings

    world = ensure_world(args.world)
    embedder = load_embedder(Settings(home=world / "bench-home"))
    settings = fitted_home(world, embedder, args.refit)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not args.skip_accuracy:
        accuracy(settings, world, query_engine(settings, engines[0], embedder), args.rerank, args.turn)
    sizes = sorted(int(n) for n in args.latency_index.split(","))
    for n_index in sizes:
        synthetic_index(settings, n_index)
        for name in engines:
            photos = latency(settings, world, query_engine(settings, name, embedder), n_index, args.rerank)
    synthetic_index(settings, 100_000 if 100_000 in sizes else sizes[-1])
    cold_start(settings, photos)
    return 0


if __name__ == "__main__":
    sys.exit(main())
