"""Elementwise functions on the CPU: special functions NumPy lacks, and ReLU and clip in one
parallel pass (float32 and float64).

ReLU runs after every convolution of the CNNs; NumPy's ``np.maximum(x, 0)`` and
``grad * (y > 0)`` are single-threaded and the backward makes a boolean temporary,
together 12 % of a Keras-CNN training step.  The kernels below give the same values
(NaN propagates forward; a NaN or infinite gradient times 0 stays NaN backward).  Below
64k elements one NumPy pass beats a parallel launch, so small arrays (and CuPy arrays)
stay with NumPy's formula.
"""
import math

import numpy as np
from numba import njit, prange, vectorize

from . import workspace
from .ahead import AheadKernel


@vectorize(["float32(float32)", "float64(float64)"], cache=True)
def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, from libm."""
    return math.erf(x)


def _relu_impl(x, y):
    """y[i] = max(x[i], 0) on flat arrays; x < 0 is the test so that NaN passes through."""
    zero = x.dtype.type(0)
    for i in prange(x.shape[0]):
        y[i] = zero if x[i] < zero else x[i]


def _relu_backward_impl(grad, y, out):
    """out[i] = grad[i] · (1 if y[i] > 0 else 0), on flat arrays."""
    zero, one = grad.dtype.type(0), grad.dtype.type(1)
    for i in prange(grad.shape[0]):
        out[i] = grad[i] * (one if y[i] > zero else zero)


def _clip_impl(x, low, high, y):
    """y[i] = x[i] raised to ``low`` and lowered to ``high``, on flat arrays; comparisons
    that are false for NaN, so that NaN passes through as it does in np.clip."""
    for i in prange(x.shape[0]):
        value = x[i]
        if value < low:
            value = low
        if value > high:
            value = high
        y[i] = value


def _clip_backward_impl(grad, x, low, high, inclusive, out):
    """out[i] = grad[i] where low ≤ x[i] ≤ high (strictly, unless ``inclusive``), else 0."""
    zero = grad.dtype.type(0)
    for i in prange(grad.shape[0]):
        inside = (low <= x[i] <= high) if inclusive else (low < x[i] < high)
        out[i] = grad[i] if inside else zero


_relu = njit(parallel=True, cache=True)(_relu_impl)
_clip = njit(parallel=True, cache=True)(_clip_impl)
_clip_backward = AheadKernel(njit(parallel=True, cache=True)(_clip_backward_impl))
_relu_backward = AheadKernel(njit(parallel=True, cache=True)(_relu_backward_impl))


PARALLEL_MIN_SIZE = 2 ** 16


def _parallel_pays(x):
    return type(x) is np.ndarray and x.size >= PARALLEL_MIN_SIZE and x.dtype.kind == "f"


def relu(x):
    """max(x, 0)."""
    if not _parallel_pays(x):
        return np.maximum(x, 0)
    flat, y = np.ascontiguousarray(x).reshape(-1), workspace.empty(x.shape, x.dtype)
    _relu_backward.compile_ahead(flat, flat, flat)                  # the backward kernel's types
    _relu(flat, y.reshape(-1))
    return y


def _bounds(low, high):
    """An open bound lets everything through."""
    return -np.inf if low is None else float(low), np.inf if high is None else float(high)


def clip(x, low, high):
    """min(max(x, low), high) in one parallel pass (np.clip took 14 ms of a MobileNetV2 step
    on its ReLU6 layers, single-threaded)."""
    if not _parallel_pays(x):
        return np.clip(x, low, high)
    flat, y, bounds = np.ascontiguousarray(x).reshape(-1), workspace.empty(x.shape, x.dtype), _bounds(low, high)
    _clip_backward.compile_ahead(flat, flat, *bounds, True, flat)   # the backward kernel's types
    _clip(flat, *bounds, y.reshape(-1))
    return y


def clip_backward(grad, x, low, high, inclusive):
    """grad · [low ≤ x ≤ high], one pass (NumPy's formula needed five: ReLU6's backward took
    110 ms of a MobileNetV2 step against PyTorch's 24 ms)."""
    low, high = _bounds(low, high)
    if not _parallel_pays(x) or grad.shape != x.shape:
        inside = ((x >= low) & (x <= high)) if inclusive else ((x > low) & (x < high))
        return grad * inside
    out = workspace.empty(x.shape, grad.dtype)
    _clip_backward(np.ascontiguousarray(grad).reshape(-1), np.ascontiguousarray(x).reshape(-1), low, high,
                   bool(inclusive), out.reshape(-1))
    return out


def relu_backward(grad, y):
    """grad · (y > 0), from ReLU's output y."""
    if not _parallel_pays(y):
        return grad * (y > 0)
    out = workspace.empty(grad.shape, grad.dtype)
    _relu_backward(np.ascontiguousarray(grad).reshape(-1), np.ascontiguousarray(y).reshape(-1), out.reshape(-1))
    return out
