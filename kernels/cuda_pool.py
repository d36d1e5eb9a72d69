"""Max and average pooling on the GPU.  Same function names and signatures as
``kernels/pool.py``; the window rules are the same Python functions
(``kernels/geometry.py``), compiled here as CUDA device functions.

One thread per output element in the forward pass.  The backward passes also
run one thread per output element and scatter with atomic adds: windows
overlap only when stride < kernel, so collisions are rare and cheaper than
making every input pixel search the windows that cover it.
"""
import math

from numba import cuda

from .cuda_common import array_module, launch, unravel
from .geometry import average_window, tap_range

_tap_range = cuda.jit(device=True)(tap_range)
_average_window = cuda.jit(device=True)(average_window)


@cuda.jit
def _max_forward_kernel(x, out, index, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    _, _, oh, ow = out.shape
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        first_m, end_m = _tap_range(i, sh, ph, dh, kh, h)
        first_q, end_q = _tap_range(j, sw, pw, dw, kw, w)
        best = -math.inf
        best_index = 0
        for m in range(first_m, end_m):
            for q in range(first_q, end_q):
                iy, ix = i * sh - ph + m * dh, j * sw - pw + q * dw
                value = x[b, ch, iy, ix]
                if value > best or math.isnan(value):   # first maximum, last NaN wins
                    best = value
                    best_index = iy * w + ix
        out[b, ch, i, j] = best
        index[b, ch, i, j] = best_index


@cuda.jit
def _max_backward_kernel(grad, index, out):
    n, c, oh, ow = grad.shape
    w = out.shape[3]
    for item in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        target = index[b, ch, i, j]
        cuda.atomic.add(out, (b, ch, target // w, target % w), grad[b, ch, i, j])


@cuda.jit
def _avg_forward_kernel(x, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    _, _, oh, ow = out.shape
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        top, bottom, left, right, divisor = _average_window(
            i, j, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor_override)
        total = 0.0
        for iy in range(top, bottom):
            for ix in range(left, right):
                total += x[b, ch, iy, ix]
        out[b, ch, i, j] = total / divisor


@cuda.jit
def _avg_backward_kernel(grad, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    n, c, oh, ow = grad.shape
    h, w = out.shape[2], out.shape[3]
    for item in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        top, bottom, left, right, divisor = _average_window(
            i, j, kh, kw, sh, sw, ph, pw, h, w, count_include_pad, divisor_override)
        share = grad[b, ch, i, j] / divisor
        for iy in range(top, bottom):
            for ix in range(left, right):
                cuda.atomic.add(out, (b, ch, iy, ix), share)


def max_pool2d_forward(x, kernel, stride, padding, dilation, out_hw):
    xp = array_module(x)
    out = xp.empty(x.shape[:2] + tuple(out_hw), dtype=x.dtype)
    index = xp.empty(out.shape, dtype=xp.int64)
    launch(_max_forward_kernel, out.size, xp.ascontiguousarray(x), out, index, *kernel, *stride,
           *padding, *dilation)
    return out, index


def max_pool2d_backward(grad, index, input_shape):
    xp = array_module(grad)
    out = xp.zeros(tuple(input_shape), dtype=grad.dtype)
    launch(_max_backward_kernel, grad.size, xp.ascontiguousarray(grad), index, out)
    return out


def avg_pool2d_forward(x, kernel, stride, padding, out_hw, count_include_pad, divisor_override):
    xp = array_module(x)
    out = xp.empty(x.shape[:2] + tuple(out_hw), dtype=x.dtype)
    launch(_avg_forward_kernel, out.size, xp.ascontiguousarray(x), out, *kernel, *stride, *padding,
           bool(count_include_pad), int(divisor_override or 0))
    return out


def avg_pool2d_backward(grad, input_shape, kernel, stride, padding, count_include_pad,
                        divisor_override):
    xp = array_module(grad)
    out = xp.zeros(tuple(input_shape), dtype=grad.dtype)
    launch(_avg_backward_kernel, grad.size, xp.ascontiguousarray(grad), out, *kernel, *stride,
           *padding, bool(count_include_pad), int(divisor_override or 0))
    return out
