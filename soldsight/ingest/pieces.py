"""Read and normalise one export, a large NDJSON file in line-aligned pieces on every core.

The pieces are cut just after a newline, so their lines are exactly the file's lines; each
piece's records keep their order, and positions are renumbered across pieces afterwards.
A piece that is not clean NDJSON is not explained by its worker: the whole file is then
read once more in one process, which fails exactly as it always has.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from soldsight.ingest.batch import normalise_batch
from soldsight.ingest.read_export import ExportFormatError, iter_ndjson, iter_records

# A worker costs ~0.45 s before it helps (start-up 0.15 s, imports 0.3 s) and saves half of
# ~50 s per GB: below ~16 MB (25,000 records) one process is as fast.
PARALLEL_MIN_BYTES = 16_000_000
_BOM = b"\xef\xbb\xbf"


def read_normalised(path: Path, data: bytes, *, origin: str, ingested_at: datetime, schema: pa.Schema,
                    workers: int | None = None) -> tuple[pa.Table, list[tuple[int, str, str]], int]:
    """(listing rows, (position, reason, raw) of rejected records, records read).

    Each piece's rows hold one row per listing (see normalise_batch), in order of first sight;
    a listing seen in several pieces has a row in each.

    workers: processes to use, this one included (default: default_workers()), at most one
    per PARALLEL_MIN_BYTES / 2 of the file.
    """
    ndjson = data[len(_BOM):] if data.startswith(_BOM) else data
    if len(data) < PARALLEL_MIN_BYTES or not ndjson.startswith(b"{"):  # before sampling idle cores (0.1 s)
        return _serial(path, data, origin=origin, ingested_at=ingested_at, schema=schema)
    workers = min(workers or default_workers(), len(data) // max(PARALLEL_MIN_BYTES // 2, 1))
    if workers < 2:
        return _serial(path, data, origin=origin, ingested_at=ingested_at, schema=schema)

    bounds = _split(data, workers)
    # Workers read their piece from the file themselves (checked against its hash): sending it
    # down a pipe needs this process's GIL for every chunk, so they would wait for its own piece.
    others = [_Worker((os.path.abspath(path), start, end, hashlib.sha256(memoryview(data)[start:end]).hexdigest(),
                       origin, ingested_at, schema)) for start, end in bounds[1:]]
    first = _piece(data[:bounds[0][1]], True, origin, ingested_at, schema)
    results = [first] + [worker.result() for worker in others]
    if any(result is None for result in results):
        # A piece that is not clean NDJSON, or a worker that failed: the serial read gives the
        # same outcome as always, whether that is rows, an ExportFormatError or an exception.
        return _serial(path, data, origin=origin, ingested_at=ingested_at, schema=schema)

    tables, errors, offset = [], [], 0
    for table, piece_errors, count in results:
        tables.append(table)
        errors += [(offset + position, reason, raw) for position, reason, raw in piece_errors]
        offset += count
    return pa.concat_tables(tables), errors, offset


def default_workers() -> int:
    """One process per core this process may use that is idle now; at least one.

    On a busy machine a second process only competes for the same cores and costs its
    start-up and the copying: measured at load 5-7 on 2 cores, 2 processes were 20-30% slower.
    Idle is sampled from /proc/stat over 0.1 s while this process sleeps, so its own work
    before (which the load average would count) does not count against it.
    """
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        return 1
    try:
        idle = _idle_cores()
    except (OSError, ValueError, ZeroDivisionError):
        return cores
    return max(1, min(cores, int(idle + 0.5)))


def _idle_cores(sample: float = 0.1) -> float:
    def ticks() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        return fields[3] + fields[4], sum(fields)

    idle_before, total_before = ticks()
    time.sleep(sample)
    idle_after, total_after = ticks()
    return (os.cpu_count() or 1) * (idle_after - idle_before) / (total_after - total_before)


class _Worker:
    """_piece(*args) in a fresh interpreter, which imports only what a piece needs.

    A plain subprocess rather than multiprocessing: spawn and forkserver re-import the
    caller's __main__, and fork would copy the caller's DuckDB connection and its threads.
    args: (path, start, end, sha256 of those bytes, origin, ingested_at, schema).
    """

    def __init__(self, args: tuple):
        try:
            self.process = subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE)
        except OSError:  # no interpreter to start (an embedded Python): this piece is read serially
            self.process = None
            return
        # A few hundred bytes: the pipe takes them at once. The result is read only in result(),
        # once this process is done with its own piece (until then the worker waits to write it).
        try:
            self.process.stdin.write(pickle.dumps(sys.path) + pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL))
            self.process.stdin.close()
        except OSError:  # the worker died already; result() sees its exit code
            pass

    def result(self):
        if self.process is None:
            return None
        output = self.process.stdout.read()
        self.process.stdout.close()
        if self.process.wait() != 0 or not output:
            return None
        return pickle.loads(output)


_BOOT = ("import pickle, sys; sys.path[:0] = pickle.load(sys.stdin.buffer); "
         "from soldsight.ingest.pieces import _serve; _serve()")


def _serve() -> None:
    """The worker's side: one piece of a file, its arguments from stdin and its result to stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed on the way goes to stderr, not into the result
    path, start, end, digest, origin, ingested_at, schema = pickle.load(sys.stdin.buffer)
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    same = hashlib.sha256(data).hexdigest() == digest  # the file may have changed since it was read
    out.write(pickle.dumps(_piece(data, False, origin, ingested_at, schema) if same else None,
                           protocol=pickle.HIGHEST_PROTOCOL))
    out.close()


def _serial(path, data, *, origin, ingested_at, schema):
    records = _Counted(iter_records(path, data))
    try:
        table, errors = normalise_batch(records, origin=origin, ingested_at=ingested_at, schema=schema,
                                        last_per_listing=True)
    except ExportFormatError:
        raise
    except Exception:
        # A record that breaks the normaliser (a bug) must not hide a broken file behind it:
        # reading every line before normalising any always named the broken file first.
        for _ in iter_records(path, data):
            pass
        raise
    return table, errors, records.count


def _split(data: bytes, n: int) -> list[tuple[int, int]]:
    """(start, end) of n pieces of about equal size, each ending just after a newline (the last at the end)."""
    cuts, start = [], 0
    for i in range(1, n):
        cut = data.find(b"\n", max(start, len(data) * i // n)) + 1
        if cut <= 0:
            break
        cuts.append(cut)
        start = cut
    bounds = [0, *cuts, len(data)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _piece(data: bytes, first: bool, origin: str, ingested_at: datetime, schema: pa.Schema):
    """normalise_batch over one piece, positions from 0; None when the piece is not clean NDJSON."""
    try:
        text = data.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return None
    records = _Counted(iter_ndjson("piece", text))
    try:
        table, errors = normalise_batch(records, origin=origin, ingested_at=ingested_at, schema=schema,
                                        last_per_listing=True)
    except Exception:  # a broken line or a failing record: the serial read settles it
        return None
    return table, errors, records.count


class _Counted:
    """Iterates (record, raw) pairs and counts them."""

    def __init__(self, pairs):
        self.pairs, self.count = pairs, 0

    def __iter__(self):
        for record, raw in self.pairs:
            self.count += 1
            yield record, raw
