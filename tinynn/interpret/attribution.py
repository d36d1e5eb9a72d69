"""What every attribution method shares: Captum's input conventions and one gradient.

An attribution method answers "which parts of this input made the model output that?".
All of them here start from the same quantity, the gradient of one chosen output per example
with respect to the input::

    attribution ∝ ∂ F_target(x) / ∂ x

``inputs`` is one Tensor or a tuple of Tensors (a model with several inputs), and the
result has the same form. ``target`` picks the output per example, as in Captum: None (the
model returns one number per example), an int (the same class for every example), a list
or 1-D tensor (one class per example), or a tuple indexing a multi-dimensional output.
"""
from __future__ import annotations

import numpy as np

from ..autograd import enable_grad, grad
from ..tensor import Tensor

__all__ = ["as_input_tuple", "like_inputs", "select_target", "forward_with_target",
           "gradients", "expand_examples"]


def as_input_tuple(inputs, op):
    """``inputs`` as a tuple of Tensors, and whether the caller passed a tuple."""
    if isinstance(inputs, Tensor):
        return (inputs,), False
    if isinstance(inputs, tuple) and inputs and all(isinstance(x, Tensor) for x in inputs):
        return inputs, True
    raise TypeError(f"{op}: expected inputs as a Tensor or a tuple of Tensors, "
                    f"got {type(inputs).__name__}")


def like_inputs(results, was_tuple):
    """Give back a tuple if the inputs came as a tuple, else the single Tensor."""
    return tuple(results) if was_tuple else results[0]


def extra_args(additional_forward_args):
    """Captum's ``additional_forward_args``: passed after the inputs, never attributed."""
    if additional_forward_args is None:
        return ()
    if isinstance(additional_forward_args, tuple):
        return additional_forward_args
    return (additional_forward_args,)


def select_target(output, target, op):
    """The output that is explained: one number per example."""
    batch = output.shape[0] if output.ndim else 1
    if target is None:
        selected = output
    elif isinstance(target, (int, np.integer, tuple)):
        selected = output[(slice(None),) + (target if isinstance(target, tuple) else (target,))]
    else:
        rows = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
        if rows.size == 1:
            return select_target(output, int(rows.reshape(())), op)
        if rows.shape[0] != batch:
            raise ValueError(f"{op}: expected one target per example ({batch}), got {rows.shape[0]}")
        index = (np.arange(batch),) + tuple(rows.T) if rows.ndim == 2 else (np.arange(batch), rows)
        selected = output[index]
    if selected.numel() != batch:
        raise ValueError(f"{op}: the model's output has shape {tuple(output.shape)}; pass target= "
                         f"to choose one output per example (a class index, or one per example)")
    return selected.reshape(batch)


def forward_with_target(forward_func, inputs, target, additional_forward_args, op):
    """F_target(x): the model's chosen output, one number per example."""
    output = forward_func(*inputs, *extra_args(additional_forward_args))
    return select_target(output, target, op)


def gradients(forward_func, inputs, target, additional_forward_args, op):
    """∂ F_target / ∂ x for every input tensor. The examples are independent, so the
    gradient of the sum over the batch is every example's own gradient at once; the
    model's parameter ``.grad`` are left alone (``autograd.grad``, not ``backward``)."""
    leaves = tuple(x.detach().requires_grad_() for x in inputs)
    with enable_grad():
        selected = forward_with_target(forward_func, leaves, target, additional_forward_args, op)
        return grad(selected.sum(), leaves)


def expand_examples(value, times, interleave):
    """A per-example argument (target, extra argument) for a batch made ``times`` times
    bigger: each example ``times`` times in a row (``interleave``, NoiseTunnel's noisy
    copies), or the whole batch ``times`` times over (Integrated Gradients' steps). What
    holds for every example (None, an int, a tuple index, a scalar) stays as it is."""
    if value is None or isinstance(value, (int, np.integer, tuple, float)):
        return value
    batch = len(value) if not isinstance(value, Tensor) else (value.shape[0] if value.ndim else 1)
    if isinstance(value, Tensor) and value.numel() == 1:
        return value
    rows = np.repeat(np.arange(batch), times) if interleave else np.tile(np.arange(batch), times)
    if isinstance(value, Tensor):
        return value[rows]
    return [value[i] for i in rows]
