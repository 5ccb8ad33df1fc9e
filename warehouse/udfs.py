"""Functions registered on every warehouse connection, so analysts can use them in SQL."""
from __future__ import annotations

import duckdb

# Each entry is a callable(con) that registers one function and is harmless to call twice.
REGISTRARS: list = []


def register_all(con: duckdb.DuckDBPyConnection) -> None:
    for register in REGISTRARS:
        register(con)
