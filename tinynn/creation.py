"""Creating tensors: ``tensor``, ``zeros``, ``randn``, ``arange`` and the rest of PyTorch's
constructors, plus ``cat``, ``stack`` and ``where``.  Random ones draw from tinynn's one
seeded generator (``tinynn.manual_seed``)."""
import numbers

import numpy as np

from . import random as _random
from .device import as_device
from .dtypes import DEFAULT_FLOAT, int64
from .ops import arithmetic, shape
from .tensor import Tensor, lift, shape_arg

__all__ = [
    "tensor", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "randn", "rand",
    "randint", "zeros_like", "ones_like", "full_like", "randn_like", "rand_like", "cat", "stack",
    "where", "maximum", "minimum", "set_default_device", "get_default_device",
]


def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``torch.tensor``: copies ``data``; floats become float32, ints int64, arrays keep their dtype."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device or _default_device[0])


def _size(size, op):
    """The sizes of a new tensor: non-negative integers, given as f(2, 3) or f((2, 3))."""
    shape = shape_arg(size, op)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: expected non-negative sizes, got {shape}")
    return shape


def _sizes(positional, keyword):
    """``f(2, 3)``, ``f((2, 3))`` and PyTorch's ``f(size=(2, 3))``."""
    if keyword is None:
        return positional
    if positional:
        raise TypeError("expected the sizes either as arguments or as size=, not both")
    return (keyword,)


_default_device = [None]


def set_default_device(device):
    """Where factory functions (zeros, ones, rand, ..., tensor) put a tensor given no device."""
    _default_device[0] = None if device is None else as_device(device)


def get_default_device():
    return _default_device[0] or as_device("cpu")


def _make(array, dtype, requires_grad, device):
    array = array.astype(np.dtype(dtype) if dtype is not None else DEFAULT_FLOAT, copy=False)
    return Tensor(array, requires_grad=requires_grad, device=device or _default_device[0])


def zeros(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    return _make(np.zeros(_size(_sizes(sizes, size), "zeros")), dtype, requires_grad, device)


def ones(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    return _make(np.ones(_size(_sizes(sizes, size), "ones")), dtype, requires_grad, device)


def empty(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    return zeros(*sizes, size=size, dtype=dtype, requires_grad=requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if not isinstance(fill_value, (numbers.Real, np.bool_)):
        raise TypeError(f"full: expected a number for fill_value, got {fill_value!r}")
    if dtype is None and isinstance(fill_value, numbers.Integral) and not isinstance(fill_value, bool):
        dtype = int64
    return _make(np.full(_size((size,), "full"), fill_value), dtype, requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    rows, cols = _size((n, n if m is None else m), "eye")
    return _make(np.eye(rows, cols), dtype, requires_grad, device)


def randn(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    return _make(_random.generator().standard_normal(_size(_sizes(sizes, size), "randn")), dtype, requires_grad, device)


def rand(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    return _make(_random.generator().random(_size(_sizes(sizes, size), "rand")), dtype, requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None):
    if high is None:
        low, high = 0, low
    if not low < high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    values = _random.generator().integers(low, high, size=_size((size,), "randint"))
    return _make(values, dtype or int64, False, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"arange: expected a non-zero step that goes from start to end, got "
                         f"start={start}, end={end}, step={step}")
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = int64 if values.dtype.kind in "iu" else DEFAULT_FLOAT
    return _make(values, dtype, requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    (steps,) = _size((steps,), "linspace")
    return _make(np.linspace(start, end, steps), dtype, requires_grad, device)


def _like(function, other, dtype, requires_grad, device, *args):
    return function(*args, *other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                    device=device or other.device)


def zeros_like(other, dtype=None, requires_grad=False, device=None):
    return _like(zeros, other, dtype, requires_grad, device)


def ones_like(other, dtype=None, requires_grad=False, device=None):
    return _like(ones, other, dtype, requires_grad, device)


def randn_like(other, dtype=None, requires_grad=False, device=None):
    return _like(randn, other, dtype, requires_grad, device)


def rand_like(other, dtype=None, requires_grad=False, device=None):
    return _like(rand, other, dtype, requires_grad, device)


def full_like(other, fill_value, dtype=None, requires_grad=False, device=None):
    return full(other.shape, fill_value, dtype=dtype or other.dtype, requires_grad=requires_grad,
                device=device or other.device)


def cat(tensors, dim=0):
    return shape.cat(tensors, dim)


def stack(tensors, dim=0):
    return shape.stack(tensors, dim)


def where(condition, input, other):
    """Pick ``input`` where ``condition`` holds, else ``other``; gradients follow the pick."""
    like = input if isinstance(input, Tensor) else other
    condition = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    return arithmetic.Where.apply(lift(input, like), lift(other, like), condition=condition)


def maximum(input, other):
    return where(input >= other, input, other)


def minimum(input, other):
    return where(input <= other, input, other)
