"""The local features of every indexed photo, computed once when the index is fitted.

Geometric re-ranking (soldsight.price.verify) compares the query's local cells with those of each
candidate photo. Computing a candidate's cells at query time costs one CNN pass per candidate
(ten per photo: ~85% of the re-ranking time); reading them from here costs a memory-mapped slice.

On disk, under SOLDSIGHT_HOME/models/local-<recipe>-<digest>/:
  cells.npy   int8 [N, K, C]: each photo's K strongest cells, unit descriptors x 127 (memory-mapped)
  where.npy   uint16 [N, K]: which cell of the side x side map each one is (row-major)
  paths.json  the N image paths (images.path, content-addressed), in row order, and the recipe
At K = 300 cells of 40 channels (block 4, the default) a photo costs 12 KB (1.2 GB at 100k photos); of
80 channels (block 7, fits before session 18) 24 KB.
A refit reuses the rows of photos the previous store already has, so a nightly refresh pays only
for the new photos. A photo missing from the store is simply computed at query time.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from soldsight.price.verify import cell_centres

SCALE = 127.0  # unit descriptors -> int8: on the world, the same top-1 as float32 (86.5% against 86.0%)


def quantise(desc: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(desc * SCALE), -127, 127).astype(np.int8)


class LocalStore:
    """Read side: image path -> (unit descriptors [K,C] float32, cell centres [K,2]); None if absent."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        meta = json.loads((self.directory / "paths.json").read_text())
        self.recipe = meta["recipe"]
        self.side = int(meta["side"])
        self.rows = {p: i for i, p in enumerate(meta["paths"])}
        self.cells = np.load(self.directory / "cells.npy", mmap_mode="r")
        self.where = np.load(self.directory / "where.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, image_path: str) -> bool:
        return image_path in self.rows

    def get(self, image_path: str):
        row = self.rows.get(image_path)
        if row is None:
            return None
        pos = cell_centres(np.asarray(self.where[row], dtype=np.int64), self.side)
        return np.asarray(self.cells[row], dtype=np.float32) / np.float32(SCALE), pos

    @classmethod
    def open(cls, home: Path, rel: str | None) -> "LocalStore | None":
        """The store a fitted config names, or None when it has none or its files are gone.

        Kept open for the life of the process: a store's directory never changes once written (its name
        is a digest of its contents), and reading paths.json again would cost every query ~30 ms at 100k photos.
        """
        if not rel:
            return None
        directory = (Path(home) / rel).resolve()
        if directory not in _OPEN:
            try:
                _OPEN[directory] = cls(directory)
            except (OSError, ValueError, KeyError):
                return None
        return _OPEN[directory]


_OPEN: dict[Path, LocalStore] = {}


def recipe_name(recipe: dict, paths: list[str]) -> str:
    digest = hashlib.sha256(json.dumps([recipe, paths], sort_keys=True).encode()).hexdigest()[:12]
    return f"local-b{recipe['block']}-s{recipe['size']}-{digest}"


def build_store(models_dir: Path, recipe: dict, paths: Iterable[str], compute: Callable[[list[str]], list],
                previous: LocalStore | None = None, chunk: int = 32) -> tuple[str, dict]:
    """Write a store for `paths`; returns (directory name, summary).

    recipe: what the features are (network, block, input size, K): rows are reused only under the same one.
    compute(paths) -> per path (unit descriptors [K,C], cell numbers [K], cells a side), or None for a photo that cannot
    be read (it is left out; re-ranking computes or skips it at query time). Rows of `previous` with the same recipe are
    copied, not recomputed. The directory is written under a temporary name and renamed when complete,
    so a reader never sees half a store.
    """
    paths = sorted(set(paths))
    reuse = previous if previous is not None and previous.recipe == recipe else None
    have = {p: reuse.rows[p] for p in paths if reuse is not None and p in reuse}
    todo = [p for p in paths if p not in have]
    computed: dict[str, tuple] = {}
    side = reuse.side if reuse is not None else 0
    for s in range(0, len(todo), chunk):
        part = todo[s:s + chunk]
        for p, got in zip(part, compute(part)):
            if got is not None:
                computed[p] = (quantise(got[0]), np.asarray(got[1], np.uint16))
                side = got[2]
    kept = [p for p in paths if p in have or p in computed]
    name = recipe_name(recipe, kept)
    final = Path(models_dir) / name
    if final.exists():  # the same photos with the same recipe: nothing to write
        return name, {"photos": len(kept), "computed": 0, "reused": len(kept), "unreadable": len(paths) - len(kept)}
    shape = (next(iter(computed.values()))[0].shape if computed else reuse.cells.shape[1:]) if kept else (0, 0)
    tmp = Path(models_dir) / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cells = np.lib.format.open_memmap(tmp / "cells.npy", mode="w+", dtype=np.int8, shape=(len(kept), *shape))
    where = np.lib.format.open_memmap(tmp / "where.npy", mode="w+", dtype=np.uint16, shape=(len(kept), shape[0]))
    for i, p in enumerate(kept):
        cells[i], where[i] = computed[p] if p in computed else (reuse.cells[have[p]], reuse.where[have[p]])
    cells.flush()
    where.flush()
    del cells, where
    (tmp / "paths.json").write_text(json.dumps({"recipe": recipe, "side": side, "paths": kept}))
    tmp.rename(final)
    return name, {"photos": len(kept), "computed": len(computed), "reused": len(kept) - len(computed),
                  "unreadable": len(paths) - len(kept)}


def remove_others(models_dir: Path, keep: str) -> int:
    """Delete older stores (a reader that has one open keeps its mapped file until it closes it)."""
    removed = 0
    for d in Path(models_dir).glob("local-*"):
        if d.is_dir() and d.name != keep:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed
