"""Reads a scraper export, a JSON array or NDJSON, into records; a broken file is an error."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator


class ExportFormatError(ValueError):
    """The file as a whole is not a readable export; nothing from it may be written."""

    def __init__(self, path: Path | str, position: str, problem: str):
        super().__init__(f"{path}: {position}: {problem}")
        self.path, self.position, self.problem = str(path), position, problem


def read_records(path: Path | str, data: bytes | None = None) -> list[tuple[object, str | None]]:
    """Every record of the export in file order, as (record, raw text or None); see iter_records."""
    return list(iter_records(path, data))


def iter_records(path: Path | str, data: bytes | None = None) -> Iterator[tuple[object, str | None]]:
    """The records of the export in file order, as (record, raw text or None).

    NDJSON records come with their line, kept as received; array items come with None.

    Array items that are not objects are returned as they are, for the caller to reject
    one by one; a file that is not JSON or NDJSON raises ExportFormatError naming where (for
    NDJSON, while iterating, at the first bad line: collect everything before writing anything).
    """
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(path, f"byte {exc.start}", "not UTF-8 text") from None
    stripped = text.lstrip()
    if not stripped:
        return iter(())
    if stripped[0] == "[":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None
        if not isinstance(document, list):
            raise ExportFormatError(path, "line 1", "top level is neither a JSON array nor lines of JSON objects")
        return ((record, None) for record in document)
    if stripped[0] != "{":
        raise ExportFormatError(path, "line 1", "top level is neither a JSON array nor lines of JSON objects")
    return iter_ndjson(path, text)


def iter_ndjson(path: Path | str, text: str) -> Iterator[tuple[dict, str]]:
    """(record, line) for each non-blank NDJSON line, in order; ExportFormatError at the first bad line.

    Lines end at \n (a \r before it is dropped). Not str.splitlines(): U+2028, U+2029 and U+0085 are
    legal raw inside JSON strings (ensure_ascii=False writes them) and must not split a record.
    """
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(
                path, f"line {lineno} column {exc.colno}", f"invalid NDJSON line: {exc.msg}"
            ) from None
        if not isinstance(record, dict):
            raise ExportFormatError(path, f"line {lineno}", f"NDJSON line is a {type(record).__name__}, not an object")
        yield record, line.strip()
