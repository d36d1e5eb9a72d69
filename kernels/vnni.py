"""uint8 × int8 matrix products with AVX-512 VNNI: ``vpdpbusd`` adds, into each of sixteen
int32 lanes, the four products of four unsigned bytes of a with four signed bytes of b,
64 multiply-adds per instruction.  LLVM does not emit it for a plain loop, so ``block4x4``
writes the inner loop in LLVM IR (a Numba intrinsic):

    for every 64 bytes k of the rows:     acc[r][c] = vpdpbusd(acc[r][c], a_r[k:k+64], b_c[k:k+64])
    out[r][c] = the sum of acc[r][c]'s sixteen lanes

for 4 rows of a against 4 rows of b at once, so that each loaded row is used four times
(16 accumulators, 8 loads a step).  Rows are padded with zeros to a multiple of 64 bytes and
the matrices to a multiple of 4 rows; the zeros add nothing.  ``AVAILABLE`` is true only
when the CPU has the instruction and Numba compiles for this CPU (not under
NUMBA_DISABLE_JIT or an explicit NUMBA_CPU_NAME), so other machines never compile it.
"""
import numpy as np
from llvmlite import binding, ir
from numba import config, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

AVAILABLE = bool(binding.get_host_cpu_features().get("avx512vnni", False)) \
    and not config.DISABLE_JIT and not config.CPU_NAME

_LANES = ir.VectorType(ir.IntType(32), 16)          # 64 bytes, seen as sixteen int32 lanes


@intrinsic
def block4x4(typingctx, a, b, a_start, b_start, stride, length):
    """out[4r + c] = Σ_k a[a_start + r·stride + k] · b[b_start + c·stride + k] for r, c < 4
    and k < length (a multiple of 64); a uint8, b int8, both flat."""
    signature = types.UniTuple(types.int32, 16)(a, b, types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, sig, args):
        a_start, b_start, stride, length = args[2:]
        byte = ir.IntType(8).as_pointer()

        def rows(array, array_type, start):
            data = builder.bitcast(context.make_array(array_type)(context, builder, array).data, byte)
            return [builder.gep(data, [builder.add(start, builder.mul(stride, ir.Constant(stride.type, r)))])
                    for r in range(4)]

        a_rows, b_rows = rows(args[0], sig.args[0], a_start), rows(args[1], sig.args[1], b_start)
        dot = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_LANES, [_LANES] * 3),
                                             "llvm.x86.avx512.vpdpbusd.512")
        total = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), [_LANES]),
                                               "llvm.vector.reduce.add.v16i32")
        sums = [cgutils.alloca_once_value(builder, ir.Constant(_LANES, None)) for _ in range(16)]
        with cgutils.for_range(builder, builder.udiv(length, ir.Constant(length.type, 64))) as loop:
            offset = builder.mul(loop.index, ir.Constant(length.type, 64))
            load = lambda row: builder.load(builder.bitcast(builder.gep(row, [offset]), _LANES.as_pointer()),  # noqa: E731
                                            align=1)
            a_lanes, b_lanes = [load(row) for row in a_rows], [load(row) for row in b_rows]
            for r in range(4):
                for c in range(4):
                    cell = sums[4 * r + c]
                    builder.store(builder.call(dot, [builder.load(cell), a_lanes[r], b_lanes[c]]), cell)
        results = [builder.call(total, [builder.load(cell)]) for cell in sums]
        return context.make_tuple(builder, sig.return_type, results)

    return signature, codegen


def _matmul_impl(a, b, out):
    rows, depth = a.shape
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    for block in prange(rows // 4):
        i = 4 * block
        for j in range(0, b.shape[0], 4):
            sums = block4x4(flat_a, flat_b, i * depth, j * depth, depth, depth)
            for r in range(4):
                for c in range(4):
                    out[i + r, j + c] = sums[4 * r + c]


_matmul = njit(parallel=True, cache=True)(_matmul_impl)


def _linear_impl(x, scale, zero_point, weight, correction, multiplier, bias, quantized, out):
    """A whole quantised Linear in one parallel region (each wake-up of the thread pool costs
    tens of µs): every task quantises 4 rows of x into its rows of ``quantized`` (zeroed and
    padded by the caller: an allocation inside the loop kept it from running in parallel),
    multiplies them by all the weights 4 at a time, and writes the dequantised results."""
    rows, width = x.shape
    depth = weight.shape[1]
    flat_weight, flat = weight.reshape(-1), quantized.reshape(-1)
    for block in prange(-(-rows // 4)):
        i = 4 * block
        for r in range(min(4, rows - i)):
            for k in range(width):
                value = np.rint(x[i + r, k] / scale) + zero_point
                quantized[i + r, k] = min(max(value, 0), 255)
        for j in range(0, weight.shape[0], 4):
            sums = block4x4(flat, flat_weight, i * depth, j * depth, depth, depth)
            for r in range(min(4, rows - i)):
                for c in range(min(4, out.shape[1] - j)):
                    out[i + r, j + c] = (out.dtype.type(sums[4 * r + c]) - correction[j + c]) \
                        * multiplier[j + c] + bias[j + c]


_linear = njit(parallel=True, cache=True)(_linear_impl)
_linear_serial = njit(cache=True)(_linear_impl)

# Below this many multiply-adds the work is a few µs and waking the thread pool costs more.
PARALLEL_MIN_WORK = 2 ** 23


def quantized_linear(x, scale, zero_point, weight, correction, multiplier, bias):
    """out = (x quantised) · weightᵀ, dequantised: see ``kernels/quantized.py``."""
    out = np.empty((x.shape[0], weight.shape[0]), dtype=x.dtype)
    dtype = x.dtype.type
    padded = pad(weight)
    quantized = np.zeros((-(-x.shape[0] // 4) * 4, padded.shape[1]), dtype=np.uint8)
    kernel = _linear if x.size * weight.shape[0] >= PARALLEL_MIN_WORK else _linear_serial
    kernel(np.ascontiguousarray(x), dtype(scale), dtype(zero_point), padded, correction,
           multiplier, bias, quantized, out)
    return out


def pad(matrix):
    """``matrix`` with zero rows to a multiple of 4 and zero columns to a multiple of 64."""
    rows, depth = matrix.shape
    out = np.zeros((-(-rows // 4) * 4, -(-depth // 64) * 64), dtype=matrix.dtype)
    out[:rows, :depth] = matrix
    return out


def padded_matmul(a, b):
    """The product of two padded matrices (see ``pad``), int32, still padded."""
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    _matmul(a, b, out)
    return out


def int8_matmul(a, b):
    """a (M, K) uint8 @ b (N, K) int8 transposed, as int32 (M, N)."""
    return padded_matmul(pad(a), pad(b))[:a.shape[0], :b.shape[0]]
