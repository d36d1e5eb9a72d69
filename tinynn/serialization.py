"""``save``/``load``: state dicts as NumPy ``.npz`` archives, never pickle.

The archive holds one array per leaf value and a JSON description of the
nesting (dicts, lists, numbers, strings), so that an optimiser's state dict
round-trips as well as a model's.  Loading uses ``allow_pickle=False``:
a file cannot run code when it is opened.
"""
from __future__ import annotations

import json
import numbers
import zipfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load"]

_STRUCTURE_KEY = "__tinynn_structure__"


def _encode(obj, arrays):
    """Replace every array in ``obj`` by a reference into ``arrays``; return JSON-able data."""
    if isinstance(obj, Tensor):
        arrays.append(np.asarray(obj.detach()))
        return {"tensor": len(arrays) - 1}
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"array": len(arrays) - 1}
    if isinstance(obj, dict):
        if not all(isinstance(k, (str, int)) for k in obj):
            raise TypeError("save: dictionary keys must be strings or ints")
        return {"dict": [[k, _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, str)):
        return {"value": obj}
    if isinstance(obj, numbers.Number):
        return {"value": obj.item() if isinstance(obj, np.generic) else obj}
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__}; expected "
                    "tensors, arrays, numbers, strings and dicts/lists of them")


def _decode(node, archive):
    kind, value = next(iter(node.items()))
    if kind == "tensor":
        return Tensor._wrap(archive[f"a{value}"])
    if kind == "array":
        return archive[f"a{value}"]
    if kind == "dict":
        return {k: _decode(v, archive) for k, v in value}
    if kind == "list":
        return [_decode(v, archive) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, archive) for v in value)
    return value


def save(obj, path):
    """Write ``obj`` (a state dict, or nested dicts/lists of tensors and numbers) to ``path``."""
    arrays = []
    structure = _encode(obj, arrays)
    for array in arrays:
        if array.dtype == object:
            raise TypeError("save: object arrays cannot be stored without pickle")
    payload = {f"a{i}": array for i, array in enumerate(arrays)}
    payload[_STRUCTURE_KEY] = np.frombuffer(json.dumps(structure).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **payload)


def load(path, map_location=None):
    """Read what ``save`` wrote.  Refuses anything that is not a tinynn ``.npz`` archive."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head != b"PK\x03\x04":
        hint = " (it looks like a pickle file)" if head[:1] == b"\x80" else ""
        raise ValueError(f"load: expected a .npz archive written by tinynn.save, got a file "
                         f"starting with {head!r}{hint}; tinynn never unpickles files")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _STRUCTURE_KEY not in archive.files:
                return {name: Tensor._wrap(archive[name]) for name in archive.files}
            structure = json.loads(archive[_STRUCTURE_KEY].tobytes().decode())
            result = _decode(structure, archive)
    except (zipfile.BadZipFile, ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"load: {path} is not a valid tinynn archive: {error}") from None
    if map_location is not None:
        result = _move(result, map_location)
    return result


def _move(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _move(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(v, device) for v in obj)
    return obj
