"""Every answer stored in price_suggestions: one row per photo, inputs and models, replaced when asked again."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa

from soldsight.price.state import State
from warehouse.sql_files import sql


COLUMNS = pa.schema([
    ("suggestion_id", pa.string()), ("photo", pa.string()), ("photo_sha256", pa.string()),
    ("embed_model_id", pa.string()), ("index_id", pa.string()), ("price_model_id", pa.string()),
    ("inputs", pa.string()), ("status", pa.string()), ("reason", pa.string()), ("match_listing_id", pa.string()),
    ("match_title", pa.string()), ("similarity", pa.float64()), ("suggested_price", pa.float64()),
    ("low", pa.float64()), ("high", pa.float64()), ("currency", pa.string()), ("n_comparables", pa.int32()),
    ("output", pa.string()),
])


def suggestion_row(path: Path, answer: dict, sha: str | None, inputs: dict, state: State | None, embedder) -> dict:
    model_ids = {"embed": getattr(embedder, "model_id", None) or (state.config.embed_model_id if state else None),
                 "index": state.config.index_id if state else None, **(state.model_ids if state else {})}
    key = json.dumps([sha or str(path), inputs, model_ids], sort_keys=True)
    match = answer.get("match") or {}
    return {
        "suggestion_id": hashlib.sha256(key.encode()).hexdigest(), "photo": str(path), "photo_sha256": sha,
        "embed_model_id": model_ids["embed"], "index_id": model_ids["index"], "price_model_id": model_ids.get("grades"),
        "inputs": json.dumps({**inputs, "models": model_ids}), "status": answer["status"], "reason": answer["reason"],
        "match_listing_id": match.get("listing_id"), "match_title": match.get("title"), "similarity": match.get("similarity"),
        "suggested_price": answer["suggested_price"], "low": answer["low"], "high": answer["high"],
        "currency": answer["currency"], "n_comparables": answer["n_comparables"], "output": json.dumps(answer),
    }


def store_suggestions(con, rows: list[dict]) -> None:
    """One INSERT for the batch (one per photo cost ~7 ms each). A photo given twice in one call is stored once,
    with its last answer as when priced twice in a row (within one INSERT, DuckDB would keep the first)."""
    latest = list({r["suggestion_id"]: r for r in rows}.values())
    if not latest:
        return
    con.register("new_price_suggestions", pa.Table.from_pylist(latest, schema=COLUMNS))
    try:
        con.execute(sql("record_price_suggestions"))
    finally:
        con.unregister("new_price_suggestions")
