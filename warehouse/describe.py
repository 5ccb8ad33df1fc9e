"""Writes the README's Warehouse reference from the schema files, so the two never drift apart.

Usage: python -m warehouse.describe  (prints Markdown)
"""
from __future__ import annotations

import re

import duckdb

from warehouse.migrate import migrate, schema_files
from warehouse.sql_files import SQL_DIR

_CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(TABLE|VIEW|MACRO)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_COLUMN_COMMENT = re.compile(r"^\s*(?:.*\bAS\s+)?\"?(\w+)\"?\b[^-]*?,?\s*--\s*(.+)$", re.I)
_TABLE_COLUMN = re.compile(r"^\s*(\w+)\s+[A-Z][A-Z0-9_\[\](), ]*.*?--\s*(.+)$")


def documented_objects() -> list[dict]:
    """Tables and views in schema order, with their description and per-column comments."""
    objects: list[dict] = []
    paths = [SQL_DIR / "schema_version_table.sql"] + [path for _, _, path in schema_files()]
    for path in paths:
        pending: list[str] = []
        current: dict | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            m = _CREATE.match(line)
            if m:
                current = {"kind": m.group(1).lower(), "name": m.group(2), "about": " ".join(pending),
                           "comments": {}, "file": path.name}
                if current["kind"] != "macro":
                    # A later schema file that makes a table again (to change its storage) describes it now,
                    # in the place the table always had.
                    same = [i for i, o in enumerate(objects) if o["name"] == current["name"]]
                    if same:
                        objects[same[0]] = current
                    else:
                        objects.append(current)
                pending = []
                continue
            if stripped.startswith("--"):
                if current is None or stripped == "--":
                    pending.append(stripped.lstrip("- ").strip())
                else:
                    pending.append(stripped.lstrip("- ").strip())
                continue
            if not stripped:
                pending = [] if current is None else pending
                continue
            if current is not None:
                pending = []
                m = (_TABLE_COLUMN if current["kind"] == "table" else _COLUMN_COMMENT).match(line)
                if m and m.group(1).upper() not in ("PRIMARY", "CHECK", "UNIQUE", "FOREIGN", "SELECT", "FROM", "WHERE"):
                    current["comments"][m.group(1)] = m.group(2).strip()
                if stripped.endswith(";"):
                    current = None
    return objects


def describe_markdown() -> str:
    con = duckdb.connect()
    migrate(con)
    out = []
    objects = documented_objects()
    # A column without its own comment (a view pass-through, a same-shaped table) means what it means elsewhere.
    known: dict[str, str] = {}
    for obj in objects:
        if obj["kind"] == "table":
            for column, meaning in obj["comments"].items():
                known.setdefault(column, meaning)
    for obj in objects:
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [obj["name"]],
        ).fetchall()
        where = "warehouse/sql/" + ("" if obj["file"] == "schema_version_table.sql" else "schema/") + obj["file"]
        out.append(f"#### `{obj['name']}` ({obj['kind']}, `{where}`)")
        if obj["about"]:
            out.append("")
            out.append(obj["about"])
        out.append("")
        out.append("| column | type | meaning |")
        out.append("| --- | --- | --- |")
        for name, dtype in columns:
            meaning = obj["comments"].get(name) or known.get(name, "")
            meaning = meaning.replace("|", "\\|")
            out.append(f"| `{name}` | `{dtype}` | {meaning} |")
        out.append("")
    con.close()
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(describe_markdown(), end="")
