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

Each transform applies a small matrix along a tile's columns, then along its rows;
the four 1-D transforms (Bᵀ, B, Aᵀ, A) are the functions below, written out with
their zeros dropped, and every kernel runs its innermost loop over a whole row of tiles.
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
_2, _4, _5, _8 = np.float32(2), np.float32(4), np.float32(5), np.float32(8)


@njit(inline="always", cache=True)
def _bt(d0, d1, d2, d3, d4, d5):
    """Bᵀ d for six inputs d."""
    return (_4 * d0 - _5 * d2 + d4, d3 + d4 - _4 * (d1 + d2), _4 * (d1 - d2) + d4 - d3,
            _2 * (d3 - d1) + d4 - d2, _2 * (d1 - d3) + d4 - d2, _4 * d1 - _5 * d3 + d5)


@njit(inline="always", cache=True)
def _b(e0, e1, e2, e3, e4, e5):
    """B e, the adjoint of ``_bt``."""
    return (_4 * e0, _4 * (e2 + e5 - e1) + _2 * (e4 - e3), -_5 * e0 - _4 * (e1 + e2) - e3 - e4,
            e1 - e2 + _2 * (e3 - e4) - _5 * e5, e0 + e1 + e2 + e3 + e4, e5)


@njit(inline="always", cache=True)
def _at(m0, m1, m2, m3, m4, m5):
    """Aᵀ m: six tile values to four outputs."""
    return (m0 + m1 + m2 + m3 + m4, m1 - m2 + _2 * (m3 - m4), m1 + m2 + _4 * (m3 + m4),
            m1 - m2 + _8 * (m3 - m4) + m5)


@njit(inline="always", cache=True)
def _a(y0, y1, y2, y3):
    """A y, the adjoint of ``_at``: four output gradients to six tile values."""
    return (y0, y0 + y1 + y2 + y3, y0 - y1 + y2 - y3, y0 + _2 * y1 + _4 * y2 + _8 * y3,
            y0 - _2 * y1 + _4 * y2 - _8 * y3, y3)


def _input_transform_impl(x, ph, pw, tiles_h, tiles_w, v):
    """V[ξ, c, b·T + t] = (Bᵀ d B)[ξ] for the 6×6 input tile d of tile t = ty·tiles_w + tx,
    whose top-left corner is x[b, c, 4·ty - ph, 4·tx - pw] (zeros outside x).

    Bᵀ is applied to six whole zero-padded input rows at once, then B to all the
    tiles of the row, innermost loop over tx (one tile at a time ran 3× slower with
    F(2×2)).  LLVM vectorises little of it: the second pass reads every fourth value,
    and on ResNet18's 4-32-wide planes the rows are short."""
    n, c, h, w = x.shape
    tiles = tiles_h * tiles_w
    width = OUT * tiles_w + 2                          # padded columns the tiles touch
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        rows = np.zeros((TILE, width), dtype=x.dtype)  # per thread: 6 padded input rows
        bt_d = np.empty((TILE, width), dtype=x.dtype)  # and Bᵀ applied to them
        for ty in range(tiles_h):
            for r in range(TILE):
                iy = OUT * ty - ph + r
                rows[r, :] = 0
                if 0 <= iy < h:
                    _copy(x[b, ch, iy], rows[r, pw:pw + w])
            for col in range(width):                   # Bᵀ d: combine rows
                combined = _bt(rows[0, col], rows[1, col], rows[2, col], rows[3, col], rows[4, col], rows[5, col])
                for r in range(TILE):
                    bt_d[r, col] = combined[r]
            first = b * tiles + ty * tiles_w
            for r in range(TILE):                      # (Bᵀ d) B: combine columns
                line = bt_d[r]
                out = v[TILE * r:TILE * r + TILE, ch, first:first + tiles_w]
                for tx in range(tiles_w):
                    at = OUT * tx
                    combined = _bt(line[at], line[at + 1], line[at + 2], line[at + 3], line[at + 4], line[at + 5])
                    for s in range(TILE):
                        out[s, tx] = combined[s]


def _input_transform_adjoint_impl(e, ph, pw, tiles_h, tiles_w, out):
    """The adjoint of ``_input_transform``: x̄[b, c] = Σ_t B Ē_t Bᵀ, each 6×6 tile added back
    at its place (neighbouring tiles overlap by two rows or columns), the padding dropped.
    Used for ∂L/∂X, with Ē = Uᵀ (A ∂Y Aᵀ) from the 36 GEMMs."""
    n, c, h, w = out.shape
    tiles = tiles_h * tiles_w
    width = OUT * tiles_w + 2
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        padded = np.zeros((OUT * tiles_h + 2, width), dtype=e.dtype)  # per thread: the padded plane
        b_e = np.empty((TILE, width), dtype=e.dtype)
        for ty in range(tiles_h):
            first = b * tiles + ty * tiles_w
            for r in range(TILE):                      # adjoint of "combine columns"
                line = b_e[r]
                line[:] = 0
                tile = e[TILE * r:TILE * r + TILE, ch, first:first + tiles_w]
                for tx in range(tiles_w):
                    combined = _b(tile[0, tx], tile[1, tx], tile[2, tx], tile[3, tx], tile[4, tx], tile[5, tx])
                    for s in range(TILE):
                        line[OUT * tx + s] += combined[s]
            top = OUT * ty                             # adjoint of "combine rows"
            for col in range(width):
                combined = _b(b_e[0, col], b_e[1, col], b_e[2, col], b_e[3, col], b_e[4, col], b_e[5, col])
                for r in range(TILE):
                    padded[top + r, col] += combined[r]
        for row in range(h):
            _copy(padded[ph + row, pw:pw + w], out[b, ch, row])


def _output_transform_impl(m, tiles_h, tiles_w, out):
    """out[b, k, 4·ty + i, 4·tx + j] = (Aᵀ M A)[i, j] for the tile's 6×6 products M[·, k, b·T + t];
    tiles hanging over the bottom or right edge drop their extra rows or columns.
    Like the input transform, the innermost loops run over a whole row of tiles."""
    n, k_total, oh, ow = out.shape
    tiles = tiles_h * tiles_w
    for plane in prange(n * k_total):
        b = plane // k_total
        k = plane % k_total
        at_m = np.empty((OUT, TILE, tiles_w), dtype=m.dtype)   # per thread: Aᵀ M for a row of tiles
        line = np.empty(OUT * tiles_w, dtype=m.dtype)          # and one output row, padded
        for ty in range(tiles_h):
            first = b * tiles + ty * tiles_w
            for s in range(TILE):                              # Aᵀ M: combine rows
                column = m[s::TILE, k, first:first + tiles_w]
                for tx in range(tiles_w):
                    combined = _at(column[0, tx], column[1, tx], column[2, tx], column[3, tx], column[4, tx],
                                   column[5, tx])
                    for i in range(OUT):
                        at_m[i, s, tx] = combined[i]
            for i in range(min(OUT, oh - OUT * ty)):           # (Aᵀ M) A: combine columns
                row = at_m[i]
                for tx in range(tiles_w):
                    combined = _at(row[0, tx], row[1, tx], row[2, tx], row[3, tx], row[4, tx], row[5, tx])
                    for j in range(OUT):
                        line[OUT * tx + j] = combined[j]
                _copy(line[:ow], out[b, k, OUT * ty + i])


def _gradient_transform_impl(grad, tiles_h, tiles_w, d):
    """D[ξ, k, b·T + t] = (A ∂Y Aᵀ)[ξ] for the 4×4 block ∂Y of the output gradient at tile t
    (zeros past the edge): the adjoint of the output transform, for both gradients."""
    n, k_total, oh, ow = grad.shape
    tiles = tiles_h * tiles_w
    width = OUT * tiles_w
    for plane in prange(n * k_total):
        b = plane // k_total
        k = plane % k_total
        rows = np.zeros((OUT, width), dtype=grad.dtype)    # per thread: four gradient rows, padded
        a_dy = np.empty((TILE, width), dtype=grad.dtype)   # and A applied to them
        for ty in range(tiles_h):
            for i in range(OUT):
                rows[i, :] = 0
                if OUT * ty + i < oh:
                    _copy(grad[b, k, OUT * ty + i], rows[i, :ow])
            for col in range(width):                       # A ∂Y: combine rows
                combined = _a(rows[0, col], rows[1, col], rows[2, col], rows[3, col])
                for r in range(TILE):
                    a_dy[r, col] = combined[r]
            first = b * tiles + ty * tiles_w
            for r in range(TILE):                          # (A ∂Y) Aᵀ: combine columns
                line = a_dy[r]
                out = d[TILE * r:TILE * r + TILE, k, first:first + tiles_w]
                for tx in range(tiles_w):
                    at = OUT * tx
                    combined = _a(line[at], line[at + 1], line[at + 2], line[at + 3])
                    for s in range(TILE):
                        out[s, tx] = combined[s]


_input_transform = njit(parallel=True, cache=True)(_input_transform_impl)
_output_transform = njit(parallel=True, cache=True)(_output_transform_impl)
_gradient_transform = AheadKernel(njit(parallel=True, cache=True)(_gradient_transform_impl))
_input_transform_adjoint = AheadKernel(njit(parallel=True, cache=True)(_input_transform_adjoint_impl))


# U = G g Gᵀ is linear in the 9 weights of g: vec(U) = (G ⊗ G) vec(g), a (36, 9) matrix, so
# every filter of a layer is transformed by one small GEMM, and its adjoint ∂L/∂g = Gᵀ ∂L/∂U G
# by the transposed one (two Numba kernels did this before, and cost a cold start 1 s).
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
_G_KRON_G = np.kron(_G, _G)                                 # [6r + s, 3i + j] = G[r, i] · G[s, j]


def _filter_transform(weight):
    """U[ξ, k, c] = (G g Gᵀ)[ξ] for the 3×3 filter g = weight[k, c]: (K, C, 3, 3) → (36, K, C)."""
    k, c = weight.shape[:2]
    return matmul(_G_KRON_G.astype(weight.dtype), weight.reshape(k * c, 9).T).reshape(POSITIONS, k, c)


def _filter_gradient(du):
    """∂L/∂g = Gᵀ ∂L/∂U G for every (k, c): (36, K, C) → (K, C, 3, 3), the adjoint above."""
    _, k, c = du.shape
    return matmul(du.reshape(POSITIONS, k * c).T, _G_KRON_G.astype(du.dtype)).reshape(k, c, 3, 3)


def conv2d_3x3(x, weight, padding, out_hw):
    """out (N, K, OH, OW) = x (N, C, H, W) correlated with weight (K, C, 3, 3), stride 1."""
    oh, ow = out_hw
    tiles_h, tiles_w = -(-oh // OUT), -(-ow // OUT)
    out = workspace.empty((x.shape[0], weight.shape[0], oh, ow), x.dtype)
    # the backward pass's kernels, compiled meanwhile in a helper process (ahead.py)
    transformed = from_dtype(x.dtype)[:, :, ::1]                 # the type of V, M and D
    _gradient_transform.compile_ahead(out, tiles_h, tiles_w, transformed)
    _input_transform_adjoint.compile_ahead(transformed, *padding, tiles_h, tiles_w, out)
    v = _transformed_input(x, padding, tiles_h, tiles_w)                 # (36, C, N·T)
    u = _filter_transform(np.ascontiguousarray(weight))            # (36, K, C)
    m = matmul(u, v)                                             # (36, K, N·T): 36 GEMMs
    _output_transform(m, tiles_h, tiles_w, out)
    return out


def _transformed_input(x, padding, tiles_h, tiles_w):
    v = workspace.empty((POSITIONS, x.shape[1], x.shape[0] * tiles_h * tiles_w), x.dtype)
    _input_transform(np.ascontiguousarray(x), *padding, tiles_h, tiles_w, v)
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
    _gradient_transform(np.ascontiguousarray(grad), tiles_h, tiles_w, d)          # (36, K, N·T)
    grad_x = grad_w = None
    if weight is not None:
        u = _filter_transform(np.ascontiguousarray(weight))                        # (36, K, C)
        e = matmul(u.transpose(0, 2, 1), d)                                     # (36, C, N·T)
        grad_x = workspace.empty(tuple(input_shape), e.dtype)
        _input_transform_adjoint(e, *padding, tiles_h, tiles_w, grad_x)
    if x is not None:
        v = _transformed_input(x, padding, tiles_h, tiles_w)                      # (36, C, N·T)
        grad_w = _filter_gradient(matmul(d, v.transpose(0, 2, 1)))              # (36, K, C) GEMMs
    return grad_x, grad_w
