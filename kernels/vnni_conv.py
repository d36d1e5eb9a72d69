"""A quantised convolution with AVX-512 VNNI, without im2col ("implicit GEMM").

    acc[b, k, y, x] = Σ_c Σ_m Σ_n q_x[b, c, y·sh + m·dh, x·sw + n] · q_w[k, c, m, n]

In the padded uint8 image, a window's row (c, m) is KW contiguous bytes, so the window is
read in place as groups of 4 bytes: group g = (c, m, h) is the 4 bytes at offsets[g] =
c·Hp·Wp + m·dh·Wp + 4·h from the window's corner, and the weights are packed in the same
groups, KW padded with zero weights to a multiple of 4 (LeNet's 5×5: 2 groups a row).
Eight neighbouring outputs of one image row are eight windows sw bytes apart, so one tile
of ``tiles.py`` (8 positions × 16 channels) computes them with no copy of the image at all,
where im2col wrote KH·KW bytes per output before a product could start.  The bytes past a
row that a padded group reads belong to the next row (or to the image's tail), and they
meet zero weights.  Where 16 channels would leave lanes empty (LeNet's first layer has 6)
and the stride is 1, a window tile puts 16 neighbouring outputs in the lanes instead (one
64-byte load and one byte shuffle make their 16 windows of 4 bytes) × 8 channels;
``_window_tiles_pay`` picks the tile that needs fewer instructions for the layer.

Each tile is dequantised as it is finished, straight into the (N, K, OH, OW) output:

    y[b, k, y, x] = (acc − z_x · Σ q_w[k]) · s_x · s_k + bias[k]

as ``affine.py`` and ``tinynn/reference/lowbit.py`` compute it, bit for bit.  Only unit
dilation along the width keeps a window row contiguous; ``quantized.py`` sends the others
to the int16 column kernel.
"""
import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange

from . import workspace
from .affine import dequantize_tile, quantize_row
from .tiles import NO_TABLE, make_window_tile, row_tile, window_offsets
from .vnni import rows8_channels16

TILE_POSITIONS, TILE_CHANNELS = 8, 16          # a channel tile: outputs of a row × channels
WINDOW_POSITIONS, WINDOW_CHANNELS = 16, 8       # a window tile: outputs in the lanes
windows8 = make_window_tile(WINDOW_CHANNELS)


def _pack_impl(weight, packed):
    """packed[b, g, lane, t] = weight[L·b + lane, c, m, 4·h + t] for group g = (c, m, h), with
    L = 16 or 8 channels a block, zero outside the weight."""
    channels, depth, kh, kw = weight.shape
    quads, lanes = packed.shape[1] // (depth * kh), packed.shape[2]
    for block in range(packed.shape[0]):
        for group in range(packed.shape[1]):
            c, m, h = group // (kh * quads), (group // quads) % kh, group % quads
            for lane in range(lanes):
                k = lanes * block + lane
                for t in range(4):
                    n = 4 * h + t
                    packed[block, group, lane, t] = weight[k, c, m, n] if k < channels and n < kw else 0


_pack = njit(cache=True)(_pack_impl)


def pack(weight):
    """int8 (K, C, KH, KW) → the two layouts: (K/16, C·KH·⌈KW/4⌉, 16, 4) for the channel tiles
    and (K/8, C·KH·⌈KW/4⌉, 8, 4) for the window tiles, K padded with zero weights."""
    k, c, kh, kw = weight.shape
    layouts = []
    for lanes in (TILE_CHANNELS, WINDOW_CHANNELS):
        packed = np.empty((-(-k // lanes), c * kh * -(-kw // 4), lanes, 4), dtype=np.int8)
        _pack(np.ascontiguousarray(weight), packed)
        layouts.append(packed)
    return tuple(layouts)


def _quantize_padded_impl(x, scale, zero_point, top, left, image, padded_h, padded_w):
    """Every row of x quantised into its place in ``image``, the flat padded uint8 planes
    (already filled with the zero point, which stands for 0.0)."""
    n, c, h, w = x.shape
    for plane in prange(n * c):
        for i in range(h):
            start = (plane * padded_h + top + i) * padded_w + left
            quantize_row(x[plane // c, plane % c, i], scale, zero_point, image[start:start + w])


def _conv_impl(image, offsets, packed, correction, multiplier, bias, out, plane, row, sh, sw, windows, tiles):
    """One task per tile of outputs of one image row (8, or 16 with ``windows``), one tile per
    block of channels (16, or 8), each dequantised into out as it is finished."""
    n, channels, oh, ow = out.shape
    blocks, groups, lanes = packed.shape[0], packed.shape[1], packed.shape[2]
    width = WINDOW_POSITIONS if windows else TILE_POSITIONS
    chunks = (ow + width - 1) // width
    for task in prange(n * oh * chunks):
        b, y, x0, start = row_tile(task, oh, chunks, width, plane, row, sh, sw)
        tile = tiles[get_thread_id()]
        for block in range(blocks):
            if windows:                                        # tile[channel, position]
                windows8(image, packed[block].reshape(-1), tile.reshape(-1), offsets, start, groups)
                dequantize_tile(tile, out, b, y, x0, lanes * block, correction, multiplier, bias)
            else:                                              # tile[position, channel]
                rows8_channels16(image, packed[block].reshape(-1), tile.reshape(-1), offsets, NO_TABLE, start, sw,
                                 0, 0, 0, TILE_CHANNELS, groups)
                dequantize_tile(tile.T, out, b, y, x0, lanes * block, correction, multiplier, bias)


_quantize_padded = njit(parallel=True, cache=True)(_quantize_padded_impl)
_conv = njit(parallel=True, cache=True)(_conv_impl)


def _window_tiles_pay(out_width, channels, stride_w):
    """Whether window tiles (16 outputs × 8 channels, stride 1 only) take fewer instructions
    than channel tiles (8 × 16) for a row: LeNet's first layer (24 wide, 6 channels) 2 against
    3, its second (8 wide, 16 channels) 2 against 1."""
    return stride_w == 1 and -(-out_width // WINDOW_POSITIONS) * -(-channels // WINDOW_CHANNELS) \
        < -(-out_width // TILE_POSITIONS) * -(-channels // TILE_CHANNELS)


def quantized_conv2d(x, scale, zero_point, layouts, kernel_hw, correction, multiplier, bias, stride, padding,
                     dilation_h, out_hw):
    """Float x (N, C, H, W) in, float (N, K, OH, OW) out, with K = len(correction): quantise
    and pad into one flat buffer, then the tiles that waste fewer lanes on this layer: window
    tiles (16 outputs × 8 channels, stride 1) or channel tiles (8 outputs × 16 channels).
    ``padding`` is ((top, bottom), (left, right))."""
    n, c, h, w = x.shape
    k = len(correction)
    windows = _window_tiles_pay(out_hw[1], k, stride[1])
    padded_hw = (h + sum(padding[0]), w + sum(padding[1]))
    tail = 64 + WINDOW_POSITIONS * stride[1]              # bytes the last tile's loads reach past
    image = workspace.empty((n * c * padded_hw[0] * padded_hw[1] + tail,), np.uint8)
    image.fill(zero_point)
    dtype = x.dtype.type
    _quantize_padded(np.ascontiguousarray(x), dtype(scale), dtype(zero_point), padding[0][0], padding[1][0], image,
                     *padded_hw)
    out = workspace.empty((n, k) + tuple(out_hw), x.dtype)
    tiles = np.empty((get_num_threads(), TILE_POSITIONS, TILE_CHANNELS), dtype=np.int32)
    offsets = window_offsets(c, kernel_hw[0], -(-kernel_hw[1] // 4), padded_hw, dilation_h, 4)   # groups of 4 bytes
    _conv(image, offsets, layouts[1 if windows else 0], correction, multiplier, bias, out,
          c * padded_hw[0] * padded_hw[1], padded_hw[1], stride[0], stride[1], windows, tiles)
    return out
