"""Max and average pooling on the GPU.  Same function names and signatures as
``kernels/pool.py``; the window and divisor rules are the same Python functions,
compiled here as CUDA device functions.

One thread per output element in the forward pass.  The backward passes also
run one thread per output element and scatter with atomic adds: windows
overlap only when stride < kernel, so collisions are rare and cheaper than
making every input pixel search the windows that cover it.
"""
import math

from numba import cuda

from . import pool
from .cuda_common import array_module, launch, unravel

_window_bounds = cuda.jit(device=True)(pool.window_bounds)
_divisor = cuda.jit(device=True)(pool.divisor)


@cuda.jit
def _max_forward_kernel(x, out, index, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    _, _, oh, ow = out.shape
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        best = -math.inf
        best_index = 0
        for m in range(kh):
            iy = i * sh - ph + m * dh
            if 0 <= iy < h:
                for q in range(kw):
                    ix = j * sw - pw + q * dw
                    if 0 <= ix < w:
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
        top, bottom, padded_h = _window_bounds(i, sh, ph, kh, h)
        left, right, padded_w = _window_bounds(j, sw, pw, kw, w)
        total = 0.0
        for iy in range(top, bottom):
            for ix in range(left, right):
                total += x[b, ch, iy, ix]
        out[b, ch, i, j] = total / _divisor(top, bottom, padded_h, left, right, padded_w,
                                            count_include_pad, divisor_override)


@cuda.jit
def _avg_backward_kernel(grad, out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    n, c, oh, ow = grad.shape
    h, w = out.shape[2], out.shape[3]
    for item in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        b, ch, i, j = unravel(item, c, oh, ow)
        top, bottom, padded_h = _window_bounds(i, sh, ph, kh, h)
        left, right, padded_w = _window_bounds(j, sw, pw, kw, w)
        share = grad[b, ch, i, j] / _divisor(top, bottom, padded_h, left, right, padded_w,
                                             count_include_pad, divisor_override)
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
