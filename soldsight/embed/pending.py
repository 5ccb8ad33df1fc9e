"""The `embed` step: embed every downloaded photo that has no row yet for the current model.

Decoding runs in a thread pool (Pillow releases the GIL) while the main thread runs inference,
so the two overlap. Rows go to the Parquet lake in chunks and are merged into DuckDB chunk by
chunk: a killed run keeps what it finished, and re-running picks up only what is missing.
"""
from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa

from soldsight.embed.preprocess import PREPROCESS_VERSION, ImageRejected
from soldsight.settings import Settings
from warehouse.connection import open_warehouse
from warehouse.lake import load_batch, write_batch
from warehouse.sql_files import sql

# Vector length -> the table holding it (created by schema 003).
VECTOR_TABLES = {1280: "embeddings", 960: "embeddings_960", 2048: "embeddings_2048"}


class ImagesTableMissing(RuntimeError):
    """The images table (schema 002, written by `soldsight download`) is not in this warehouse."""


@dataclass
class EmbedReport:
    model_id: str
    pending: int = 0
    embedded: int = 0
    failed: int = 0
    seconds: float = 0.0
    lake_files: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # reason (first words) -> count

    @property
    def rate(self) -> float:
        return (self.embedded + self.failed) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rate": round(self.rate, 1)}


def vectors_table(dim: int) -> str:
    try:
        return VECTOR_TABLES[dim]
    except KeyError:
        raise ValueError(f"no embeddings table for {dim}-dimensional vectors") from None


def pending_photos(con, model_id: str, retry_failed: bool = False) -> list[tuple[str, str]]:
    """(sha256, path relative to home) of downloaded photos without a row for model_id, by sha256."""
    tables = {r[0] for r in con.execute(sql("table_names")).fetchall()}
    if "images" not in tables:
        raise ImagesTableMissing("the warehouse has no images table yet: run `soldsight download` first")
    return [tuple(r) for r in con.execute(sql("embeddings_pending"),
                                          {"model_id": model_id, "retry_failed": retry_failed}).fetchall()]


def embed_pending(settings: Settings, embedder=None, *, limit: int | None = None, retry_failed: bool = False,
                  chunk_size: int = 512, workers: int = 2, log: Callable[[str], None] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> EmbedReport:
    """Embed what is missing for the embedder's model (default: load_batch_embedder(settings), LiteRT for lite0).

    log gets human lines; progress(done, total) is called at the start and after every chunk.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be at least 0, not {limit}")
    if embedder is None:
        from soldsight.embed import load_batch_embedder

        embedder, _ = load_batch_embedder(settings)
    log = log or (lambda message: None)
    table = vectors_table(embedder.dim)
    with open_warehouse(settings) as con:
        todo = pending_photos(con, embedder.model_id, retry_failed)
        _register_model(con, settings, embedder, table)
    if limit is not None:
        todo = todo[:limit]
    report = EmbedReport(embedder.model_id, pending=len(todo))
    progress = progress or (lambda done, total: None)
    log(f"{embedder.model_id}: {len(todo)} photos to embed")
    progress(0, len(todo))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake") as writer:
        decoded = _decode_in_order(pool, settings, embedder, todo, lookahead=max(2 * embedder.batch_size, 8))
        flushing, done = None, 0
        for rows in _embed_chunks(embedder, decoded, chunk_size):
            if flushing is not None:
                flushing.result()  # one chunk in flight: bounded memory, lake files in order
            flushing = writer.submit(_flush, settings, table, embedder.model_id, embedder.dim, rows, report)
            done += len(rows)  # counted here: the writer thread updates report while we go on
            log(f"{done}/{len(todo)} photos, {done / (time.perf_counter() - started):.0f}/s")
            progress(done, len(todo))
        if flushing is not None:
            flushing.result()
    report.seconds = time.perf_counter() - started
    return report


def _decode_in_order(pool, settings, embedder, todo, lookahead: int) -> Iterator[tuple[str, np.ndarray | None, str | None]]:
    """(sha256, uint8 image or None, error or None) in input order, decoding ahead in the pool."""
    home = Path(settings.home).resolve()

    def decode(sha256: str, rel: str):
        path = (home / rel).resolve()
        if home not in path.parents:
            return sha256, None, f"path outside SOLDSIGHT_HOME: {rel}"
        if not path.is_file():
            return sha256, None, f"missing file: {rel}"
        try:
            return sha256, embedder.preprocess(path), None
        except ImageRejected as exc:
            return sha256, None, str(exc)
        except Exception as exc:  # a photo must never stop the batch
            return sha256, None, f"unexpected {type(exc).__name__}: {exc}"[:300]

    queue: deque = deque()
    for sha256, rel in todo:
        queue.append(pool.submit(decode, sha256, rel))
        if len(queue) >= lookahead:
            yield queue.popleft().result()
    while queue:
        yield queue.popleft().result()


def _embed_chunks(embedder, decoded: Iterable, chunk_size: int) -> Iterator[list[tuple]]:
    """Rows (sha256, status, error, vector) in chunks of chunk_size (the last may be short).

    A batch is inferred when it is full or when it completes a chunk, so chunks have exact sizes.
    """
    rows: list[tuple] = []
    batch_keys: list[str] = []
    batch_images: list[np.ndarray] = []

    def run_batch():
        vectors = embedder.embed_batch(np.stack(batch_images))
        rows.extend((key, "ok", None, vec) for key, vec in zip(batch_keys, vectors))
        batch_keys.clear()
        batch_images.clear()

    for sha256, image, error in decoded:
        if image is None:
            rows.append((sha256, "failed", error, None))
        else:
            batch_keys.append(sha256)
            batch_images.append(image)
            if len(batch_images) == embedder.batch_size or len(rows) + len(batch_images) >= chunk_size:
                run_batch()
        if len(rows) >= chunk_size:
            yield rows
            rows = []
    if batch_images:
        run_batch()
    if rows:
        yield rows


def _flush(settings: Settings, table: str, model_id: str, dim: int, rows: list[tuple], report: EmbedReport) -> None:
    """Write one chunk to the lake, then merge it into the warehouse."""
    now = datetime.now(timezone.utc)
    keys = [r[0] for r in rows]
    vectors = _vector_array(rows, dim)
    batch = pa.table({
        "sha256": pa.array(keys, pa.string()),
        "model_id": pa.array([model_id] * len(rows), pa.string()),
        "status": pa.array([r[1] for r in rows], pa.string()),
        "error": pa.array([r[2] for r in rows], pa.string()),
        "vector": vectors,
        "embedded_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
    })
    # Named by content: re-running the same chunk rewrites the same file instead of adding one.
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
    path = write_batch(settings.lake_dir, table, f"{model_id}-{keys[0][:12]}-{digest}", batch)
    with open_warehouse(settings) as con:
        load_batch(con, table, path)
    report.lake_files.append(str(path))
    for _, status, error, _ in rows:
        if status == "ok":
            report.embedded += 1
        else:
            report.failed += 1
            reason = (error or "").split(":")[0]
            report.errors[reason] = report.errors.get(reason, 0) + 1


def _vector_array(rows: list[tuple], dim: int) -> pa.FixedSizeListArray:
    """The vector column, built from one flat buffer (pa.array over row arrays costs ~1 ms per photo)."""
    flat = np.zeros((len(rows), dim), np.float32)
    failed = np.zeros(len(rows), bool)
    for i, row in enumerate(rows):
        if row[3] is None:
            failed[i] = True
        else:
            flat[i] = row[3]
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), dim, mask=pa.array(failed))


def _register_model(con, settings: Settings, embedder, table: str) -> None:
    known = con.execute(sql("embedding_model_known"), {"model_id": embedder.model_id}).fetchall()
    if known[0][0]:
        return
    row = pa.table({
        "model_id": [embedder.model_id], "backbone": [embedder.name], "dim": pa.array([embedder.dim], pa.int32()),
        "vectors_table": [table], "weights_sha256": [embedder.weights_sha256],
        "preprocess_version": pa.array([PREPROCESS_VERSION], pa.int32()),
        "pooling": [embedder.model_id.rsplit("-", 1)[1]],
        "registered_at": pa.array([datetime.now(timezone.utc)], pa.timestamp("us", tz="UTC")),
    })
    load_batch(con, "embedding_models", write_batch(settings.lake_dir, "embedding_models", embedder.model_id, row))
