"""The one door between the engine and the arithmetic of its hot ops.

An op never computes a convolution, a pooling window or a batch-norm statistic itself:
``Function.apply`` asks :func:`for_device` for the backend of its inputs' device and
hands it to the op as ``ctx.backend``, and the op calls the functions that the
:class:`Backend` protocol below declares.  Three modules implement the protocol, and a
reader can follow the arrow from any op to each of them:

    tinynn/reference/          readable NumPy, the formulas a lecture shows
    kernels/cpu_backend.py     Numba loops + OpenBLAS on Numba's threads, what runs on 'cpu' by default
    kernels/cuda_backend.py    Numba CUDA kernels + cuBLAS, what runs on 'cuda'

``TINYNN_KERNELS=reference`` in the environment, or ``with use_kernels("reference"):`` in
code, runs every op on the reference instead (on the CPU).
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Protocol

from . import reference

__all__ = ["Backend", "for_device", "use_kernels", "active_kernels", "kernels_compiled", "finish_compiling"]

_CHOICES = ("numba", "reference")


class Backend(Protocol):
    """What a backend provides.  Arrays in, arrays out; shapes are (N, C, H, W) and every
    geometry argument is a pair (height, width).  ``tests/test_backend.py`` checks that
    each backend has every function with exactly these parameters."""

    def conv2d_plan(self, input_shape, weight_shape, dtype, stride, padding, dilation, groups,
                    out_hw, keep_columns):
        """The ``kernels.plan.ConvPlan`` of one call: the algorithm, chosen once; forward and
        backward both follow it.  ``keep_columns``: the weight will need a gradient."""

    def conv2d_forward(self, x, weight, plan):
        """(h = X * W, columns to keep for backward or None); the engine adds the bias."""

    def conv2d_backward(self, grad, x, weight, plan, columns, need_input, need_weight):
        """(∂L/∂X or None, ∂L/∂W or None)."""

    def max_pool2d_forward(self, x, kernel, stride, padding, dilation, out_hw):
        """(maxima, flat index iy·W + ix of each maximum in its input plane)."""

    def max_pool2d_backward(self, grad, index, input_shape):
        """∂L/∂X: each output gradient added at its maximum's index."""

    def avg_pool2d_forward(self, x, kernel, stride, padding, out_hw, count_include_pad,
                           divisor_override):
        """The window means, with PyTorch's divisor rule."""

    def avg_pool2d_backward(self, grad, input_shape, kernel, stride, padding, count_include_pad,
                            divisor_override):
        """∂L/∂X: each output gradient spread evenly over its window."""

    def matmul(self, a, b):
        """``np.matmul(a, b)``: a float matrix product, batched over leading axes."""

    def batch_norm_forward(self, x, weight, bias, eps):
        """(y, μ, σ²) for x of shape (N, C, L), biased σ², statistics per channel."""

    def batch_norm_backward(self, grad, x, mean, invstd, weight):
        """(∂L/∂x, ∂L/∂γ, ∂L/∂β) through the batch statistics."""

    def relu(self, x):
        """max(x, 0)."""

    def relu_backward(self, grad, y):
        """grad · [y > 0], from ReLU's output y."""

    def clip(self, x, low, high):
        """min(max(x, low), high) elementwise, NaN kept; a None bound is open."""

    def clip_backward(self, grad, x, low, high, inclusive):
        """grad · [low ≤ x ≤ high] (strict inequalities unless ``inclusive``); a None bound is open."""

    def erf(self, x):
        """The error function, elementwise (exact GELU needs it)."""

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, step):
        """One Adam step t in place on ``param`` and its buffers (``max_exp_avg_sq``: AMSGrad's,
        or None), PyTorch's formula in ``kernels/optim.py``'s ``adam_update_arrays``."""

    def csr_linear(self, x, values, columns, starts):
        """y = x Wᵀ for a sparse weight W (out, in) in CSR form: (N, in) → (N, out)."""

    def int8_matmul(self, a, b):
        """uint8 a (M, K) times int8 b (N, K) transposed, exactly, as int32 (M, N)."""

    def prepare_int8_weight(self, weight):
        """What the quantised products need of an int8 weight, (C, K) or (K, C, KH, KW),
        computed once per weight (the layer keeps it until the weight changes): the
        backend's layout, Σ q_w per output channel, and the weight."""

    def quantized_linear(self, x, scale, zero_point, prepared, weight_scale, bias):
        """y = s·s_c·(Σ q_x q_w − z Σ q_w) + bias for float x (N, K), quantised to uint8 with
        (scale, zero_point), the int8 weight (C, K) as ``prepare_int8_weight`` gave it, with
        weight_scale (C,); float (N, C) out."""

    def quantized_conv2d(self, x, scale, zero_point, prepared, weight_scale, bias, stride, padding, dilation):
        """The same for a convolution, no groups: float x (N, C, H, W), quantised and padded
        with z (which stands for 0.0; ``padding`` is ((top, bottom), (left, right))), the
        weight (K, C, KH, KW) as ``prepare_int8_weight`` gave it; float (N, K, OH, OW) out."""


class _State(threading.local):
    kernels = os.environ.get("TINYNN_KERNELS", "numba")


_state = _State()
if _state.kernels not in _CHOICES:
    raise ValueError(f"TINYNN_KERNELS: expected one of {_CHOICES}, got {_state.kernels!r}")


def for_device(device) -> Backend:
    """The backend that runs ops on ``device`` (a ``tinynn.device``)."""
    if _state.kernels == "reference":
        return reference
    # Imported on first use, not with tinynn: Numba (and its CUDA driver) load only when
    # a hot op first runs.
    if device.type == "cuda":
        from .kernels import cuda_backend
        return cuda_backend
    from .kernels import cpu_backend
    return cpu_backend


def kernels_compiled() -> bool:
    """False until Numba's cache holds the CPU kernels (their first run compiles them);
    always True on the reference backend, which compiles nothing."""
    if _state.kernels == "reference":
        return True
    from .kernels import has_compiled_kernels
    return has_compiled_kernels()


def finish_compiling() -> None:
    """Wait until the helper process that compiles kernels ahead (``kernels/ahead.py``) has
    put everything asked of it into the cache; nothing to wait for on the reference backend."""
    if _state.kernels != "reference":
        from .kernels import ahead
        ahead.finish()


def active_kernels() -> str:
    return _state.kernels


@contextlib.contextmanager
def use_kernels(name: str):
    """Run the enclosed code with ``"reference"`` or ``"numba"`` kernels."""
    if name not in _CHOICES:
        raise ValueError(f"use_kernels: expected one of {_CHOICES}, got {name!r}")
    previous, _state.kernels = _state.kernels, name
    try:
        yield
    finally:
        _state.kernels = previous
