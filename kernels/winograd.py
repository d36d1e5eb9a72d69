"""3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3), on the CPU.

Lavin & Gray (2015), "Fast Algorithms for Convolutional Neural Networks".  A 2×2
block of outputs needs a 4×4 tile d of input; direct correlation with the 3×3
filter g costs 2·2·9 = 36 multiplications, Winograd's form costs 16:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          (⊙: elementwise)

    Bᵀ = [[1, 0, -1, 0],    G = [[1,    0,   0],    Aᵀ = [[1, 1,  1,  0],
          [0, 1,  1, 0],         [1/2,  1/2, 1/2],        [0, 1, -1, -1]]
          [0, -1, 1, 0],         [1/2, -1/2, 1/2],
          [0, 1,  0, -1]]        [0,    0,   1]]

Summed over input channels, the elementwise product becomes 16 independent
matrix products, one per position ξ of the 4×4 tile:

    M[ξ] (K, tiles) = U[ξ] (K, C) @ V[ξ] (C, tiles),  U = G g Gᵀ,  V = Bᵀ d B

so the multiplications still run in BLAS, 2.25× fewer of them than im2col + GEMM,
and Numba does the two transforms (additions only).  Same result as the reference
convolution up to float rounding (the transforms add and subtract before the
products).  Both gradients run the same algorithm backwards: the output gradient
is transformed per tile (A ∂Y Aᵀ), 16 GEMMs with Uᵀ give ∂L/∂V and the tiles are
added back into the input plane (∂L/∂X), or 16 GEMMs with Vᵀ give ∂L/∂U, which
Gᵀ · G folds back to 3×3 (∂L/∂W).
"""
import numpy as np
from numba import from_dtype, njit, prange

from . import workspace
from .ahead import AheadKernel
from .blas import matmul


@njit(inline="always", cache=True)
def _copy(source, target):
    """target[:] = source, element by element: an array-to-array slice assignment in Numba
    checks the shapes with an error message whose string formatting took ~3 s to compile on
    a cold cache (a quarter of a first Keras-CNN step)."""
    for i in range(target.shape[0]):
        target[i] = source[i]


def _input_transform_impl(x, ph, pw, tiles_h, tiles_w, v):
    """V[ξ, c, b·T + t] = (Bᵀ d B)[ξ] for the 4×4 input tile d of tile t = ty·tiles_w + tx,
    whose top-left corner is x[b, c, 2·ty - ph, 2·tx - pw] (zeros outside x).

    Bᵀ is applied to four whole zero-padded input rows at once, then B to all the
    tiles of the row, innermost loop over tx: both loops run along contiguous memory,
    which LLVM vectorises (one tile at a time ran 3× slower)."""
    n, c, h, w = x.shape
    tiles = tiles_h * tiles_w
    width = 2 * tiles_w + 2                            # padded columns the tiles touch
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        rows = np.zeros((4, width), dtype=x.dtype)     # per thread: 4 padded input rows
        bt_d = np.empty((4, width), dtype=x.dtype)     # and Bᵀ applied to them
        for ty in range(tiles_h):
            for r in range(4):
                iy = 2 * ty - ph + r
                rows[r, :] = 0
                if 0 <= iy < h:
                    _copy(x[b, ch, iy], rows[r, pw:pw + w])
            for col in range(width):                   # Bᵀ d: combine rows
                bt_d[0, col] = rows[0, col] - rows[2, col]
                bt_d[1, col] = rows[1, col] + rows[2, col]
                bt_d[2, col] = rows[2, col] - rows[1, col]
                bt_d[3, col] = rows[1, col] - rows[3, col]
            first = b * tiles + ty * tiles_w
            for r in range(4):                         # (Bᵀ d) B: combine columns
                line = bt_d[r]
                v0 = v[4 * r + 0, ch, first:first + tiles_w]
                v1 = v[4 * r + 1, ch, first:first + tiles_w]
                v2 = v[4 * r + 2, ch, first:first + tiles_w]
                v3 = v[4 * r + 3, ch, first:first + tiles_w]
                for tx in range(tiles_w):
                    c0 = line[2 * tx]
                    c1 = line[2 * tx + 1]
                    c2 = line[2 * tx + 2]
                    c3 = line[2 * tx + 3]
                    v0[tx] = c0 - c2
                    v1[tx] = c1 + c2
                    v2[tx] = c2 - c1
                    v3[tx] = c1 - c3


def _input_transform_adjoint_impl(e, ph, pw, tiles_h, tiles_w, out):
    """The adjoint of ``_input_transform``: x̄[b, c] = Σ_t B Ē_t Bᵀ, each 4×4 tile added back
    at its place (neighbouring tiles overlap by two rows or columns), the padding dropped.
    Used for ∂L/∂X, with Ē = Uᵀ (A ∂Y Aᵀ) from the 16 GEMMs."""
    n, c, h, w = out.shape
    tiles = tiles_h * tiles_w
    width = 2 * tiles_w + 2
    for plane in prange(n * c):
        b = plane // c
        ch = plane % c
        padded = np.zeros((2 * tiles_h + 2, width), dtype=e.dtype)   # per thread: the padded plane
        bt_d = np.empty((4, width), dtype=e.dtype)
        for ty in range(tiles_h):
            first = b * tiles + ty * tiles_w
            for r in range(4):                         # adjoint of "combine columns"
                line = bt_d[r]
                line[:] = 0
                e0 = e[4 * r + 0, ch, first:first + tiles_w]
                e1 = e[4 * r + 1, ch, first:first + tiles_w]
                e2 = e[4 * r + 2, ch, first:first + tiles_w]
                e3 = e[4 * r + 3, ch, first:first + tiles_w]
                for tx in range(tiles_w):
                    line[2 * tx] += e0[tx]
                    line[2 * tx + 1] += e1[tx] - e2[tx] + e3[tx]
                    line[2 * tx + 2] += e2[tx] + e1[tx] - e0[tx]
                    line[2 * tx + 3] -= e3[tx]
            top = 2 * ty                               # adjoint of "combine rows"
            for col in range(width):
                padded[top, col] += bt_d[0, col]
                padded[top + 1, col] += bt_d[1, col] - bt_d[2, col] + bt_d[3, col]
                padded[top + 2, col] += bt_d[2, col] + bt_d[1, col] - bt_d[0, col]
                padded[top + 3, col] -= bt_d[3, col]
        for row in range(h):
            _copy(padded[ph + row, pw:pw + w], out[b, ch, row])


def _output_transform_impl(m, tiles_h, tiles_w, out):
    """out[b, k, 2·ty + i, 2·tx + j] = (Aᵀ M A)[i, j] for the tile's 4×4 products M[·, k, b·T + t];
    tiles hanging over the bottom or right edge (odd output sizes) drop their extra row or column.
    Like the input transform, the innermost loops run over a whole row of tiles."""
    n, k_total, oh, ow = out.shape
    tiles = tiles_h * tiles_w
    for plane in prange(n * k_total):
        b = plane // k_total
        k = plane % k_total
        at_m = np.empty((2, 4, tiles_w), dtype=m.dtype)    # per thread: Aᵀ M for a row of tiles
        line = np.empty(2 * tiles_w, dtype=m.dtype)        # and one output row, padded to even
        for ty in range(tiles_h):
            first = b * tiles + ty * tiles_w
            for s in range(4):                             # Aᵀ M: combine rows
                r0 = m[s, k, first:first + tiles_w]
                r1 = m[4 + s, k, first:first + tiles_w]
                r2 = m[8 + s, k, first:first + tiles_w]
                r3 = m[12 + s, k, first:first + tiles_w]
                for tx in range(tiles_w):
                    at_m[0, s, tx] = r0[tx] + r1[tx] + r2[tx]
                    at_m[1, s, tx] = r1[tx] - r2[tx] - r3[tx]
            for i in range(min(2, oh - 2 * ty)):           # (Aᵀ M) A: combine columns
                t0, t1, t2, t3 = at_m[i, 0], at_m[i, 1], at_m[i, 2], at_m[i, 3]
                for tx in range(tiles_w):
                    line[2 * tx] = t0[tx] + t1[tx] + t2[tx]
                    line[2 * tx + 1] = t1[tx] - t2[tx] - t3[tx]
                _copy(line[:ow], out[b, k, 2 * ty + i])


def _gradient_transform_impl(grad, tiles_h, tiles_w, d):
    """D[ξ, k, b·T + t] = (A ∂Y Aᵀ)[ξ] for the 2×2 block ∂Y of the output gradient at tile t
    (zeros past an odd edge): the adjoint of the output transform, for the weight gradient."""
    n, k_total, oh, ow = grad.shape
    tiles = tiles_h * tiles_w
    width = 2 * tiles_w
    for plane in prange(n * k_total):
        b = plane // k_total
        k = plane % k_total
        rows = np.zeros((2, width), dtype=grad.dtype)  # per thread: two gradient rows, padded to even
        a_dy = np.empty((4, width), dtype=grad.dtype)  # and A applied to them
        for ty in range(tiles_h):
            for i in range(2):
                rows[i, :] = 0
                if 2 * ty + i < oh:
                    _copy(grad[b, k, 2 * ty + i], rows[i, :ow])
            for col in range(width):                   # A ∂Y: combine rows
                a_dy[0, col] = rows[0, col]
                a_dy[1, col] = rows[0, col] + rows[1, col]
                a_dy[2, col] = rows[0, col] - rows[1, col]
                a_dy[3, col] = -rows[1, col]
            first = b * tiles + ty * tiles_w
            for r in range(4):                         # (A ∂Y) Aᵀ: combine columns
                line = a_dy[r]
                d0 = d[4 * r + 0, k, first:first + tiles_w]
                d1 = d[4 * r + 1, k, first:first + tiles_w]
                d2 = d[4 * r + 2, k, first:first + tiles_w]
                d3 = d[4 * r + 3, k, first:first + tiles_w]
                for tx in range(tiles_w):
                    left = line[2 * tx]
                    right = line[2 * tx + 1]
                    d0[tx] = left
                    d1[tx] = left + right
                    d2[tx] = left - right
                    d3[tx] = -right


_input_transform = njit(parallel=True, cache=True)(_input_transform_impl)
_output_transform = njit(parallel=True, cache=True)(_output_transform_impl)
_gradient_transform = AheadKernel(njit(parallel=True, cache=True)(_gradient_transform_impl))
_input_transform_adjoint = AheadKernel(njit(parallel=True, cache=True)(_input_transform_adjoint_impl))


# U = G g Gᵀ is linear in the 9 weights of g: vec(U) = (G ⊗ G) vec(g), a (16, 9) matrix, so
# every filter of a layer is transformed by one small GEMM, and its adjoint ∂L/∂g = Gᵀ ∂L/∂U G
# by the transposed one (two Numba kernels did this before, and cost a cold start 1 s).
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_G_KRON_G = np.kron(_G, _G)                                 # [4r + s, 3i + j] = G[r, i] · G[s, j]


def _filter_transform(weight):
    """U[ξ, k, c] = (G g Gᵀ)[ξ] for the 3×3 filter g = weight[k, c]: (K, C, 3, 3) → (16, K, C)."""
    k, c = weight.shape[:2]
    return matmul(_G_KRON_G.astype(weight.dtype), weight.reshape(k * c, 9).T).reshape(16, k, c)


def _filter_gradient(du):
    """∂L/∂g = Gᵀ ∂L/∂U G for every (k, c): (16, K, C) → (K, C, 3, 3), the adjoint above."""
    _, k, c = du.shape
    return matmul(du.reshape(16, k * c).T, _G_KRON_G.astype(du.dtype)).reshape(k, c, 3, 3)


def conv2d_3x3(x, weight, padding, out_hw):
    """out (N, K, OH, OW) = x (N, C, H, W) correlated with weight (K, C, 3, 3), stride 1."""
    oh, ow = out_hw
    tiles_h, tiles_w = (oh + 1) // 2, (ow + 1) // 2
    out = workspace.empty((x.shape[0], weight.shape[0], oh, ow), x.dtype)
    # the backward pass's kernels, compiled meanwhile in a helper process (ahead.py)
    transformed = from_dtype(x.dtype)[:, :, ::1]                 # the type of V, M and D
    _gradient_transform.compile_ahead(out, tiles_h, tiles_w, transformed)
    _input_transform_adjoint.compile_ahead(transformed, *padding, tiles_h, tiles_w, out)
    v = _transformed_input(x, padding, tiles_h, tiles_w)                 # (16, C, N·T)
    u = _filter_transform(np.ascontiguousarray(weight))            # (16, K, C)
    m = matmul(u, v)                                             # (16, K, N·T): 16 GEMMs
    _output_transform(m, tiles_h, tiles_w, out)
    return out


def _transformed_input(x, padding, tiles_h, tiles_w):
    v = workspace.empty((16, x.shape[1], x.shape[0] * tiles_h * tiles_w), x.dtype)
    _input_transform(np.ascontiguousarray(x), *padding, tiles_h, tiles_w, v)
    return v


def conv2d_3x3_backward(grad, padding, input_shape, weight=None, x=None):
    """(∂L/∂X, ∂L/∂W): ∂L/∂X when ``weight`` is given, ∂L/∂W when ``x`` is (else None).
    The forward pass run backwards; both start from the transformed output gradient
    D = A ∂Y Aᵀ, computed once here.

    ∂L/∂X: per tile ∂L/∂V = Uᵀ D summed over the output channels (16 GEMMs), then each
    tile's ∂L/∂d = B (∂L/∂V) Bᵀ is added back into the input plane.
    ∂L/∂W: Y = Aᵀ (U ⊙ V) A is linear in U, so per tile ∂L/∂U = D ⊙ V; summed over the
    tiles of the batch that is again 16 GEMMs, then ∂L/∂g = Gᵀ ∂L/∂U G."""
    oh, ow = grad.shape[2:]
    tiles_h, tiles_w = (oh + 1) // 2, (ow + 1) // 2
    d = workspace.empty((16, grad.shape[1], grad.shape[0] * tiles_h * tiles_w), grad.dtype)
    _gradient_transform(np.ascontiguousarray(grad), tiles_h, tiles_w, d)          # (16, K, N·T)
    grad_x = grad_w = None
    if weight is not None:
        u = _filter_transform(np.ascontiguousarray(weight))                        # (16, K, C)
        e = matmul(u.transpose(0, 2, 1), d)                                     # (16, C, N·T)
        grad_x = workspace.empty(tuple(input_shape), e.dtype)
        _input_transform_adjoint(e, *padding, tiles_h, tiles_w, grad_x)
    if x is not None:
        v = _transformed_input(x, padding, tiles_h, tiles_w)                      # (16, C, N·T)
        grad_w = _filter_gradient(matmul(d, v.transpose(0, 2, 1)))              # (16, K, C) GEMMs
    return grad_x, grad_w
