"""Integer matrix products for quantised layers, on the CPU: uint8 activations times int8
weights, accumulated exactly in int32.

    out[i, j] = Σ_k a[i, k] · b[j, k]        a: (M, K) uint8,  b: (N, K) int8,  out: int32

Two kernels compute it.  Where the CPU has AVX-512 VNNI, ``vpdpbusd`` does 64 of these
uint8 × int8 products into sixteen int32 sums in one instruction (``vnni.py``, weights
packed 16 channels × 4 inputs per 64 bytes): measured 2-4× faster than OpenBLAS's float32
GEMM on the MLP's layers.  Elsewhere both operands are widened to int16, so that the inner product is
the pattern x86's ``vpmaddwd`` computes, which LLVM emits for it (2.2× faster than reading
the bytes directly, still ~40 % of the float GEMM).  An int32 cannot overflow for
K < 2^31 / (255 · 127) ≈ 66,000.  The scales and zero points are applied outside
(``tinynn/quantization``), so both kernels are pure integer arithmetic and equal their
reference exactly.
"""
import numpy as np
from numba import njit, prange

from . import vnni, vnni_conv
from .affine import dequantize_row, dequantize_tile, quantize_row
from .im2col import im2col


def _int16_matmul_impl(a, b, out):
    m, depth = a.shape
    for i in prange(m):
        row = a[i]
        for j in range(b.shape[0]):
            column = b[j]
            total = np.int32(0)
            for k in range(depth):
                total += np.int32(row[k]) * np.int32(column[k])
            out[i, j] = total


_int16_matmul = njit(parallel=True, cache=True)(_int16_matmul_impl)


def int8_matmul(a, b):
    """a (M, K) uint8 @ b (N, K) int8 transposed, as int32 (M, N)."""
    if vnni.AVAILABLE:
        return vnni.int8_matmul(a, b)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    _int16_matmul(a.astype(np.int16), b.astype(np.int16), out)
    return out


def _int16_columns_impl(weight, cols, out):
    """out[k, p] = Σ_c weight[k, c] · cols[c, p]: each weight times a long contiguous row of
    columns (a convolution's positions), which vectorises where the per-window dot products
    of a small kernel (LeNet: 25 taps) are too short to."""
    channels, depth = weight.shape
    positions = cols.shape[1]
    blocks = (positions + COLUMN_BLOCK - 1) // COLUMN_BLOCK
    for block in prange(blocks):
        start = block * COLUMN_BLOCK
        stop = min(positions, start + COLUMN_BLOCK)
        for k in range(channels):
            line = out[k, start:stop]
            line[:] = 0
            for c in range(depth):
                scale = np.int32(weight[k, c])
                source = cols[c, start:stop]
                for p in range(stop - start):
                    line[p] += scale * np.int32(source[p])


COLUMN_BLOCK = 2048          # positions per thread task: 8 KiB of int32 output per channel
_int16_columns = njit(parallel=True, cache=True)(_int16_columns_impl)


def int8_conv2d(x, weight, stride, dilation, out_hw):
    """Σ x · w over every window, in int32: x (N, C, H, W) uint8, already padded (with its
    zero point), weight (K, C, KH, KW) int8.  im2col lays the windows out as columns
    (C·KH·KW, N·L), then every output channel streams along them."""
    n, k = x.shape[0], weight.shape[0]
    cols = im2col(x.astype(np.int16), weight.shape[2:], stride, (0, 0), dilation, out_hw,
                  batch_in_columns=True).reshape(-1, n * out_hw[0] * out_hw[1])   # (C·KH·KW, N·L)
    out = np.empty((k, cols.shape[1]), dtype=np.int32)
    _int16_columns(weight.reshape(k, -1).astype(np.int16), cols, out)
    return np.ascontiguousarray(out.reshape(k, n, -1).transpose(1, 0, 2)).reshape((n, k) + tuple(out_hw))


def _quantize_into_impl(x, scale, zero_point, out):
    """Every row of x quantised into ``out`` in one pass (NumPy's version makes five)."""
    for i in prange(x.shape[0]):
        quantize_row(x[i], scale, zero_point, out[i])


def _dequantize_impl(accumulated, correction, multiplier, bias, out):
    """Every row of int32 sums back to floats, in out's dtype."""
    for i in prange(out.shape[0]):
        dequantize_row(accumulated[i], correction, multiplier, bias, out[i])


def _dequantize_channels_impl(accumulated, correction, multiplier, bias, out):
    """Every output row of int32 sums (N, K, OH, OW) back to floats, all channels at once."""
    n, oh = out.shape[0], out.shape[2]
    for task in prange(n * oh):
        b, y = task // oh, task % oh
        dequantize_tile(accumulated[b, :, y], out, b, y, 0, 0, correction, multiplier, bias)


def _row_sums_impl(weight):
    """Σ_k weight[c, k] per row, in int64 (NumPy's int8 → int64 reduction is ~10× slower)."""
    sums = np.zeros(weight.shape[0], dtype=np.int64)
    for c in range(weight.shape[0]):
        for k in range(weight.shape[1]):
            sums[c] += weight[c, k]
    return sums


_row_sums = njit(cache=True)(_row_sums_impl)
_quantize_into = njit(parallel=True, cache=True)(_quantize_into_impl)
_dequantize = njit(parallel=True, cache=True)(_dequantize_impl)
_dequantize_channels = njit(parallel=True, cache=True)(_dequantize_channels_impl)


def prepare_int8_weight(weight):
    """The weight in the layout the product reads — VNNI's packed blocks, or int16 — and
    Σ q_w[c, ...] per output channel: what would otherwise be redone on every call (70 µs of
    a 300 µs 784 → 300 layer at batch 256).  A Linear's weight is (C, K), a Conv2d's
    (K, C, KH, KW); the weight itself comes along for the convolutions VNNI cannot take."""
    if weight.ndim == 4:
        layout = vnni_conv.pack(weight) if vnni.AVAILABLE else weight
    else:
        layout = vnni.pack(weight) if vnni.AVAILABLE else weight.astype(np.int16)
    return layout, _row_sums(weight.reshape(weight.shape[0], -1)), weight


def _affine_terms(x, scale, zero_point, row_sums, weight_scale, bias):
    """The dequantisation's per-channel terms in x's dtype: z·Σ q_w, s·s_c and the bias."""
    correction = (zero_point * row_sums).astype(x.dtype)
    multiplier = (scale * weight_scale).astype(x.dtype)
    bias = np.zeros(len(row_sums), x.dtype) if bias is None else bias.astype(x.dtype)
    return correction, multiplier, bias


def quantized_linear(x, scale, zero_point, prepared, weight_scale, bias):
    """Float (N, K) in, float (N, C) out, uint8 × int8 products in between: with VNNI all in
    one parallel region (``vnni.py``); else quantise in one pass, the int16 product,
    dequantise in one pass."""
    layout, row_sums, weight = prepared
    rows, depth = x.shape
    channels = weight.shape[0]
    correction, multiplier, bias = _affine_terms(x, scale, zero_point, row_sums, weight_scale, bias)
    if layout.dtype == np.int8:                      # packed for VNNI
        return vnni.quantized_linear(x, scale, zero_point, layout, channels, correction, multiplier, bias)
    q = np.empty((rows, depth), dtype=np.int16)
    _quantize_into(x, x.dtype.type(scale), x.dtype.type(zero_point), q)
    accumulated = np.empty((rows, channels), dtype=np.int32)
    _int16_matmul(q, layout, accumulated)
    out = np.empty((rows, channels), dtype=x.dtype)
    _dequantize(accumulated, correction, multiplier, bias, out)
    return out


def quantized_conv2d(x, scale, zero_point, prepared, weight_scale, bias, stride, padding, dilation):
    """Float (N, C, H, W) in, float (N, K, OH, OW) out: with VNNI straight from the padded
    uint8 image (``vnni_conv.py``); else quantise, pad, the int16 column kernel, dequantise."""
    layout, row_sums, weight = prepared
    terms = _affine_terms(x, scale, zero_point, row_sums, weight_scale, bias)
    kernel_hw = weight.shape[2:]
    out_hw = tuple((size + sum(pads) - d * (k - 1) - 1) // s + 1
                   for size, pads, k, s, d in zip(x.shape[2:], padding, kernel_hw, stride, dilation))
    if layout is not weight and dilation[1] == 1:               # packed for VNNI
        return vnni_conv.quantized_conv2d(x, scale, zero_point, layout, kernel_hw, *terms, stride, padding,
                                          dilation[0], out_hw)
    x = np.ascontiguousarray(x)
    q = np.empty(x.shape, dtype=np.uint8)
    _quantize_into(x.reshape(-1, x.shape[-1]), x.dtype.type(scale), x.dtype.type(zero_point),
                   q.reshape(-1, x.shape[-1]))
    q = np.pad(q, ((0, 0), (0, 0)) + tuple(padding), constant_values=zero_point)   # z stands for 0.0
    accumulated = int8_conv2d(q, weight, stride, dilation, out_hw)
    out = np.empty(accumulated.shape, dtype=x.dtype)
    _dequantize_channels(accumulated, *terms, out)
    return out
