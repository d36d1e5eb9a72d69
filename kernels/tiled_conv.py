"""A float32 convolution without im2col, register-tiled ("implicit GEMM"), for thin layers.

    h[b,k,y,x] = Σ_c Σ_m Σ_j X[b, c, y·sh + m·dh, x·sw + j·dw] · W[k,c,m,j]

In the padded image, tap t = (c, m, j) of the window whose corner is at position p lies at
p + offsets[t] (offsets[t] = c·Hp·Wp + m·dh·Wp + j·dw), so one tile of ``tiles.py`` computes

    forward:  8 neighbouring outputs of a row × 16 channels, over all taps
              acc[r, k] = Σ_t X[corner + r·sw + offsets[t]] · W[k, t]
    ∂L/∂W:    8 taps × 16 channels, over all output positions p (the batch included)
              acc[r, k] = Σ_p X[p + offsets[t_r]] · ∂L/∂h[p, k]

with the 16 sums of a row in one vector register, each input value broadcast once and
multiplied into all 16.  im2col would first write C·KH·KW floats per output position (for
LeNet-5's second layer 3.8 MB a batch of 64) so that BLAS could run a 16-row product at a
fraction of its peak.  Measured on LeNet-5 (batch 64, 2 cores): see ``plan.py``.

∂L/∂X of a stride-1 convolution is itself a convolution, of the gradient with the weights
flipped and their two channel axes swapped, padded by d·(K − 1) − p:

    ∂L/∂X[b,c,y,x] = Σ_k Σ_m Σ_j ∂L/∂h[b, k, y + p − m·d, x + p − j·d] · W[k, c, m, j]

so the forward tiles compute it (``backward_input``) when the layer has enough input
channels to fill the 16 lanes; otherwise (LeNet's 6) and for strides it goes through col2im.
Strides and dilations are only offsets here, so every geometry works; any number of
channels computes (in blocks of 16); the planner sends float32 layers (``plan.py``).
"""
import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange

from . import workspace
from .tiles import NO_TABLE, make_tile, row_tile, window_offsets

ROWS, LANES = 8, 16
_tile_along_row = make_tile(ROWS, 1, "f32", table=True)
_tile_of_taps = make_tile(ROWS, 1, "f32", table=True, row_table=True)


def _forward_impl(image, offsets, packed, out, plane, row, sh, sw, tiles):
    """One task per 8 outputs of one image row; each 16-channel tile goes into out."""
    n, channels, oh, ow = out.shape
    taps = offsets.shape[0]
    chunks = (ow + ROWS - 1) // ROWS
    flat_w = packed.reshape(-1)
    for task in prange(n * oh * chunks):
        b, y, x0, start = row_tile(task, oh, chunks, ROWS, plane, row, sh, sw)
        tile = tiles[get_thread_id()]
        for block in range(packed.shape[0]):
            _tile_along_row(image, flat_w, tile.reshape(-1), offsets, NO_TABLE, start, sw, block * taps * 64, 0, 0,
                            LANES, taps)
            for lane in range(min(LANES, channels - LANES * block)):
                for r in range(min(ROWS, ow - x0)):
                    out[b, LANES * block + lane, y, x0 + r] = tile[r, lane]


def _backward_weight_impl(image, tap_offsets, positions, grad_t, partial):
    """partial[part, block, tap, lane]: one part of the positions summed, 8 taps at a time."""
    parts, blocks = partial.shape[0], partial.shape[1]
    chunks = partial.shape[2] // ROWS
    count = positions.shape[0]
    flat_g = grad_t.reshape(-1)
    for task in prange(parts * blocks * chunks):
        part, block, t0 = task // (blocks * chunks), (task // chunks) % blocks, (task % chunks) * ROWS
        first, last = part * count // parts, (part + 1) * count // parts
        _tile_of_taps(image, flat_g, partial[part, block, t0:t0 + ROWS].reshape(-1), positions[first:last],
                      tap_offsets[t0:t0 + ROWS], 0, 0, (block * count + first) * 64, 0, 0, LANES, last - first)


_forward = njit(parallel=True, cache=True)(_forward_impl)
_backward_weight = njit(parallel=True, cache=True)(_backward_weight_impl)


def _image(x, padding, tail):
    """x padded with zeros, flattened, with ``tail`` zeros after it (what a tile reads past
    the last row meets zero weights or is thrown away)."""
    if x.dtype != np.float32:
        raise TypeError(f"tiled convolution: expected float32 (the planner sends only float32 here), got {x.dtype}")
    n, c, h, w = x.shape
    padded_hw = (h + 2 * padding[0], w + 2 * padding[1])
    image = workspace.zeros((n * c * padded_hw[0] * padded_hw[1] + tail,), np.float32)
    image[:-tail].reshape((n, c) + padded_hw)[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return image, padded_hw


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


def forward(x, weight, plan):
    """The convolution of ``plan`` (groups 1), in tiles."""
    k, c = weight.shape[:2]
    image, padded_hw = _image(x, plan.padding, ROWS * plan.stride[1] + 1)
    offsets = window_offsets(c, weight.shape[2], weight.shape[3], padded_hw, *plan.dilation)
    out = workspace.empty((x.shape[0], k) + plan.out_hw, np.float32)
    _forward(image, offsets, _lanes_last(weight.reshape(1, k, -1)), out, c * padded_hw[0] * padded_hw[1],
             padded_hw[1], *plan.stride, np.empty((get_num_threads(), ROWS, LANES), dtype=np.float32))
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
    image, padded_hw = _image(x, plan.padding, 1)
    taps = window_offsets(c, weight_shape[2], weight_shape[3], padded_hw, *plan.dilation)
    chunks = -(-len(taps) // ROWS)
    tap_offsets = np.zeros(chunks * ROWS, dtype=np.intp)            # whole tiles: padded with tap 0
    tap_offsets[:len(taps)] = taps
    positions = (np.arange(n)[:, None, None] * c * padded_hw[0] * padded_hw[1]
                 + np.arange(oh)[None, :, None] * plan.stride[0] * padded_hw[1]
                 + np.arange(ow)[None, None, :] * plan.stride[1]).reshape(-1).astype(np.intp)
    grad_t = _lanes_last(grad.reshape(n, k, -1))
    parts = max(1, -(-2 * get_num_threads() // (chunks * grad_t.shape[0])))   # a task or two per thread
    partial = np.empty((parts, grad_t.shape[0], chunks * ROWS, LANES), dtype=np.float32)
    _backward_weight(image, tap_offsets, positions, grad_t, partial)
    per_channel = partial.sum(axis=0).transpose(0, 2, 1).reshape(-1, chunks * ROWS)    # (blocks·16, taps)
    return np.ascontiguousarray(per_channel[:k, :len(taps)]).reshape(weight_shape)
