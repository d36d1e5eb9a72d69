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
meet zero weights.

Each tile is dequantised as it is finished, straight into the (N, K, OH, OW) output:

    y[b, k, y, x] = (acc − z_x · Σ q_w[k]) · s_x · s_k + bias[k]

as ``affine.py`` and ``tinynn/reference/lowbit.py`` compute it, bit for bit.  Only unit
dilation along the width keeps a window row contiguous; ``quantized.py`` sends the others
to the int16 column kernel.
"""
import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange

from .affine import quantize_row
from .tiles import NO_TABLE, row_tile
from .vnni import rows8_channels16

TILE_POSITIONS, TILE_CHANNELS = 8, 16


def _pack_impl(weight, packed):
    """packed[b, g, lane, t] = weight[16·b + lane, c, m, 4·h + t] for group g = (c, m, h),
    zero outside the weight."""
    channels, depth, kh, kw = weight.shape
    quads = packed.shape[1] // (depth * kh)
    for block in range(packed.shape[0]):
        for group in range(packed.shape[1]):
            c, m, h = group // (kh * quads), (group // quads) % kh, group % quads
            for lane in range(TILE_CHANNELS):
                k = TILE_CHANNELS * block + lane
                for t in range(4):
                    n = 4 * h + t
                    packed[block, group, lane, t] = weight[k, c, m, n] if k < channels and n < kw else 0


_pack = njit(cache=True)(_pack_impl)


def pack(weight):
    """int8 (K, C, KH, KW) → (K/16, C·KH·⌈KW/4⌉, 16, 4), K padded to a multiple of 16."""
    k, c, kh, kw = weight.shape
    packed = np.empty((-(-k // TILE_CHANNELS), c * kh * -(-kw // 4), TILE_CHANNELS, 4), dtype=np.int8)
    _pack(np.ascontiguousarray(weight), packed)
    return packed


def _quantize_padded_impl(x, scale, zero_point, top, left, image, padded_h, padded_w):
    """Every row of x quantised into its place in ``image``, the flat padded uint8 planes
    (already filled with the zero point, which stands for 0.0)."""
    n, c, h, w = x.shape
    for plane in prange(n * c):
        for i in range(h):
            start = (plane * padded_h + top + i) * padded_w + left
            quantize_row(x[plane // c, plane % c, i], scale, zero_point, image[start:start + w])


def _conv_impl(image, offsets, packed, correction, multiplier, bias, out, plane, row, sh, sw, tiles):
    """One task per 8 outputs of one image row: a tile per 16 channels, dequantised into out."""
    n, channels, oh, ow = out.shape
    blocks, groups = packed.shape[0], packed.shape[1]
    chunks = (ow + TILE_POSITIONS - 1) // TILE_POSITIONS
    flat_w = packed.reshape(-1)
    for task in prange(n * oh * chunks):
        b, y, x0, start = row_tile(task, oh, chunks, plane, row, sh, sw)
        tile = tiles[get_thread_id()]
        for block in range(blocks):
            rows8_channels16(image, flat_w, tile.reshape(-1), offsets, NO_TABLE, start, sw, block * groups * 64, 0, 0,
                             TILE_CHANNELS, groups)
            for lane in range(min(TILE_CHANNELS, channels - TILE_CHANNELS * block)):
                k = TILE_CHANNELS * block + lane
                for r in range(min(TILE_POSITIONS, ow - x0)):
                    out[b, k, y, x0 + r] = (out.dtype.type(tile[r, lane]) - correction[k]) * multiplier[k] + bias[k]


_quantize_padded = njit(parallel=True, cache=True)(_quantize_padded_impl)
_conv = njit(parallel=True, cache=True)(_conv_impl)


def _offsets(channels, kernel_hw, padded_hw, row_step):
    """offsets[g]: where group g = (c, m, h) of a window starts, from the window's corner."""
    kh, kw = kernel_hw
    c, m, h = np.meshgrid(np.arange(channels), np.arange(kh), np.arange(-(-kw // 4)), indexing="ij")
    return (c * padded_hw[0] * padded_hw[1] + m * row_step * padded_hw[1] + 4 * h).reshape(-1).astype(np.intp)


def quantized_conv2d(x, scale, zero_point, packed, kernel_hw, correction, multiplier, bias, stride, padding,
                     dilation_h, out_hw):
    """Float x (N, C, H, W) in, float (N, K, OH, OW) out, with K = len(correction): quantise
    and pad into one flat buffer, then the tiles.  ``padding`` is ((top, bottom), (left, right))."""
    n, c, h, w = x.shape
    padded_hw = (h + sum(padding[0]), w + sum(padding[1]))
    tail = TILE_POSITIONS * stride[1] + 4 * -(-kernel_hw[1] // 4)     # bytes the last tile reads past
    image = np.full(n * c * padded_hw[0] * padded_hw[1] + tail, zero_point, dtype=np.uint8)
    dtype = x.dtype.type
    _quantize_padded(np.ascontiguousarray(x), dtype(scale), dtype(zero_point), padding[0][0], padding[1][0], image,
                     *padded_hw)
    out = np.empty((n, len(correction)) + tuple(out_hw), dtype=x.dtype)
    tiles = np.empty((get_num_threads(), TILE_POSITIONS, TILE_CHANNELS), dtype=np.int32)
    _conv(image, _offsets(c, kernel_hw, padded_hw, dilation_h), packed, correction, multiplier, bias, out,
          c * padded_hw[0] * padded_hw[1], padded_hw[1], stride[0], stride[1], tiles)
    return out
