"""Integrated Gradients (Sundararajan et al., 2017): the gradient summed along a straight path.

A saliency map looks at one point; a saturated model (a ReLU past its kink, a sigmoid near
1) has a zero gradient there although the input matters. Integrated Gradients walks from a
baseline x' (a black image) to the input x and adds up the gradients on the way::

    IG_i(x) = (x_i − x'_i) · ∫₀¹ ∂F(x' + α (x − x')) / ∂x_i  dα
            ≈ (x_i − x'_i) · Σ_k w_k · ∂F(x' + α_k (x − x')) / ∂x_i

The attributions add up to F(x) − F(x') (completeness); ``return_convergence_delta=True``
returns how far the quadrature is from that. The nodes α_k and weights w_k are Captum's:
Gauss-Legendre (default) or left/right/middle/trapezoid Riemann sums.
"""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..creation import cat, full_like, zeros_like
from ..tensor import Tensor
from .attribution import (
    as_input_tuple, expand_examples, forward_with_target, gradients, like_inputs,
)

__all__ = ["IntegratedGradients", "quadrature"]

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


def quadrature(method: str, n_steps: int):
    """(weights w_k, nodes α_k) on [0, 1] for ``n_steps`` points of ``method``, Captum's.
    Captum's trapezoid rule puts n nodes 1/(n−1) apart but weighs them 1/n (ends halved), so
    its weights sum to 1 − 1/n; kept so that the attributions equal Captum's."""
    if method not in METHODS:
        raise ValueError(f"IntegratedGradients: method must be one of {METHODS}, got {method!r}")
    if n_steps < (1 if method == "gausslegendre" else 2):
        raise ValueError(f"IntegratedGradients: n_steps must be at least 2 ({method}), got {n_steps}")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)   # on [-1, 1]
        return 0.5 * weights, 0.5 * (nodes + 1)
    n = n_steps
    weights = np.full(n, 1.0 / n)
    if method == "riemann_trapezoid":
        weights[[0, -1]] /= 2
        return weights, np.linspace(0, 1, n)
    start = {"riemann_left": 0.0, "riemann_middle": 0.5 / n, "riemann_right": 1.0 / n}[method]
    return weights, np.linspace(start, start + 1 - 1.0 / n, n)


def _baselines(baselines, inputs):
    """One baseline tensor per input (None: zeros; a number: that value everywhere)."""
    if baselines is None or isinstance(baselines, (int, float)):
        baselines = (baselines,) * len(inputs)
    elif isinstance(baselines, Tensor):
        baselines = (baselines,)
    if len(baselines) != len(inputs):
        raise ValueError(f"IntegratedGradients: expected {len(inputs)} baselines (one per input), "
                         f"got {len(baselines)}")
    result = []
    for b, x in zip(baselines, inputs):
        b = zeros_like(x) if b is None else b
        b = b if isinstance(b, Tensor) else full_like(x, float(b))
        result.append(b.detach() + zeros_like(x))   # broadcast to the input's shape
    return tuple(result)


class IntegratedGradients:
    """Captum's ``IntegratedGradients(forward_func, multiply_by_inputs=True)``."""

    def __init__(self, forward_func, multiply_by_inputs=True):
        self.forward_func = forward_func
        self.multiply_by_inputs = multiply_by_inputs

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None,
                  n_steps=50, method="gausslegendre", internal_batch_size=None,
                  return_convergence_delta=False):
        inputs, was_tuple = as_input_tuple(inputs, "IntegratedGradients.attribute")
        inputs = tuple(x.detach() for x in inputs)
        baselines = _baselines(baselines, inputs)
        weights, alphas = quadrature(method, n_steps)
        path_grads = self._path_integral(inputs, baselines, target, additional_forward_args,
                                         weights, alphas, internal_batch_size)
        attributions = [g * (x - b) if self.multiply_by_inputs else g
                        for g, x, b in zip(path_grads, inputs, baselines)]
        result = like_inputs(attributions, was_tuple)
        if not return_convergence_delta:
            return result
        return result, self.convergence_delta(attributions, baselines, inputs, target,
                                              additional_forward_args)

    def _path_integral(self, inputs, baselines, target, extra, weights, alphas, internal_batch_size):
        """Σ_k w_k ∂F(x' + α_k (x − x'))/∂x, a chunk of steps (each a whole batch) at a time."""
        batch = inputs[0].shape[0]
        per_chunk = len(alphas) if internal_batch_size is None else max(1, internal_batch_size // batch)
        totals = [zeros_like(x) for x in inputs]
        for start in range(0, len(alphas), per_chunk):
            chunk = slice(start, start + per_chunk)
            steps = len(alphas[chunk])
            scaled = tuple(cat([b + float(a) * (x - b) for a in alphas[chunk]])
                           for x, b in zip(inputs, baselines))
            grads = gradients(self.forward_func, scaled, expand_examples(target, steps, False),
                              _expand_extra(extra, steps), "IntegratedGradients.attribute")
            for i, g in enumerate(grads):
                w = Tensor(weights[chunk], dtype=g.dtype, device=g.device)
                w = w.reshape((steps, 1) + (1,) * (g.ndim - 1))
                totals[i] = totals[i] + (g.reshape((steps, batch) + tuple(g.shape[1:])) * w).sum(0)
        return totals

    def convergence_delta(self, attributions, baselines, inputs, target, additional_forward_args):
        """Σ_i IG_i − (F(x) − F(x')) per example: zero for the exact integral."""
        with no_grad():
            at_input = forward_with_target(self.forward_func, inputs, target,
                                           additional_forward_args, "IntegratedGradients")
            at_baseline = forward_with_target(self.forward_func, baselines, target,
                                              additional_forward_args, "IntegratedGradients")
        total = sum(a.reshape(a.shape[0], -1).sum(1) for a in attributions)
        return total - (at_input - at_baseline)


def _expand_extra(extra, times):
    """Extra forward arguments for a batch repeated ``times`` times over."""
    if extra is None:
        return None
    items = extra if isinstance(extra, tuple) else (extra,)
    return tuple(expand_examples(e, times, False) if isinstance(e, Tensor) else e for e in items)
