"""The convolution primitives of the GPU: Numba CUDA im2col/col2im (the GEMMs between
them run on cuBLAS, ``kernels/conv.py``) and direct depthwise kernels.  Same signatures
as the CPU's ``kernels/im2col.py`` and ``kernels/depthwise.py``.

Why this split: a convolution's arithmetic is a matrix product, and cuBLAS
already runs it with shared-memory and register tiling near the GPU's peak;
hand-tiling the same GEMM in Numba reaches ~70 % of cuBLAS at best.  The Numba
kernels do what cuBLAS cannot: the gathers.  ``im2col`` gives each thread one
element of ``cols`` (N, C·KH·KW, OH·OW) (consecutive threads write consecutive
positions, so stores coalesce); ``col2im`` gives each thread one input pixel, which gathers the
entries of every window that covered it, so no atomics are needed.  Depthwise
convolution has nothing for a GEMM to reduce over, so it is computed directly,
one thread per output (forward) or input (input gradient) element; its weight
gradient sums over the batch with one atomic add per (channel, tap, image).
"""
from numba import cuda

from .cuda_common import array_module, launch, unravel
from .geometry import tap_range, valid_range

_valid_range = cuda.jit(device=True)(valid_range)
_tap_range = cuda.jit(device=True)(tap_range)


@cuda.jit(device=True)
def _source_index(position, pad, tap, dilation, stride, out_size):
    """The output index whose window puts kernel tap ``tap`` on input ``position``, or -1."""
    shifted = position + pad - tap * dilation
    if shifted < 0 or shifted % stride != 0 or shifted // stride >= out_size:
        return -1
    return shifted // stride


@cuda.jit
def _im2col_kernel(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c, h, w = x.shape
    rows = cols.shape[1]
    for item in range(cuda.grid(1), cols.size, cuda.gridsize(1)):
        b, row, y, z = unravel(item, rows, oh, ow)
        ch = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        iy = y * sh - ph + i * dh
        ix = z * sw - pw + j * dw
        cols[b, row, y * ow + z] = x[b, ch, iy, ix] if 0 <= iy < h and 0 <= ix < w else 0


@cuda.jit
def _col2im_kernel(cols, out, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c, h, w = out.shape
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, ch, iy, ix = unravel(item, c, h, w)
        total = 0.0
        for i in range(kh):
            y = _source_index(iy, ph, i, dh, sh, oh)
            if y < 0:
                continue
            for j in range(kw):
                z = _source_index(ix, pw, j, dw, sw, ow)
                if z >= 0:
                    total += cols[b, (ch * kh + i) * kw + j, y * ow + z]
        out[b, ch, iy, ix] = total


@cuda.jit
def _depthwise_forward_kernel(x, weight, out, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    _, k_total, oh, ow = out.shape
    kh, kw = weight.shape[2], weight.shape[3]
    mult = k_total // c
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, k, i, j = unravel(item, k_total, oh, ow)
        first_m, end_m = _tap_range(i, sh, ph, dh, kh, h)
        first_q, end_q = _tap_range(j, sw, pw, dw, kw, w)
        total = 0.0
        for m in range(first_m, end_m):
            for q in range(first_q, end_q):
                total += x[b, k // mult, i * sh - ph + m * dh, j * sw - pw + q * dw] * weight[k, 0, m, q]
        out[b, k, i, j] = total


@cuda.jit
def _depthwise_backward_input_kernel(grad, weight, out, sh, sw, ph, pw, dh, dw):
    n, c, h, w = out.shape
    _, k_total, oh, ow = grad.shape
    kh, kw = weight.shape[2], weight.shape[3]
    mult = k_total // c
    for item in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, ch, iy, ix = unravel(item, c, h, w)
        total = 0.0
        for k in range(ch * mult, (ch + 1) * mult):
            for m in range(kh):
                y = _source_index(iy, ph, m, dh, sh, oh)
                if y < 0:
                    continue
                for q in range(kw):
                    z = _source_index(ix, pw, q, dw, sw, ow)
                    if z >= 0:
                        total += grad[b, k, y, z] * weight[k, 0, m, q]
        out[b, ch, iy, ix] = total


@cuda.jit
def _depthwise_backward_weight_kernel(grad, x, out, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    _, k_total, oh, ow = grad.shape
    kh, kw = out.shape[2], out.shape[3]
    mult = k_total // c
    for item in range(cuda.grid(1), k_total * kh * kw * n, cuda.gridsize(1)):
        k, m, q, b = unravel(item, kh, kw, n)
        j0, j1 = _valid_range(ow, sw, q * dw - pw, w)
        total = 0.0
        for i in range(oh):
            iy = i * sh - ph + m * dh
            if 0 <= iy < h:
                for j in range(j0, j1):
                    total += grad[b, k, i, j] * x[b, k // mult, iy, j * sw - pw + q * dw]
        cuda.atomic.add(out, (k, 0, m, q), total)


def im2col(x, kernel_hw, stride, padding, dilation, out_hw):
    xp = array_module(x)
    cols = xp.empty((x.shape[0], x.shape[1] * kernel_hw[0] * kernel_hw[1], out_hw[0] * out_hw[1]),
                    dtype=x.dtype)
    launch(_im2col_kernel, cols.size, xp.ascontiguousarray(x), cols, *kernel_hw, *stride, *padding,
           *dilation, *out_hw)
    return cols


def col2im(cols, input_shape, kernel_hw, stride, padding, dilation, out_hw):
    xp = array_module(cols)
    out = xp.empty(tuple(input_shape), dtype=cols.dtype)
    launch(_col2im_kernel, out.size, xp.ascontiguousarray(cols), out, *kernel_hw, *stride, *padding,
           *dilation, *out_hw)
    return out


def depthwise_forward(x, weight, plan):
    xp = array_module(x)
    out = xp.empty((x.shape[0], weight.shape[0]) + tuple(plan.out_hw), dtype=x.dtype)
    launch(_depthwise_forward_kernel, out.size, xp.ascontiguousarray(x), xp.ascontiguousarray(weight),
           out, *plan.stride, *plan.padding, *plan.dilation)
    return out


def depthwise_backward_input(grad, weight, input_shape, plan):
    xp = array_module(grad)
    out = xp.empty(tuple(input_shape), dtype=grad.dtype)
    launch(_depthwise_backward_input_kernel, out.size, xp.ascontiguousarray(grad),
           xp.ascontiguousarray(weight), out, *plan.stride, *plan.padding, *plan.dilation)
    return out


def depthwise_backward_weight(grad, x, weight_shape, plan):
    xp = array_module(x)
    out = xp.zeros(tuple(weight_shape), dtype=x.dtype)
    launch(_depthwise_backward_weight_kernel, weight_shape[0] * weight_shape[2] * weight_shape[3] * x.shape[0],
           xp.ascontiguousarray(grad), xp.ascontiguousarray(x), out, *plan.stride, *plan.padding,
           *plan.dilation)
    return out
