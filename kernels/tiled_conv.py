"""A float32 convolution without im2col, register-tiled ("implicit GEMM"), for thin layers.

    h[b,k,y,x] = Σ_c Σ_m Σ_j X[b, c, y·sh + m·dh, x·sw + j·dw] · W[k,c,m,j]

In the padded image, tap t = (c, m, j) of the window whose corner is at position p lies at
p + offsets[t] (offsets[t] = c·Hp·Wp + m·dh·Wp + j·dw), so one tile of ``tiles.py`` computes

    forward:  8 output positions p_r × 32 channels (16 for an odd last block), over all taps
              acc[r, k] = Σ_t X[corner(p_r) + offsets[t]] · W[k, t]
    ∂L/∂W:    8 taps × 32 channels, over all output positions p (the batch included)
              acc[r, k] = Σ_p X[p + offsets[t_r]] · ∂L/∂h[p, k]

with the 16 sums of a row and block in one vector register, each input value broadcast once
and multiplied into all 32 (16 accumulators, 2 weight vectors: the FMA units, not the loads,
set the pace).  The forward's positions run through the flattened batch, so a 13-wide output
row does not leave 3 of 16 positions idle.  im2col would first write C·KH·KW floats per
output position (for LeNet-5's second layer 3.8 MB a batch of 64) so that BLAS could run a
16-row product at a fraction of its peak.  Measured on LeNet-5 (batch 64, 2 cores): see ``plan.py``.

∂L/∂X of a stride-1 convolution is itself a convolution, of the gradient with the weights
flipped and their two channel axes swapped, padded by d·(K − 1) − p:

    ∂L/∂X[b,c,y,x] = Σ_k Σ_m Σ_j ∂L/∂h[b, k, y + p − m·d, x + p − j·d] · W[k, c, m, j]

so the forward tiles compute it (``backward_input``) when the layer has enough input
channels to fill the 16 lanes; otherwise (LeNet's 6) and for strides it goes through col2im.
Strides and dilations are only offsets here, so every geometry works; any number of
channels computes (in blocks of 16); the planner sends float32 layers (``plan.py``).
"""
import numpy as np
from numba import float32, get_num_threads, get_thread_id, njit, prange

from . import workspace
from .ahead import AheadKernel
from .tiles import make_tile, window_offsets

ROWS, LANES = 8, 16
# 8 rows (output positions, or taps for ∂L/∂W) × 32 or 16 channels, every row at its own start
_two_blocks = make_tile(ROWS, 2, "f32", table=True, row_table=True)
_one_block = make_tile(ROWS, 1, "f32", table=True, row_table=True)


def _forward_impl(image, offsets, positions, packed, out, tiles):
    """One task per 8 output positions of the flattened batch (a tile may end one image and
    begin the next, so no lane is idle at the end of a row); 32 channels per tile, the last
    16 alone when the number of blocks is odd."""
    n, channels, plane = out.shape
    taps, blocks = offsets.shape[0], packed.shape[0]
    flat_w = packed.reshape(-1)
    for task in prange(positions.shape[0] // ROWS):
        first = task * ROWS
        tile = tiles[get_thread_id()]
        rows = positions[first:first + ROWS]
        for block in range(0, blocks, 2):
            if block + 1 < blocks:
                _two_blocks(image, flat_w, tile.reshape(-1), offsets, rows, 0, 0, block * taps * 64,
                            taps * 64, 0, 2 * LANES, taps)
            else:
                _one_block(image, flat_w, tile.reshape(-1), offsets, rows, 0, 0, block * taps * 64,
                           0, 0, 2 * LANES, taps)
            for r in range(min(ROWS, n * plane - first)):
                b, at = (first + r) // plane, (first + r) % plane
                for lane in range(min(2 * LANES, channels - LANES * block)):
                    out[b, LANES * block + lane, at] = tile[r, lane]


def _backward_weight_impl(image, tap_offsets, positions, grad_t, partial):
    """partial[part, pair, tap, lane]: one part of the positions summed, 8 taps × 32 channels
    (two blocks of 16; the last block alone when their number is odd) at a time."""
    parts, pairs, blocks = partial.shape[0], partial.shape[1], grad_t.shape[0]
    chunks = partial.shape[2] // ROWS
    count = positions.shape[0]
    flat_g = grad_t.reshape(-1)
    for task in prange(parts * pairs * chunks):
        part, pair, t0 = task // (pairs * chunks), (task // chunks) % pairs, (task % chunks) * ROWS
        first, last = part * count // parts, (part + 1) * count // parts
        target, start = partial[part, pair, t0:t0 + ROWS].reshape(-1), (2 * pair * count + first) * 64
        if 2 * pair + 1 < blocks:
            _two_blocks(image, flat_g, target, positions[first:last], tap_offsets[t0:t0 + ROWS], 0, 0, start,
                        count * 64, 0, 2 * LANES, last - first)
        else:
            _one_block(image, flat_g, target, positions[first:last], tap_offsets[t0:t0 + ROWS], 0, 0, start,
                       0, 0, 2 * LANES, last - first)


_forward = njit(parallel=True, cache=True)(_forward_impl)
_backward_weight = AheadKernel(njit(parallel=True, cache=True)(_backward_weight_impl))


def _image(x, padding):
    """x padded with zeros (x itself when there is no padding), flattened."""
    if x.dtype != np.float32:
        raise TypeError(f"tiled convolution: expected float32 (the planner sends only float32 here), got {x.dtype}")
    n, c, h, w = x.shape
    padded_hw = (h + 2 * padding[0], w + 2 * padding[1])
    if padded_hw == (h, w):
        return np.ascontiguousarray(x).reshape(-1), padded_hw
    image = workspace.zeros((n, c) + padded_hw, np.float32)
    image[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return image.reshape(-1), padded_hw


def _lanes_last_impl(stack, blocks):
    """blocks[b, s·M + m, lane] = stack[s, 16·b + lane, m], zero past K: a gradient's channels
    into the lanes, one image (or the one weight) per task."""
    count, k, m = stack.shape
    for s in prange(count):
        for block in range(blocks.shape[0]):
            rows, present = blocks[block, s * m:(s + 1) * m], min(LANES, k - LANES * block)
            for i in range(m):                          # rows written in order; the image's
                for lane in range(present):             # K × M values stay in the cache
                    rows[i, lane] = stack[s, LANES * block + lane, i]
                for lane in range(present, LANES):
                    rows[i, lane] = 0


_lanes_last_kernel = njit(parallel=True, cache=True)(_lanes_last_impl)


def _lanes_last(stack):
    """(S, K, M) → (⌈K/16⌉, S·M, 16): channel k to lane k % 16 of block k // 16 (a weight is
    S = 1; a gradient (N, K, OH·OW) is S = N)."""
    s, k, m = stack.shape
    blocks = workspace.empty((-(-k // LANES), s * m, LANES), np.float32)
    _lanes_last_kernel(np.ascontiguousarray(stack, dtype=np.float32), blocks)
    return blocks


def _positions(n, image_size, padded_width, out_hw, stride, tile_rows):
    """Where the window of each output position (b, y, x), in that order, starts in the padded
    image, padded with position 0 to a whole number of tiles."""
    starts = (np.arange(n)[:, None, None] * image_size
              + np.arange(out_hw[0])[None, :, None] * stride[0] * padded_width
              + np.arange(out_hw[1])[None, None, :] * stride[1]).reshape(-1)
    positions = np.zeros(-(-starts.size // tile_rows) * tile_rows, dtype=np.intp)
    positions[:starts.size] = starts
    return positions


def forward(x, weight, plan):
    """The convolution of ``plan`` (groups 1), in tiles."""
    k, c = weight.shape[:2]
    image, padded_hw = _image(x, plan.padding)
    offsets = window_offsets(c, weight.shape[2], weight.shape[3], padded_hw, *plan.dilation)
    positions = _positions(x.shape[0], c * padded_hw[0] * padded_hw[1], padded_hw[1], plan.out_hw, plan.stride, ROWS)
    out = workspace.empty((x.shape[0], k) + plan.out_hw, np.float32)
    _backward_weight.compile_ahead(image, positions, positions, float32[:, :, ::1], out)   # ∂L/∂W's kernel
    _forward(image, offsets, positions, _lanes_last(weight.reshape(1, k, -1)), out.reshape(x.shape[0], k, -1),
             np.empty((get_num_threads(), ROWS, 2 * LANES), dtype=np.float32))
    return out


def transposes(plan):
    """Whether ``backward_input`` computes this plan's ∂L/∂X."""
    return transposable(plan.input_shape[1], plan.weight_shape[2:], plan.stride, plan.padding, plan.dilation)


def transposable(in_channels, kernel_hw, stride, padding, dilation):
    """Stride 1, padding at most d·(K − 1) (what the transposed convolution pads with), and
    input channels filling the 16 lanes."""
    return tuple(stride) == (1, 1) and in_channels >= LANES and all(
        p <= d * (k - 1) for p, d, k in zip(padding, dilation, kernel_hw))


def backward_input(grad, weight, plan):
    """∂L/∂X of the stride-1 convolution of ``plan``: the forward tiles on the gradient with
    the flipped, channel-swapped weights (the formula above)."""
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    padding = tuple(d * (k - 1) - p for p, d, k in zip(plan.padding, plan.dilation, weight.shape[2:]))
    return forward(grad, flipped, plan._replace(padding=padding, out_hw=tuple(plan.input_shape[2:])))


def backward_weight(grad, x, weight_shape, plan):
    """∂L/∂W of the convolution of ``plan``, in tiles of 8 taps."""
    k, c = weight_shape[:2]
    n, oh, ow = grad.shape[0], grad.shape[2], grad.shape[3]
    image, padded_hw = _image(x, plan.padding)
    taps = window_offsets(c, weight_shape[2], weight_shape[3], padded_hw, *plan.dilation)
    chunks = -(-len(taps) // ROWS)
    tap_offsets = np.zeros(chunks * ROWS, dtype=np.intp)            # whole tiles: padded with tap 0
    tap_offsets[:len(taps)] = taps
    positions = _positions(n, c * padded_hw[0] * padded_hw[1], padded_hw[1], (oh, ow), plan.stride, 1)
    grad_t = _lanes_last(grad.reshape(n, k, -1))
    pairs = -(-grad_t.shape[0] // 2)
    parts = max(1, -(-2 * get_num_threads() // (chunks * pairs)))   # a task or two per thread
    # zeros: an odd last block leaves 16 lanes of its pair unwritten
    partial = np.zeros((parts, pairs, chunks * ROWS, 2 * LANES), dtype=np.float32)
    _backward_weight(image, tap_offsets, positions, grad_t, partial)
    per_channel = partial.sum(axis=0).transpose(0, 2, 1).reshape(-1, chunks * ROWS)    # (pairs·32, taps)
    return np.ascontiguousarray(per_channel[:k, :len(taps)]).reshape(weight_shape)
