"""Batch normalisation on the CPU, in parallel over channels.

Same function names and signatures as ``tinynn/reference/batchnorm.py``.
NumPy's reductions over axes (0, 2) of an (N, C, L) array walk memory with
strides and allocate a temporary per step (x - μ, x̂, g·x̂, ...); here the
forward pass makes two passes over each channel's N·L values (statistics, then
output), the backward pass two over a slab of channels (its three sums, then
∂L/∂x), accumulating in float64.
"""
import numpy as np
from numba import njit, prange

from . import workspace
from .ahead import AheadKernel


def _forward_impl(x, weight, bias, eps, out):
    n, c, length = x.shape
    mean = np.empty(c, dtype=x.dtype)
    var = np.empty(c, dtype=x.dtype)
    count = n * length
    for ch in prange(c):
        total = 0.0
        for b in range(n):
            for i in range(length):
                total += x[b, ch, i]
        mu = total / count
        squares = 0.0
        for b in range(n):
            for i in range(length):
                d = x[b, ch, i] - mu
                squares += d * d
        inv = 1.0 / np.sqrt(squares / count + eps)
        var[ch] = squares / count
        scale = weight[ch] * inv
        shift = bias[ch] - mu * scale
        for b in range(n):
            for i in range(length):
                out[b, ch, i] = x[b, ch, i] * scale + shift
        mean[ch] = mu
    return out, mean, var


# The backward pass's work items: SLAB values of consecutive channels of one image
# (block = SLAB // L channels), the batch's sums running elementwise along them.  Per
# channel instead, the sums over ResNet18's 4×4-16×16 planes ran in loops of 16-256 values,
# too short to vectorise well: 2× slower than PyTorch there.  Slabs of 1,024 values were
# 1.4-1.8× faster than per channel on ResNet18's four plane sizes (256-1,024 slower): its
# step's batch-norm backward 17.0 → 12.8 ms (PyTorch's 14.2), MobileNetV2's step 152 → 144 ms.
SLAB = 1024


def _backward_impl(grad, x, mean, invstd, weight, grad_x, length):
    """∂L/∂x = γ·inv/m · (m·g − Σg − x̂·Σ g·x̂),  ∂L/∂γ = Σ g·x̂,  ∂L/∂β = Σ g
    (x̂ = (x − μ)·inv, sums over the m = N·L values of a channel), on (N, C·L) arrays
    (planes of ``length`` values); ∂L/∂x is written into ``grad_x``."""
    n, c = x.shape[0], x.shape[1] // length
    grad_weight = np.empty(c, dtype=x.dtype)
    grad_bias = np.empty(c, dtype=x.dtype)
    count = n * length
    block = max(1, SLAB // length)
    for item in prange(-(-c // block)):
        first, last = item * block, min(c, item * block + block)
        lo, size = first * length, (last - first) * length
        mu = np.empty(size, dtype=x.dtype)                    # μ of each value's channel
        for k in range(size):
            mu[k] = mean[first + k // length]
        sum_g = np.zeros(size)                                # Σ over the batch, per value
        sum_g_centred = np.zeros(size)
        for b in range(n):
            g, values = grad[b, lo:lo + size], x[b, lo:lo + size]
            for k in range(size):
                sum_g[k] += g[k]
                sum_g_centred[k] += g[k] * (values[k] - mu[k])
        # ∂L/∂x = on_g·g + on_centred·(x − μ) + constant, the three factors per channel
        on_g, on_centred, constant = np.empty_like(mu), np.empty_like(mu), np.empty_like(mu)
        for ch in range(first, last):
            start = (ch - first) * length
            g_total = g_centred = 0.0
            for k in range(start, start + length):
                g_total += sum_g[k]
                g_centred += sum_g_centred[k]
            inv = invstd[ch]
            scale = weight[ch] * inv / count
            for k in range(start, start + length):
                on_g[k], on_centred[k], constant[k] = scale * count, -scale * inv * inv * g_centred, -scale * g_total
            grad_weight[ch], grad_bias[ch] = g_centred * inv, g_total
        for b in range(n):
            g, values, out = grad[b, lo:lo + size], x[b, lo:lo + size], grad_x[b, lo:lo + size]
            for k in range(size):
                out[k] = on_g[k] * g[k] + on_centred[k] * (values[k] - mu[k]) + constant[k]
    return grad_weight, grad_bias


# reassoc lets LLVM split each float64 sum into vector lanes (a dependent chain of scalar
# adds otherwise: 4 cycles each): the forward pass 2.8-3.1× faster on planes of 64-1024
# values per image (ResNet18's, MobileNetV2's first layers), the same to ~1e-16.  (The
# per-channel backward gained 1.2-1.3×; the slab backward's sums over the batch are
# elementwise and measured the same with or without it.)
_FAST = dict(parallel=True, cache=True, fastmath={"reassoc", "contract"})
_forward = njit(**_FAST)(_forward_impl)
_backward = AheadKernel(njit(**_FAST)(_backward_impl))


def batch_norm_forward(x, weight, bias, eps):
    x, out = np.ascontiguousarray(x), workspace.empty(x.shape, x.dtype)
    flat = x.reshape(x.shape[0], -1)
    _backward.compile_ahead(flat, flat, weight, weight, weight, flat, x.shape[2])   # the backward kernel's types
    return _forward(x, weight, bias, x.dtype.type(eps), out)


def batch_norm_backward(grad, x, mean, invstd, weight):
    n, length = x.shape[0], x.shape[2]
    grad_x = workspace.empty(x.shape, x.dtype)
    grad_weight, grad_bias = _backward(np.ascontiguousarray(grad).reshape(n, -1), np.ascontiguousarray(x).reshape(n, -1),
                                       mean, invstd, weight, grad_x.reshape(n, -1), length)
    return grad_x, grad_weight, grad_bias
