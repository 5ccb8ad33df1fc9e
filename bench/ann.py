"""Approximate nearest-neighbour candidates against the exact comparables scan: build, memory, latency, recall@10.

    .venv/bin/python bench/ann.py [--world DIR] [--sizes 100000,1000000] [--queries 100]

Vectors: the real 128-dim whitened index vectors of a generated world (bench/price.py's world and fit,
reused), extended to N with bench/price.py's synthetic listings and clustered vectors, coloured with the
real vectors' mean and covariance so the extension has the real embeddings' spread; the real rows come
first. Queries are the real vectors (as in `soldsight backtest`, each is also in the index).
Candidates: exact numpy, exact DuckDB SQL (warehouse/sql/comparables.sql), an IVF coarse quantiser in
plain DuckDB SQL (numpy k-means cells, probe the nearest nprobe), and, when installed, usearch HNSW,
faiss HNSW and faiss IVF. usearch and faiss-cpu are not project dependencies: missing ones print
"not installed". vss HNSW needs duckdb 1.5.5 exactly and is not run (see docs/price.md).
Prints figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from soldsight.price import synthetic as syn  # noqa: E402
from warehouse.connection import connect  # noqa: E402
from warehouse.sql_files import sql  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_price", ROOT / "bench" / "price.py")
bench_price = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_price)
NOW = bench_price.NOW
LATENCY_QUERIES = 30


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def real_vectors(world: Path | None) -> np.ndarray:
    """The fitted world's index vectors (fits the world once when needed, as bench/price.py does)."""
    import duckdb

    from soldsight.price.service import load_state

    world = bench_price.ensure_world(world)
    settings = bench_price.fitted_home(world, None, refit=False)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    index_id = load_state(con, settings.home).config.index_id
    rows = con.execute("SELECT vector FROM price_index WHERE index_id = ?", [index_id]).fetchall()
    con.close()
    return syn.unit(np.array([r[0] for r in rows], dtype=np.float32))


def extend(real: np.ndarray, n: int) -> tuple[pa.Table, np.ndarray]:
    """n listings and vectors: the real ones first, then bench/price.py's synthetic ones in the real spread."""
    dim = real.shape[1]
    albums = max(10, n // 5)
    listings, album = syn.listings_table(n, albums, seed=1, now=NOW)
    X, _ = syn.clustered_vectors(album, albums, dim)
    mean = real.mean(0)
    chol = np.linalg.cholesky(np.cov(real - mean, rowvar=False) + 1e-6 * np.eye(dim)).astype(np.float32)
    for s in range(0, n, 100_000):  # isotropic unit vectors -> real mean + covariance
        X[s:s + 100_000] = syn.unit(mean + np.sqrt(dim) * X[s:s + 100_000] @ chol.T)
    X[: len(real)] = real
    return listings, X


def exact_topk(X: np.ndarray, Q: np.ndarray, k: int) -> np.ndarray:
    S = Q @ X.T
    idx = np.argpartition(-S, k, axis=1)[:, :k]
    return np.take_along_axis(idx, np.argsort(-np.take_along_axis(S, idx, 1), 1), 1)


def kmeans(X: np.ndarray, cells: int, iters: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means on a sample (64 per cell), then every vector's nearest centre."""
    rng = np.random.default_rng(seed)
    sample = X[rng.choice(len(X), min(len(X), 64 * cells), replace=False)]
    C = sample[rng.choice(len(sample), cells, replace=False)].copy()
    for _ in range(iters):
        a = np.argmax(sample @ C.T, 1)
        sums = np.zeros_like(C)
        np.add.at(sums, a, sample)
        empty = np.bincount(a, minlength=cells) == 0
        sums[empty] = C[empty]
        C = syn.unit(sums)
    assign = np.concatenate([np.argmax(X[s:s + 100_000] @ C.T, 1) for s in range(0, len(X), 100_000)])
    return C, assign.astype(np.int32)


def ivf_sql() -> str:
    """comparables.sql, scanning only the rows of the nprobe cells whose centres are nearest the (first) query view."""
    text = sql("comparables")
    for old, new in [
        ("WITH query_views AS (", "WITH probe AS (\n    SELECT cell FROM ivf_centroids\n    ORDER BY list_inner_product("
         "centroid, ($queries::FLOAT[][])[1]) DESC LIMIT $nprobe::INTEGER\n),\nquery_views AS ("),
        ("FROM price_index AS i", "FROM price_index_ivf AS i"),
        ("WHERE i.index_id", "WHERE i.cell IN (SELECT cell FROM probe)\n      AND i.index_id"),
    ]:
        assert old in text, f"comparables.sql changed shape: {old!r} not found"
        text = text.replace(old, new)
    return text


class ExactNumpy:
    name, knob = "exact numpy", [None]

    def build(self, X, con, listings):
        self.X = X

    def search(self, q, k, knob):
        return bench_price.numpy_topk(self.X, q, k)


class ExactSQL:
    name, knob = "exact DuckDB SQL (comparables.sql)", [None]
    text = None

    def build(self, X, con, listings):
        self.con, self.text = con, sql("comparables")
        syn.load(con, listings, X, "ann")

    def params(self, q, k):
        return {"queries": [q.tolist()], "index_id": "ann", "currency": None, "days": None, "now": NOW,
                "exclude": [], "k": k, "candidates": k}

    def search(self, q, k, knob):
        return np.array([int(r[1][1:]) for r in self.con.execute(self.text, self.params(q, k)).fetchall()])


class IvfSQL(ExactSQL):
    name, knob = "IVF in DuckDB SQL (nprobe)", [1, 4, 8, 16, 32, 64]

    def build(self, X, con, listings):
        self.con, self.text = con, ivf_sql()
        self.cells = int(round(np.sqrt(len(X))))
        C, assign = kmeans(X, self.cells)
        con.register("cells", pa.table({"listing_id": listings.column("listing_id"), "cell": assign}))
        # sorted by cell, so a probe reads few row groups (DuckDB's zone maps skip the rest)
        con.execute("CREATE TABLE price_index_ivf AS SELECT i.*, c.cell FROM price_index AS i "
                    "JOIN cells AS c USING (listing_id) ORDER BY c.cell")
        con.unregister("cells")
        con.register("centres", pa.table({"cell": np.arange(self.cells, dtype=np.int32),
                                          "centroid": pa.FixedSizeListArray.from_arrays(pa.array(C.ravel()), C.shape[1])}))
        con.execute("CREATE TABLE ivf_centroids AS SELECT cell, centroid::FLOAT[] AS centroid FROM centres")
        con.unregister("centres")

    def search(self, q, k, knob):
        p = {**self.params(q, k), "nprobe": knob}
        return np.array([int(r[1][1:]) for r in self.con.execute(self.text, p).fetchall()])


class Usearch:
    name, knob = "usearch HNSW f32 (expansion_search)", [16, 64, 128, 256]

    def build(self, X, con, listings):
        from usearch.index import Index

        self.index = Index(ndim=X.shape[1], metric="ip", dtype="f32")
        self.index.add(np.arange(len(X)), X, threads=os.cpu_count())

    def search(self, q, k, knob):
        self.index.expansion_search = knob
        return np.asarray(self.index.search(q, k).keys)


class FaissHNSW:
    name, knob = "faiss HNSW32 flat (efSearch)", [16, 64, 128, 256]

    def build(self, X, con, listings):
        import faiss

        self.index = faiss.IndexHNSWFlat(X.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        self.index.add(X)

    def search(self, q, k, knob):
        self.index.hnsw.efSearch = max(knob, k)
        return self.index.search(q[None], k)[1][0]


class FaissIVF:
    name, knob = "faiss IVF flat (nprobe)", [1, 4, 8, 16, 32, 64]

    def build(self, X, con, listings):
        import faiss

        cells = int(round(np.sqrt(len(X))))
        self.index = faiss.IndexIVFFlat(faiss.IndexFlatIP(X.shape[1]), X.shape[1], cells, faiss.METRIC_INNER_PRODUCT)
        self.index.train(X[np.random.default_rng(0).choice(len(X), min(len(X), 64 * cells), replace=False)])
        self.index.add(X)

    def search(self, q, k, knob):
        self.index.nprobe = knob
        return self.index.search(q[None], k)[1][0]


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run_size(real, n, n_queries, skip):
    listings, X = extend(real, n)
    Q = real[:n_queries]
    truth = exact_topk(X, Q, 10)
    sims = np.take_along_axis(Q @ X.T, truth, 1)
    con = connect(":memory:")
    print(f"\n== N = {n:,} ({len(real)} real + {n - len(real):,} synthetic), {len(Q)} queries (self excluded: median "
          f"2nd-best similarity {np.median(sims[:, 1]):.2f}, 10th {np.median(sims[:, 9]):.2f}); "
          f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} ==", flush=True)
    print(f"{'candidate':<40} {'knob':>5} {'build s':>8} {'build CPU s':>11} {'RSS +MB':>8} "
          f"{'p50 k=10 ms':>11} {'p50 k=20 ms':>11} {'recall@10':>9} {'nearest':>7}", flush=True)
    for cand, module in [(ExactNumpy(), None), (ExactSQL(), None), (IvfSQL(), None), (Usearch(), "usearch"),
                         (FaissHNSW(), "faiss"), (FaissIVF(), "faiss")]:
        if cand.name.split()[0] in skip:
            continue
        if module and not installed(module):
            print(f"{cand.name:<40} not installed", flush=True)
            continue
        rss, cpu, t = rss_mb(), cpu_s(), time.perf_counter()
        cand.build(X, con, listings)
        build, build_cpu, grew = time.perf_counter() - t, cpu_s() - cpu, rss_mb() - rss
        for knob in cand.knob:
            p50 = {}
            for k in (10, 20):
                cand.search(Q[0], k, knob)
                times = []
                for q in Q[:LATENCY_QUERIES]:
                    t = time.perf_counter()
                    cand.search(q, k, knob)
                    times.append(time.perf_counter() - t)
                p50[k] = np.median(times) * 1000
            found = [cand.search(q, 10, knob)[:10] for q in Q]
            recall = np.mean([len(set(f) & set(want)) / 10 for f, want in zip(found, truth)])
            nearest = np.mean([want[1] in f for f, want in zip(found, truth)])  # want[0] is the query itself
            label = "" if knob is None else str(knob)
            print(f"{cand.name:<40} {label:>5} {build:>8.1f} {build_cpu:>11.1f} {grew:>8.0f} "
                  f"{p50[10]:>11.2f} {p50[20]:>11.2f} {recall:>9.3f} {nearest:>7.2f}", flush=True)
        cand.__dict__.clear()
    con.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", type=Path)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--hnsw-ef", default="16,64,128,256", help="search breadths swept for both HNSW candidates")
    p.add_argument("--skip", default="", help="comma-separated first words of candidate names, e.g. faiss,usearch")
    args = p.parse_args(argv)
    Usearch.knob = FaissHNSW.knob = [int(x) for x in args.hnsw_ef.split(",")]
    real = real_vectors(args.world)
    nn = np.sort(real @ real.T, 1)[:, -2]
    print(f"machine: {os.cpu_count()} cores, {bench_price.available_gb():.1f} GB available, load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())}; {len(real)} real vectors of {real.shape[1]} dims, "
          f"median nearest-other similarity {np.median(nn):.2f}")
    for n in (int(s) for s in args.sizes.split(",")):
        if n * real.shape[1] * 4 * 6 / 1e9 > bench_price.available_gb():
            print(f"\n== N = {n:,}: skipped, not enough free memory ==")
            continue
        t, cpu = time.perf_counter(), cpu_s()
        run_size(real, n, args.queries, set(filter(None, args.skip.split(","))))
        print(f"(N = {n:,}: {time.perf_counter() - t:.0f} s wall, {cpu_s() - cpu:.0f} s CPU; load average now "
              f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
