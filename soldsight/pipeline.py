"""Plain helpers the flows need that belong to no single step: stage reports, inboxes, run records."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from soldsight.settings import Settings
from warehouse.connection import open_warehouse
from warehouse.sql_files import sql

EXPORT_SUFFIXES = (".json", ".ndjson", ".jsonl")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".gif", ".bmp", ".tif", ".tiff")


def stage_report(stage: str, *, done: int = 0, skipped: int = 0, failed: int = 0,
                 failures: dict[str, int] | None = None, note: str = "", **detail) -> dict:
    """One step's outcome as a small JSON-able dict: what it did, what it skipped, what failed and why.

    `done` counts new work (rows written, files fetched); a step with done == 0 and
    failed == 0 changed nothing.
    """
    return {
        "stage": stage,
        "done": int(done),
        "skipped": int(skipped),
        "failed": int(failed),
        "failures": {str(k): int(v) for k, v in (failures or {}).items() if v},
        "note": note,
        "detail": detail,
    }


def nothing_new(reports: list[dict]) -> bool:
    """True when no step did new work and none failed: the run changed nothing."""
    return all(r["done"] == 0 and r["failed"] == 0 for r in reports if not r["detail"].get("derived"))


def summary_rows(reports: list[dict]) -> list[dict]:
    """One table row per stage, failures spelled out by reason."""
    rows = []
    for r in reports:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(r["failures"].items(), key=lambda kv: -kv[1]))
        rows.append({"stage": r["stage"], "done": r["done"], "skipped": r["skipped"],
                     "failed": r["failed"], "failures by reason": reasons or "-", "note": r["note"] or "-"})
    return rows


def failure_rows(reports: list[dict]) -> list[dict]:
    """(stage, reason, count) rows, most frequent first, for the failures table."""
    rows = [{"stage": r["stage"], "reason": reason, "count": n}
            for r in reports for reason, n in r["failures"].items()]
    return sorted(rows, key=lambda row: (-row["count"], row["stage"], row["reason"]))


def pending_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files directly in folder with one of the suffixes, sorted; done/ and failed/ are not looked in."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith("."))


def file_photo(photo: Path, ok: bool) -> Path:
    """Move a handled inbox photo into done/ or failed/ beside it; a name clash gets a content suffix."""
    photo = Path(photo)
    target_dir = photo.parent / ("done" if ok else "failed")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / photo.name
    if target.exists():
        digest = hashlib.sha256(photo.read_bytes()).hexdigest()[:12]
        target = target_dir / f"{photo.stem}-{digest}{photo.suffix}"
    if target.exists():  # the very same photo was filed before: keep one copy
        photo.unlink()
        return target
    shutil.move(str(photo), str(target))
    return target


def record_run(settings: Settings, *, run_id: str, flow: str, started_at: datetime, status: str,
               reports: list[dict]) -> None:
    """Keep one pipeline_runs row per flow run, so the warehouse itself says what each run did."""
    finished = datetime.now(timezone.utc)
    with open_warehouse(settings) as con:
        con.execute(sql("record_pipeline_run"), {
            "run_id": run_id, "flow": flow, "started_at": started_at, "finished_at": finished,
            "status": status, "nothing_new": nothing_new(reports),
            "stages": json.dumps(reports, sort_keys=True), "host": os.uname().nodename,
        })


def warehouse_fingerprint(settings: Settings) -> dict:
    """What pricing depends on (sold listings, ok embeddings), as a digest that changes when they do.

    Returns {"digest", "listings", "vectors"}: small, so it can be a task result and a cache key.
    """
    parts = [str(settings.warehouse_path.resolve())]
    vectors = 0
    with open_warehouse(settings) as con:
        tables = {row[0] for row in con.execute(sql("table_names")).fetchall()}
        listings = con.execute(sql("fingerprint_listings")).fetchall()
        parts.append(repr(listings))
        if "embeddings" in tables:
            models = con.execute(sql("fingerprint_embeddings")).fetchall()
            parts.append(repr(models))
            vectors = sum(int(row[1]) for row in models)
    return {"digest": hashlib.sha256("|".join(parts).encode()).hexdigest()[:16],
            "listings": int(listings[0][0]), "vectors": vectors}


def embed_needed(settings: Settings, pooling: str = "avg") -> bool:
    """Whether the embed step has work, answered without loading TensorFlow.

    False when nothing is downloaded, or when the newest registered model for this backbone,
    preprocessing and pooling has a vector (or an error row) for every downloaded photo.
    Anything uncertain (no such model yet) says True and lets the embed step decide.
    """
    from soldsight.embed.preprocess import PREPROCESS_VERSION

    with open_warehouse(settings) as con:
        tables = {row[0] for row in con.execute(sql("table_names")).fetchall()}
        if "images" not in tables or not con.execute(sql("images_ok_count")).fetchall()[0][0]:
            return False
        if "embedding_models" not in tables:
            return True
        models = con.execute(sql("embedding_model_current"), {
            "backbone": settings.model, "preprocess_version": PREPROCESS_VERSION, "pooling": pooling,
        }).fetchall()
        if not models:
            return True
        pending = con.execute(sql("embeddings_pending"), {"model_id": models[0][0], "retry_failed": False})
        return bool(pending.fetchall())


# Parents before children: listings before the tables that refer to them.
_LOAD_FIRST = ["listings", "scrape_errors"]


def lake_tables(lake_dir: Path) -> list[str]:
    """Lake folders that have a warehouse/sql/load_<table>.sql merge, listings first."""
    from warehouse.sql_files import SQL_DIR

    found = [p.name for p in sorted(Path(lake_dir).iterdir()) if p.is_dir() and (SQL_DIR / f"load_{p.name}.sql").is_file()] \
        if Path(lake_dir).is_dir() else []
    return [t for t in _LOAD_FIRST if t in found] + [t for t in found if t not in _LOAD_FIRST]


def load_lake(settings: Settings) -> dict:
    """Merge every lake file whose content is not in the warehouse yet (after a crash, say)."""
    from warehouse.lake import load_pending

    with open_warehouse(settings) as con:
        loaded = load_pending(con, settings.lake_dir, lake_tables(settings.lake_dir))
    return stage_report("load", done=sum(loaded.values()), note=f"{len(loaded)} tables had new lake files",
                        rows=loaded)


def file_photos(results: list[dict]) -> dict:
    """Move each priced photo that is still in place to done/ (any answer) or failed/ (status error)."""
    moved = {"done": 0, "failed": 0}
    for r in results:
        if Path(r["photo"]).exists():
            ok = r["status"] != "error"
            file_photo(Path(r["photo"]), ok)
            moved["done" if ok else "failed"] += 1
    return stage_report("file", done=sum(moved.values()), note=f"done/ {moved['done']}, failed/ {moved['failed']}")
