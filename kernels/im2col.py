"""im2col and col2im on the CPU: the memory moves that turn a convolution into GEMMs.

``im2col`` copies every receptive field of image b into a column of ``cols[b]``, shape
(C·KH·KW, OH·OW), so that the convolution is the matrix product W (K, C·KH·KW) @ cols[b]
(``kernels/conv.py`` runs the products).  ``col2im`` is its adjoint: it adds each
column entry back onto the input pixel it was copied from, which is what ∂L/∂X needs.

Both loops run in parallel with ``prange`` over work items that never write the same
element: (image, row of cols) for im2col, (image, channel) planes for col2im.
"""
import numpy as np
from numba import njit, prange

from . import workspace
from .ahead import AheadKernel
from .geometry import valid_range

_valid_range = njit(inline="always", cache=True)(valid_range)


def _im2col_impl(x, cols, batch_in_columns, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """cols[b, c·KH·KW + i·KW + j, y·OW + z] = x[b, c, y·sh - ph + i·dh, z·sw - pw + j·dw]
    (zero outside the input), written into ``cols`` (N, C·KH·KW, OH·OW), or with
    ``batch_in_columns`` into cols[row, b] of a (C·KH·KW, N, OH·OW) array.  (A flag rather
    than a transposed view: one compiled kernel serves both layouts.)  Reference loop: for
    every image, row and column."""
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
        line = cols[row, b] if batch_in_columns else cols[b, row]
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


def _col2im_impl(cols, batch_in_columns, out, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of im2col: x[b, c, iy, ix] += cols[b, row, column] (or cols[row, b, column])
    for every pair that im2col copied, into ``out`` (N, C, H, W) of zeros.  One thread owns
    one (b, c) plane, so the adds never race."""
    n, c, h, w = out.shape
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        for i in range(kh):
            for j in range(kw):
                row = (ch * kh + i) * kw + j
                line = cols[row, b] if batch_in_columns else cols[b, row]
                offset_x = j * dw - pw
                z0, z1 = _valid_range(ow, sw, offset_x, w)
                for y in range(oh):
                    iy = y * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    target = out[b, ch, iy]
                    for z in range(z0, z1):
                        target[z * sw + offset_x] += line[y * ow + z]


_im2col = njit(parallel=True, cache=True)(_im2col_impl)
_col2im = AheadKernel(njit(parallel=True, cache=True)(_col2im_impl))


def im2col(x, kernel_hw, stride, padding, dilation, out_hw, batch_in_columns=False):
    """cols (N, C·KH·KW, OH·OW), or with ``batch_in_columns`` (C·KH·KW, N, OH·OW)."""
    n, rows, positions = x.shape[0], x.shape[1] * kernel_hw[0] * kernel_hw[1], out_hw[0] * out_hw[1]
    cols = workspace.empty((rows, n, positions) if batch_in_columns else (n, rows, positions), x.dtype)
    x = np.ascontiguousarray(x)
    geometry = (*kernel_hw, *stride, *padding, *dilation, *out_hw)
    _col2im.compile_ahead(cols, batch_in_columns, x, *geometry)   # ∂L/∂X's kernel, same argument types
    _im2col(x, cols, batch_in_columns, *geometry)
    return cols


def col2im(cols, input_shape, kernel_hw, stride, padding, dilation, out_hw, batch_in_columns=False):
    """The adjoint of ``im2col``, from either layout."""
    out = workspace.zeros(tuple(input_shape), cols.dtype)
    _col2im(np.ascontiguousarray(cols), batch_in_columns, out, *kernel_hw, *stride, *padding, *dilation, *out_hw)
    return out
