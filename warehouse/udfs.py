"""Functions registered on every warehouse connection, so analysts can use them in SQL."""
from __future__ import annotations

import duckdb

# Each entry is a callable(con) that registers one function and is harmless to call twice.
REGISTRARS: list = []

from warehouse.similarity import register_cosine_similarity  # noqa: E402

REGISTRARS.append(register_cosine_similarity)


def register_all(con: duckdb.DuckDBPyConnection) -> None:
    for register in REGISTRARS:
        register(con)
