"""Reads PyTorch's legacy (non-zip) .pth files into numpy arrays, without torch.

The file is a run of pickles: magic number, protocol version (1001), system info,
the state dict (tensors point at storages by persistent id), the list of storage
keys; then, per key in that order, an int64 element count and the raw data.

Unpickling runs code named by the file, so this loader is a security boundary:
`_RestrictedUnpickler.find_class` admits exactly the four globals such a state dict
needs, maps each to a harmless stand-in defined here, and refuses everything else.
"""
from __future__ import annotations

import io
import math
import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch storage class name -> little-endian numpy dtype of its elements.
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class LegacyPthError(ValueError):
    """The file is not a legacy .pth state dict this reader accepts."""


class _Sealed:
    """Stand-ins refuse pickle's BUILD, which could otherwise overwrite their checked fields."""

    def __setstate__(self, state):
        raise LegacyPthError(f"refusing to set state on {type(self).__name__.lstrip('_')}")


class _StorageType(_Sealed):
    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _StorageRef(_Sealed):
    """A storage named by the pickle; its bytes arrive after the pickles."""

    def __init__(self, key: str, storage_type: _StorageType, numel: int):
        self.key, self.dtype, self.numel = key, storage_type.dtype, numel
        self.data: np.ndarray | None = None


class _TensorRef(_Sealed):
    """A view (offset, size, stride) on a storage, materialised once the data is read."""

    def __init__(self, storage, offset, size, stride, *_ignored):
        if not isinstance(storage, _StorageRef):
            raise LegacyPthError("tensor does not refer to a storage")
        if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)):
            raise LegacyPthError("tensor size and stride must be tuples of one rank")
        if not all(type(v) is int and v >= 0 for v in (offset, *size, *stride)):
            raise LegacyPthError("tensor geometry must be non-negative integers")
        # A state dict's tensors never hold more elements than their storage; refusing larger
        # (zero-stride) views keeps a tiny file from asking for gigabytes.
        if math.prod(size) > max(storage.numel, 1):
            raise LegacyPthError(f"tensor of {math.prod(size)} elements on a storage of {storage.numel}")
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise LegacyPthError(f"storage {self.storage.key} has no data")
        if not all(self.size):
            return np.zeros(self.size, dtype=data.dtype)
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if last >= len(data):
            raise LegacyPthError(f"tensor reaches past storage {self.storage.key}")
        if not self.size:  # a scalar (as_strided cannot make 0-d views)
            return data[self.offset:self.offset + 1].reshape(()).copy()
        item = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * item for s in self.stride], writeable=False
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *rest):
    return _TensorRef(storage, storage_offset, size, stride)


# (module, name) -> what it becomes. Nothing else can be named by the file.
_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, fh, storages: dict[str, _StorageRef]):
        super().__init__(fh)
        self._storages = storages

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise LegacyPthError(f"refusing to unpickle global {module}.{name}") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise LegacyPthError(f"unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel, view_metadata = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str) or type(numel) is not int \
                or numel < 0:
            raise LegacyPthError("malformed storage reference")
        if view_metadata is not None:
            raise LegacyPthError("storage views are not supported")
        known = self._storages.setdefault(key, _StorageRef(key, storage_type, numel))
        if (known.dtype, known.numel) != (storage_type.dtype, numel):
            raise LegacyPthError(f"storage {key} is announced twice with different types or sizes")
        return known


def _plain_load(fh):
    """The header pickles hold only ints, strings and dicts: no globals at all."""

    class _NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise LegacyPthError(f"refusing to unpickle global {module}.{name} in the header")

    return _NoGlobals(fh).load()


def read_state_dict(path: Path | str) -> "OrderedDict[str, np.ndarray]":
    """Every tensor of a legacy .pth state dict, by key, as contiguous numpy arrays."""
    raw = Path(path).read_bytes()
    fh = io.BytesIO(raw)
    try:
        if _plain_load(fh) != MAGIC_NUMBER:
            raise LegacyPthError("not a legacy PyTorch file (bad magic number)")
        if _plain_load(fh) != PROTOCOL_VERSION:
            raise LegacyPthError("unsupported legacy protocol version")
        sys_info = _plain_load(fh)
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise LegacyPthError("only little-endian files are supported")
        storages: dict[str, _StorageRef] = {}
        state = _RestrictedUnpickler(fh, storages).load()
        keys = _plain_load(fh)
    except LegacyPthError:
        raise
    except (pickle.UnpicklingError, EOFError, struct.error, TypeError, AttributeError, ValueError, KeyError,
            IndexError) as exc:
        raise LegacyPthError(f"cannot read pickle: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise LegacyPthError("the file does not hold a state dict")
    if set(keys) != set(storages):
        raise LegacyPthError("storage key list does not match the tensors")
    for key in keys:
        ref = storages[key]
        (count,) = struct.unpack("<q", fh.read(8))
        if count != ref.numel:
            raise LegacyPthError(f"storage {key}: {count} elements on disk, {ref.numel} announced")
        nbytes = count * ref.dtype.itemsize
        start = fh.tell()
        if start + nbytes > len(raw):
            raise LegacyPthError(f"storage {key} is truncated")
        ref.data = np.frombuffer(raw, dtype=ref.dtype, count=count, offset=start)
        fh.seek(start + nbytes)
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise LegacyPthError(f"entry {name!r:.60} is not a tensor")
        out[name] = value.materialise()
    return out
