"""2-D convolution on the CPU: Numba im2col/col2im around BLAS GEMMs.

Same function names and signatures as ``tinynn/reference/conv.py``.

Algorithm.  ``im2col`` copies every receptive field of image b into a column
of ``cols[b]``, shape (C·KH·KW, OH·OW); the convolution is then the matrix
product ``out[b] = W (K, C·KH·KW) @ cols[b]``, one BLAS GEMM per image
(``np.matmul`` over the batch axis).  That batch-major layout lands the
result directly in (N, K, OH, OW) order; with the batch in the columns instead
(one big GEMM) the output and its gradient need transposing copies, which only
pays when K ≤ 16 (LeNet), where the per-image GEMMs are too thin for BLAS.
Backward reuses the layout: ∂L/∂W = Σ_b g[b] @ cols[b]ᵀ and
∂L/∂cols[b] = Wᵀ @ g[b], which ``col2im`` scatters back (adding overlaps).
Groups are one more batch axis, because each group's rows of ``cols`` are
contiguous.  A 1×1 convolution without padding needs no im2col at all:
``cols`` is the (strided) input itself, which MobileNetV2's pointwise layers use.
3×3 stride-1 layers with ≥ 16 channels skip im2col for Winograd's algorithm
(``kernels/winograd.py``), 2.25× fewer multiplications in the same BLAS.

Depthwise convolution (groups = C, MobileNetV2) has no reduction over channels
for a GEMM to exploit: im2col + a 1×9 by 9×(N·OH·OW) GEMM per channel ran 8-10×
slower than PyTorch.  It gets direct loops instead, one thread per
(batch, channel) plane, with the inner loop over contiguous output columns, or
for planes at most 8 wide, channels last with the inner loop over channels.

A direct 7-deep loop in Numba was measured 10× slower than PyTorch on the
ResNet shapes against 5× for im2col + GEMM (FIELD-NOTES); the GEMM is where
the arithmetic is, so it goes to BLAS and Numba does only the memory moves,
which it parallelises with ``prange`` over independent (image, row) pairs or
planes (no two threads ever write the same element).  Measured numbers are
printed by ``benchmarks/bench_conv.py``.
"""
from types import SimpleNamespace

import numpy as np
from numba import njit, prange

from . import winograd


def _im2col_impl(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """cols[b, c·KH·KW + i·KW + j, y·OW + z] = x[b, c, y·sh - ph + i·dh, z·sw - pw + j·dw]
    (zero outside the input), written into ``cols`` (N, C·KH·KW, OH·OW), which may be a
    transposed view of a (C·KH·KW, N, OH·OW) array.  Reference loop: for every image, row
    and column."""
    n, c, h, w = x.shape
    rows = c * kh * kw
    for item in prange(n * rows):
        b = item // rows
        row = item % rows
        ch = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        offset_x = j * dw - pw
        z0, z1 = _valid_range(ow, sw, offset_x, w)
        line = cols[b, row]
        for y in range(oh):
            iy = y * sh - ph + i * dh
            base = y * ow
            if iy < 0 or iy >= h:
                for z in range(ow):
                    line[base + z] = 0
                continue
            source = x[b, ch, iy]
            for z in range(z0):
                line[base + z] = 0
            for z in range(z0, z1):
                line[base + z] = source[z * sw + offset_x]
            for z in range(z1, ow):
                line[base + z] = 0


def _col2im_impl(cols, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of im2col: x[b, c, iy, ix] += cols[b, row, column] for every pair
    that im2col copied.  One thread owns one (b, c) plane, so the adds never race."""
    n = cols.shape[0]
    out = np.zeros((n, c, h, w), dtype=cols.dtype)
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(kh):
            for j in range(kw):
                line = cols[b, (ch * kh + i) * kw + j]
                offset_x = j * dw - pw
                z0, z1 = _valid_range(ow, sw, offset_x, w)
                for y in range(oh):
                    iy = y * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    target = out[b, ch, iy]
                    for z in range(z0, z1):
                        target[z * sw + offset_x] += line[y * ow + z]
    return out


def valid_range(out, stride, offset, size):
    """The outputs z in [lo, hi) whose input index z·stride + offset lies in [0, size)."""
    lo = 0 if offset >= 0 else (stride - 1 - offset) // stride
    hi = min(out, (size - 1 - offset) // stride + 1) if size > offset else 0
    return lo, max(lo, hi)


# The depthwise loops below run along output columns j ∈ [j0, j1), whose inputs sit at
# j·sw + offset.  Each has a separate branch for sw = 1 that takes both rows as
# contiguous slices: there LLVM sees unit strides and emits SIMD code, which made
# the stride-1 layers 2-3× faster than one loop indexing row[j·sw + offset].  (The
# same loop moved into a helper function ran 2× slower again.)

def _depthwise_forward_impl(x, weight, sh, sw, ph, pw, dh, dw, oh, ow):
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


def _depthwise_backward_input_impl(grad, weight, c, h, w, sh, sw, ph, pw, dh, dw):
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


def _depthwise_backward_weight_impl(grad, x, kh, kw, sh, sw, ph, pw, dh, dw):
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

def _depthwise_forward_channels_last_impl(x, weight, sh, sw, ph, pw, dh, dw, oh, ow):
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


def _depthwise_backward_input_channels_last_impl(grad, weight, h, w, sh, sw, ph, pw, dh, dw):
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


def _depthwise_backward_weight_channels_last_impl(grad, x, kh, kw, sh, sw, ph, pw, dh, dw):
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


_im2col = njit(parallel=True, cache=True)(_im2col_impl)
_col2im = njit(parallel=True, cache=True)(_col2im_impl)
_valid_range = njit(inline="always", cache=True)(valid_range)
_depthwise_forward = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_forward_impl)
_depthwise_backward_input = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_backward_input_impl)
_depthwise_backward_weight = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_backward_weight_impl)
_depthwise_forward_channels_last = njit(parallel=True, cache=True, fastmath={"contract"})(
    _depthwise_forward_channels_last_impl)
_depthwise_backward_input_channels_last = njit(parallel=True, cache=True, fastmath={"contract"})(
    _depthwise_backward_input_channels_last_impl)
_depthwise_backward_weight_channels_last = njit(parallel=True, cache=True, fastmath={"contract"})(
    _depthwise_backward_weight_channels_last_impl)


def im2col(x, kernel_hw, stride, padding, dilation, out_hw, batch_in_columns=False):
    """cols (N, C·KH·KW, OH·OW), or with ``batch_in_columns`` (C·KH·KW, N, OH·OW)."""
    n, rows, positions = x.shape[0], x.shape[1] * kernel_hw[0] * kernel_hw[1], out_hw[0] * out_hw[1]
    cols = np.empty((rows, n, positions) if batch_in_columns else (n, rows, positions), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x), cols.transpose(1, 0, 2) if batch_in_columns else cols,
            *kernel_hw, *stride, *padding, *dilation, *out_hw)
    return cols


def col2im(cols, input_shape, kernel_hw, stride, padding, dilation, out_hw, batch_in_columns=False):
    """The adjoint of ``im2col``, from either layout."""
    lines = cols.transpose(1, 0, 2) if batch_in_columns else np.ascontiguousarray(cols)
    return _col2im(lines, *input_shape[1:], *kernel_hw, *stride, *padding, *dilation, *out_hw)


# Output planes at most this wide go channels last (when mult = 1).  Measured on
# MobileNetV2's layers (forward + both gradients): 2×2 and 4×4 planes 3-5× faster
# than planar, 8×8 2×, 16×16 even, 32×32 planar 2× faster.
CHANNELS_LAST_MAX_WIDTH = 8


def _channels_last(planes):
    """(N, C, H, W) → contiguous (N, H, W, C)."""
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))


def _planar(channels_last):
    return np.ascontiguousarray(channels_last.transpose(0, 3, 1, 2))


def _taps_last(weight):
    """(C, 1, KH, KW) → contiguous (KH, KW, C)."""
    return np.ascontiguousarray(weight[:, 0].transpose(1, 2, 0))


def depthwise_layout(channels, out_channels, out_width):
    return "channels_last" if out_channels == channels and out_width <= CHANNELS_LAST_MAX_WIDTH \
        else "planar"


def depthwise_forward(x, weight, stride, padding, dilation, out_hw, layout=None):
    layout = layout or depthwise_layout(x.shape[1], weight.shape[0], out_hw[1])
    if layout == "channels_last":
        return _planar(_depthwise_forward_channels_last(
            _channels_last(x), _taps_last(weight), *stride, *padding, *dilation, *out_hw))
    return _depthwise_forward(np.ascontiguousarray(x), np.ascontiguousarray(weight),
                              *stride, *padding, *dilation, *out_hw)


def depthwise_backward_input(grad, weight, input_shape, stride, padding, dilation, layout=None):
    layout = layout or depthwise_layout(input_shape[1], weight.shape[0], grad.shape[3])
    if layout == "channels_last":
        return _planar(_depthwise_backward_input_channels_last(
            _channels_last(grad), _taps_last(weight), *input_shape[2:], *stride, *padding, *dilation))
    return _depthwise_backward_input(np.ascontiguousarray(grad), np.ascontiguousarray(weight),
                                     *input_shape[1:], *stride, *padding, *dilation)


def depthwise_backward_weight(grad, x, weight_shape, stride, padding, dilation, layout=None):
    layout = layout or depthwise_layout(x.shape[1], weight_shape[0], grad.shape[3])
    if layout == "channels_last":
        partial = _depthwise_backward_weight_channels_last(
            _channels_last(grad), _channels_last(x), *weight_shape[2:], *stride, *padding, *dilation)
        return np.ascontiguousarray(partial.sum(axis=0).transpose(2, 0, 1))[:, None]
    return _depthwise_backward_weight(np.ascontiguousarray(grad), np.ascontiguousarray(x),
                                      *weight_shape[2:], *stride, *padding, *dilation)


# The memory-moving primitives of this device; kernels/cuda_conv.py has the same names
# and reuses the GEMM orchestration below with its own.
CPU_PRIMITIVES = SimpleNamespace(im2col=im2col, col2im=col2im, winograd=winograd, batch_in_columns=True,
                                 depthwise_forward=depthwise_forward,
                                 depthwise_backward_input=depthwise_backward_input,
                                 depthwise_backward_weight=depthwise_backward_weight)


def _is_depthwise(channels, groups):
    return groups > 1 and groups == channels


# Winograd F(2×2, 3×3) (kernels/winograd.py) against im2col + GEMM, measured here on
# each of the forward pass, ∂L/∂X and ∂L/∂W: ResNet18's 3×3 layers 1.4-2.6× faster (all
# four stages), the Keras CNNs' 32/64-channel layers 1.1-2.3×; with 1-3 input channels
# the transforms outweigh the GEMM and it ran 2× slower.
WINOGRAD_MIN_CHANNELS = 16


def _use_winograd(primitives, in_channels, out_channels, kernel_hw, stride, dilation, groups, padding):
    return primitives.winograd is not None and min(in_channels, out_channels) >= WINOGRAD_MIN_CHANNELS \
        and primitives.winograd.supports(kernel_hw, stride, dilation, groups, padding)


def _is_pointwise(kernel_hw, padding):
    return tuple(kernel_hw) == (1, 1) and tuple(padding) == (0, 0)


# With few output channels (LeNet's 6 and 16) the per-image GEMMs have so few rows that
# BLAS runs them at a fifth of its peak.  There im2col writes the batch into the columns,
# (C·KH·KW, N·L), and each pass is one GEMM: measured on LeNet's conv2, forward 1.09 →
# 0.56 ms, ∂L/∂W 1.40 → 0.69, ∂L/∂X 1.14 → 0.62.  With 32 output channels the transposing
# copies of the output and its gradient cost more than that saves (1.30 → 1.72 ms).
BATCH_IN_COLUMNS_MAX_CHANNELS = 16


def _batch_in_columns(primitives, out_channels, groups, kernel_hw, padding):
    return primitives.batch_in_columns and groups == 1 and out_channels <= BATCH_IN_COLUMNS_MAX_CHANNELS \
        and not _is_pointwise(kernel_hw, padding)


def _channels_first(per_channel, n):
    """(K, N·L) → (N, K, L), the batch back in front."""
    return np.ascontiguousarray(per_channel.reshape(per_channel.shape[0], n, -1).transpose(1, 0, 2))


def _batch_last(grad):
    """(N, K, OH, OW) → (K, N·L), the gradient in the batch-in-columns layout."""
    n, k = grad.shape[:2]
    return np.ascontiguousarray(grad.reshape(n, k, -1).transpose(1, 0, 2)).reshape(k, -1)


def _columns(x, kernel_hw, stride, padding, dilation, out_hw, primitives):
    """cols (N, C·KH·KW, OH·OW); a 1×1 unpadded kernel needs only the strided input."""
    if _is_pointwise(kernel_hw, padding):
        picked = x[:, :, ::stride[0], ::stride[1]]
        return np.ascontiguousarray(picked).reshape(x.shape[0], x.shape[1], -1)
    return primitives.im2col(x, kernel_hw, stride, padding, dilation, out_hw)


def _uncolumns(grad_cols, input_shape, kernel_hw, stride, padding, dilation, out_hw, primitives):
    """The adjoint of ``_columns``."""
    if _is_pointwise(kernel_hw, padding):
        if tuple(stride) == (1, 1):
            return grad_cols.reshape(input_shape)
        out = np.zeros_like(grad_cols, shape=tuple(input_shape))
        out[:, :, ::stride[0], ::stride[1]] = grad_cols.reshape(tuple(input_shape[:2]) + tuple(out_hw))
        return out
    return primitives.col2im(grad_cols, input_shape, kernel_hw, stride, padding, dilation, out_hw)


# Per-image GEMMs starve BLAS when an image has few output positions (ResNet18's 4×4
# layer4): there one GEMM over the whole batch, with a transposing copy, was measured
# 3-4× faster for ∂L/∂W (L = 16 and 64) and 2× for ∂L/∂X (L = 16), and slower above.
FEW_POSITIONS_WEIGHT = 64
FEW_POSITIONS_INPUT = 16


def conv2d_forward(x, weight, stride, padding, dilation, groups, out_hw, keep_columns=False,
                   primitives=CPU_PRIMITIVES):
    """out[b] = W @ cols[b] per group (np.matmul runs on the GPU's BLAS for CuPy arrays).
    With ``keep_columns`` also returns ``cols`` for ``conv2d_backward_weight(columns=...)``,
    which then skips its own im2col (None where no im2col ran: depthwise and Winograd)."""
    if _is_depthwise(x.shape[1], groups):
        out = primitives.depthwise_forward(x, weight, stride, padding, dilation, out_hw)
        return (out, None) if keep_columns else out
    if _use_winograd(primitives, x.shape[1], weight.shape[0], weight.shape[2:], stride, dilation, groups,
                     padding):
        out = primitives.winograd.conv2d_3x3(x, weight, padding, out_hw)
        return (out, None) if keep_columns else out
    n, k = x.shape[0], weight.shape[0]
    if _batch_in_columns(primitives, k, groups, weight.shape[2:], padding):
        cols = primitives.im2col(x, weight.shape[2:], stride, padding, dilation, out_hw, batch_in_columns=True)
        out = _channels_first(weight.reshape(k, -1) @ cols.reshape(cols.shape[0], -1), n)
        out = out.reshape((n, k) + tuple(out_hw))
        return (out, cols) if keep_columns else out
    cols = _columns(x, weight.shape[2:], stride, padding, dilation, out_hw, primitives)
    grouped = cols.reshape(n, groups, -1, cols.shape[2])                    # (N, G, P·KH·KW, L)
    out = np.matmul(weight.reshape(groups, k // groups, -1), grouped)       # (N, G, K/G, L)
    out = out.reshape((n, k) + tuple(out_hw))
    return (out, cols) if keep_columns else out


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups, columns=None,
                           primitives=CPU_PRIMITIVES):
    """∂L/∂W = Σ_b ∂L/∂h[b] @ cols[b]ᵀ per group (``columns``: cols kept by the forward pass)."""
    if _is_depthwise(x.shape[1], groups):
        return primitives.depthwise_backward_weight(grad, x, weight_shape, stride, padding, dilation)
    if columns is None and _use_winograd(primitives, x.shape[1], weight_shape[0], weight_shape[2:], stride,
                                         dilation, groups, padding):
        return primitives.winograd.conv2d_3x3_backward(grad, padding, x.shape, x=x)[1]
    n, k = grad.shape[:2]
    if _batch_in_columns(primitives, k, groups, weight_shape[2:], padding):
        cols = columns if columns is not None else primitives.im2col(
            x, weight_shape[2:], stride, padding, dilation, grad.shape[2:], batch_in_columns=True)
        return (_batch_last(grad) @ cols.reshape(cols.shape[0], -1).T).reshape(weight_shape)
    cols = columns if columns is not None else _columns(
        x, weight_shape[2:], stride, padding, dilation, grad.shape[2:], primitives)
    if groups == 1 and cols.shape[2] <= FEW_POSITIONS_WEIGHT:
        return np.tensordot(grad.reshape(n, k, -1), cols, axes=([0, 2], [0, 2])).reshape(weight_shape)
    cols = cols.reshape(n, groups, -1, cols.shape[2])
    per_image = np.matmul(grad.reshape(n, groups, k // groups, -1), cols.transpose(0, 1, 3, 2))
    return per_image.sum(axis=0).reshape(weight_shape)


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups,
                          primitives=CPU_PRIMITIVES):
    """∂L/∂X = col2im(Wᵀ @ ∂L/∂h[b]) per group."""
    if _is_depthwise(input_shape[1], groups):
        return primitives.depthwise_backward_input(grad, weight, input_shape, stride, padding,
                                                   dilation)
    if _use_winograd(primitives, input_shape[1], weight.shape[0], weight.shape[2:], stride, dilation,
                     groups, padding):
        return primitives.winograd.conv2d_3x3_backward(grad, padding, input_shape, weight=weight)[0]
    n, k = grad.shape[:2]
    if _batch_in_columns(primitives, k, groups, weight.shape[2:], padding):
        grad_cols = weight.reshape(k, -1).T @ _batch_last(grad)             # (C·KH·KW, N·L)
        return primitives.col2im(grad_cols.reshape(grad_cols.shape[0], n, -1), input_shape,
                                 weight.shape[2:], stride, padding, dilation, grad.shape[2:],
                                 batch_in_columns=True)
    positions = grad.shape[2] * grad.shape[3]
    if groups == 1 and positions <= FEW_POSITIONS_INPUT:
        grad_cols = np.tensordot(weight.reshape(k, -1), grad.reshape(n, k, -1), axes=([0], [1]))
        grad_cols = np.ascontiguousarray(grad_cols.transpose(1, 0, 2))        # (N, C·KH·KW, L)
    else:
        weight_t = weight.reshape(groups, k // groups, -1).transpose(0, 2, 1)  # (G, P·KH·KW, K/G)
        grad_cols = np.matmul(weight_t, grad.reshape(n, groups, k // groups, -1))  # (N, G, P·KH·KW, L)
        grad_cols = grad_cols.reshape(n, -1, grad_cols.shape[3])
    return _uncolumns(grad_cols, input_shape, weight.shape[2:], stride, padding, dilation,
                      grad.shape[2:], primitives)


def conv2d_backward(grad, x, weight, stride, padding, dilation, groups, need_input=True,
                    need_weight=True, columns=None, primitives=CPU_PRIMITIVES):
    """(∂L/∂X or None, ∂L/∂W or None) in one call, so that work both need runs once:
    Winograd's transformed output gradient, 2.6 ms of a 36 ms Keras-MNIST-CNN step."""
    if need_input and need_weight and columns is None and _use_winograd(
            primitives, x.shape[1], weight.shape[0], weight.shape[2:], stride, dilation, groups, padding):
        return primitives.winograd.conv2d_3x3_backward(grad, padding, x.shape, weight=weight, x=x)
    grad_x = conv2d_backward_input(grad, weight, x.shape, stride, padding, dilation, groups,
                                   primitives=primitives) if need_input else None
    grad_w = conv2d_backward_weight(grad, x, weight.shape, stride, padding, dilation, groups,
                                    columns=columns, primitives=primitives) if need_weight else None
    return grad_x, grad_w
