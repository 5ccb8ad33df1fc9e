"""Reads the SQL files under warehouse/sql/, which hold every statement the product runs."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


@lru_cache(maxsize=None)
def sql(name: str) -> str:
    """The text of warehouse/sql/<name>.sql (name may include a subfolder)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text(encoding="utf-8")


def statements(text: str) -> list[str]:
    """Split a file of several statements on ';' at line ends (the files keep ';' out of strings)."""
    parts, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            stmt = "\n".join(current).strip()
            if _has_code(stmt):
                parts.append(stmt)
            current = []
    tail = "\n".join(current).strip()
    if _has_code(tail):
        parts.append(tail)
    return parts


def _has_code(stmt: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in stmt.splitlines())
