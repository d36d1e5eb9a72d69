"""Register tiles, written in LLVM IR: the inner loops of the int8 products (``vnni.py``,
``vnni_conv.py``) and of the float32 tiled convolution (``tiled_conv.py``).

A tile keeps rows × 16·blocks sums in vector registers while it walks ``groups`` groups:

    for every group g:
        w[block] = the 64 bytes of packed weights of group g, per 16-lane block
        for every row r:
            v = the 4 bytes at x[start_r + offset_g], broadcast to all 16 lanes
            acc[r, block] = combine(acc[r, block], v, w[block])
    out[r, 16·block : 16·block + 16] = acc[r, block]      (at out_start + r·out_stride)

    element "u8s8":  vpdpbusd, the four uint8 of v times the four int8 of each lane of w,
                     added into sixteen int32 lanes (64 multiply-adds, AVX-512 VNNI)
    element "f32":   a fused multiply-add of one float v with sixteen floats of w

A row starts at start_r = x_start + r·x_step, or x_start + row_offsets[r] (``row_table``);
group g lies at offset_g = 4·g for "u8s8" and g for "f32" (a row of a matrix), or at
offsets[g] (``table``: a convolution's window, whose taps lie on different rows and planes of
the image).  Positions are counted in x's elements, the weights' in bytes and out's in its
4-byte elements.  LLVM does not find this register blocking in a plain loop: one row of
sums per loop keeps its accumulators in memory, not in registers.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

NO_TABLE = np.zeros(1, dtype=np.intp)      # what a tile that reads no offset table is passed
_INT_LANES = ir.VectorType(ir.IntType(32), 16)
_FLOAT_LANES = ir.VectorType(ir.FloatType(), 16)
_BROADCAST = ir.Constant(ir.VectorType(ir.IntType(32), 16), [0] * 16)     # lane 0 everywhere
ELEMENTS = {"u8s8": (_INT_LANES, "llvm.x86.avx512.vpdpbusd.512", 4),
            "f32": (_FLOAT_LANES, "llvm.fma.v16f32", 1)}


def _broadcast(builder, lanes, scalar):
    """``scalar`` in all 16 lanes (one vpbroadcastd/vbroadcastss once LLVM has it)."""
    lane0 = builder.insert_element(ir.Constant(lanes, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(lane0, ir.Constant(lanes, ir.Undefined), _BROADCAST)


def make_tile(rows, blocks, element, table, row_table=False):
    """The intrinsic tile(x, weights, out, offsets, row_offsets, x_start, x_step, w_start,
    w_block, out_start, out_stride, groups) described above; ``offsets`` and ``row_offsets``
    are read only when ``table`` / ``row_table`` say so."""
    lanes, combine, group_step = ELEMENTS[element]

    def typer(typingctx, x, weights, out, offsets, row_offsets, x_start, x_step, w_start, w_block,
              out_start, out_stride, groups):
        return types.void(x, weights, out, offsets, row_offsets, *([types.intp] * 7)), codegen

    def codegen(context, builder, sig, args):
        x_data, w_data, out_data, offset_data, row_data = (
            context.make_array(t)(context, builder, a).data for t, a in zip(sig.args[:5], args[:5]))
        x_start, x_step, w_start, w_block, out_start, out_stride, groups = args[5:]
        number = lambda value: ir.Constant(x_step.type, value)                       # noqa: E731
        starts = [builder.add(x_start, builder.load(builder.gep(row_data, [number(r)])) if row_table
                              else builder.mul(x_step, number(r))) for r in range(rows)]
        x_rows = [builder.gep(x_data, [start]) for start in starts]
        w_base = builder.gep(builder.bitcast(w_data, ir.IntType(8).as_pointer()), [w_start])
        op = cgutils.get_or_insert_function(builder.module, ir.FunctionType(lanes, [lanes] * 3), combine)
        sums = [cgutils.alloca_once_value(builder, ir.Constant(lanes, None)) for _ in range(rows * blocks)]
        with cgutils.for_range(builder, groups) as loop:
            offset = builder.load(builder.gep(offset_data, [loop.index])) if table \
                else builder.mul(loop.index, number(group_step))
            packed = [builder.load(builder.bitcast(builder.gep(w_base, [builder.add(
                builder.mul(loop.index, number(64)), builder.mul(w_block, number(block)))]), lanes.as_pointer()),
                align=1) for block in range(blocks)]
            for r in range(rows):
                broadcast = _broadcast(builder, lanes, builder.load(
                    builder.bitcast(builder.gep(x_rows[r], [offset]), lanes.element.as_pointer()), align=1))
                for block in range(blocks):
                    cell = sums[blocks * r + block]
                    operands = [builder.load(cell), broadcast, packed[block]] if element == "u8s8" \
                        else [broadcast, packed[block], builder.load(cell)]
                    builder.store(builder.call(op, operands), cell)
        out_base = builder.gep(builder.bitcast(out_data, lanes.element.as_pointer()), [out_start])
        for r in range(rows):
            for block in range(blocks):
                target = builder.gep(out_base, [builder.add(builder.mul(out_stride, number(r)), number(16 * block))])
                builder.store(builder.load(sums[blocks * r + block]), builder.bitcast(target, lanes.as_pointer()),
                              align=4)
        return context.get_dummy_value()

    typer.__name__ = f"tile_{element}_rows{rows}_channels{16 * blocks}"
    return intrinsic(typer)


def make_window_tile(channels):
    """The intrinsic tile(x, weights, out, offsets, x_start, groups) for "u8s8" with the
    outputs, not the channels, in the lanes: 16 neighbouring outputs of one image row (stride
    1) × ``channels`` channels.  Lane p of group g needs the 4 bytes at x[x_start + offsets[g]
    + p : … + 4]; one 64-byte load and one byte shuffle (vpermb) make all 16 such windows:

        for every group g:
            v = bytes x[x_start + offsets[g] + (p + t)] for lane p, byte t    (load + shuffle)
            for every channel c:  acc[c] = vpdpbusd(acc[c], v, broadcast(w[g, c]))
        out[c, 0:16] = acc[c]

    For LeNet's first layer (6 channels) no lane is spent on absent channels."""
    bytes64 = ir.VectorType(ir.IntType(8), 64)
    window = ir.Constant(ir.VectorType(ir.IntType(32), 64), [p + t for p in range(16) for t in range(4)])

    def typer(typingctx, x, weights, out, offsets, x_start, groups):
        return types.void(x, weights, out, offsets, types.intp, types.intp), codegen

    def codegen(context, builder, sig, args):
        x_data, w_data, out_data, offset_data = (
            context.make_array(t)(context, builder, a).data for t, a in zip(sig.args[:4], args[:4]))
        x_start, groups = args[4:]
        word = ir.IntType(32)
        number = lambda value: ir.Constant(x_start.type, value)                      # noqa: E731
        op = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_INT_LANES, [_INT_LANES] * 3),
                                            ELEMENTS["u8s8"][1])
        sums = [cgutils.alloca_once_value(builder, ir.Constant(_INT_LANES, None)) for _ in range(channels)]
        w_words = builder.bitcast(w_data, word.as_pointer())
        with cgutils.for_range(builder, groups) as loop:
            offset = builder.add(x_start, builder.load(builder.gep(offset_data, [loop.index])))
            loaded = builder.load(builder.bitcast(builder.gep(x_data, [offset]), bytes64.as_pointer()), align=1)
            windows = builder.bitcast(builder.shuffle_vector(loaded, ir.Constant(bytes64, ir.Undefined), window),
                                      _INT_LANES)
            for c in range(channels):
                broadcast = _broadcast(builder, _INT_LANES, builder.load(
                    builder.gep(w_words, [builder.add(builder.mul(loop.index, number(channels)), number(c))])))
                builder.store(builder.call(op, [builder.load(sums[c]), windows, broadcast]), sums[c])
        out_base = builder.bitcast(out_data, word.as_pointer())
        for c in range(channels):
            builder.store(builder.load(sums[c]), builder.bitcast(builder.gep(out_base, [number(16 * c)]),
                                                                 _INT_LANES.as_pointer()), align=4)
        return context.get_dummy_value()

    typer.__name__ = f"window_tile_u8s8_positions16_channels{channels}"
    return intrinsic(typer)


def window_offsets(channels, kernel_rows, columns, padded_hw, row_step, column_step):
    """offsets[g] of group g = (c, m, h), in c, m, h order: where it lies from a window's
    corner in the padded image, c·Hp·Wp + m·row_step·Wp + h·column_step (a float tap: h = j,
    column_step = the dilation; a group of 4 bytes: column_step = 4)."""
    c, m, h = np.meshgrid(np.arange(channels), np.arange(kernel_rows), np.arange(columns), indexing="ij")
    return (c * padded_hw[0] * padded_hw[1] + m * row_step * padded_hw[1] + h * column_step).reshape(-1).astype(np.intp)


@njit(inline="always", cache=True)
def row_tile(task, out_rows, chunks, width, plane, row, sh, sw):
    """(image b, output row y, first output x0, where its first window starts in the padded
    image) of task number ``task`` when every output row is cut into ``chunks`` tiles of
    ``width`` outputs."""
    b, y, x0 = task // (out_rows * chunks), (task // chunks) % out_rows, (task % chunks) * width
    return b, y, x0, b * plane + y * sh * row + x0 * sw
