"""Depthwise convolution on the CPU (groups = channels, MobileNetV2): direct loops.

Each output channel k reads one input channel, k // mult (mult = out/in channels):

    out[b,k,i,j] = Σ_m Σ_q x[b, k // mult, i·sh - ph + m·dh, j·sw - pw + q·dw] · w[k,0,m,q]

There is no reduction over channels for a GEMM to exploit: im2col + a 1×9 by
9×(N·OH·OW) GEMM per channel ran 8-10× slower than PyTorch.  So the loops are written
out, one thread per (batch, channel) plane with the inner loop over contiguous output
columns ("planar"), or, for planes at most 8 wide, channels last with the inner loop
over the channels (``kernels/plan.py`` chooses).  Same results as the reference
``tinynn/reference/conv.py`` with groups = channels.

The input gradient is the forward loop run backwards (the same windows, reading the output
gradient and adding into the input plane), so the two loops look alike by design.
"""
import numpy as np
from numba import njit, prange

from .ahead import AheadKernel
from .geometry import valid_range

_valid_range = njit(inline="always", cache=True)(valid_range)

# The depthwise loops below run along output columns j ∈ [j0, j1), whose inputs sit at
# j·sw + offset.  Each has a separate branch for sw = 1 that takes both rows as
# contiguous slices: there LLVM sees unit strides and emits SIMD code, which made
# the stride-1 layers 2-3× faster than one loop indexing row[j·sw + offset].  (The
# same loop moved into a helper function ran 2× slower again.)

def _forward_impl(x, weight, sh, sw, ph, pw, dh, dw, oh, ow):
    """out[b,k,i,j] = Σ_m Σ_q x[b, k // mult, i·sh - ph + m·dh, j·sw - pw + q·dw] · w[k,0,m,q]."""
    n, c, h, w = x.shape
    k_total, _, kh, kw = weight.shape
    mult = k_total // c
    out = np.zeros((n, k_total, oh, ow), dtype=x.dtype)
    for plane in prange(n * k_total):
        b = plane // k_total
        k = plane % k_total
        source = x[b, k // mult]
        target = out[b, k]
        for m in range(kh):
            for q in range(kw):
                scale = weight[k, 0, m, q]
                offset = q * dw - pw
                j0, j1 = _valid_range(ow, sw, offset, w)
                for i in range(oh):
                    iy = i * sh - ph + m * dh
                    if iy < 0 or iy >= h:
                        continue
                    row_out = target[i, j0:j1]
                    if sw == 1:
                        row_in = source[iy, j0 + offset:j1 + offset]
                        for j in range(j1 - j0):
                            row_out[j] += row_in[j] * scale
                    else:
                        row_in = source[iy]
                        for j in range(j1 - j0):
                            row_out[j] += row_in[(j0 + j) * sw + offset] * scale
    return out


def _backward_input_impl(grad, weight, c, h, w, sh, sw, ph, pw, dh, dw):
    """grad_x[b,c,iy,ix] += grad[b,k,i,j] · w[k,0,m,q] for the mult output channels k of c;
    one thread owns one (b, c) input plane, so the adds never race."""
    n, k_total, oh, ow = grad.shape
    _, _, kh, kw = weight.shape
    mult = k_total // c
    out = np.zeros((n, c, h, w), dtype=grad.dtype)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        target = out[b, ch]
        for k in range(ch * mult, (ch + 1) * mult):
            source = grad[b, k]
            for m in range(kh):
                for q in range(kw):
                    scale = weight[k, 0, m, q]
                    offset = q * dw - pw
                    j0, j1 = _valid_range(ow, sw, offset, w)
                    for i in range(oh):
                        iy = i * sh - ph + m * dh
                        if iy < 0 or iy >= h:
                            continue
                        row_in = source[i, j0:j1]
                        if sw == 1:
                            row_out = target[iy, j0 + offset:j1 + offset]
                            for j in range(j1 - j0):
                                row_out[j] += row_in[j] * scale
                        else:
                            row_out = target[iy]
                            for j in range(j1 - j0):
                                row_out[(j0 + j) * sw + offset] += row_in[j] * scale
    return out


def _backward_weight_impl(grad, x, kh, kw, sh, sw, ph, pw, dh, dw):
    """grad_w[k,0,m,q] = Σ_b Σ_i Σ_j grad[b,k,i,j] · x[b, k // mult, i·sh - ph + m·dh, j·sw - pw + q·dw]."""
    n, c, h, w = x.shape
    _, k_total, oh, ow = grad.shape
    mult = k_total // c
    grad_w = np.zeros((k_total, 1, kh, kw), dtype=x.dtype)
    for k in prange(k_total):
        ch = k // mult
        for m in range(kh):
            for q in range(kw):
                offset = q * dw - pw
                j0, j1 = _valid_range(ow, sw, offset, w)
                total = 0.0
                for b in range(n):
                    for i in range(oh):
                        iy = i * sh - ph + m * dh
                        if iy < 0 or iy >= h:
                            continue
                        row_grad = grad[b, k, i, j0:j1]
                        if sw == 1:
                            row_x = x[b, ch, iy, j0 + offset:j1 + offset]
                            for j in range(j1 - j0):
                                total += row_grad[j] * row_x[j]
                        else:
                            row_x = x[b, ch, iy]
                            for j in range(j1 - j0):
                                total += row_grad[j] * row_x[(j0 + j) * sw + offset]
                grad_w[k, 0, m, q] = total
    return grad_w


# Channels last.  Deep in MobileNetV2 the planes are 4×4 or 2×2 with 384-960 channels:
# the planar loops above then run rows of 2-4 elements, all overhead (10 ms for a
# layer PyTorch does in 1 ms).  These variants take x as (N, H, W, C), the weight as
# (KH, KW, C) and the gradient as (N, OH, OW, C), so the innermost loop runs over the
# channels, contiguous and long.  One output channel per input channel (mult = 1).

def _forward_channels_last_impl(x, weight, sh, sw, ph, pw, dh, dw, oh, ow):
    """out[b,i,j,c] = Σ_m Σ_q x[b, i·sh - ph + m·dh, j·sw - pw + q·dw, c] · w[m,q,c]."""
    n, h, w, c = x.shape
    kh, kw, _ = weight.shape
    out = np.zeros((n, oh, ow, c), dtype=x.dtype)
    for row in prange(n * oh):
        b = row // oh
        i = row % oh
        for m in range(kh):
            iy = i * sh - ph + m * dh
            if iy < 0 or iy >= h:
                continue
            for j in range(ow):
                target = out[b, i, j]
                for q in range(kw):
                    ix = j * sw - pw + q * dw
                    if ix < 0 or ix >= w:
                        continue
                    source = x[b, iy, ix]
                    taps = weight[m, q]
                    for ch in range(c):
                        target[ch] += source[ch] * taps[ch]
    return out


def _backward_input_channels_last_impl(grad, weight, h, w, sh, sw, ph, pw, dh, dw):
    """grad_x[b,iy,ix,c] += grad[b,i,j,c] · w[m,q,c]; one thread owns one image."""
    n, oh, ow, c = grad.shape
    kh, kw, _ = weight.shape
    out = np.zeros((n, h, w, c), dtype=grad.dtype)
    for b in prange(n):
        for i in range(oh):
            for m in range(kh):
                iy = i * sh - ph + m * dh
                if iy < 0 or iy >= h:
                    continue
                for j in range(ow):
                    source = grad[b, i, j]
                    for q in range(kw):
                        ix = j * sw - pw + q * dw
                        if ix < 0 or ix >= w:
                            continue
                        target = out[b, iy, ix]
                        taps = weight[m, q]
                        for ch in range(c):
                            target[ch] += source[ch] * taps[ch]
    return out


def _backward_weight_channels_last_impl(grad, x, kh, kw, sh, sw, ph, pw, dh, dw):
    """Per image: partial[b,m,q,c] = Σ_i Σ_j grad[b,i,j,c] · x[b, iy, ix, c]; the caller
    sums the images (one thread owns one image, so the adds never race)."""
    n, h, w, c = x.shape
    _, oh, ow, _ = grad.shape
    partial = np.zeros((n, kh, kw, c), dtype=x.dtype)
    for b in prange(n):
        for i in range(oh):
            for m in range(kh):
                iy = i * sh - ph + m * dh
                if iy < 0 or iy >= h:
                    continue
                for j in range(ow):
                    g = grad[b, i, j]
                    for q in range(kw):
                        ix = j * sw - pw + q * dw
                        if ix < 0 or ix >= w:
                            continue
                        source = x[b, iy, ix]
                        target = partial[b, m, q]
                        for ch in range(c):
                            target[ch] += g[ch] * source[ch]
    return partial

_PLANAR = dict(parallel=True, cache=True, fastmath={"contract", "reassoc"})
_CHANNELS_LAST = dict(parallel=True, cache=True, fastmath={"contract"})
_forward = njit(**_PLANAR)(_forward_impl)
_backward_input = AheadKernel(njit(**_PLANAR)(_backward_input_impl))
_backward_weight = AheadKernel(njit(**_PLANAR)(_backward_weight_impl))
_forward_channels_last = njit(**_CHANNELS_LAST)(_forward_channels_last_impl)
_backward_input_channels_last = AheadKernel(njit(**_CHANNELS_LAST)(_backward_input_channels_last_impl))
_backward_weight_channels_last = AheadKernel(njit(**_CHANNELS_LAST)(_backward_weight_channels_last_impl))


def _channels_last(planes):
    """(N, C, H, W) → contiguous (N, H, W, C)."""
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))


def _planar(channels_last):
    return np.ascontiguousarray(channels_last.transpose(0, 3, 1, 2))


def _taps_last(weight):
    """(C, 1, KH, KW) → contiguous (KH, KW, C)."""
    return np.ascontiguousarray(weight[:, 0].transpose(1, 2, 0))


def forward(x, weight, plan):
    """The depthwise convolution in the plan's layout."""
    geometry = (*plan.stride, *plan.padding, *plan.dilation)
    if plan.algorithm == "depthwise_channels_last":
        x, taps = _channels_last(x), _taps_last(weight)
        # the backward kernels, compiled meanwhile in a helper process (ahead.py)
        _backward_input_channels_last.compile_ahead(x, taps, *x.shape[1:3], *geometry)
        _backward_weight_channels_last.compile_ahead(x, x, *weight.shape[2:], *geometry)
        return _planar(_forward_channels_last(x, taps, *geometry, *plan.out_hw))
    x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
    _backward_input.compile_ahead(x, weight, *x.shape[1:], *geometry)
    _backward_weight.compile_ahead(x, x, *weight.shape[2:], *geometry)
    return _forward(x, weight, *geometry, *plan.out_hw)


def backward_input(grad, weight, input_shape, plan):
    geometry = (*plan.stride, *plan.padding, *plan.dilation)
    if plan.algorithm == "depthwise_channels_last":
        return _planar(_backward_input_channels_last(_channels_last(grad), _taps_last(weight),
                                                     *input_shape[2:], *geometry))
    return _backward_input(np.ascontiguousarray(grad), np.ascontiguousarray(weight),
                           *input_shape[1:], *geometry)


def backward_weight(grad, x, weight_shape, plan):
    geometry = (*plan.stride, *plan.padding, *plan.dilation)
    if plan.algorithm == "depthwise_channels_last":
        partial = _backward_weight_channels_last(_channels_last(grad), _channels_last(x),
                                                 *weight_shape[2:], *geometry)
        return np.ascontiguousarray(partial.sum(axis=0).transpose(2, 0, 1))[:, None]
    return _backward_weight(np.ascontiguousarray(grad), np.ascontiguousarray(x), *weight_shape[2:],
                            *geometry)
