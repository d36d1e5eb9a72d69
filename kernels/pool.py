"""Max and average pooling on the CPU, one Numba thread per (batch, channel) plane.

Same function names and signatures as ``tinynn/reference/pool.py`` (the pooling part of
the ``tinynn.backend.Backend`` protocol).  Pooling
is memory-bound: every kernel reads each input element a few times and does
almost no arithmetic, so the win over NumPy is avoiding the K·K temporary
window arrays and the ``np.add.at`` scatter.  Planes are independent, so
``prange`` over N·C planes needs no synchronisation, even for overlapping
windows (one thread owns all the writes into its plane).
"""
import numpy as np
from numba import njit, prange

from . import workspace
from .ahead import AheadKernel
from .geometry import average_window, tap_range

_tap_range = njit(inline="always", cache=True)(tap_range)
_average_window = njit(inline="always", cache=True)(average_window)


def _max_pool_forward_impl(x, out, index, kh, kw, sh, sw, ph, pw, dh, dw):
    """y[b,c,i,j] = max over the window; index = iy·W + ix of the first maximum (a window
    holding NaN gives NaN and the index of its last NaN, as PyTorch).

    The window's in-bounds taps are computed up front (``tap_range``), so the
    innermost loops carry no bounds tests and the running maximum is a branch-free
    select: with a test and a branch per tap this kernel ran 2-3× slower."""
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    lowest = x.dtype.type(-np.inf)
    first_q = np.empty(ow, dtype=np.int64)
    end_q = np.empty(ow, dtype=np.int64)
    for j in range(ow):
        first_q[j], end_q[j] = _tap_range(j, sw, pw, dw, kw, w)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        source = x[b, ch]
        for i in range(oh):
            first_m, end_m = _tap_range(i, sh, ph, dh, kh, h)
            for j in range(ow):
                best = lowest
                best_index = 0
                nan_index = -1
                for m in range(first_m, end_m):
                    iy = i * sh - ph + m * dh
                    for q in range(first_q[j], end_q[j]):
                        ix = j * sw - pw + q * dw
                        value = source[iy, ix]
                        better = value > best          # strict: ties keep the first tap
                        best = value if better else best
                        best_index = iy * w + ix if better else best_index
                        nan_index = iy * w + ix if value != value else nan_index
                if nan_index >= 0:                     # NaN wins, the last one (as PyTorch)
                    best = source[nan_index // w, nan_index % w]
                    best_index = nan_index
                out[b, ch, i, j] = best
                index[b, ch, i, j] = best_index


def _max_pool_2x2_impl(x, out, index):
    """The same for 2×2 windows at stride 2 inside the input (LeNet's and the Keras CNNs'
    pools), the four taps written out in the window's order, so that LLVM vectorises the
    loop over a row's outputs (the general kernel's per-output tap loops stay scalar)."""
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        source = x[b, ch]
        for i in range(oh):
            top, bottom = source[2 * i], source[2 * i + 1]
            first_top, first_bottom = 2 * i * w, (2 * i + 1) * w
            for j in range(ow):
                taps = (top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1])
                places = (first_top + 2 * j, first_top + 2 * j + 1, first_bottom + 2 * j, first_bottom + 2 * j + 1)
                best, best_index, nan_index = taps[0], places[0], places[0] if taps[0] != taps[0] else -1
                for t in range(1, 4):                      # unrolled: a tuple's length is known
                    better = taps[t] > best
                    best = taps[t] if better else best
                    best_index = places[t] if better else best_index
                    nan_index = places[t] if taps[t] != taps[t] else nan_index
                nan = nan_index >= 0                       # NaN wins, the last one (as PyTorch)
                out[b, ch, i, j] = source[nan_index // w, nan_index % w] if nan else best
                index[b, ch, i, j] = nan_index if nan else best_index


def _max_pool_backward_impl(grad, index, out):
    """∂L/∂X[b, c, index] += ∂L/∂y[b, c, i, j], into ``out`` (N, C, H·W) of zeros."""
    n, c, oh, ow = grad.shape
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            for j in range(ow):
                out[b, ch, index[b, ch, i, j]] += grad[b, ch, i, j]


def _avg_pool_forward_impl(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    """y[b,c,i,j] = (Σ of the window) / |window|, into ``out``."""
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            for j in range(ow):
                top, bottom, left, right, divisor = _average_window(
                    i, j, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor_override)
                total = 0.0
                for iy in range(top, bottom):
                    for ix in range(left, right):
                        total += x[b, ch, iy, ix]
                out[b, ch, i, j] = total / divisor


def _avg_pool_backward_impl(grad, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    """∂L/∂X[window] += ∂L/∂y[b,c,i,j] / |window| for every window, into ``out`` of zeros."""
    n, c, oh, ow = grad.shape
    h, w = out.shape[2:]
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            for j in range(ow):
                top, bottom, left, right, divisor = _average_window(
                    i, j, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor_override)
                share = grad[b, ch, i, j] / divisor
                for iy in range(top, bottom):
                    for ix in range(left, right):
                        out[b, ch, iy, ix] += share


_max_pool_forward = njit(parallel=True, cache=True)(_max_pool_forward_impl)
_max_pool_2x2 = njit(parallel=True, cache=True)(_max_pool_2x2_impl)
_max_pool_backward = AheadKernel(njit(parallel=True, cache=True)(_max_pool_backward_impl))
_avg_pool_forward = njit(parallel=True, cache=True)(_avg_pool_forward_impl)
_avg_pool_backward = AheadKernel(njit(parallel=True, cache=True)(_avg_pool_backward_impl))


def max_pool2d_forward(x, kernel, stride, padding, dilation, out_hw):
    shape = x.shape[:2] + tuple(out_hw)
    out, index = workspace.empty(shape, x.dtype), workspace.empty(shape, np.int64)
    _max_pool_backward.compile_ahead(out, index, out.reshape(shape[0], shape[1], -1))   # backward's types
    inside = 2 * out_hw[0] <= x.shape[2] and 2 * out_hw[1] <= x.shape[3]
    if tuple(kernel) == tuple(stride) == (2, 2) and tuple(padding) == (0, 0) and tuple(dilation) == (1, 1) \
            and inside:
        _max_pool_2x2(np.ascontiguousarray(x), out, index)
    else:
        _max_pool_forward(np.ascontiguousarray(x), out, index, *kernel, *stride, *padding, *dilation)
    return out, index


def max_pool2d_backward(grad, index, input_shape):
    n, c, h, w = input_shape
    out = workspace.zeros((n, c, h * w), grad.dtype)
    _max_pool_backward(np.ascontiguousarray(grad), index, out)
    return out.reshape(n, c, h, w)


def avg_pool2d_forward(x, kernel, stride, padding, out_hw, count_include_pad, divisor_override):
    out, x = workspace.empty(x.shape[:2] + tuple(out_hw), x.dtype), np.ascontiguousarray(x)
    options = (*kernel, *stride, *padding, bool(count_include_pad), int(divisor_override or 0))
    _avg_pool_backward.compile_ahead(out, x, *options)               # the backward kernel's types
    _avg_pool_forward(x, out, *options)
    return out


def avg_pool2d_backward(grad, input_shape, kernel, stride, padding, count_include_pad,
                        divisor_override):
    out = workspace.zeros(tuple(input_shape), grad.dtype)
    _avg_pool_backward(np.ascontiguousarray(grad), out, *kernel, *stride, *padding,
                       bool(count_include_pad), int(divisor_override or 0))
    return out
