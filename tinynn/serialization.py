"""``save``/``load``: state dicts as NumPy ``.npz`` archives, never pickle.

The archive holds one array per leaf value and a JSON description of the nesting (dicts,
lists, numbers, strings), so that an optimiser's state dict round-trips as well as a
model's.  Saving writes a temporary file and renames it over the target (``files.py``):
a crash never destroys the previous good file.  Loading never runs code and trusts
nothing in the file: each array's header must describe exactly the bytes stored after
it (checked before anything is allocated), object arrays are refused, and the JSON
nesting is checked node by node, to a bounded depth.
"""
from __future__ import annotations

import io
import json
import math
import numbers
import os
import zipfile

import numpy as np

from .files import atomic_write
from .tensor import Tensor

__all__ = ["save", "load"]

_STRUCTURE_KEY = "__tinynn_structure__"
_SMALL_KEY = "__tinynn_small__"
SMALL_BYTES = 1024                 # arrays up to this size share one member (see _Writer.small)
MAX_DEPTH = 64                     # nesting of dicts/lists in a state dict
MAX_DEFLATE_RATIO = 1100           # deflate cannot compress better than ~1032:1; more is a bomb


class _Writer:
    """The arrays of one archive: each stored once (tied parameters share one entry), and,
    with ``sparse``, mostly-zero float arrays as CSR (values, column indices, row starts).
    Small arrays (biases, scales, zero points) go one after another into one shared member:
    each member of a zip costs ~0.2 KB of headers, more than such an array itself."""

    def __init__(self, sparse):
        self.arrays, self.stored, self.sparse = [], {}, sparse
        self.small, self.small_nodes, self.kept = bytearray(), {}, []

    def add_small(self, array, kind):
        if id(array) not in self.small_nodes:
            self.kept.append(array)                     # keeps its id unique while saving
            self.small_nodes[id(array)] = [len(self.small), array.dtype.str, list(array.shape)]
            self.small += array.tobytes(order="C")
        return {"small": self.small_nodes[id(array)] + [kind == "tensor"]}

    def add(self, array):
        if id(array) not in self.stored:
            self.arrays.append(array)
            self.stored[id(array)] = len(self.arrays) - 1
        return self.stored[id(array)]

    def encode(self, array, kind):
        if array.nbytes <= SMALL_BYTES and not array.dtype.hasobject:
            return self.add_small(array, kind)
        if self.sparse and array.dtype.kind in "iuf" and array.size >= SPARSE_MIN_SIZE \
                and np.count_nonzero(array) <= array.size * SPARSE_MAX_DENSITY:
            values, columns, starts = to_csr(array)
            counts = np.diff(starts)
            parts = (values, _gaps(columns, starts), counts.astype(_smallest_unsigned(counts)))
            return {"csr": {"packed": self.add(np.concatenate([p.view(np.uint8).reshape(-1) for p in parts])),
                            "parts": [[p.dtype.str, len(p)] for p in parts],
                            "shape": list(array.shape), "tensor": kind == "tensor"}}
        return {kind: self.add(array)}


# A sparse array is one member of the archive: its values, column gaps and row lengths
# packed into one byte buffer (three members would cost ~0.5 KB of headers each time).
SPARSE_MIN_SIZE = 64               # smaller arrays are not worth three
SPARSE_MAX_DENSITY = 0.5           # CSR pays (value + 1-2 index bytes) below half full


def to_csr(array):
    """(values, column indices, row starts) of ``array`` viewed as (rows, -1)."""
    matrix = array.reshape(array.shape[0] if array.ndim > 1 else 1, -1)
    rows, cols = np.nonzero(matrix)
    starts = np.searchsorted(rows, np.arange(matrix.shape[0] + 1)).astype(np.int64)
    return matrix[rows, cols], cols.astype(np.uint16 if matrix.shape[1] <= 2 ** 16 else np.int64), starts


def _smallest_unsigned(values):
    top = int(values.max()) if len(values) else 0
    return np.uint8 if top < 2 ** 8 else np.uint16 if top < 2 ** 16 else np.uint32


def _gaps(columns, starts):
    """Each row's columns as the gaps before them (Deep Compression's relative indices):
    small numbers, one byte each when every gap is below 256, that deflate well."""
    previous = np.concatenate([[-1], columns[:-1].astype(np.int64)])
    previous[starts[:-1][np.diff(starts) > 0]] = -1
    gaps = columns.astype(np.int64) - previous - 1
    return gaps.astype(_smallest_unsigned(gaps))


def _columns(gaps, starts):
    """The inverse of ``_gaps``: a running sum that restarts at every row."""
    steps = np.cumsum(gaps.astype(np.int64) + 1)
    before = np.concatenate([[0], steps])[starts[:-1]]
    return steps - np.repeat(before, np.diff(starts)) - 1


def _encode(obj, writer):
    """Replace every array in ``obj`` by a reference into the archive; return JSON-able data."""
    if isinstance(obj, Tensor):
        return writer.encode(np.asarray(obj.detach()), "tensor")
    if isinstance(obj, np.ndarray):
        return writer.encode(obj, "array")
    if isinstance(obj, dict):
        if not all(isinstance(k, (str, int)) for k in obj):
            raise TypeError("save: dictionary keys must be strings or ints")
        return {"dict": [[k, _encode(v, writer)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, writer) for v in obj]}
    if obj is None or isinstance(obj, (bool, str)):
        return {"value": obj}
    if isinstance(obj, numbers.Number):
        return {"value": obj.item() if isinstance(obj, np.generic) else obj}
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__}; expected "
                    "tensors, arrays, numbers, strings and dicts/lists of them")


def save(obj, f, sparse=False, compress=False):
    """Write ``obj`` (a state dict, or nested dicts/lists of tensors and numbers) to ``f``, a
    path (replaced atomically) or a file object opened for binary writing.

    ``sparse=True`` stores float arrays that are at most half non-zero (pruned weights) in
    CSR form; ``compress=True`` deflates the archive (an entropy coder, as Deep Compression's
    Huffman step).  ``load`` reads every variant back as dense tensors."""
    writer = _Writer(sparse)
    structure = _encode(obj, writer)
    if any(array.dtype.hasobject for array in writer.arrays):
        raise TypeError("save: object arrays cannot be stored without pickle")
    payload = {f"a{i}": array for i, array in enumerate(writer.arrays)}
    payload[_STRUCTURE_KEY] = np.frombuffer(json.dumps(structure).encode(), dtype=np.uint8)
    if writer.small:
        payload[_SMALL_KEY] = np.frombuffer(bytes(writer.small), dtype=np.uint8)
    write = np.savez_compressed if compress else np.savez
    if hasattr(f, "write"):
        write(f, **payload)
        return
    with atomic_write(f, "save") as handle:
        write(handle, **payload)


# ---------------------------------------------------------------------------- loading
class _Invalid(ValueError):
    """A damaged or hostile archive; ``load`` names the file."""


def _read_member(archive, info):
    """One ``.npy`` member as an array, its header checked against its size first."""
    if info.compress_type != zipfile.ZIP_STORED and \
            info.file_size > MAX_DEFLATE_RATIO * max(info.compress_size, 1) + 2 ** 20:
        raise _Invalid(f"{info.filename} claims to expand {info.compress_size} bytes into "
                       f"{info.file_size} (a zip bomb?)")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(member, max_header_size=10_000)
        except (ValueError, SyntaxError, EOFError) as error:
            raise _Invalid(f"{info.filename} has no valid .npy header ({error})") from None
        if dtype.hasobject:
            raise _Invalid(f"{info.filename} holds Python objects (dtype {dtype}); tinynn never "
                           "unpickles")
        nbytes = math.prod(shape) * dtype.itemsize
        if member.tell() + nbytes != info.file_size:
            raise _Invalid(f"{info.filename} declares shape {shape} of {dtype} ({nbytes} bytes) but "
                           f"stores {info.file_size - member.tell()} bytes")
        data = member.read(nbytes)
    if len(data) != nbytes:
        raise _Invalid(f"{info.filename} is truncated ({len(data)} of {nbytes} bytes)")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return array.copy()                     # writable, and owns its memory


def _read_archive(source):
    """name -> array for every member of the archive."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            if not all(i.filename.endswith(".npy") for i in members):
                raise _Invalid("it holds files other than .npy arrays")
            return {i.filename[:-4]: _read_member(archive, i) for i in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise _Invalid(f"the zip archive is damaged ({error})") from None


def _decode(node, arrays, depth=0):
    """The object a structure node describes; every node is checked before it is used."""
    if depth > MAX_DEPTH:
        raise _Invalid(f"its structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or len(node) != 1:
        raise _Invalid(f"its structure has a malformed node {str(node)[:60]!r}")
    kind, value = next(iter(node.items()))
    if kind in ("tensor", "array"):
        name = f"a{value}" if isinstance(value, int) and not isinstance(value, bool) else None
        if name not in arrays:
            raise _Invalid(f"its structure refers to array {value!r}, which is missing")
        return Tensor._wrap(arrays[name]) if kind == "tensor" else arrays[name]
    if kind == "csr" and isinstance(value, dict):
        return _from_csr(value, arrays)
    if kind == "small" and isinstance(value, list):
        return _from_small(value, arrays)
    if kind == "dict" and isinstance(value, list) and all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
            for item in value):
        return {k: _decode(v, arrays, depth + 1) for k, v in value}
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_decode(v, arrays, depth + 1) for v in value]
        return items if kind == "list" else tuple(items)
    if kind == "value" and (value is None or isinstance(value, (bool, str, int, float))):
        return value
    raise _Invalid(f"its structure has a malformed {kind!r} node")


def _from_small(node, arrays):
    """A small array: [offset, dtype, shape, is a tensor] into the shared member, checked."""
    buffer = arrays.get(_SMALL_KEY)
    try:
        offset, dtype, shape, tensor = node
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise _Invalid(f"its structure has a malformed 'small' node {str(node)[:60]!r}") from None
    valid_shape = isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)
    nbytes = math.prod(shape) * dtype.itemsize if valid_shape else -1
    if buffer is None or dtype.kind not in "biufc" or not isinstance(offset, int) or offset < 0 \
            or nbytes < 0 or offset + nbytes > buffer.nbytes:
        raise _Invalid(f"a small array ({dtype}, shape {shape}) does not fit the shared bytes")
    array = buffer[offset:offset + nbytes].view(dtype).reshape(shape).copy()
    return Tensor._wrap(array) if tensor is True else array


_PART_DTYPES = {"values": "biuf", "gaps": "u", "counts": "u"}


def _unpack(node, arrays):
    """(values, gaps, row lengths) of a packed sparse node, each slice checked first."""
    packed, parts = node.get("packed"), node.get("parts")
    if f"a{packed}" not in arrays or not isinstance(parts, list) or len(parts) != 3:
        raise _Invalid("its structure has a malformed or dangling 'csr' node")
    buffer, offset, unpacked = arrays[f"a{packed}"], 0, []
    for (dtype, count), (role, kinds) in zip(parts, _PART_DTYPES.items()):
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise _Invalid(f"a sparse array has an unknown dtype {dtype!r}") from None
        if dtype.kind not in kinds or dtype.hasobject or not isinstance(count, int) or count < 0 \
                or offset + count * dtype.itemsize > buffer.nbytes:
            raise _Invalid(f"a sparse array's {role} do not fit its packed bytes")
        unpacked.append(buffer[offset:offset + count * dtype.itemsize].view(dtype))
        offset += count * dtype.itemsize
    if buffer.dtype != np.uint8 or offset != buffer.nbytes:
        raise _Invalid("a sparse array's packed bytes do not match its parts")
    return unpacked


def _from_csr(node, arrays):
    """The dense array of a sparse node, every part checked against the others first."""
    shape = node.get("shape")
    if not (isinstance(shape, list) and shape and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise _Invalid("its structure has a malformed 'csr' node")
    values, gaps, counts = _unpack(node, arrays)
    rows = shape[0] if len(shape) > 1 else 1
    width = math.prod(shape) // max(rows, 1)
    dense_bytes = math.prod(shape) * values.dtype.itemsize
    stored = values.nbytes + gaps.nbytes + counts.nbytes
    if dense_bytes > 2 ** 30 and dense_bytes > 1000 * stored:
        raise _Invalid(f"a sparse array claims shape {tuple(shape)} from {stored} stored bytes")
    starts = np.concatenate([[0], np.cumsum(counts.astype(np.int64))])
    consistent = len(counts) == rows and len(values) == len(gaps) == starts[-1]
    columns = _columns(gaps, starts) if consistent else None
    if not consistent or (len(columns) and columns.max() >= width):
        raise _Invalid(f"a sparse array of shape {tuple(shape)} has inconsistent parts")
    dense = np.zeros((rows, width), dtype=values.dtype)
    dense[np.repeat(np.arange(rows), counts.astype(np.int64)), columns] = values
    dense = dense.reshape(shape)
    return Tensor._wrap(dense) if node.get("tensor") else dense


def _open(f):
    """A seekable binary handle on ``f`` and whether this function must close it.  An int is
    the caller's file descriptor: read through it, never close it."""
    if isinstance(f, int):
        return open(f, "rb", closefd=False), True
    if hasattr(f, "read"):
        return (f, False) if f.seekable() else (io.BytesIO(f.read()), False)
    return open(os.fspath(f), "rb"), True


def load(f, map_location=None, weights_only=None):
    """Read what ``save`` wrote, from a path, a file object or a file descriptor.  Refuses
    anything that is not a valid ``.npz`` archive.  (``weights_only`` is accepted for
    PyTorch's signature: tinynn loads only data, always.)"""
    handle, owned = _open(f)
    try:
        start = handle.tell()
        head = handle.read(4)
        handle.seek(start)
        if head != b"PK\x03\x04":
            hint = " (it looks like a pickle file)" if head[:1] == b"\x80" else ""
            raise ValueError(f"load: expected a .npz archive written by tinynn.save, got a file "
                             f"starting with {head!r}{hint}; tinynn never unpickles files")
        arrays = _read_archive(handle)
        if _STRUCTURE_KEY not in arrays:
            result = {name: Tensor._wrap(array) for name, array in arrays.items()}
        else:
            text = arrays.pop(_STRUCTURE_KEY).tobytes().decode("utf-8", errors="replace")
            result = _decode(json.loads(text), arrays)
    except (_Invalid, json.JSONDecodeError, RecursionError) as error:
        reason = "its structure is nested too deeply" if isinstance(error, RecursionError) else error
        raise ValueError(f"load: {getattr(f, 'name', f)} is not a valid tinynn archive: "
                         f"{reason}") from None
    finally:
        if owned:
            handle.close()
    return result if map_location is None else _move(result, map_location)


def _move(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _move(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(v, device) for v in obj)
    return obj
