"""2-D convolution on the CPU: Numba im2col/col2im around one BLAS GEMM per group.

Same function names and signatures as ``tinynn/reference/conv.py``.

Algorithm.  ``im2col`` copies every receptive field into a column of a matrix
``cols`` of shape (C·KH·KW, N·OH·OW); the convolution is then the matrix
product ``W (K, C·KH·KW) @ cols``, done by NumPy's BLAS, which runs at
150-170 GFLOP/s on the 2 cores here.  Putting the batch into the columns makes
one large GEMM instead of N small ones (LeNet's 6×25 weight is useless to
BLAS per image).  Backward reuses the same layout: ∂L/∂W = g @ colsᵀ and
∂L/∂cols = Wᵀ @ g, which ``col2im`` scatters back (adding overlaps).
Groups (and depthwise convolution, groups = C) are a batched GEMM over the
groups, because each group's rows of ``cols`` are contiguous.

A direct 7-deep loop in Numba was measured 10× slower than PyTorch on the
ResNet shapes against 5× for im2col + GEMM (FIELD-NOTES); the GEMM is where
the arithmetic is, so it goes to BLAS and Numba does only the memory moves,
which it parallelises with ``prange`` over independent rows/planes (no two
threads ever write the same element).  Measured numbers are printed by
``benchmarks/bench_conv.py``.
"""
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


_im2col = njit(parallel=True, cache=True)(_im2col_impl)
_col2im = njit(parallel=True, cache=True)(_col2im_impl)


def im2col(x, kernel_hw, stride, padding, dilation, out_hw):
    return _im2col(np.ascontiguousarray(x), *kernel_hw, *stride, *padding, *dilation, *out_hw)


def col2im(cols, input_shape, kernel_hw, stride, padding, dilation, out_hw):
    return _col2im(np.ascontiguousarray(cols), *input_shape, *kernel_hw, *stride, *padding,
                   *dilation, *out_hw)


def _grad_as_groups(grad, groups):
    """(N, K, OH, OW) -> (G, K/G, N·OH·OW), the column order of ``cols``."""
    n, k = grad.shape[:2]
    return np.ascontiguousarray(grad.reshape(n, k, -1).transpose(1, 0, 2)).reshape(groups, k // groups, -1)


def conv2d_forward(x, weight, stride, padding, dilation, groups, out_hw):
    n = x.shape[0]
    k, _, kh, kw = weight.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation, out_hw)
    cols = cols.reshape(groups, -1, cols.shape[1])
    out = np.matmul(weight.reshape(groups, k // groups, -1), cols)      # (G, K/G, N·L)
    out = out.reshape(k, n, -1).transpose(1, 0, 2)
    return np.ascontiguousarray(out).reshape((n, k) + tuple(out_hw))


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups):
    cols = im2col(x, weight_shape[2:], stride, padding, dilation, grad.shape[2:])
    cols = cols.reshape(groups, -1, cols.shape[1])
    grad_weight = np.matmul(_grad_as_groups(grad, groups), cols.transpose(0, 2, 1))
    return grad_weight.reshape(weight_shape)


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups):
    k = weight.shape[0]
    weight_t = weight.reshape(groups, k // groups, -1).transpose(0, 2, 1)
    grad_cols = np.matmul(weight_t, _grad_as_groups(grad, groups))     # (G, P·KH·KW, N·L)
    grad_cols = grad_cols.reshape(-1, grad_cols.shape[2])
    return col2im(grad_cols, input_shape, weight.shape[2:], stride, padding, dilation, grad.shape[2:])
