"""Gradient clipping, in place on the parameters' ``.grad`` (PyTorch's names and rules).

    clip_grad_norm_:   g ← g · min(1, max_norm / (‖(g_1, …, g_n)‖_p + 1e-6)),  one norm over all
    clip_grad_value_:  g ← clamp(g, -v, v)

Recurrent networks need the first: backpropagation through time multiplies by the same
recurrent matrix at every step, and a gradient that grows step after step would throw the
weights far away in one update.
"""
import math

import numpy as np

from ...autograd.versions import bump
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale every gradient by the same factor so that their joint p-norm is at most
    ``max_norm``; returns the norm before clipping (a 0-d tensor)."""
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(np.asarray(0.0, np.float32))
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g._array).max()) for g in grads)
    else:
        total = sum(float((np.abs(g._array) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"{total}; set error_if_nonfinite=False to clip anyway")
    factor = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g._array *= g.dtype.type(factor)
        bump(g._array)
    return Tensor._wrap(np.asarray(total, grads[0].dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry to [-clip_value, clip_value]."""
    for g in _grads(parameters):
        np.clip(g._array, -clip_value, clip_value, out=g._array)
        bump(g._array)
