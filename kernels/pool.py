"""Max and average pooling on the CPU, one Numba thread per (batch, channel) plane.

Same function names and signatures as ``tinynn/reference/pool.py``.  Pooling
is memory-bound: every kernel reads each input element a few times and does
almost no arithmetic, so the win over NumPy is avoiding the K·K temporary
window arrays and the ``np.add.at`` scatter.  Planes are independent, so
``prange`` over N·C planes needs no synchronisation, even for overlapping
windows (one thread owns all the writes into its plane).
"""
import numpy as np
from numba import njit, prange


def _max_pool_forward_impl(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """y[b,c,i,j] = max over the window; index = iy·W + ix of the first maximum (a window
    holding NaN gives NaN and the index of its last NaN, as PyTorch).

    The window's in-bounds taps are computed up front (``tap_range``), so the
    innermost loops carry no bounds tests and the running maximum is a branch-free
    select: with a test and a branch per tap this kernel ran 2-3× slower."""
    n, c, h, w = x.shape
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    index = np.empty((n, c, oh, ow), dtype=np.int64)
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
    return out, index


def _max_pool_backward_impl(grad, index, h, w):
    n, c, oh, ow = grad.shape
    out = np.zeros((n, c, h * w), dtype=grad.dtype)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            for j in range(ow):
                out[b, ch, index[b, ch, i, j]] += grad[b, ch, i, j]
    return out.reshape(n, c, h, w)


def tap_range(i, stride, pad, dilation, kernel, size):
    """The taps t in [lo, hi) of window i whose input index i·stride - pad + t·dilation
    lies in [0, size)."""
    start = i * stride - pad
    lo = 0 if start >= 0 else (dilation - 1 - start) // dilation
    hi = min(kernel, (size - 1 - start) // dilation + 1) if size > start else 0
    return lo, max(lo, hi)


def window_bounds(i, stride, pad, kernel, size):
    start = i * stride - pad
    end = min(start + kernel, size + pad)
    padded = end - start
    return max(start, 0), min(end, size), padded


def divisor(top, bottom, padded_h, left, right, padded_w, count_include_pad, divisor_override):
    """PyTorch's |window|: an override, the window clipped to the padded input, or to the input."""
    if divisor_override > 0:
        return divisor_override
    if count_include_pad:
        return padded_h * padded_w
    return (bottom - top) * (right - left)


def _avg_pool_forward_impl(x, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            top, bottom, padded_h = _window_bounds(i, sh, ph, kh, h)
            for j in range(ow):
                left, right, padded_w = _window_bounds(j, sw, pw, kw, w)
                total = 0.0
                for iy in range(top, bottom):
                    for ix in range(left, right):
                        total += x[b, ch, iy, ix]
                out[b, ch, i, j] = total / _divisor(top, bottom, padded_h, left, right, padded_w,
                                                    count_include_pad, divisor_override)
    return out


def _avg_pool_backward_impl(grad, h, w, kh, kw, sh, sw, ph, pw, count_include_pad,
                            divisor_override):
    n, c, oh, ow = grad.shape
    out = np.zeros((n, c, h, w), dtype=grad.dtype)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(oh):
            top, bottom, padded_h = _window_bounds(i, sh, ph, kh, h)
            for j in range(ow):
                left, right, padded_w = _window_bounds(j, sw, pw, kw, w)
                share = grad[b, ch, i, j] / _divisor(top, bottom, padded_h, left, right, padded_w,
                                                     count_include_pad, divisor_override)
                for iy in range(top, bottom):
                    for ix in range(left, right):
                        out[b, ch, iy, ix] += share
    return out


# Plain-Python helpers compiled for the CPU here and for the GPU in cuda_pool.py.
_tap_range = njit(inline="always", cache=True)(tap_range)
_window_bounds = njit(inline="always", cache=True)(window_bounds)
_divisor = njit(inline="always", cache=True)(divisor)
_max_pool_forward = njit(parallel=True, cache=True)(_max_pool_forward_impl)
_max_pool_backward = njit(parallel=True, cache=True)(_max_pool_backward_impl)
_avg_pool_forward = njit(parallel=True, cache=True)(_avg_pool_forward_impl)
_avg_pool_backward = njit(parallel=True, cache=True)(_avg_pool_backward_impl)


def max_pool2d_forward(x, kernel, stride, padding, dilation, out_hw):
    return _max_pool_forward(np.ascontiguousarray(x), *kernel, *stride, *padding, *dilation, *out_hw)


def max_pool2d_backward(grad, index, input_shape):
    return _max_pool_backward(np.ascontiguousarray(grad), index, *input_shape[2:])


def avg_pool2d_forward(x, kernel, stride, padding, out_hw, count_include_pad, divisor_override):
    return _avg_pool_forward(np.ascontiguousarray(x), *kernel, *stride, *padding, *out_hw,
                             bool(count_include_pad), int(divisor_override or 0))


def avg_pool2d_backward(grad, input_shape, kernel, stride, padding, count_include_pad,
                        divisor_override):
    return _avg_pool_backward(np.ascontiguousarray(grad), *input_shape[2:], *kernel, *stride,
                              *padding, bool(count_include_pad), int(divisor_override or 0))
