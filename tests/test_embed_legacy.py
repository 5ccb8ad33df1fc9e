"""The legacy .pth reader: the packaged Lite0 weights, hand-made files, and refusals (a security boundary)."""
from __future__ import annotations

import hashlib
import io
import pickle
import struct
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

from soldsight.embed.legacy_pth import MAGIC_NUMBER, PROTOCOL_VERSION, LegacyPthError, read_state_dict
from soldsight.embed.lite0 import block_specs, file_sha256, weights_path


@pytest.fixture(scope="module")
def state():
    return read_state_dict(weights_path())


def test_packaged_weights_counts_shapes_and_dtypes(state):
    assert len(state) == 296
    assert sum(v.size for v in state.values()) == 4_694_073
    tracked = [k for k in state if k.endswith("num_batches_tracked")]
    assert len(tracked) == 49
    assert all(state[k].dtype == np.int64 and state[k].shape == () for k in tracked)
    assert all(v.dtype == np.float32 for k, v in state.items() if k not in tracked)
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert "_blocks.0._expand_conv.weight" not in state  # the first block has no expansion
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.bias"].shape == (1000,)
    # Every block of the architecture table has its depthwise kernel of the right size, and no more blocks exist.
    specs = list(block_specs())
    for i, kernel, _, expand, cin, _ in specs:
        assert state[f"_blocks.{i}._depthwise_conv.weight"].shape == (cin * expand, 1, kernel, kernel)
    assert not any(k.startswith(f"_blocks.{len(specs)}.") for k in state)
    assert all(v.flags.c_contiguous and np.isfinite(v).all() for v in state.values())


def test_packaged_weights_checksum(state):
    # The file name carries the first 8 hex digits of its sha256 (torch hub convention).
    assert file_sha256(weights_path()).startswith("57934424")
    digest = hashlib.sha256()
    for key, value in state.items():
        digest.update(key.encode())
        digest.update(str(value.dtype).encode())
        digest.update(str(value.shape).encode())
        digest.update(value.tobytes())
    assert digest.hexdigest() == "623410201e6869bde89bd8a151dc60434dfeb598965ff44f3c6ebe720b56804e"


# --- hand-made legacy files -------------------------------------------------------------------

class _Storage:
    def __init__(self, key, values):
        self.key, self.values = key, values


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, OrderedDict())

    def __reduce__(self):
        return sys.modules["torch._utils"]._rebuild_tensor_v2, self.args


@pytest.fixture
def fake_torch(monkeypatch):
    """Importable stand-ins named torch.FloatStorage etc., so pickle writes the globals torch would."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    for name in ("FloatStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called when writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def write_legacy(path, state: dict, storages: list[_Storage], torch, truncate: int = 0) -> None:
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                kind = torch.LongStorage if obj.values.dtype == np.int64 else torch.FloatStorage
                return ("storage", kind, obj.key, "cpu", obj.values.size, None)
            return None

    out = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump(OrderedDict(state))
    pickle.dump([s.key for s in storages], out, protocol=2)
    for s in storages:
        out.write(struct.pack("<q", s.values.size))
        out.write(s.values.astype(s.values.dtype.newbyteorder("<")).tobytes())
    data = out.getvalue()
    path.write_bytes(data[: len(data) - truncate] if truncate else data)


def test_hand_made_file_with_views_offsets_and_shared_storage(tmp_path, fake_torch):
    base = _Storage("7", np.arange(24, dtype=np.float32))
    counts = _Storage("8", np.array([5], dtype=np.int64))
    state = {
        "whole": _Tensor(base, 0, (2, 3, 4), (12, 4, 1)),
        "offset": _Tensor(base, 6, (3,), (1,)),
        "transposed": _Tensor(base, 0, (4, 3), (1, 4)),  # a non-contiguous view of the same storage
        "count": _Tensor(counts, 0, (), ()),
    }
    path = tmp_path / "tiny.pth"
    write_legacy(path, state, [base, counts], fake_torch)
    got = read_state_dict(path)
    assert list(got) == ["whole", "offset", "transposed", "count"]
    np.testing.assert_array_equal(got["whole"], np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    np.testing.assert_array_equal(got["offset"], [6, 7, 8])
    np.testing.assert_array_equal(got["transposed"], np.arange(12, dtype=np.float32).reshape(3, 4).T)
    assert got["count"].dtype == np.int64 and got["count"].shape == () and got["count"] == 5


def test_truncated_data_and_out_of_bounds_views_are_refused(tmp_path, fake_torch):
    base = _Storage("1", np.arange(6, dtype=np.float32))
    path = tmp_path / "short.pth"
    write_legacy(path, {"w": _Tensor(base, 0, (6,), (1,))}, [base], fake_torch, truncate=8)
    with pytest.raises(LegacyPthError, match="truncated"):
        read_state_dict(path)
    write_legacy(path, {"w": _Tensor(base, 2, (6,), (1,))}, [base], fake_torch)
    with pytest.raises(LegacyPthError, match="past storage"):
        read_state_dict(path)


class _Rebuilt:
    """Pickles as an arbitrary call of an allowed global, with an optional BUILD state."""

    def __init__(self, func_path: str, args: tuple, state=None):
        self.func_path, self.args, self.state = func_path, args, state

    def __reduce__(self):
        module, name = self.func_path.rsplit(".", 1)
        func = getattr(sys.modules[module], name)
        return (func, self.args) if self.state is None else (func, self.args, self.state)


def test_abuse_of_the_allowed_globals_is_refused(tmp_path, fake_torch):
    base = _Storage("1", np.arange(6, dtype=np.float32))
    path = tmp_path / "abuse.pth"
    cases = {
        # a zero-stride view: a few bytes in the file asking for 4 GB
        "elements on a storage": {"w": _Tensor(base, 0, (10**9,), (0,))},
        # pickle's BUILD would overwrite the checked geometry after the fact
        "refusing to set state": {"w": _Rebuilt("torch._utils._rebuild_tensor_v2",
                                                (base, 0, (6,), (1,), False, OrderedDict()), {"size": (10**9,)})},
        # calling a storage type, or passing garbage geometry
        "cannot read pickle": {"w": _Rebuilt("torch.FloatStorage", ())},
        "tuples of one rank": {"w": _Rebuilt("torch._utils._rebuild_tensor_v2", (base, 0, "abc", (1,), False, None))},
    }
    for message, state in cases.items():
        write_legacy(path, state, [base], fake_torch)
        with pytest.raises(LegacyPthError, match=message):
            read_state_dict(path)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_pickle_naming_other_globals_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    out = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    pickle.dump(OrderedDict(w=_Evil(marker)), out, protocol=2)
    path = tmp_path / "evil.pth"
    path.write_bytes(out.getvalue())
    with pytest.raises(LegacyPthError, match="refusing to unpickle global"):
        read_state_dict(path)
    assert not marker.exists()


def test_globals_in_the_header_and_wrong_magic_are_refused(tmp_path):
    path = tmp_path / "bad.pth"
    path.write_bytes(pickle.dumps(_Evil(tmp_path / "x"), protocol=2))
    with pytest.raises(LegacyPthError, match="header"):
        read_state_dict(path)
    assert not (tmp_path / "x").exists()
    path.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(LegacyPthError, match="magic"):
        read_state_dict(path)
