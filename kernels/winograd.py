"""3×3 stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3), on the CPU.

Lavin & Gray (2015), "Fast Algorithms for Convolutional Neural Networks".  A 4×4
block of outputs needs a 6×6 tile d of input; direct correlation with the 3×3
filter g costs 4·4·9 = 144 multiplications, Winograd's form costs 36:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          (⊙: elementwise)

    Bᵀ = [[4,  0, -5,  0, 1, 0],    G = [[ 1/4,     0,    0],    Aᵀ = [[1, 1,  1, 1,  1, 0],
          [0, -4, -4,  1, 1, 0],         [-1/6,  -1/6, -1/6],          [0, 1, -1, 2, -2, 0],
          [0,  4, -4, -1, 1, 0],         [-1/6,   1/6, -1/6],          [0, 1,  1, 4,  4, 0],
          [0, -2, -1,  2, 1, 0],         [1/24,  1/12,  1/6],          [0, 1, -1, 8, -8, 1]]
          [0,  2, -1, -2, 1, 0],         [1/24, -1/12,  1/6],
          [0,  4,  0, -5, 0, 1]]         [   0,     0,    1]]

(the points 0, ±1, ±2 and ∞).  Summed over input channels, the elementwise product
becomes 36 independent matrix products, one per position ξ of the 6×6 tile:

    M[ξ] (K, tiles) = U[ξ] (K, C) @ V[ξ] (C, tiles),  U = G g Gᵀ,  V = Bᵀ d B

so the multiplications run in BLAS, 4× fewer of them than im2col + GEMM, and Numba
does the transforms (a few additions per value).  F(2×2, 3×3), with 4×4 tiles, needs
2.25× fewer: on ResNet18's layers F(4×4)'s 1.8× smaller transformed tensors made the
GEMMs 36 % and whole layers (forward + both gradients) 10 % faster.  The larger points
make the rounding ~15× F(2×2)'s: float32 results agree with the exact convolution to
~1e-5 of the output's largest value.  Both gradients run the same algorithm backwards:
the output gradient is transformed per tile (A ∂Y Aᵀ), 36 GEMMs with Uᵀ give ∂L/∂V and
the tiles are added back into the input plane (∂L/∂X), or 36 GEMMs with Vᵀ give ∂L/∂U,
which Gᵀ · G folds back to 3×3 (∂L/∂W).

Each transform applies a small matrix along a tile's columns, then along its rows.  The
five 1-D transforms (Bᵀ, B, Aᵀ, A, G) are the functions below, written out with their
zeros dropped, and every kernel applies them to LANES tiles at once, one tile per SIMD
lane.  Run along a row of tiles instead, LLVM vectorised little (every fourth value, and
ResNet18's 4-32-wide planes hold 1-8 tiles a row): lanes made the transforms 1.3-6× faster.
"""
import numpy as np
from numba import from_dtype, njit, prange

from . import workspace
from .ahead import AheadKernel
from .blas import matmul

OUT, TILE = 4, 6                    # a tile's outputs and inputs along one axis
POSITIONS = TILE * TILE             # ξ = TILE·r + s


@njit(inline="always", cache=True)
def _copy(source, target):
    """target[:] = source, element by element: an array-to-array slice assignment in Numba
    checks the shapes with an error message whose string formatting took ~3 s to compile on
    a cold cache (a quarter of a first Keras-CNN step)."""
    for i in range(target.shape[0]):
        target[i] = source[i]


# The transforms' integer factors as float32 constants: a Python int times a float32 value
# is a float64 in Numba, and these are exact in either precision.
_2, _4, _5, _6, _8, _24 = (np.float32(v) for v in (2, 4, 5, 6, 8, 24))


@njit(inline="always", cache=True)
def _bt(d):
    """Bᵀ d for six inputs d."""
    d0, d1, d2, d3, d4, d5 = d[0], d[1], d[2], d[3], d[4], d[5]
    return (_4 * d0 - _5 * d2 + d4, d3 + d4 - _4 * (d1 + d2), _4 * (d1 - d2) + d4 - d3,
            _2 * (d3 - d1) + d4 - d2, _2 * (d1 - d3) + d4 - d2, _4 * d1 - _5 * d3 + d5)


@njit(inline="always", cache=True)
def _b(e):
    """B e, the adjoint of ``_bt``."""
    e0, e1, e2, e3, e4, e5 = e[0], e[1], e[2], e[3], e[4], e[5]
    return (_4 * e0, _4 * (e2 + e5 - e1) + _2 * (e4 - e3), -_5 * e0 - _4 * (e1 + e2) - e3 - e4,
            e1 - e2 + _2 * (e3 - e4) - _5 * e5, e0 + e1 + e2 + e3 + e4, e5)


@njit(inline="always", cache=True)
def _at(m):
    """Aᵀ m: six tile values to four outputs."""
    m0, m1, m2, m3, m4, m5 = m[0], m[1], m[2], m[3], m[4], m[5]
    return (m0 + m1 + m2 + m3 + m4, m1 - m2 + _2 * (m3 - m4), m1 + m2 + _4 * (m3 + m4),
            m1 - m2 + _8 * (m3 - m4) + m5)


@njit(inline="always", cache=True)
def _a(y):
    """A y, the adjoint of ``_at``: four output gradients to six tile values."""
    y0, y1, y2, y3 = y[0], y[1], y[2], y[3]
    return (y0, y0 + y1 + y2 + y3, y0 - y1 + y2 - y3, y0 + _2 * y1 + _4 * y2 + _8 * y3,
            y0 - _2 * y1 + _4 * y2 - _8 * y3, y3)


@njit(inline="always", cache=True)
def _g(g):
    """G g: three filter taps to six tile values."""
    g0, g1, g2 = g[0], g[1], g[2]
    return (g0 / _4, -(g0 + g1 + g2) / _6, (g1 - g0 - g2) / _6, (g0 + _2 * g1 + _4 * g2) / _24,
            (g0 - _2 * g1 + _4 * g2) / _24, g2)


# Each transform works on LANES tiles at once, one per SIMD lane: tile[i, j, lane] is value
# (i, j) of tile number lane, so every step of the 1-D transforms is one vector operation
# (16 float32 fill an AVX-512 register).  The tiles come from a group of images of one
# channel, so short rows of tiles (a 4×4 plane has one tile) still fill the lanes; a group
# holds about GROUP_TILES tiles, and its zero-padded planes stay in the core's cache.
LANES = 16
GROUP_TILES = 256


@njit(inline="always", cache=True)
def _down(transform, tile, columns):
    """tile[:, j, lane] ← transform(tile[:, j, lane]) for the first ``columns`` columns j."""
    for j in range(columns):
        for lane in range(LANES):
            combined = transform(tile[:, j, lane])
            for i in range(len(combined)):
                tile[i, j, lane] = combined[i]


@njit(inline="always", cache=True)
def _across(transform, tile, rows):
    """tile[i, :, lane] ← transform(tile[i, :, lane]) for the first ``rows`` rows i."""
    for i in range(rows):
        for lane in range(LANES):
            combined = transform(tile[i, :, lane])
            for j in range(len(combined)):
                tile[i, j, lane] = combined[j]


@njit(inline="always", cache=True)
def _group(item, n, images):
    """Work item ``item`` → (channel, first image, images in the group)."""
    groups = -(-n // images)
    channel, first_image = item // groups, item % groups * images
    return channel, first_image, min(images, n - first_image)


@njit(inline="always", cache=True)
def _origin(t, tiles_h, tiles_w):
    """(image in the group, top row, left column) of tile t of a group."""
    tiles = tiles_h * tiles_w
    return t // tiles, OUT * (t % tiles // tiles_w), OUT * (t % tiles_w)


@njit(inline="always", cache=True)
def _padded_planes(x, channel, first_image, count, top, left, rows, cols):
    """x[first_image:first_image + count, channel] at (top, left) in zeroed (count, rows, cols) planes."""
    h, w = x.shape[2:]
    planes = np.zeros((count, rows, cols), dtype=x.dtype)
    for b in range(count):
        for row in range(h):
            _copy(x[first_image + b, channel, row], planes[b, top + row, left:left + w])
    return planes


@njit(inline="always", cache=True)
def _crop(planes, top, left, out, channel, first_image):
    """out[first_image + b, channel] = planes[b] from (top, left): ``_padded_planes``' adjoint."""
    h, w = out.shape[2:]
    for b in range(planes.shape[0]):
        for row in range(h):
            _copy(planes[b, top + row, left:left + w], out[first_image + b, channel, row])


@njit(inline="always", cache=True)
def _gather(planes, first, count, tiles_h, tiles_w, size, tile):
    """tile[i, j, lane] = the size × size tile first + lane of the planes (i, j < size);
    lanes past the last tile repeat it."""
    for lane in range(LANES):
        b, top, left = _origin(first + min(lane, count - 1), tiles_h, tiles_w)
        for i in range(size):
            for j in range(size):
                tile[i, j, lane] = planes[b, top + i, left + j]


@njit(inline="always", cache=True)
def _scatter_add(tile, first, count, tiles_h, tiles_w, size, planes):
    """planes[tile first + lane] += tile[:size, :size, lane]: ``_gather``'s adjoint."""
    for lane in range(min(LANES, count - first)):
        b, top, left = _origin(first + lane, tiles_h, tiles_w)
        for i in range(size):
            for j in range(size):
                planes[b, top + i, left + j] += tile[i, j, lane]


@njit(inline="always", cache=True)
def _store(tile, rows, first, count):
    """rows[TILE·r + s, first + lane] = tile[r, s, lane] for the lanes holding tiles."""
    for r in range(TILE):
        for s in range(TILE):
            target = rows[TILE * r + s]
            for lane in range(min(LANES, count - first)):
                target[first + lane] = tile[r, s, lane]


@njit(inline="always", cache=True)
def _load(rows, first, count, tile):
    """tile[r, s, lane] = rows[TILE·r + s, first + lane]: ``_store``'s adjoint (lanes past
    the last tile keep old values; their results are never stored)."""
    for r in range(TILE):
        for s in range(TILE):
            source = rows[TILE * r + s]
            for lane in range(min(LANES, count - first)):
                tile[r, s, lane] = source[first + lane]


@njit(inline="always", cache=True)
def _tiles_to_rows(transform, size, planes, count, tiles_h, tiles_w, rows):
    """rows[TILE·r + s, t] = (T p Tᵀ)[r, s] for the size × size tiles p of the planes numbered
    t < count, T the 1-D ``transform`` (size → TILE values)."""
    tile = np.zeros((TILE, TILE, LANES), dtype=planes.dtype)
    for first in range(0, count, LANES):
        _gather(planes, first, count, tiles_h, tiles_w, size, tile)
        _down(transform, tile, size)
        _across(transform, tile, TILE)
        _store(tile, rows, first, count)


@njit(inline="always", cache=True)
def _rows_to_tiles(transform, size, rows, count, tiles_h, tiles_w, planes):
    """The other direction: each tile's TILE × TILE values from rows, transformed to size × size
    (T: TILE → size values) and added into the planes at the tile's place."""
    tile = np.zeros((TILE, TILE, LANES), dtype=rows.dtype)
    for first in range(0, count, LANES):
        _load(rows, first, count, tile)
        _down(transform, tile, TILE)
        _across(transform, tile, size)
        _scatter_add(tile, first, count, tiles_h, tiles_w, size, planes)


def _input_transform_impl(x, ph, pw, tiles_h, tiles_w, images, v):
    """V[ξ, c, b·T + t] = (Bᵀ d B)[ξ] for the 6×6 input tile d of tile t = ty·tiles_w + tx,
    whose top-left corner is x[b, c, 4·ty - ph, 4·tx - pw] (zeros outside x)."""
    n, channels = x.shape[:2]
    tiles = tiles_h * tiles_w
    for item in prange(channels * -(-n // images)):
        channel, first_image, count = _group(item, n, images)
        planes = _padded_planes(x, channel, first_image, count, ph, pw, OUT * tiles_h + 2, OUT * tiles_w + 2)
        rows = v[:, channel, first_image * tiles:(first_image + count) * tiles]
        _tiles_to_rows(_bt, TILE, planes, count * tiles, tiles_h, tiles_w, rows)


def _input_transform_adjoint_impl(e, ph, pw, tiles_h, tiles_w, images, out):
    """The adjoint of ``_input_transform``: x̄[b, c] = Σ_t B Ē_t Bᵀ, each 6×6 tile added back
    at its place (neighbouring tiles overlap by two rows or columns), the padding dropped.
    Used for ∂L/∂X, with Ē = Uᵀ (A ∂Y Aᵀ) from the 36 GEMMs."""
    n, channels = out.shape[:2]
    tiles = tiles_h * tiles_w
    for item in prange(channels * -(-n // images)):
        channel, first_image, count = _group(item, n, images)
        planes = np.zeros((count, OUT * tiles_h + 2, OUT * tiles_w + 2), dtype=e.dtype)
        rows = e[:, channel, first_image * tiles:(first_image + count) * tiles]
        _rows_to_tiles(_b, TILE, rows, count * tiles, tiles_h, tiles_w, planes)
        _crop(planes, ph, pw, out, channel, first_image)


def _output_transform_impl(m, tiles_h, tiles_w, images, out):
    """out[b, k, 4·ty + i, 4·tx + j] = (Aᵀ M A)[i, j] for the tile's 6×6 products M[·, k, b·T + t];
    tiles hanging over the bottom or right edge drop their extra rows or columns."""
    n, channels = out.shape[:2]
    tiles = tiles_h * tiles_w
    for item in prange(channels * -(-n // images)):
        channel, first_image, count = _group(item, n, images)
        planes = np.zeros((count, OUT * tiles_h, OUT * tiles_w), dtype=m.dtype)
        rows = m[:, channel, first_image * tiles:(first_image + count) * tiles]
        _rows_to_tiles(_at, OUT, rows, count * tiles, tiles_h, tiles_w, planes)
        _crop(planes, 0, 0, out, channel, first_image)


def _gradient_transform_impl(grad, tiles_h, tiles_w, images, d):
    """D[ξ, k, b·T + t] = (A ∂Y Aᵀ)[ξ] for the 4×4 block ∂Y of the output gradient at tile t
    (zeros past the edge): the adjoint of the output transform, for both gradients."""
    n, channels = grad.shape[:2]
    tiles = tiles_h * tiles_w
    for item in prange(channels * -(-n // images)):
        channel, first_image, count = _group(item, n, images)
        planes = _padded_planes(grad, channel, first_image, count, 0, 0, OUT * tiles_h, OUT * tiles_w)
        rows = d[:, channel, first_image * tiles:(first_image + count) * tiles]
        _tiles_to_rows(_a, OUT, planes, count * tiles, tiles_h, tiles_w, rows)


_input_transform = njit(parallel=True, cache=True)(_input_transform_impl)
_output_transform = njit(parallel=True, cache=True)(_output_transform_impl)
_gradient_transform = AheadKernel(njit(parallel=True, cache=True)(_gradient_transform_impl))
_input_transform_adjoint = AheadKernel(njit(parallel=True, cache=True)(_input_transform_adjoint_impl))


def _images_per_group(n, tiles_h, tiles_w):
    """Images of one channel whose tiles a work item transforms: about GROUP_TILES tiles."""
    return max(1, min(n, GROUP_TILES // (tiles_h * tiles_w)))


def _filter_transform_impl(weight, u):
    """U[ξ, f] = (G g Gᵀ)[ξ] for each 3×3 filter g = weight[f], f = k·C + c: the filters are
    gathered like one-tile planes, LANES at a time, GROUP_TILES to a work item.  A GEMM
    with G ⊗ G (below) did this 1.3-1.7× slower: ResNet18's step took 14 ms longer."""
    count = weight.shape[0]
    for block in prange(-(-count // GROUP_TILES)):
        first = block * GROUP_TILES
        last = min(count, first + GROUP_TILES)
        _tiles_to_rows(_g, 3, weight[first:last], last - first, 1, 1, u[:, first:last])


_filter_transform_kernel = njit(parallel=True, cache=True)(_filter_transform_impl)


def _filter_transform(weight):
    """U (36, K, C) for weight (K, C, 3, 3)."""
    k, c = weight.shape[:2]
    u = workspace.empty((POSITIONS, k, c), weight.dtype)
    _filter_transform_kernel(np.ascontiguousarray(weight).reshape(k * c, 3, 3), u.reshape(POSITIONS, k * c))
    return u


# ∂L/∂g = Gᵀ ∂L/∂U G is linear in the 36 values of ∂L/∂U: vec(∂L/∂g) = (G ⊗ G)ᵀ vec(∂L/∂U),
# so the filter gradients of a layer are one GEMM with the (36, 9) matrix G ⊗ G (measured as
# fast as a lane kernel like the filter transform's, with nothing to compile).
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
_G_KRON_G = np.kron(_G, _G)                                 # [6r + s, 3i + j] = G[r, i] · G[s, j]


def _filter_gradient(du):
    """∂L/∂W (K, C, 3, 3) for ∂L/∂U (36, K, C)."""
    _, k, c = du.shape
    return matmul(du.reshape(POSITIONS, k * c).T, _G_KRON_G.astype(du.dtype)).reshape(k, c, 3, 3)


def conv2d_3x3(x, weight, padding, out_hw):
    """out (N, K, OH, OW) = x (N, C, H, W) correlated with weight (K, C, 3, 3), stride 1."""
    oh, ow = out_hw
    tiles_h, tiles_w = -(-oh // OUT), -(-ow // OUT)
    out = workspace.empty((x.shape[0], weight.shape[0], oh, ow), x.dtype)
    # the backward pass's kernels, compiled meanwhile in a helper process (ahead.py)
    transformed = from_dtype(x.dtype)[:, :, ::1]                 # the type of V, M and D
    images = _images_per_group(x.shape[0], tiles_h, tiles_w)
    _gradient_transform.compile_ahead(out, tiles_h, tiles_w, images, transformed)
    _input_transform_adjoint.compile_ahead(transformed, *padding, tiles_h, tiles_w, images, out)
    v = _transformed_input(x, padding, tiles_h, tiles_w, images)         # (36, C, N·T)
    u = _filter_transform(weight)                                # (36, K, C)
    m = matmul(u, v)                                             # (36, K, N·T): 36 GEMMs
    _output_transform(m, tiles_h, tiles_w, images, out)
    return out


def _transformed_input(x, padding, tiles_h, tiles_w, images):
    v = workspace.empty((POSITIONS, x.shape[1], x.shape[0] * tiles_h * tiles_w), x.dtype)
    _input_transform(np.ascontiguousarray(x), *padding, tiles_h, tiles_w, images, v)
    return v


def conv2d_3x3_backward(grad, padding, input_shape, weight=None, x=None):
    """(∂L/∂X, ∂L/∂W): ∂L/∂X when ``weight`` is given, ∂L/∂W when ``x`` is (else None).
    The forward pass run backwards; both start from the transformed output gradient
    D = A ∂Y Aᵀ, computed once here.

    ∂L/∂X: per tile ∂L/∂V = Uᵀ D summed over the output channels (36 GEMMs), then each
    tile's ∂L/∂d = B (∂L/∂V) Bᵀ is added back into the input plane.
    ∂L/∂W: Y = Aᵀ (U ⊙ V) A is linear in U, so per tile ∂L/∂U = D ⊙ V; summed over the
    tiles of the batch that is again 36 GEMMs, then ∂L/∂g = Gᵀ ∂L/∂U G."""
    oh, ow = grad.shape[2:]
    tiles_h, tiles_w = -(-oh // OUT), -(-ow // OUT)
    d = workspace.empty((POSITIONS, grad.shape[1], grad.shape[0] * tiles_h * tiles_w), grad.dtype)
    images = _images_per_group(grad.shape[0], tiles_h, tiles_w)
    _gradient_transform(np.ascontiguousarray(grad), tiles_h, tiles_w, images, d)  # (36, K, N·T)
    grad_x = grad_w = None
    if weight is not None:
        u = _filter_transform(weight)                                              # (36, K, C)
        e = matmul(u.transpose(0, 2, 1), d)                                     # (36, C, N·T)
        grad_x = workspace.empty(tuple(input_shape), e.dtype)
        _input_transform_adjoint(e, *padding, tiles_h, tiles_w, images, grad_x)
    if x is not None:
        v = _transformed_input(x, padding, tiles_h, tiles_w, images)              # (36, C, N·T)
        grad_w = _filter_gradient(matmul(d, v.transpose(0, 2, 1)))              # (36, K, C) GEMMs
    return grad_x, grad_w
