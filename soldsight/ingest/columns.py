"""Arrow columns straight from Python lists, through buffers.

pa.array() probes every input for pandas and so imports it (0.65 CPU-s, once per process);
these builders hand Arrow finished buffers instead, and build a column in a single pass.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

_INT32_MAX = 2**31 - 1


def _validity(values: list) -> tuple[pa.Buffer | None, int]:
    """The Arrow validity bitmap (None when nothing is null) and the null count."""
    nulls = values.count(None)
    if not nulls:
        return None, 0
    valid = np.array([v is not None for v in values], dtype=bool)
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


def strings(values: list, type_: pa.DataType = pa.string()) -> pa.Array:
    """str or None per row."""
    validity, nulls = _validity(values)
    texts = [v or "" for v in values] if nulls else values
    joined = "".join(texts)
    data = joined.encode("utf-8")
    if len(data) > _INT32_MAX:  # beyond 32-bit offsets: let Arrow chunk it, as before
        return pa.array(values, type=type_)
    # isascii() is a flag lookup: only non-ASCII text is encoded a second time, for its length.
    lengths = np.fromiter((len(t) if t.isascii() else len(t.encode("utf-8")) for t in texts) if len(data) != len(joined)
                          else map(len, texts), dtype=np.int32, count=len(texts))
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(data)], nulls)


def utf8(values: list[bytes], type_: pa.DataType = pa.string()) -> pa.Array:
    """A non-null string per row, from text already encoded to UTF-8."""
    data = b"".join(values)
    if len(data) > _INT32_MAX:
        return pa.array([v.decode("utf-8") for v in values], type=type_)
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, values), dtype=np.int32, count=len(values)), out=offsets[1:])
    return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def string_lists(values: list[list]) -> pa.Array:
    """A non-null list of str per row."""
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, values), dtype=np.int32, count=len(values)), out=offsets[1:])
    flat = strings([item for items in values for item in items])
    return pa.ListArray.from_buffers(pa.list_(pa.string()), len(values), [None, pa.py_buffer(offsets)],
                                     children=[flat])


def numbers(values: list, type_: pa.DataType) -> pa.Array:
    """float / int / None per row, for float64, int32 and timestamp (microseconds) columns."""
    dtype = {pa.float64(): np.float64, pa.int32(): np.int32}.get(type_, np.int64)
    validity, nulls = _validity(values)
    data = np.array([0 if v is None else v for v in values] if nulls else values, dtype=dtype)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(data)], nulls)


def booleans(values: list) -> pa.Array:
    """A non-null bool per row."""
    bits = np.packbits(np.fromiter(values, dtype=bool, count=len(values)), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def table(columns: dict[str, list], schema: pa.Schema) -> pa.Table:
    """A table of the schema from one Python list (or finished Arrow array) per field."""
    arrays = []
    for field in schema:
        values = columns[field.name]
        if isinstance(values, pa.Array):
            arrays.append(values)
        elif pa.types.is_string(field.type):
            arrays.append(strings(values))
        elif pa.types.is_list(field.type):
            arrays.append(string_lists(values))
        elif pa.types.is_boolean(field.type):
            arrays.append(booleans(values))
        else:
            arrays.append(numbers(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
