"""Sparsity (seed 001 §2.2): most weights zero, and a layer that skips them.

L1 sparsification.  Adding λ Σ|w| to the loss pulls every weight towards zero with a
constant force λ·sign(w) (an L2 penalty's pull, 2λw, fades near zero, so it never makes
weights exactly small); training with it leaves many weights near zero, which magnitude
pruning (``prune.l1_unstructured``) then removes at little cost.

Sparse layers.  ``to_sparse`` turns every Linear whose weight is mostly zero into a
``SparseLinear``: the weight stored in CSR form (values, column indices, row starts) and
multiplied by the ``csr_linear`` kernel of the backend, which reads only the non-zeros.
It is for inference: train (and fine-tune) the pruned dense layer, then convert.
"""
import numpy as np

from .. import autograd, backend
from ..nn.modules.linear import Linear
from ..nn.modules.module import Module
from ..tensor import Tensor
from ..serialization import to_csr

__all__ = ["l1_penalty", "sparsity", "SparseLinear", "to_sparse"]


def l1_penalty(parameters, weight):
    """λ Σ |w| over ``parameters`` (add it to the loss): the L1 sparsifying pull."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("l1_penalty: expected at least one parameter")
    return weight * sum(p.abs().sum() for p in parameters)


def sparsity(tensor):
    """The fraction of entries that are exactly zero."""
    values = np.asarray(tensor.detach() if isinstance(tensor, Tensor) else tensor)
    return 1.0 - np.count_nonzero(values) / max(values.size, 1)


class SparseLinear(Module):
    """y = x Wᵀ + b with W (out, in) kept as CSR buffers; inference only."""

    def __init__(self, linear):
        super().__init__()
        if not isinstance(linear, Linear) or "weight" not in linear._parameters:
            raise TypeError("SparseLinear: expected an nn.Linear with a plain weight (call "
                            "prune.remove first if it is pruned)")
        weight = np.asarray(linear.weight.detach())
        values, columns, starts = to_csr(weight)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("values", Tensor(values))
        self.register_buffer("columns", Tensor(columns.astype(np.int32)))
        self.register_buffer("starts", Tensor(starts))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach())

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"SparseLinear: expected input of shape (N, {self.in_features}), got "
                             f"{x.shape}")
        if autograd.is_grad_enabled() and x.requires_grad:
            raise RuntimeError("SparseLinear: is for inference and has no backward; train the "
                               "dense layer, or call it under tinynn.no_grad()")
        out = backend.for_device(x.device).csr_linear(x._array, self.values._array, self.columns._array, self.starts._array)
        if self.bias is not None:
            out = out + self.bias._array
        return Tensor._wrap(out, x.device)

    def extra_repr(self):
        density = len(self.values._array) / (self.in_features * self.out_features)
        return f"in_features={self.in_features}, out_features={self.out_features}, density={density:.3f}"


def to_sparse(model, min_sparsity=0.8):
    """Replace, in place, every Linear of ``model`` whose weight is at least ``min_sparsity``
    zeros by a SparseLinear; returns the model."""
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if isinstance(child, Linear) and "weight" in child._parameters \
                    and sparsity(child.weight) >= min_sparsity:
                parent._modules[name] = SparseLinear(child)
    return model
