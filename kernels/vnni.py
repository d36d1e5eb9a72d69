"""uint8 × int8 matrix products with AVX-512 VNNI.

``vpdpbusd`` takes sixteen 32-bit lanes and adds to each lane the four products of its four
unsigned bytes in one operand with its four signed bytes in the other: 64 multiply-adds in
one instruction.  LLVM does not emit it for a plain loop, so the inner loop is written in
LLVM IR (``tiles.py``, a Numba intrinsic), in the layout oneDNN and FBGEMM use:

    weights packed as (channel block of 16, group g of 4 inputs, 16 channels, 4 inputs):
        64 bytes = the 4 weights of group g for 16 output channels
    for every group g:
        x4 = the 4 input bytes x[i, 4g : 4g+4], broadcast to all 16 lanes
        acc[i, 16 channels] = vpdpbusd(acc[i, 16 channels], x4, packed weights of g)

so that each lane accumulates one output (no horizontal sums), for 4 rows of x and 32
channels at a time (8 accumulators, 2 weight loads and 4 broadcasts a group).  Inputs are
padded to a multiple of 4, channels to a multiple of 32, rows to a multiple of 4; the zeros
add nothing.  Measured on the MLP's layers: 3-4× faster than OpenBLAS's float32 GEMM.
``AVAILABLE`` is true only when the CPU has the instruction and Numba compiles for this CPU
(not under NUMBA_DISABLE_JIT or an explicit NUMBA_CPU_NAME), so other machines never compile it.
"""
import numpy as np
from llvmlite import binding
from numba import config, njit, prange

from . import twin
from .affine import dequantize_row, quantize_row
from .tiles import NO_TABLE, make_tile

AVAILABLE = bool(binding.get_host_cpu_features().get("avx512vnni", False)) \
    and not config.DISABLE_JIT and not config.CPU_NAME

rows4_channels32 = make_tile(4, 2, "u8s8", table=False)
rows8_channels16 = make_tile(8, 1, "u8s8", table=True)


def _pack_impl(weight, packed):
    """packed[b, g, lane, t] = weight[16·b + lane, 4·g + t] (zero outside the weight)."""
    channels, depth = weight.shape
    for block in range(packed.shape[0]):
        for group in range(packed.shape[1]):
            for lane in range(16):
                c = 16 * block + lane
                for t in range(4):
                    k = 4 * group + t
                    packed[block, group, lane, t] = weight[c, k] if c < channels and k < depth else 0


_pack = njit(cache=True)(_pack_impl)


def pack(weight):
    """int8 (C, K) → (C/16, K/4, 16, 4), C padded to a multiple of 32 and K of 4 with zeros."""
    channels, depth = weight.shape
    packed = np.empty((-(-channels // 32) * 2, -(-depth // 4), 16, 4), dtype=np.int8)
    _pack(np.ascontiguousarray(weight), packed)
    return packed


def _matmul_impl(a, packed, accumulated):
    """accumulated = a · weightsᵀ, 4 rows of a and 32 channels per intrinsic call."""
    blocks, groups = packed.shape[0], packed.shape[1]
    width, channels = a.shape[1], accumulated.shape[1]
    flat_x, flat_w, flat_out = a.reshape(-1), packed.reshape(-1), accumulated.reshape(-1)
    for task in prange(a.shape[0] // 4):
        i = 4 * task
        for block in range(0, blocks, 2):
            rows4_channels32(flat_x, flat_w, flat_out, NO_TABLE, NO_TABLE, i * width, width, block * groups * 64,
                             groups * 64, i * channels + 16 * block, channels, groups)


def _linear_impl(x, scale, zero_point, packed, correction, multiplier, bias, quantized, accumulated, out):
    """A whole quantised Linear: every task quantises 4 rows of x into its rows of
    ``quantized`` (zeroed and padded by the caller: an allocation inside the loop kept it
    from running in parallel), multiplies them by all the weights, dequantises the results."""
    rows = x.shape[0]
    blocks, groups = packed.shape[0], packed.shape[1]
    padded_width, channels = quantized.shape[1], accumulated.shape[1]
    flat_x, flat_w, flat_out = quantized.reshape(-1), packed.reshape(-1), accumulated.reshape(-1)
    for task in prange(quantized.shape[0] // 4):
        i = 4 * task
        for r in range(min(4, rows - i)):
            quantize_row(x[i + r], scale, zero_point, quantized[i + r])
        for block in range(0, blocks, 2):
            rows4_channels32(flat_x, flat_w, flat_out, NO_TABLE, NO_TABLE, i * padded_width, padded_width,
                             block * groups * 64, groups * 64, i * channels + 16 * block, channels, groups)
        for r in range(min(4, rows - i)):
            dequantize_row(accumulated[i + r], correction, multiplier, bias, out[i + r])


_matmul = njit(parallel=True, cache=True)(_matmul_impl)
_matmul_serial = njit(cache=True)(twin(_matmul_impl, "_serial"))
_linear = njit(parallel=True, cache=True)(_linear_impl)
_linear_serial = njit(cache=True)(twin(_linear_impl, "_serial"))

# Below this many multiply-adds a product takes a few tens of µs, less than waking the thread
# pool under the passive OpenMP wait policy (measured ~60 µs): run on the calling thread.
PARALLEL_MIN_WORK = 2 ** 24


def _buffers(rows, packed):
    quantized = np.zeros((-(-rows // 4) * 4, packed.shape[1] * 4), dtype=np.uint8)
    accumulated = np.empty((quantized.shape[0], packed.shape[0] * 16), dtype=np.int32)
    return quantized, accumulated


def int8_matmul(a, b):
    """a (M, K) uint8 @ b (N, K) int8 transposed, as int32 (M, N)."""
    packed = pack(b)
    quantized, accumulated = _buffers(a.shape[0], packed)
    quantized[:a.shape[0], :a.shape[1]] = a
    kernel = _matmul if a.size * b.shape[0] >= PARALLEL_MIN_WORK else _matmul_serial
    kernel(quantized, packed, accumulated)
    return accumulated[:a.shape[0], :b.shape[0]]


def quantized_linear(x, scale, zero_point, packed, channels, correction, multiplier, bias):
    """out = (x quantised) · weightᵀ, dequantised, the weight ``pack``ed: see ``kernels/quantized.py``."""
    quantized, accumulated = _buffers(x.shape[0], packed)
    out = np.empty((x.shape[0], channels), dtype=x.dtype)
    dtype = x.dtype.type
    kernel = _linear if x.size * channels >= PARALLEL_MIN_WORK else _linear_serial
    kernel(np.ascontiguousarray(x), dtype(scale), dtype(zero_point), packed, correction, multiplier, bias,
           quantized, accumulated, out)
    return out
