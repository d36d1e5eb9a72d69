"""2-D convolution on the CPU: Numba im2col/col2im around one BLAS GEMM per group.

Same function names and signatures as ``tinynn/reference/conv.py``.

Algorithm.  ``im2col`` copies every receptive field into a column of a matrix
``cols`` of shape (C·KH·KW, N·OH·OW); the convolution is then the matrix
product ``W (K, C·KH·KW) @ cols``, done by NumPy's BLAS, which runs at
150-170 GFLOP/s on the 2 cores here.  Putting the batch into the columns makes
one large GEMM instead of N small ones (LeNet's 6×25 weight is useless to
BLAS per image).  Backward reuses the same layout: ∂L/∂W = g @ colsᵀ and
∂L/∂cols = Wᵀ @ g, which ``col2im`` scatters back (adding overlaps).
Groups are a batched GEMM over the groups, because each group's rows of
``cols`` are contiguous.

Depthwise convolution (groups = C, MobileNetV2) has no reduction over channels
for a GEMM to exploit: im2col + a 1×9 by 9×(N·OH·OW) GEMM per channel ran 8-10×
slower than PyTorch.  It gets direct loops instead, one thread per
(batch, channel) plane, with the inner loop over contiguous output columns.

A direct 7-deep loop in Numba was measured 10× slower than PyTorch on the
ResNet shapes against 5× for im2col + GEMM (FIELD-NOTES); the GEMM is where
the arithmetic is, so it goes to BLAS and Numba does only the memory moves,
which it parallelises with ``prange`` over independent rows/planes (no two
threads ever write the same element).  Measured numbers are printed by
``benchmarks/bench_conv.py``.
"""
from types import SimpleNamespace

import numpy as np
from numba import njit, prange


def _im2col_impl(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """cols[c·KH·KW + i·KW + j, b·OH·OW + y·OW + z] = x[b, c, y·sh - ph + i·dh, z·sw - pw + j·dw]
    (zero outside the input).  Reference loop: for every row, every column."""
    n, c, h, w = x.shape
    rows = c * kh * kw
    positions = oh * ow
    cols = np.empty((rows, n * positions), dtype=x.dtype)
    for row in prange(rows):
        ch = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        for b in range(n):
            for y in range(oh):
                iy = y * sh - ph + i * dh
                base = b * positions + y * ow
                if iy < 0 or iy >= h:
                    for z in range(ow):
                        cols[row, base + z] = 0
                    continue
                for z in range(ow):
                    ix = z * sw - pw + j * dw
                    cols[row, base + z] = x[b, ch, iy, ix] if 0 <= ix < w else 0
    return cols


def _col2im_impl(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of im2col: x[b, c, iy, ix] += cols[row, column] for every pair
    that im2col copied.  One thread owns one (b, c) plane, so the adds never race."""
    out = np.zeros((n, c, h, w), dtype=cols.dtype)
    positions = oh * ow
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(kh):
            for j in range(kw):
                row = (ch * kh + i) * kw + j
                for y in range(oh):
                    iy = y * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    base = b * positions + y * ow
                    for z in range(ow):
                        ix = z * sw - pw + j * dw
                        if 0 <= ix < w:
                            out[b, ch, iy, ix] += cols[row, base + z]
    return out


def valid_range(out, stride, offset, size):
    """The outputs z in [lo, hi) whose input index z·stride + offset lies in [0, size)."""
    lo = 0 if offset >= 0 else (stride - 1 - offset) // stride
    hi = min(out, (size - 1 - offset) // stride + 1) if size > offset else 0
    return lo, max(lo, hi)


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
                wv = weight[k, 0, m, q]
                off_x = q * dw - pw
                j0, j1 = _valid_range(ow, sw, off_x, w)
                for i in range(oh):
                    iy = i * sh - ph + m * dh
                    if iy < 0 or iy >= h:
                        continue
                    row_in = source[iy]
                    row_out = target[i]
                    for j in range(j0, j1):
                        row_out[j] += row_in[j * sw + off_x] * wv
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
                    wv = weight[k, 0, m, q]
                    off_x = q * dw - pw
                    j0, j1 = _valid_range(ow, sw, off_x, w)
                    for i in range(oh):
                        iy = i * sh - ph + m * dh
                        if iy < 0 or iy >= h:
                            continue
                        row_in = source[i]
                        row_out = target[iy]
                        for j in range(j0, j1):
                            row_out[j * sw + off_x] += row_in[j] * wv
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
                off_x = q * dw - pw
                j0, j1 = _valid_range(ow, sw, off_x, w)
                total = 0.0
                for b in range(n):
                    for i in range(oh):
                        iy = i * sh - ph + m * dh
                        if iy < 0 or iy >= h:
                            continue
                        for j in range(j0, j1):
                            total += grad[b, k, i, j] * x[b, ch, iy, j * sw + off_x]
                grad_w[k, 0, m, q] = total
    return grad_w


_im2col = njit(parallel=True, cache=True)(_im2col_impl)
_col2im = njit(parallel=True, cache=True)(_col2im_impl)
_valid_range = njit(inline="always", cache=True)(valid_range)
_depthwise_forward = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_forward_impl)
_depthwise_backward_input = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_backward_input_impl)
_depthwise_backward_weight = njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})(_depthwise_backward_weight_impl)


def im2col(x, kernel_hw, stride, padding, dilation, out_hw):
    return _im2col(np.ascontiguousarray(x), *kernel_hw, *stride, *padding, *dilation, *out_hw)


def col2im(cols, input_shape, kernel_hw, stride, padding, dilation, out_hw):
    return _col2im(np.ascontiguousarray(cols), *input_shape, *kernel_hw, *stride, *padding,
                   *dilation, *out_hw)


def depthwise_forward(x, weight, stride, padding, dilation, out_hw):
    return _depthwise_forward(np.ascontiguousarray(x), np.ascontiguousarray(weight),
                              *stride, *padding, *dilation, *out_hw)


def depthwise_backward_input(grad, weight, input_shape, stride, padding, dilation):
    return _depthwise_backward_input(np.ascontiguousarray(grad), np.ascontiguousarray(weight),
                                     *input_shape[1:], *stride, *padding, *dilation)


def depthwise_backward_weight(grad, x, weight_shape, stride, padding, dilation):
    return _depthwise_backward_weight(np.ascontiguousarray(grad), np.ascontiguousarray(x),
                                      *weight_shape[2:], *stride, *padding, *dilation)


# The memory-moving primitives of this device; kernels/cuda_conv.py has the same names
# and reuses the GEMM orchestration below with its own.
CPU_PRIMITIVES = SimpleNamespace(im2col=im2col, col2im=col2im, depthwise_forward=depthwise_forward,
                                 depthwise_backward_input=depthwise_backward_input,
                                 depthwise_backward_weight=depthwise_backward_weight)


def _grad_as_groups(grad, groups):
    """(N, K, OH, OW) -> (G, K/G, N·OH·OW), the column order of ``cols``."""
    n, k = grad.shape[:2]
    return np.ascontiguousarray(grad.reshape(n, k, -1).transpose(1, 0, 2)).reshape(groups, k // groups, -1)


def _is_depthwise(channels, groups):
    return groups > 1 and groups == channels


def conv2d_forward(x, weight, stride, padding, dilation, groups, out_hw, primitives=CPU_PRIMITIVES):
    """out = W @ im2col(x) per group (np.matmul runs on the GPU's BLAS for CuPy arrays)."""
    if _is_depthwise(x.shape[1], groups):
        return primitives.depthwise_forward(x, weight, stride, padding, dilation, out_hw)
    n = x.shape[0]
    k, _, kh, kw = weight.shape
    cols = primitives.im2col(x, (kh, kw), stride, padding, dilation, out_hw)
    cols = cols.reshape(groups, -1, cols.shape[1])
    out = np.matmul(weight.reshape(groups, k // groups, -1), cols)      # (G, K/G, N·L)
    out = out.reshape(k, n, -1).transpose(1, 0, 2)
    return np.ascontiguousarray(out).reshape((n, k) + tuple(out_hw))


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups,
                           primitives=CPU_PRIMITIVES):
    """∂L/∂W = ∂L/∂h @ im2col(x)ᵀ per group."""
    if _is_depthwise(x.shape[1], groups):
        return primitives.depthwise_backward_weight(grad, x, weight_shape, stride, padding, dilation)
    cols = primitives.im2col(x, weight_shape[2:], stride, padding, dilation, grad.shape[2:])
    cols = cols.reshape(groups, -1, cols.shape[1])
    grad_weight = np.matmul(_grad_as_groups(grad, groups), cols.transpose(0, 2, 1))
    return grad_weight.reshape(weight_shape)


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups,
                          primitives=CPU_PRIMITIVES):
    """∂L/∂X = col2im(Wᵀ @ ∂L/∂h) per group."""
    if _is_depthwise(input_shape[1], groups):
        return primitives.depthwise_backward_input(grad, weight, input_shape, stride, padding,
                                                   dilation)
    k = weight.shape[0]
    weight_t = weight.reshape(groups, k // groups, -1).transpose(0, 2, 1)
    grad_cols = np.matmul(weight_t, _grad_as_groups(grad, groups))     # (G, P·KH·KW, N·L)
    grad_cols = grad_cols.reshape(-1, grad_cols.shape[2])
    return primitives.col2im(grad_cols, input_shape, weight.shape[2:], stride, padding, dilation,
                             grad.shape[2:])
