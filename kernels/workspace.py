"""Buffers kept from one training step to the next, as PyTorch's caching allocator keeps them.

A training step allocates its activations, columns and gradients and frees nearly all of
them at its end; glibc then hands that memory back to the kernel, and the next step
page-faults it in again, one 4 KiB page at a time (3,150 faults, a quarter of a LeNet-5
step on the 2-core VM).  The kernels take their large outputs from here instead.  A
buffer is lent again once nothing but this pool refers to it — no array, no view, no
saved tensor — which ``sys.getrefcount`` tells without any bookkeeping by the callers.

    empty(shape, dtype)   like np.empty;   zeros(shape, dtype)   like np.zeros

Small arrays (under ``MIN_BYTES``) come from NumPy directly; at most ``MAX_BYTES`` are
kept, and past that the free buffers are let go.
"""
import bisect
import math
import sys
import threading

import numpy as np

MIN_BYTES = 1 << 17             # glibc's own threshold for fresh pages (128 KiB)
MAX_BYTES = 1 << 31
SLACK = 2                       # a free buffer serves requests down to 1/SLACK of its size
_FREE_REFERENCES = 3            # the pool's list, a local name, getrefcount's argument
_buffers = []                   # uint8 arrays, smallest first
_sizes = []                     # their lengths, for bisect
_held = [0]
_lock = threading.Lock()


def empty(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, from the smallest free buffer that
    holds it (and is at most SLACK times too big), else from a new one."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        for index in range(bisect.bisect_left(_sizes, nbytes), len(_buffers)):
            if _sizes[index] > SLACK * nbytes:
                break
            buffer = _buffers[index]            # (a slice of the list would add a reference)
            if sys.getrefcount(buffer) == _FREE_REFERENCES:
                return buffer[:nbytes].view(dtype).reshape(shape)
        if _held[0] + nbytes > MAX_BYTES:
            _let_go_of_free_buffers()
        buffer = np.empty(nbytes, np.uint8)
        index = bisect.bisect_left(_sizes, nbytes)
        _buffers.insert(index, buffer)
        _sizes.insert(index, nbytes)
        _held[0] += nbytes
        return buffer.view(dtype).reshape(shape)


def zeros(shape, dtype):
    out = empty(shape, dtype)
    out.fill(0)
    return out


def _let_go_of_free_buffers():
    kept = [b for b in _buffers if sys.getrefcount(b) > _FREE_REFERENCES]
    _buffers[:] = kept
    _sizes[:] = [len(b) for b in kept]
    _held[0] = sum(_sizes)
